//! A registered timer's shared half ([`TimerShared`]) and its waker slot ([`AtomicWaker`]).
//!
//! See the protocol in the parent module's docs: `state` and `pos` are written only under the
//! wheel lock; `state` is read without it by the owning `Sleep`; the waker slot is the only
//! part touched by two threads without any lock, and [`AtomicWaker`] arbitrates it.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::Waker;

/// `state` value once the timer has fired (or the driver shut down). Deadlines are clamped
/// below it.
pub(crate) const FIRED: u64 = u64::MAX;

/// `pos` value while the entry is not in the wheel.
pub(crate) const NOT_IN_WHEEL: u64 = u64::MAX;

/// The largest deadline (in ns since the wheel's origin) an entry can hold.
pub(crate) const MAX_DEADLINE: u64 = u64::MAX - 1;

/// The part of a timer shared by its `Sleep` and the wheel (one `Arc`, one allocation).
#[derive(Debug)]
pub(crate) struct TimerShared {
    /// The deadline (ns since the wheel's origin) while armed; [`FIRED`] once fired.
    /// Written only under the wheel lock (Release); read by the owner with Acquire.
    state: AtomicU64,
    /// Where the wheel holds this entry (see `wheel::Pos`), or [`NOT_IN_WHEEL`]. Read and
    /// written only under the wheel lock, so Relaxed suffices: the lock orders it.
    pos: AtomicU64,
    /// The task to wake when the timer fires.
    pub(crate) waker: AtomicWaker,
}

impl TimerShared {
    pub(crate) fn new(deadline: u64) -> TimerShared {
        TimerShared {
            state: AtomicU64::new(deadline.min(MAX_DEADLINE)),
            pos: AtomicU64::new(NOT_IN_WHEEL),
            waker: AtomicWaker::new(),
        }
    }

    /// Whether the timer has fired. Acquire: pairs with the Release in [`Self::set_fired`].
    pub(crate) fn is_fired(&self) -> bool {
        self.state.load(Ordering::Acquire) == FIRED
    }

    /// Marks the entry fired. Call only under the wheel lock.
    pub(crate) fn set_fired(&self) {
        self.state.store(FIRED, Ordering::Release);
    }

    /// Re-arms the entry for `deadline`. Call only under the wheel lock.
    pub(crate) fn set_deadline(&self, deadline: u64) {
        self.state
            .store(deadline.min(MAX_DEADLINE), Ordering::Release);
    }

    /// The wheel position. Call only under the wheel lock.
    pub(crate) fn pos(&self) -> u64 {
        self.pos.load(Ordering::Relaxed)
    }

    /// Records the wheel position. Call only under the wheel lock.
    pub(crate) fn set_pos(&self, pos: u64) {
        self.pos.store(pos, Ordering::Relaxed);
    }
}

const WAITING: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// One waker slot, registered by the owning task and taken by whoever fires the timer.
///
/// The algorithm is `futures`' `AtomicWaker`: `state` is a tiny lock over `waker` with two
/// bits. `REGISTERING` is held by [`AtomicWaker::register`] while it writes the slot, `WAKING`
/// by [`AtomicWaker::take`] while it empties it. Only the holder of the bit it set while the
/// state was otherwise `WAITING` touches `waker`. A `take` that finds `REGISTERING` set leaves
/// its `WAKING` bit behind; the registering thread sees it when it releases, and wakes the
/// waker it just stored itself, so no wake-up is lost.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `waker` is only accessed by the single thread that won the `state` protocol
// described on the type (an exclusive lock), and `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as for `Send`: all shared access to `waker` is serialised by `state`.
unsafe impl Sync for AtomicWaker {}

impl std::fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}

impl AtomicWaker {
    pub(crate) fn new() -> AtomicWaker {
        AtomicWaker {
            state: AtomicUsize::new(WAITING),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be taken by the next [`Self::take`]. A `take` racing with this call
    /// either takes the new waker or makes this call wake it.
    pub(crate) fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(WAITING, REGISTERING, Ordering::Acquire, Ordering::Acquire)
            .unwrap_or_else(|x| x)
        {
            WAITING => {
                // SAFETY: we moved `state` from WAITING to REGISTERING, which gives this thread
                // exclusive access to `waker` until it clears REGISTERING (type docs).
                let old = self.waker.with_mut(|w| unsafe {
                    match &*w {
                        Some(old) if old.will_wake(waker) => None,
                        _ => (*w).replace(waker.clone()),
                    }
                });
                match self.state.compare_exchange(
                    REGISTERING,
                    WAITING,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {}
                    Err(actual) => {
                        // A `take` ran meanwhile and left WAKING: it could not take the slot,
                        // so we wake on its behalf. We still hold REGISTERING.
                        debug_assert_eq!(actual, REGISTERING | WAKING);
                        // SAFETY: REGISTERING is still set by us, so access is still exclusive.
                        let waker = self.waker.with_mut(|w| unsafe { (*w).take() });
                        self.state.swap(WAITING, Ordering::AcqRel);
                        if let Some(waker) = waker {
                            waker.wake();
                        }
                    }
                }
                drop(old);
            }
            WAKING => {
                // A `take` is emptying the slot right now; it may miss this waker, so wake it.
                waker.wake_by_ref();
                crate::loom::spin_loop();
            }
            state => {
                // Another `register` is running: only the owner registers, so this is a caller
                // bug, but harmless.
                debug_assert!(state == REGISTERING || state == REGISTERING | WAKING);
            }
        }
    }

    /// Takes the registered waker, if the slot is free to take.
    pub(crate) fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, Ordering::AcqRel) {
            WAITING => {
                // SAFETY: we moved `state` from WAITING to WAKING, which gives this thread
                // exclusive access to `waker` until it clears WAKING (type docs).
                let waker = self.waker.with_mut(|w| unsafe { (*w).take() });
                self.state.fetch_and(!WAKING, Ordering::Release);
                waker
            }
            state => {
                // REGISTERING: the registrant will see WAKING and wake. WAKING: someone else
                // is already waking.
                debug_assert!(
                    state == REGISTERING || state == REGISTERING | WAKING || state == WAKING
                );
                None
            }
        }
    }
}
