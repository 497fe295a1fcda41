//! Who owns each [`ScheduledIo`], and when it may be freed.
//!
//! The poller's key for a source is its `ScheduledIo`'s address (its *token*), so the driver
//! turns an event into the source without a lock or a lookup. That is sound only while the
//! `ScheduledIo` cannot be freed under an event naming it; the rules (see the [module
//! docs](super) for the whole protocol):
//!
//! 1. The set holds one `Arc` per registered source, in `live`, from before the fd is added
//!    to the poller until [`RegistrationSet::deregister`].
//! 2. `deregister` runs the poller's delete first, and only then moves the `Arc` to `released`.
//! 3. Only the driver frees `released` ([`RegistrationSet::release`]), at the start of a
//!    turn, before it waits. Turns never overlap.
//!
//! An event reported by the wait of turn T was collected by the kernel before the delete of
//! its fd returned (epoll serialises collection and removal), so the `Arc` reached `released`
//! after turn T's `release` had run, and is freed at turn T + 1 at the earliest, after turn T
//! dispatched the event. Addresses of `live` and `released` entries are all distinct, so a
//! token names one registration while any event can carry it.

use super::{ScheduledIo, Slab};
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use std::io;

/// When this many sources wait in `released`, `deregister` asks for a driver turn, so that a
/// parked driver frees them (tokio uses the same batch).
const NOTIFY_AFTER: usize = 16;

/// The registered sources of one reactor, and the deregistered ones not yet freed.
#[derive(Debug)]
pub(crate) struct RegistrationSet {
    synced: Mutex<Synced>,
    /// Set when `released` has entries (under the lock), cleared by `release` (under the
    /// lock): lets the driver skip the lock when there is nothing to free.
    needs_release: AtomicBool,
}

#[derive(Debug, Default)]
struct Synced {
    /// Sources registered and not deregistered, keyed by their registration's key.
    live: Slab<Arc<ScheduledIo>>,
    /// Deregistered sources the driver may still hold an event for (rule 3).
    released: Vec<Arc<ScheduledIo>>,
    /// Set once by `shutdown`; allocating fails after it.
    is_shutdown: bool,
}

fn shutdown_error() -> io::Error {
    io::Error::other("the taskio runtime's I/O driver has shut down")
}

impl RegistrationSet {
    pub(crate) fn new() -> RegistrationSet {
        RegistrationSet {
            synced: Mutex::new(Synced::default()),
            needs_release: AtomicBool::new(false),
        }
    }

    /// The poller key of `io`: its address. Never `usize::MAX` (polling's own notifier key).
    pub(crate) fn token(io: &ScheduledIo) -> usize {
        std::ptr::from_ref(io).expose_provenance()
    }

    /// The source `token` names.
    ///
    /// # Safety
    ///
    /// `token` came from [`RegistrationSet::token`] for a source of this set, and
    /// [`RegistrationSet::release`] has not freed that source: the source is still `live`,
    /// or was deregistered and no `release` has run since. (For an event reported by the
    /// driver's wait, calling this before the next turn's `release` satisfies it: see the
    /// module docs.)
    pub(crate) unsafe fn resolve(&self, token: usize) -> &ScheduledIo {
        let ptr = std::ptr::with_exposed_provenance::<ScheduledIo>(token);
        // SAFETY: the caller's contract: an `Arc` of this set (in `live` or `released`) still
        // holds the `ScheduledIo` at `ptr`, and the set outlives the returned borrow.
        unsafe { &*ptr }
    }

    /// A new source, held in `live` under the returned key. Fails after `shutdown`.
    pub(crate) fn allocate(&self) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let mut s = self.synced.lock();
        if s.is_shutdown {
            return Err(shutdown_error());
        }
        let io = Arc::new(ScheduledIo::new());
        let key = s
            .live
            .insert(io.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "reactor slab is full"))?;
        Ok((key, io))
    }

    /// Drops a source whose fd never made it into the poller (so no event names it).
    pub(crate) fn remove_unregistered(&self, key: usize) {
        let io = self.synced.lock().live.remove(key);
        drop(io);
    }

    /// Removes the source under `key`: closes it (`ScheduledIo::deregister`: no waker of it
    /// is called after this returns), runs `delete_from_poller`, then leaves it to the
    /// driver to free. `delete_from_poller` returns `false` if the poller may still hold the
    /// fd (the delete failed): the source is then leaked rather than ever freed under an
    /// event. Returns `true` when enough sources wait to be freed that the caller should
    /// wake the driver.
    pub(crate) fn deregister(
        &self,
        key: usize,
        io: &ScheduledIo,
        delete_from_poller: impl FnOnce() -> bool,
    ) -> bool {
        io.deregister();
        let deleted = delete_from_poller();
        let mut s = self.synced.lock();
        let Some(arc) = s.live.remove(key) else {
            return false;
        };
        if !deleted {
            drop(s);
            std::mem::forget(arc);
            return false;
        }
        s.released.push(arc);
        self.needs_release.store(true, Ordering::Release);
        s.released.len() == NOTIFY_AFTER
    }

    /// Driver, at the start of each turn and nowhere else: takes the deregistered sources
    /// out (the caller drops them, outside the lock).
    pub(crate) fn release(&self) -> Vec<Arc<ScheduledIo>> {
        if !self.needs_release.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut s = self.synced.lock();
        self.needs_release.store(false, Ordering::Relaxed);
        std::mem::take(&mut s.released)
    }

    /// Refuses later allocations and returns every live source (to be closed).
    pub(crate) fn shutdown(&self) -> Vec<Arc<ScheduledIo>> {
        let mut s = self.synced.lock();
        s.is_shutdown = true;
        s.live.iter().cloned().collect()
    }

    /// How many sources are live (tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.synced.lock().live.len()
    }

    /// How many deregistered sources wait to be freed (tests).
    #[cfg(test)]
    pub(crate) fn num_released(&self) -> usize {
        self.synced.lock().released.len()
    }
}
