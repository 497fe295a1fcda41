//! Linux: the driver's wait and wake-up on the poller's epoll instance, one syscall per turn.
//!
//! `polling::Poller::wait` makes five syscalls on every call, whatever the timeout:
//! `timerfd_settime` and an `epoll_ctl(MOD)` re-arming its oneshot timerfd, the
//! `epoll_wait`, then a `read` clearing its notifier and an `epoll_ctl(MOD)` re-arming it.
//! The driver turns thousands of times a second on a busy server (every event interval, and
//! at every park), so those four extra syscalls per turn were a few percent of all syscalls
//! of the loopback echo benchmark. Here the sources stay registered through `polling` (its
//! `add`/`delete` are one `epoll_ctl` each), but the driver waits on the same epoll
//! instance itself and brings its own two descriptors, both registered **edge-triggered
//! once** and never re-armed:
//!
//! - [`Wake`]: an eventfd. Every `write` to an eventfd queues a new edge, so it never needs
//!   reading (its counter would need 2^64 - 2 writes to fill; if it ever did, `wake` reads it
//!   back to zero and writes again). A flag coalesces wakes between two turns, as `polling`
//!   does: the first `wake` after a turn writes, later ones see the flag and return.
//! - [`Waiter`]: a timerfd for timeouts with nanosecond precision (`epoll_wait`'s own timeout
//!   is in milliseconds, and rounding it up is what makes tokio's timers fire late). Armed
//!   with `timerfd_settime` only for a wait that has a non-zero timeout: such a turn makes
//!   two syscalls, a non-blocking or an untimed one makes just the `epoll_wait`. If the wait
//!   ends early (I/O), the timer stays armed and its expiry later wakes a turn spuriously:
//!   harmless (the driver re-checks and parks again), and cheaper than disarming every time.
//!
//! Events of the two descriptors carry tokens no source can have (a source's token is the
//! address of its `ScheduledIo`, which is aligned), and are skipped by the dispatch loop.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll;
use rustix::event::{eventfd, EventfdFlags, Timespec};
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
};

/// The token of the wake-up eventfd's events.
pub(crate) const WAKE_TOKEN: usize = 1;
/// The token of the timeout timerfd's events.
pub(crate) const TIMER_TOKEN: usize = 3;
/// `polling`'s own notifier and timer token (`polling::NOTIFY_KEY`). Both are registered
/// oneshot and never armed here (the driver neither calls `Poller::notify` nor
/// `Poller::wait`), so they should never report; skipped anyway.
pub(crate) const POLLING_NOTIFY_TOKEN: usize = usize::MAX;

// `super::SIGNAL_TOKEN` (5), the signal self-pipe's, is checked by the turn before these.

/// True for the tokens of the driver's own descriptors (not sources).
pub(crate) fn is_internal(token: usize) -> bool {
    matches!(token, WAKE_TOKEN | TIMER_TOKEN | POLLING_NOTIFY_TOKEN)
}

fn edge_readable() -> epoll::EventFlags {
    epoll::EventFlags::IN | epoll::EventFlags::ET
}

/// Adds a source to `poller`'s epoll instance under `token`: edge-triggered, for `IN`,
/// `OUT`, `PRI` and `RDHUP` (`HUP` and `ERR` are always reported). What
/// `polling::Poller::add_with_mode(fd, Event::all(token), PollMode::Edge)` registers, plus
/// `RDHUP`, which `polling` has no way to ask for: the half-close that
/// `PollEvented::poll_read`'s short-read rule needs reported (see the readiness protocol's
/// step 2b). `Poller::delete` removes it as it removes its own.
pub(crate) fn add_source(
    poller: &polling::Poller,
    fd: std::os::fd::BorrowedFd<'_>,
    token: usize,
) -> io::Result<()> {
    use epoll::EventFlags as F;
    epoll::add(
        poller.as_fd(),
        fd,
        epoll::EventData::new_u64(token as u64),
        F::IN | F::OUT | F::PRI | F::RDHUP | F::ET,
    )?;
    Ok(())
}

/// Wake coalescing: of all the wakes between two turns, only the first makes a syscall.
///
/// The protocol (model-checked in `wake_coalescing_loses_no_wake` below): a waker publishes
/// its work (under a lock, or SeqCst), then [`Coalesce::claim`]s; only if the claim succeeds
/// does it queue an edge. The driver, after every wait returns, [`Coalesce::reset`]s, *then*
/// looks for work. A claim that fails saw the flag of an earlier wake whose edge the driver
/// has not reset yet: the driver's reset comes after it, and its look for work after that
/// finds what this waker published.
#[derive(Debug)]
pub(crate) struct Coalesce {
    notified: AtomicBool,
}

impl Coalesce {
    pub(crate) fn new() -> Coalesce {
        Coalesce {
            notified: AtomicBool::new(false),
        }
    }

