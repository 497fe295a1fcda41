//! The driver: I/O readiness and timers, parked on by one thread at a time.
//!
//! A runtime has one [`Driver`] (the part that blocks: the poller's event buffer) behind a
//! mutex, and one shared [`Handle`] (the part everyone registers with). A worker with nothing
//! to run tries to take the driver; the one that gets it blocks in [`Driver::park`] with the
//! next timer deadline as its timeout, the others sleep on their own condvar. Anyone wakes the
//! driver's owner with [`Handle::unpark`].
//!
//! Sub-modules:
//! - `time`: the timer wheel and the (pausable) clock;
//! - `io`: the `polling::Poller` reactor and its registrations.

pub(crate) mod io;
pub(crate) mod time;

use crate::loom::sync::{Arc, Condvar, Mutex};
use std::cell::RefCell;
use std::time::Duration;

crate::loom::rt_thread_local! {
    /// The driver handle of the runtime this thread is inside (a worker, or `block_on`).
    static CURRENT: RefCell<Option<Arc<Handle>>> = RefCell::new(None);
}

/// Runs `f` with the current runtime's driver handle, if this thread is inside a runtime.
/// Timers and sockets call this when they are created.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<Handle>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// Makes `handle` the current driver handle until the guard drops (the previous one is
/// restored then). The scheduler calls this on its worker threads and in `block_on`.
pub(crate) fn enter(handle: Arc<Handle>) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    EnterGuard { prev }
}

/// Restores the previous driver handle on drop.
#[derive(Debug)]
pub(crate) struct EnterGuard {
    prev: Option<Arc<Handle>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// What the runtime's builder enabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cfg {
    pub(crate) enable_io: bool,
    pub(crate) enable_time: bool,
    pub(crate) start_paused: bool,
}

/// The blocking half: owned by whichever thread parks on it.
#[derive(Debug)]
pub(crate) struct Driver {
    /// The reactor's event buffer; `None` when the runtime was built without I/O (then
    /// `park` sleeps on the handle's condvar).
    io: Option<io::IoDriver>,
}

/// The shared half: registration and wake-up, usable from any thread.
#[derive(Debug)]
pub(crate) struct Handle {
    /// Set when the driver's owner is asked to return from `park` early (no-I/O runtimes).
    notified: Mutex<bool>,
    condvar: Condvar,
    /// The reactor's shared half (poller + registrations); `None` without I/O.
    pub(crate) io: Option<io::IoHandle>,
    /// The timer wheel and clock; `None` unless the builder enabled time.
    pub(crate) time: Option<time::Handle>,
    /// I/O events dispatched (metrics): written only by the thread holding the driver.
    io_events: std::sync::atomic::AtomicU64,
}

impl Driver {
    /// Creates the driver and its handle.
    pub(crate) fn new(cfg: Cfg) -> std::io::Result<(Driver, Handle)> {
        // Under loom the scheduler models run without a real poller (the reactor's own
        // models use a stand-in for it).
        let (io_driver, io_handle) = if cfg.enable_io && !cfg!(loom) {
            let (d, h) = io::IoDriver::new()?;
            (Some(d), Some(h))
        } else {
            (None, None)
        };
        Ok((
            Driver { io: io_driver },
            Handle {
                notified: Mutex::new(false),
                condvar: Condvar::new(),
                io: io_handle,
                time: cfg.enable_time.then(|| time::Handle::new(cfg.start_paused)),
                io_events: std::sync::atomic::AtomicU64::new(0),
            },
        ))
    }

    /// Blocks until [`Handle::unpark`] is called, I/O is ready, or `timeout` passes (`None`:
    /// no limit), then fires the timers that are due and dispatches I/O readiness.
    ///
    /// `timeout` is shortened to the next timer deadline, exactly (not rounded up to a
    /// millisecond tick). With a paused clock it is not: virtual time does not flow while
    /// parked; the scheduler calls [`auto_advance`](Driver::auto_advance) instead when the
    /// whole runtime is idle.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        let timeout = match &handle.time {
            Some(time) => time.park_timeout(timeout),
            None => timeout,
        };
        if let (Some(io), Some(io_handle)) = (self.io.as_mut(), handle.io.as_ref()) {
            // With I/O, park is the poller's wait (`Handle::unpark` = `notify`). A failed
            // wait (not EINTR, which `turn` absorbs) leaves nothing to dispatch; the caller's
            // loop parks again.
            handle.count_io(io.turn(io_handle, timeout));
        } else {
            let mut notified = handle.notified.lock();
            if !*notified {
                match timeout {
                    #[cfg(not(loom))]
                    Some(t) => {
                        let _ = handle.condvar.wait_for(&mut notified, t);
                    }
                    #[cfg(loom)]
                    Some(_) => {}
                    None => handle.condvar.wait(&mut notified),
                }
            }
            *notified = false;
        }
        if let Some(time) = &handle.time {
            time.process();
        }
    }

    /// Runs one non-blocking turn: due timers and ready I/O, without sleeping.
    pub(crate) fn poll_events(&mut self, handle: &Handle) {
        if let (Some(io), Some(io_handle)) = (self.io.as_mut(), handle.io.as_ref()) {
            handle.count_io(io.turn(io_handle, Some(Duration::ZERO)));
        }
        if let Some(time) = &handle.time {
            time.process();
        }
    }

    /// With a paused clock, jumps it to the next timer and fires that timer (and polls I/O
    /// without blocking). The scheduler calls this instead of parking when every worker is
    /// idle. Returns false if the clock is not paused or no timer is pending.
    pub(crate) fn auto_advance(&mut self, handle: &Handle) -> bool {
        let advanced = handle
            .time
            .as_ref()
            .is_some_and(|t| t.clock().is_paused() && t.auto_advance());
        if advanced {
            if let (Some(io), Some(io_handle)) = (self.io.as_mut(), handle.io.as_ref()) {
                handle.count_io(io.turn(io_handle, Some(Duration::ZERO)));
            }
        }
        advanced
    }
}

impl Handle {
    /// Adds a driver turn's dispatched events to the count (a failed turn dispatched none).
    fn count_io(&self, turn: std::io::Result<usize>) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Ok(n) = turn {
            if n > 0 {
                // One writer: the thread holding the driver.
                self.io_events
                    .store(self.io_events.load(Relaxed) + n as u64, Relaxed);
            }
        }
    }

    /// I/O events dispatched so far.
    pub(crate) fn io_events(&self) -> u64 {
        self.io_events.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// I/O sources registered now.
    pub(crate) fn io_sources(&self) -> usize {
        self.io.as_ref().map_or(0, |io| io.registered())
    }

    /// Timers pending now.
    pub(crate) fn timers(&self) -> usize {
        self.time.as_ref().map_or(0, |t| t.len())
    }
}

impl Handle {
    /// Wakes the thread parked in [`Driver::park`], or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        if let Some(io) = &self.io {
            io.unpark();
            return;
        }
        let mut notified = self.notified.lock();
        *notified = true;
        self.condvar.notify_one();
    }

    /// True if the runtime's clock is paused.
    pub(crate) fn is_paused(&self) -> bool {
        self.time.as_ref().is_some_and(|t| t.clock().is_paused())
    }

    /// Called once when the runtime shuts down: wakes every timer and I/O waiter.
    pub(crate) fn shutdown(&self) {
        if let Some(io) = &self.io {
            io.shutdown();
        }
        // Fire every timer: their `Sleep`s complete.
        if let Some(time) = &self.time {
            time.shutdown();
        }
    }
}
