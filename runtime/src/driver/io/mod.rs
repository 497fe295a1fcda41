//! The I/O reactor: a `polling::Poller` in edge-triggered mode and the registrations it serves.
//!
//! # Pieces
//!
//! - [`IoHandle`] (shared, inside `driver::Handle`): the poller and the [`RegistrationSet`].
//!   A registration's poller key (its *token*) is the address of its [`ScheduledIo`], which
//!   the set keeps alive until the driver can no longer report it (see
//!   [`registration_set`]); the set's own key (a [`Slab`] key)
//!   only serves to remove it.
//! - [`IoDriver`] (inside `driver::Driver`, owned by whichever thread turns the driver; turns
//!   never overlap: `Driver` is behind a mutex or owned by one thread, and every turn takes
//!   it `&mut`): the event buffer. [`IoDriver::turn`] frees the deregistered sources, waits
//!   on the poller, and dispatches what it reports.
//! - On Linux the driver waits and is woken without `polling`'s wait and notify, which cost
//!   five syscalls per turn: it waits on the same epoll instance itself and brings its own
//!   eventfd (wake-up) and timerfd (nanosecond timeouts), both edge-triggered and never
//!   re-armed, so a turn is one `epoll_wait` (plus a `timerfd_settime` when it has a
//!   timeout). Sources are added with their own `epoll_ctl(ADD)` too, for the one flag
//!   `polling` cannot ask for (`EPOLLRDHUP`), and deleted through `polling`. See
//!   [`sys_linux`].
//! - [`ScheduledIo`]: per source, the readiness word and the reader and writer waker slots.
//! - [`Registration`]: what a socket holds; [`PollEvented`]: a socket plus its registration.
//!
//! # The readiness protocol
//!
//! Every source is added to the poller once, edge-triggered, for readable, writable, urgent
//! data and (on Linux) the peer's half-close (hang-up and error are always reported), and
//! never modified after: the kernel queues an event whenever the socket's state changes,
//! whatever the tasks are doing. No syscall is made on the wait path.
//!
//! State of one source: `readiness` (an atomic `u64`: readiness bits, `CLOSED`, and one
//! 24-bit tick per [`Direction`]) and, under the `waiters` mutex, the reader and writer slots
//! and the closed flags. A direction's bits are its [`Direction::mask`]: `READABLE`,
//! `READ_CLOSED`, `ERROR` for reading; `WRITABLE`, `WRITE_CLOSED`, `ERROR` for writing.
//! `PRIORITY` (urgent data was seen) is in neither: it only refuses the clear of step 2b.
//!
//! 0. A new source starts *assumed* readable and writable, so the first syscall is tried at
//!    once (a wrong guess costs one `WouldBlock`, not a poller round trip). Adding a source
//!    that is already ready queues an event for it, so nothing that happened before the
//!    registration is missed either. Both ticks start at 0.
//! 1. **Task** (`poll_ready(dir)`): load `readiness`; if `dir` is ready, return it with
//!    `dir`'s tick. Otherwise lock `waiters`, *re-load* `readiness` (return if ready), store
//!    the waker in `dir`'s slot. Return `Pending`.
//! 2. **Task**, only after its syscall said `WouldBlock` (or an equivalent "not yet", as
//!    `connect` uses): `clear_readiness(event)` clears the bits of `dir` it acted on (never
//!    the hang-up bits) only if `dir`'s tick is still the one it read (compare-and-swap),
//!    then goes back to 1. A successful syscall clears nothing, with one exception (2b):
//!    edge-triggered readiness is kept until a `WouldBlock` proves it gone.
//!
//!    2b. A TCP read that returned fewer bytes than it asked for (and more than none) proves
//!    the receive queue empty, as a `WouldBlock` would, and saves that `WouldBlock`'s
//!    syscall: `clear_after_short_read(event)` is the same compare-and-swap, refused also
//!    when `PRIORITY` is set. Two cases would otherwise lose a wake-up, and both are closed:
//!    a read that stops at the peer's FIN leaves an EOF that no later edge reports, but the
//!    half-close is registered (`EPOLLRDHUP`) and stored as the sticky `READ_CLOSED`, which a
//!    clear never removes; a read that stops at the urgent mark leaves bytes queued, but the
//!    event that brought the urgent data was either dispatched before the task loaded the
//!    tick (then `PRIORITY` is set and the clear refused) or after (then the tick moved, or
//!    the dispatch comes after the clear). Only TCP takes this: a Unix stream read is short
//!    with bytes still queued when two writers' credentials differ, and a datagram read
//!    returns one datagram whatever is queued.
//! 3. **Driver** (an event for token `t`): `t` is the source's address, valid for this turn
//!    (no lock, no lookup). Lock `waiters`; if the source is closed, ignore the event;
//!    otherwise or the event's bits into the word and bump the tick of every direction the
//!    event has a bit of (both, for a hang-up or an error); take the wakers of the
//!    directions now ready; unlock; wake the taken wakers. Each wake is contained
//!    (`task::wake_contained`): a waker that panics loses its own wake-up only, and
//!    the turn goes on with the rest of the batch and the events after it.
//!
//! Why a tick per direction: a clear must yield only to an event that stored a bit the clear
//! would remove. With one tick for the whole word, an event of the *other* direction (a fresh
//! socket's first `EPOLLOUT`, queued by the add in step 0) would refuse a reader's clear after
//! its `WouldBlock`, and a `READABLE` that no event ever reported (the assumed readiness of
//! step 0) would survive it: `readable()` would resolve with nothing to read. With a tick per
//! direction, an event of the other direction bumps a tick the clear does not compare.
//!
//! No lost wake-up: (a) the driver's store of readiness and the task's store of its waker
//! are both under `waiters`, and each re-reads the other's after: if the driver locked first,
//! the task's re-load sees the readiness; if the task locked first, the driver takes its
//! waker. (b) Readiness of `dir` is only removed by a clear whose `WouldBlock` came after
//! the load of the `dir` tick it names. An edge the kernel queues after that syscall that
//! makes `dir`'s condition true is collected with that condition's flag (epoll reports the
//! socket's whole state at collection: `IN` for readable, `OUT` for writable, `HUP`/`ERR`
//! for both; kqueue reports each filter separately), so its dispatch stores a bit of
//! `dir`'s mask and bumps `dir`'s tick: either the clear fails (tick changed) or the store
//! comes after the clear. Events of the other direction only store bits the clear does not
//! touch, so letting the clear pass them removes nothing an event reported. An edge queued
//! before the syscall describes data the syscall would have found. So when the condition
//! holds again after a `WouldBlock`, the readiness word says so or an event is on its way:
//! the edge between a `WouldBlock` and the waker store is the case (a) handles.
//!
//! # Deregistration and shutdown
//!
//! Dropping a [`Registration`]: lock, set `deregistered` and `CLOSED`, drop the stored wakers
//! (outside the lock); wait until no *other* thread is calling wakers taken from this source
//! (the driver lists itself in `waking` while it calls them, and checks `deregistered` before
//! each call); then `Poller::delete`, and only after it, move the source from the set's
//! `live` entries to `released`. Hence no waker of a registration is called after its drop
//! returns, and an event for it still in the driver's buffer finds a closed (not freed)
//! source. The driver frees `released` at the start of its next turn, before waiting: an event
//! the kernel collected before the delete belongs to a wait that began before the move, so
//! it is dispatched in a turn that started before the free (argued in
//! [`registration_set`]). If the delete fails (the fd was closed
//! early, against `register`'s contract), the source is leaked, never freed under an event.
//! [`IoHandle::shutdown`] refuses new registrations and collects the live ones under one
//! hold of the set's lock (so a racing registration either fails or is collected), then
//! closes each, waking its waiters, whose polls then fail with an error.

