//! The I/O reactor: a `polling::Poller` in edge-triggered mode and the registrations it serves.
//!
//! # Pieces
//!
//! - [`IoHandle`] (shared, inside `driver::Handle`): the poller and a [`Slab`] of
//!   registrations. A registration's poller key is its slab key: index plus generation.
//! - [`IoDriver`] (inside `driver::Driver`, owned by whichever worker parks): the event
//!   buffer. [`IoDriver::turn`] waits on the poller and dispatches what it reports.
//! - [`ScheduledIo`]: per source, the readiness word and the reader and writer waker slots.
//! - [`Registration`]: what a socket holds; [`PollEvented`]: a socket plus its registration.
//!
//! # The readiness protocol
//!
//! Every source is added to the poller once, edge-triggered, for readable and writable
//! (hang-up and error are always reported), and never modified after: the kernel queues an
//! event whenever the socket's state changes, whatever the tasks are doing. No syscall is
//! made on the wait path.
//!
//! State of one source: `readiness` (an atomic word: readiness bits, `CLOSED`, a 16-bit
//! tick) and, under the `waiters` mutex, the reader and writer slots and the closed flags.
//!
//! 0. A new source starts *assumed* readable and writable, so the first syscall is tried at
//!    once (a wrong guess costs one `WouldBlock`, not a poller round trip). Adding a source
//!    that is already ready queues an event for it, so nothing that happened before the
//!    registration is missed either.
//! 1. **Task** (`poll_ready(dir)`): load `readiness`; if `dir` is ready, return it with its
//!    tick. Otherwise lock `waiters`, *re-load* `readiness` (return if ready), store the waker
//!    in `dir`'s slot. Return `Pending`.
//! 2. **Task**, only after its syscall said `WouldBlock` (or an equivalent "not yet", as
//!    `connect` uses): `clear_readiness(event)` clears the bits it acted on (never the
//!    hang-up bits) only if the tick is still the one it read (compare-and-swap), then goes
//!    back to 1. A successful syscall, even a short read, clears nothing: edge-triggered
//!    readiness is kept until a `WouldBlock` proves it gone.
//! 3. **Driver** (an event for key `k`): look `k` up in the slab (a stale generation: ignore).
//!    Lock `waiters`; store readiness with tick + 1; take the wakers of the directions now
//!    ready; unlock; wake the taken wakers.
//!
//! No lost wake-up: (a) the driver's store of readiness and the task's store of its waker
//! are both under `waiters`, and each re-reads the other's after: if the driver locked first,
//! the task's re-load sees the readiness; if the task locked first, the driver takes its
//! waker. (b) Readiness is only removed by a clear whose `WouldBlock` came after the load of
//! the tick it names; an edge the kernel queues after that syscall is dispatched with a new
//! tick, and then either the clear fails (tick changed) or the store comes after the clear.
//! An edge queued before the syscall describes data the syscall would have found. So when
//! the condition holds again after a `WouldBlock`, the readiness word says so or an event is
//! on its way: the edge between a `WouldBlock` and the waker store is the case (a) handles.
//!
//! # Deregistration and shutdown
//!
//! Dropping a [`Registration`]: lock, set `deregistered` and `CLOSED`, drop the stored wakers
//! (outside the lock); wait until no *other* thread is calling wakers taken from this source
//! (the driver lists itself in `waking` while it calls them, and checks `deregistered` before
//! each call); then `Poller::delete` and remove the slab entry (the generation moves on, so
//! events already reported for the old key are ignored). Hence no waker of a registration is
//! called after its drop returns. [`IoHandle::shutdown`] closes every registration and wakes
//! its waiters, whose polls then fail with an error; new registrations fail too.

mod poll_evented;
mod ready;
mod registration;
mod scheduled_io;
mod slab;

#[cfg(all(test, not(loom)))]
pub(crate) mod test_util;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

pub(crate) use poll_evented::PollEvented;
pub(crate) use ready::{Direction, Ready};
pub(crate) use registration::{current_io_handle, Registration};
pub(crate) use scheduled_io::{ReadyEvent, ScheduledIo};
pub(crate) use slab::Slab;

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// How many events one turn of the driver takes from the poller at most.
const EVENTS_CAPACITY: usize = 1024;

