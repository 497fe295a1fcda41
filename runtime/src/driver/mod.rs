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

thread_local! {
    /// The driver handle of the runtime this thread is inside (a worker, or `block_on`).
    static CURRENT: RefCell<Option<Arc<Handle>>> = const { RefCell::new(None) };
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
    _private: (),
}

/// The shared half: registration and wake-up, usable from any thread.
#[derive(Debug)]
pub(crate) struct Handle {
    /// Set when the driver's owner is asked to return from `park` early.
    notified: Mutex<bool>,
    condvar: Condvar,
    // [time] The timer wheel and clock; `None` unless the builder enabled time.
    pub(crate) time: Option<time::Handle>,
}

impl Driver {
    /// Creates the driver and its handle.
    pub(crate) fn new(cfg: Cfg) -> std::io::Result<(Driver, Handle)> {
        Ok((
            Driver { _private: () },
            Handle {
                notified: Mutex::new(false),
                condvar: Condvar::new(),
                // [time]
                time: cfg.enable_time.then(|| time::Handle::new(cfg.start_paused)),
            },
        ))
    }

    /// Blocks until [`Handle::unpark`] is called or `timeout` passes (`None`: no limit), then
    /// fires the timers that are due and dispatches I/O readiness.
    ///
    /// [time] `timeout` is shortened to the next timer deadline (exactly). With a paused clock
    /// it is not (virtual time does not flow while parked): when every worker is idle the
    /// scheduler calls `time.auto_advance()` first and, if it returns `true`, does not block.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        // [time] Sleep no later than the next timer deadline (exact, not rounded to a tick).
        let timeout = match &handle.time {
            Some(time) => time.park_timeout(timeout),
            None => timeout,
        };
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
        drop(notified);
        // [time] Fire what came due while parked.
        if let Some(time) = &handle.time {
            time.process();
        }
    }

    /// Runs one non-blocking turn: due timers and ready I/O, without sleeping.
    pub(crate) fn poll_events(&mut self, handle: &Handle) {
        // [time]
        if let Some(time) = &handle.time {
            time.process();
        }
    }
}

impl Handle {
    /// Wakes the thread parked in [`Driver::park`], or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        let mut notified = self.notified.lock();
        *notified = true;
        self.condvar.notify_one();
    }

    /// Called once when the runtime shuts down: wakes every timer and I/O waiter.
    pub(crate) fn shutdown(&self) {
        // [time] Fire every timer: their `Sleep`s complete.
        if let Some(time) = &self.time {
            time.shutdown();
        }
    }
}