mod poll_evented;
mod ready;
mod registration;
pub(crate) mod registration_set;
mod scheduled_io;
mod slab;
#[cfg(target_os = "linux")]
mod sys_linux;

#[cfg(all(test, not(loom)))]
pub(crate) mod test_util;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

pub(crate) use poll_evented::PollEvented;
pub(crate) use ready::{Direction, Ready};
pub(crate) use registration::{current_io_handle, Registration};
pub(crate) use registration_set::RegistrationSet;
pub(crate) use scheduled_io::{ReadyEvent, ScheduledIo};
pub(crate) use slab::Slab;

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Arc;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// How many events one turn of the driver takes from the poller at most.
const EVENTS_CAPACITY: usize = 1024;

/// The token of the process's signal self-pipe (`crate::signal`, step 3 of its protocol):
/// odd, so no source's token (an aligned address) can be it, and distinct from
/// `sys_linux`'s internal tokens. A turn that reports it drains the pipe and dispatches the
/// signals, after every source's event of that turn.
pub(crate) const SIGNAL_TOKEN: usize = 5;

/// The shared half of the reactor: registering and waking. Lives in `driver::Handle`.
#[derive(Debug)]
pub(crate) struct IoHandle {
    poller: polling::Poller,
    registrations: RegistrationSet,
    /// Linux: the driver's own wake-up eventfd ([`sys_linux`]).
    #[cfg(target_os = "linux")]
    wake: sys_linux::Wake,
    /// Set once the signal self-pipe is added to this poller ([`IoHandle::watch_signals`]).
    signals_watched: AtomicBool,
}