/// The shared half of the reactor: registering and waking. Lives in `driver::Handle`.
#[derive(Debug)]
pub(crate) struct IoHandle {
    poller: polling::Poller,
    registrations: Mutex<Slab<Arc<ScheduledIo>>>,
    /// Set once by [`IoHandle::shutdown`]; registering fails after it.
    is_shutdown: AtomicBool,
}

/// The blocking half of the reactor: the event buffer. Lives in `driver::Driver`.
#[derive(Debug)]
pub(crate) struct IoDriver {
    events: polling::Events,
}

impl IoDriver {
    /// Creates the poller: the driver half and the shared half.
    pub(crate) fn new() -> io::Result<(IoDriver, IoHandle)> {
        let poller = polling::Poller::new()?;
        let events = polling::Events::with_capacity(
            std::num::NonZeroUsize::new(EVENTS_CAPACITY).expect("nonzero"),
        );
        Ok((
            IoDriver { events },
            IoHandle {
                poller,
                registrations: Mutex::new(Slab::new()),
                is_shutdown: AtomicBool::new(false),
            },
        ))
    }

    /// Waits for readiness (at most `timeout`; `Some(ZERO)`: don't block) or
    /// [`IoHandle::unpark`], then dispatches every reported event. Wakers are called outside
    /// every lock. Returns how many events were dispatched (stale ones not counted).
    pub(crate) fn turn(
        &mut self,
        handle: &IoHandle,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        self.events.clear();
        match handle.poller.wait(&mut self.events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        let mut dispatched = 0;
        for ev in self.events.iter() {
            if handle.dispatch(&ev) {
                dispatched += 1;
            }
        }
        Ok(dispatched)
    }
}

impl IoHandle {
    /// Delivers one poller event: stores readiness, wakes (see the module docs). Returns
    /// `false` for a stale key (its registration is gone, even if the slot was reused).
    pub(crate) fn dispatch(&self, ev: &polling::Event) -> bool {
        let Some(io) = self.registrations.lock().get(ev.key).cloned() else {
            return false;
        };
        io.dispatch(Ready::from_event(ev))
    }

    /// Makes a driver blocked in [`IoDriver::turn`] return now, or the next turn return at
    /// once.
    pub(crate) fn unpark(&self) {
        // An error here means the poller's notifier is broken; the parked thread then wakes
        // at its timeout, which is all we could do anyway.
        let _ = self.poller.notify();
    }

    /// Closes every registration and wakes its waiters (their polls then fail); later
    /// registrations fail.
    pub(crate) fn shutdown(&self) {
        self.is_shutdown.store(true, Ordering::Release);
        let all: Vec<Arc<ScheduledIo>> = self.registrations.lock().iter().cloned().collect();
        for io in all {
            io.shutdown();
        }
    }

    /// How many sources are registered (tests and metrics).
    pub(crate) fn num_registrations(&self) -> usize {
        self.registrations.lock().len()
    }

    /// Adds `fd` to the poller, edge-triggered for readable and writable (once: nothing is
    /// re-armed later), and returns its key and state.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until [`IoHandle::deregister`] is called with the returned key.
    pub(crate) unsafe fn register(
        &self,
        fd: BorrowedFd<'_>,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        use std::os::fd::AsRawFd;
        if self.is_shutdown.load(Ordering::Acquire) {
            return Err(io::Error::other(
                "the taskio runtime's I/O driver has shut down",
            ));
        }
        let io = Arc::new(ScheduledIo::new());
        let key = self
            .registrations
            .lock()
            .insert(io.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "reactor slab is full"))?;
        // SAFETY: the caller keeps `fd` open until `deregister(key)`, which deletes it from the
        // poller first.
        let added = unsafe {
            self.poller.add_with_mode(
                fd.as_raw_fd(),
                polling::Event::all(key),
                polling::PollMode::Edge,
            )
        };
        if let Err(e) = added {
            self.registrations.lock().remove(key);
            return Err(e);
        }
        Ok((key, io))
    }

    /// Removes the source registered under `key`: after this returns none of its wakers is
    /// called, and events already reported for `key` are ignored.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>, key: usize, io: &ScheduledIo) {
        io.deregister();
        // The fd may already be gone from the poller if the kernel dropped it; nothing to do.
        let _ = self.poller.delete(fd);
        self.registrations.lock().remove(key);
    }
}