    /// True if the caller must queue the edge (no wake since the last reset did).
    pub(crate) fn claim(&self) -> bool {
        // SeqCst as polling's: the flag is the only link between a waker whose claim fails
        // and the driver's reset (see the type's docs).
        self.notified
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// After a wait returned, before looking for work: later wakes queue an edge again.
    pub(crate) fn reset(&self) {
        self.notified.swap(false, Ordering::SeqCst);
    }
}

/// The shared half: wakes a driver blocked in [`Waiter::wait`] (any thread).
#[derive(Debug)]
pub(crate) struct Wake {
    fd: OwnedFd,
    /// Set by the first `wake` since the last turn; cleared by [`Wake::reset`] after each
    /// wait. While set, `wake` makes no syscall: an edge is already queued.
    coalesce: Coalesce,
}

impl Wake {
    /// A non-blocking eventfd, added to `poller`'s epoll instance edge-triggered.
    pub(crate) fn new(poller: &polling::Poller) -> io::Result<Wake> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // Closing `fd` (when `Wake` drops) removes it from the epoll instance: nothing to
        // delete by hand, and no fd can be reused under our token.
        epoll::add(
            poller.as_fd(),
            &fd,
            epoll::EventData::new_u64(WAKE_TOKEN as u64),
            edge_readable(),
        )?;
        Ok(Wake {
            fd,
            coalesce: Coalesce::new(),
        })
    }

    /// Makes the current or next [`Waiter::wait`] return.
    pub(crate) fn wake(&self) -> io::Result<()> {
        if !self.coalesce.claim() {
            return Ok(());
        }
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.fd, &one) {
            Ok(_) => Ok(()),
            Err(rustix::io::Errno::AGAIN) => {
                // The counter is full (after ~2^64 wakes): empty it and write again.
                let mut buf = [0u8; 8];
                let _ = rustix::io::read(&self.fd, &mut buf);
                rustix::io::write(&self.fd, &one)
                    .map(|_| ())
                    .map_err(Into::into)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// After a wait returned: later wakes must write again. (A wake between the wait's
    /// return and this call queued an edge that only makes the next wait return at once.)
    pub(crate) fn reset(&self) {
        self.coalesce.reset();
    }
}

/// The driver's half: the event buffer and the timeout timer. Used by one thread at a time
/// (turns never overlap).
pub(crate) struct Waiter {
    events: Vec<epoll::Event>,
    timer: OwnedFd,
}

// SAFETY: `epoll::Event` is `!Send` only because its user data is a union that can hold a
// pointer; here it only ever holds a `u64` token (`EventData::new_u64`), which is plain
// data. The buffer is filled and read by whichever one thread turns the driver.
unsafe impl Send for Waiter {}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("events", &self.events.len())
            .field("timer", &self.timer)
            .finish()
    }
}

impl Waiter {
    /// A buffer for `capacity` events and a monotonic timerfd added to `poller`'s epoll
    /// instance edge-triggered (each expiry is a new edge).
    pub(crate) fn new(poller: &polling::Poller, capacity: usize) -> io::Result<Waiter> {
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        epoll::add(
            poller.as_fd(),
            &timer,
            epoll::EventData::new_u64(TIMER_TOKEN as u64),
            edge_readable(),
        )?;
        Ok(Waiter {
            events: Vec::with_capacity(capacity),
            timer,
        })
    }

    /// Waits on `poller`'s epoll instance until an event, a [`Wake::wake`], or `timeout`
    /// (`None`: no limit; `Some(ZERO)`: don't block). `EINTR` is an empty, successful wait.
    pub(crate) fn wait(
        &mut self,
        poller: &polling::Poller,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        self.events.clear();
        let epoll_timeout = match timeout {
            None => None,
            Some(t) if t.is_zero() => Some(Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
            Some(t) => {
                let value = Timespec {
                    tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
                    tv_nsec: t.subsec_nanos().into(),
                };
                let spec = Itimerspec {
                    it_interval: Timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    },
                    it_value: value,
                };
                timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec)?;
                None
            }
        };
        match epoll::wait(
            poller.as_fd(),
            spare_capacity(&mut self.events),
            epoll_timeout.as_ref(),
        ) {
            Ok(_) => Ok(()),
            Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The events the last wait reported: (token, epoll flags).
    pub(crate) fn events(&self) -> impl Iterator<Item = (usize, epoll::EventFlags)> + '_ {
        self.events
            .iter()
            .map(|ev| (ev.data.u64() as usize, ev.flags))
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Coalesce;
    use crate::loom::sync::{Arc, Condvar, Mutex};
    use crate::loom::thread;

    /// The eventfd, edge-triggered: a write queues an edge; a wait blocks until one is
    /// queued and collects it (writes before the collection merge into one edge).
    struct EventFd {
        edge: Mutex<bool>,
        cv: Condvar,
    }

    impl EventFd {
        fn write(&self) {
            *self.edge.lock() = true;
            self.cv.notify_all();
        }

        fn wait(&self) {
            let mut e = self.edge.lock();
            while !*e {
                self.cv.wait(&mut e);
            }
            *e = false;
        }
    }

    /// Two threads each publish a unit of work and wake the driver, which waits until it
    /// has seen both: a wake lost to coalescing leaves it blocked forever (loom reports the
    /// deadlock). Checked to fail when the driver never resets the flag.
    #[test]
    fn wake_coalescing_loses_no_wake() {
        loom::model(|| {
            let fd = Arc::new(EventFd {
                edge: Mutex::new(false),
                cv: Condvar::new(),
            });
            let flag = Arc::new(Coalesce::new());
            let work = Arc::new(Mutex::new(0usize));
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let (fd, flag, work) = (fd.clone(), flag.clone(), work.clone());
                    thread::spawn(move || {
                        *work.lock() += 1;
                        if flag.claim() {
                            fd.write();
                        }
                    })
                })
                .collect();
            let mut seen = 0;
            loop {
                seen += std::mem::take(&mut *work.lock());
                if seen == 2 {
                    break;
                }
                fd.wait();
                flag.reset();
            }
            for w in wakers {
                w.join().unwrap();
            }
        });
    }
}