/// The blocking half of the reactor: the event buffer. Lives in `driver::Driver`.
#[derive(Debug)]
pub(crate) struct IoDriver {
    /// Linux: the driver waits on the epoll instance itself ([`sys_linux`]).
    #[cfg(target_os = "linux")]
    waiter: sys_linux::Waiter,
    #[cfg(not(target_os = "linux"))]
    events: polling::Events,
}

impl IoDriver {
    /// Creates the poller: the driver half and the shared half.
    pub(crate) fn new() -> io::Result<(IoDriver, IoHandle)> {
        let poller = polling::Poller::new()?;
        #[cfg(target_os = "linux")]
        let driver = IoDriver {
            waiter: sys_linux::Waiter::new(&poller, EVENTS_CAPACITY)?,
        };
        #[cfg(not(target_os = "linux"))]
        let driver = IoDriver {
            events: polling::Events::with_capacity(
                std::num::NonZeroUsize::new(EVENTS_CAPACITY).expect("nonzero"),
            ),
        };
        Ok((
            driver,
            IoHandle {
                #[cfg(target_os = "linux")]
                wake: sys_linux::Wake::new(&poller)?,
                poller,
                registrations: RegistrationSet::new(),
                signals_watched: AtomicBool::new(false),
            },
        ))
    }

    /// Frees the sources deregistered since the last turn, waits for readiness (at most
    /// `timeout`; `Some(ZERO)`: don't block) or [`IoHandle::unpark`], then dispatches every
    /// reported event. Wakers are called outside every lock. Returns how many events were
    /// dispatched (events for closed sources not counted).
    pub(crate) fn turn(
        &mut self,
        handle: &IoHandle,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        // Before the wait: what this frees was deleted from the poller before its move to
        // `released`, so no event this turn collects names it (`registration_set`, rule 3).
        drop(handle.registrations.release());
        #[cfg(target_os = "linux")]
        {
            let waited = self.waiter.wait(&handle.poller, timeout);
            handle.wake.reset();
            waited?;
            let mut dispatched = 0;
            let mut signals = false;
            for (token, flags) in self.waiter.events() {
                if token == SIGNAL_TOKEN {
                    signals = true;
                    continue;
                }
                if sys_linux::is_internal(token) {
                    continue;
                }
                // SAFETY: `token` was reported by this turn's wait, and the only `release`
                // since was the one above, before the wait: it is the token of a source of
                // this set that is not freed (`registration_set` argues it).
                if unsafe { handle.dispatch_ready(token, Ready::from_epoll(flags)) } {
                    dispatched += 1;
                }
            }
            if signals {
                dispatch_signals();
            }
            Ok(dispatched)
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.events.clear();
            match handle.poller.wait(&mut self.events, timeout) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
                Err(e) => return Err(e),
            }
            let mut dispatched = 0;
            let mut signals = false;
            for ev in self.events.iter() {
                if ev.key == SIGNAL_TOKEN {
                    signals = true;
                    continue;
                }
                // SAFETY: as above: `ev.key` names a source this set has not freed.
                if unsafe { handle.dispatch(&ev) } {
                    dispatched += 1;
                }
            }
            if signals {
                dispatch_signals();
            }
            Ok(dispatched)
        }
    }
}

/// Step 3 of the signal protocol (`crate::signal`): the self-pipe was reported.
fn dispatch_signals() {
    #[cfg(not(loom))]
    crate::signal::dispatch();
}

impl IoHandle {
    /// How many sources are registered (metrics).
    pub(crate) fn registered(&self) -> usize {
        self.registrations.len()
    }

    /// Adds the process's signal self-pipe (`fd`, its read end) to this poller,
    /// edge-triggered for reading under [`SIGNAL_TOKEN`]; once, later calls return at once.
    /// Adding it while a byte is pending queues an event at once, so a signal delivered
    /// before is dispatched by the next turn.
    ///
    /// `fd` must stay open for as long as the poller exists (the signal pipe is never
    /// closed; it is never deleted from the poller, which forgets it when it is closed).
    pub(crate) fn watch_signals(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        if self.signals_watched.load(Ordering::Acquire)
            || self.signals_watched.swap(true, Ordering::AcqRel)
        {
            return Ok(());
        }
        // SAFETY: `polling` requires the source to be deleted before it is closed: the
        // signal pipe is process-wide and never closed (`signal/os.rs`), so it outlives this
        // poller.
        let added = unsafe {
            self.poller.add_with_mode(
                fd.as_raw_fd(),
                polling::Event::readable(SIGNAL_TOKEN),
                polling::PollMode::Edge,
            )
        };
        if let Err(e) = added {
            self.signals_watched.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    /// Delivers one poller event: stores readiness, wakes (see the module docs). Returns
    /// `false` if the source is closed (deregistered or shut down).
    ///
    /// # Safety
    ///
    /// `ev.key` is the token of a source of this handle that no turn has freed: see
    /// [`RegistrationSet::resolve`].
    #[cfg_attr(target_os = "linux", allow(dead_code))] // Linux turns use `dispatch_ready`; tests use this
    pub(crate) unsafe fn dispatch(&self, ev: &polling::Event) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { self.dispatch_ready(ev.key, Ready::from_event(ev)) }
    }

    /// [`IoHandle::dispatch`] of readiness already decoded, for the source with `token`.
    ///
    /// # Safety
    ///
    /// As [`IoHandle::dispatch`]: `token` names a source of this handle no turn has freed.
    pub(crate) unsafe fn dispatch_ready(&self, token: usize, ready: Ready) -> bool {
        // SAFETY: forwarded from the caller.
        let io = unsafe { self.registrations.resolve(token) };
        io.dispatch(ready)
    }

    /// Makes a driver blocked in [`IoDriver::turn`] return now, or the next turn return at
    /// once.
    pub(crate) fn unpark(&self) {
        // An error here means the wake-up descriptor is broken; the parked thread then wakes
        // at its timeout, which is all we could do anyway.
        #[cfg(target_os = "linux")]
        let _ = self.wake.wake();
        #[cfg(not(target_os = "linux"))]
        let _ = self.poller.notify();
    }

    /// Closes every registration and wakes its waiters (their polls then fail); later
    /// registrations fail.
    pub(crate) fn shutdown(&self) {
        for io in self.registrations.shutdown() {
            io.shutdown();
        }
    }

    /// How many sources are registered (tests and metrics).
    pub(crate) fn num_registrations(&self) -> usize {
        self.registrations.len()
    }

    /// How many deregistered sources wait for the driver to free them (tests).
    #[cfg(test)]
    pub(crate) fn num_released(&self) -> usize {
        self.registrations.num_released()
    }

    /// Adds `fd` to the poller, edge-triggered for readable and writable (once: nothing is
    /// re-armed later), and returns its key in the set and its state. The poller's key is the
    /// state's address ([`RegistrationSet::token`]).
    ///
    /// # Safety
    ///
    /// `fd` must stay open until [`IoHandle::deregister`] is called with the returned key.
    pub(crate) unsafe fn register(
        &self,
        fd: BorrowedFd<'_>,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let (key, io) = self.registrations.allocate()?;
        let token = RegistrationSet::token(&io);
        // The caller keeps `fd` open until `deregister(key)`, which deletes it from the
        // poller first (so no event can name `token` for another file later).
        #[cfg(target_os = "linux")]
        let added = sys_linux::add_source(&self.poller, fd, token);
        // SAFETY: the caller keeps `fd` open until `deregister(key)`, which deletes it from the
        // poller first.
        #[cfg(not(target_os = "linux"))]
        let added = unsafe {
            use std::os::fd::AsRawFd;
            self.poller.add_with_mode(
                fd.as_raw_fd(),
                polling::Event::all(token),
                polling::PollMode::Edge,
            )
        };
        if let Err(e) = added {
            self.registrations.remove_unregistered(key);
            return Err(e);
        }
        Ok((key, io))
    }

    /// Removes the source registered under `key`: after this returns none of its wakers is
    /// called; events already reported for it find it closed; the next driver turn frees it.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>, key: usize, io: &ScheduledIo) {
        let wake_driver = self
            .registrations
            .deregister(key, io, || self.poller.delete(fd).is_ok());
        if wake_driver {
            self.unpark();
        }
    }
}
