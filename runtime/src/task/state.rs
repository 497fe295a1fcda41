//! The task's state word: lifecycle bits and a reference count in one `AtomicUsize`.
//!
//! Every transition is one compare-and-swap loop (or one `fetch_*`) and returns a
//! `#[must_use]` enum telling the caller what it now owns. The protocol these transitions
//! implement is written out in the [module docs of `task`](super).

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::fmt;

/// The task is being polled, or is being cancelled by whoever set it. Whoever sets RUNNING
/// has exclusive access to the future/output stage until it unsets it (or sets COMPLETE).
const RUNNING: usize = 0b00_0001;

/// The future has been dropped and the output (or the cancellation/panic error) stored.
/// Once set, never unset; RUNNING and COMPLETE are never set together.
const COMPLETE: usize = 0b00_0010;

/// A `Notified` for this task exists (it is in a run queue, or about to be), or the task was
/// woken while RUNNING and will be resubmitted when its poll ends. While set, further wakes
/// do nothing.
const NOTIFIED: usize = 0b00_0100;

/// A `JoinHandle` exists. Unset once, by the `JoinHandle` when it is dropped.
const JOIN_INTEREST: usize = 0b00_1000;

/// The join waker slot holds a waker that the runtime may read (and wake) on completion.
/// While unset, the `JoinHandle` owns the slot; while set, the runtime reads it and the
/// `JoinHandle` may only read it. Never set together with COMPLETE by the `JoinHandle`.
const JOIN_WAKER: usize = 0b01_0000;

/// The task must be cancelled: its future is dropped instead of polled the next time it is
/// claimed. Once set, never unset.
const CANCELLED: usize = 0b10_0000;

/// The future has been polled at least once (set by `transition_to_running`, in the same
/// compare-and-swap that claims it). Once set, never unset. A task whose cancellation was
/// requested before its first poll is cancelled without being polled (asyncio: the body
/// never runs).
const POLLED: usize = 0b100_0000;

/// Number of low bits used by the flags above.
const REF_COUNT_SHIFT: usize = 7;

/// One reference.
const REF_ONE: usize = 1 << REF_COUNT_SHIFT;

/// Mask of the reference count.
const REF_COUNT_MASK: usize = !(REF_ONE - 1);

/// A new task has three references (the owned-task list, the first `Notified`, the
/// `JoinHandle`), a JoinHandle, and is notified (it is about to be scheduled).
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// A new task spawned with data (`Handle::spawn_with`) has four references (the owned-task
/// list, the first `Notified`, the `TaskRef` returned to the spawner, the `TaskRef` given to
/// its future) and no JoinHandle (its output is dropped on completion), and is notified.
const INITIAL_STATE_WITH_DATA: usize = (REF_ONE * 4) | NOTIFIED;

/// The atomic state word.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one moment.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What `transition_to_running` gave the caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The caller now owns the future and must poll it; `first_poll` if it never was.
    Success { first_poll: bool },
    /// The caller now owns the future and must cancel it (drop it, store Cancelled).
    Cancelled,
    /// The task is running elsewhere or complete; the caller's reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: the caller must deallocate.
    Dealloc,
}

/// What `transition_to_idle` gave the caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the running reference was dropped.
    Ok,
    /// Idle, but woken during the poll: the running reference became a new `Notified` that
    /// the caller must submit.
    OkNotified,
    /// Idle and the running reference was the last one: deallocate.
    OkDealloc,
    /// Cancelled during the poll: the caller still owns the future and must cancel it.
    Cancelled,
}

/// What a by-value wake gave the caller (the waker's reference is consumed).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByVal {
    /// Nothing to do.
    DoNothing,
    /// The waker's reference became a `Notified`: submit it.
    Submit,
    /// The waker held the last reference: deallocate.
    Dealloc,
}

/// What a by-reference wake gave the caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByRef {
    /// Nothing to do.
    DoNothing,
    /// A new reference was taken for a `Notified`: submit it.
    Submit,
}

/// What dropping the `JoinHandle` must clean up itself.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TransitionToJoinHandleDropped {
    /// The task is complete and the output is the handle's to drop.
    pub(crate) drop_output: bool,
    /// The join waker slot is the handle's to clear.
    pub(crate) drop_waker: bool,
}

impl State {
    /// A new task's state.
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE),
        }
    }

    /// A new task's state, for a task spawned with data (see `INITIAL_STATE_WITH_DATA`).
    pub(crate) fn new_with_data() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE_WITH_DATA),
        }
    }

    /// Loads the current state.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// A `Notified` is being run: claim the future, or drop the notification's reference if
    /// the task is running elsewhere or complete.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_notified());
            if !next.is_idle() {
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            let first_poll = next.0 & POLLED == 0;
            next.set_running();
            next.unset_notified();
            next.0 |= POLLED;
            let action = if next.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success { first_poll }
            };
            (action, Some(next))
        })
    }

    /// The poll returned `Pending`: give up the claim.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let mut next = curr;
            next.unset_running();
            let action = if next.is_notified() {
                // The running reference is handed to the new Notified.
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// The output is stored: RUNNING → COMPLETE. Returns the new state.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.val.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running());
        debug_assert!(!prev.is_complete());
        Snapshot(prev.0 ^ DELTA)
    }

    /// Drops `count` references after completion. Returns true if the task must be freed.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        assert!(
            prev.ref_count() >= count,
            "task reference count underflow: {} - {}",
            prev.ref_count(),
            count
        );
        prev.ref_count() == count
    }

    /// `Waker::wake` (consumes the waker's reference).
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotifiedByVal {
        self.fetch_update_action(|mut snapshot| {
            if snapshot.is_running() {
                // The poller resubmits it; the waker's reference goes.
                snapshot.set_notified();
                snapshot.ref_dec();
                debug_assert!(snapshot.ref_count() > 0);
                (TransitionToNotifiedByVal::DoNothing, Some(snapshot))
            } else if snapshot.is_complete() || snapshot.is_notified() {
                snapshot.ref_dec();
                let action = if snapshot.ref_count() == 0 {
                    TransitionToNotifiedByVal::Dealloc
                } else {
                    TransitionToNotifiedByVal::DoNothing
                };
                (action, Some(snapshot))
            } else {
                // The waker's reference becomes the Notified's.
                snapshot.set_notified();
                (TransitionToNotifiedByVal::Submit, Some(snapshot))
            }
        })
    }

    /// `Waker::wake_by_ref`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotifiedByRef {
        self.notify_by_ref(false)
    }

    /// The wake of a cancellation request (`cancel.rs`, step 1): as
    /// [`transition_to_notified_by_ref`](Self::transition_to_notified_by_ref), but the word
    /// is always written (the same value when the task is already notified), so that the
    /// poller's next `transition_to_running`, an acquire read of a later value, sees the
    /// request recorded before this write.
    pub(crate) fn transition_to_notified_for_cancel(&self) -> TransitionToNotifiedByRef {
        self.notify_by_ref(true)
    }

    #[inline(always)]
    fn notify_by_ref(&self, always_write: bool) -> TransitionToNotifiedByRef {
        self.fetch_update_action(|mut snapshot| {
            if snapshot.is_complete() {
                (TransitionToNotifiedByRef::DoNothing, None)
            } else if snapshot.is_notified() {
                (
                    TransitionToNotifiedByRef::DoNothing,
                    always_write.then_some(snapshot),
                )
            } else if snapshot.is_running() {
                snapshot.set_notified();
                (TransitionToNotifiedByRef::DoNothing, Some(snapshot))
            } else {
                snapshot.set_notified();
                snapshot.ref_inc();
                (TransitionToNotifiedByRef::Submit, Some(snapshot))
            }
        })
    }

    /// `JoinHandle::abort`: mark cancelled and make sure someone will act on it. Returns
    /// true if the caller took a new reference for a `Notified` and must submit it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(|mut snapshot| {
            if snapshot.is_cancelled() || snapshot.is_complete() {
                (false, None)
            } else if snapshot.is_running() || snapshot.is_notified() {
                // The poller (or the queued Notified) will see CANCELLED.
                snapshot.set_notified();
                snapshot.set_cancelled();
                (false, Some(snapshot))
            } else {
                snapshot.set_cancelled();
                snapshot.set_notified();
                snapshot.ref_inc();
                (true, Some(snapshot))
            }
        })
    }

    /// Runtime shutdown: set CANCELLED, and claim the future if nobody holds it. Returns true
    /// if the caller claimed it (and must cancel it).
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        let mut prev = Snapshot(0);
        let _ = self.fetch_update(|mut snapshot| {
            prev = snapshot;
            if snapshot.is_idle() {
                snapshot.set_running();
            }
            snapshot.set_cancelled();
            Some(snapshot)
        });
        prev.is_idle()
    }

    /// The fast path of dropping a `JoinHandle` of a task that has not run yet.
    pub(crate) fn drop_join_handle_fast(&self) -> Result<(), ()> {
        self.val
            .compare_exchange_weak(
                INITIAL_STATE,
                (INITIAL_STATE - REF_ONE) & !JOIN_INTEREST,
                Release,
                Relaxed,
            )
            .map(|_| ())
            .map_err(|_| ())
    }

    /// Dropping the `JoinHandle`: unset JOIN_INTEREST (and take the waker slot back).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDropped {
        self.fetch_update_action(|mut snapshot| {
            debug_assert!(snapshot.is_join_interested());
            let mut t = TransitionToJoinHandleDropped {
                drop_output: false,
                drop_waker: false,
            };
            snapshot.unset_join_interested();
            if snapshot.is_complete() {
                // After COMPLETE with JOIN_INTEREST, the output belongs to the handle.
                t.drop_output = true;
            } else {
                // The runtime has not completed: it will see no interest and never touch
                // the waker slot.
                snapshot.unset_join_waker();
            }
            if !snapshot.is_join_waker_set() {
                // Either we just took the slot back, or the runtime already gave it back.
                t.drop_waker = true;
            }
            (t, Some(snapshot))
        })
    }

    /// The `JoinHandle` stored a waker in the slot it owns: hand the slot to the runtime.
    /// Fails (returning the state) if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested());
            debug_assert!(!curr.is_join_waker_set());
            if curr.is_complete() {
                return None;
            }
            let mut next = curr;
            next.set_join_waker();
            Some(next)
        })
    }

    /// The `JoinHandle` wants to replace its waker: take the slot back. Fails (returning the
    /// state) if the task completed meanwhile.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested());
            if curr.is_complete() {
                // Completion may already have handed the slot back
                // (`unset_waker_after_complete`), so JOIN_WAKER can be clear here: the
                // snapshot the handle acted on is stale, not the protocol broken.
                return None;
            }
            debug_assert!(curr.is_join_waker_set());
            let mut next = curr;
            next.unset_join_waker();
            Some(next)
        })
    }

    /// After waking the join waker on completion, the runtime gives the slot back.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete());
        debug_assert!(prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Takes one more reference (a waker clone, a `Task` handle).
    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        // An overflow would make a freed task look alive: abort rather than continue.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference. Returns true if it was the last one.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }

    fn fetch_update_action<F, T>(&self, mut f: F) -> T
    where
        F: FnMut(Snapshot) -> (T, Option<Snapshot>),
    {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let next = match next {
                Some(next) => next,
                None => return output,
            };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    fn fetch_update<F>(&self, mut f: F) -> Result<Snapshot, Snapshot>
    where
        F: FnMut(Snapshot) -> Option<Snapshot>,
    {
        let mut curr = self.load();
        loop {
            let next = match f(curr) {
                Some(next) => next,
                None => return Err(curr),
            };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return Ok(next),
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }
}

impl Snapshot {
    /// Neither running nor complete.
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }

    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED == NOTIFIED
    }

    fn unset_notified(&mut self) {
        self.0 &= !NOTIFIED
    }

    fn set_notified(&mut self) {
        self.0 |= NOTIFIED
    }

    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING == RUNNING
    }

    fn set_running(&mut self) {
        self.0 |= RUNNING;
    }

    fn unset_running(&mut self) {
        self.0 &= !RUNNING;
    }

    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED == CANCELLED
    }

    fn set_cancelled(&mut self) {
        self.0 |= CANCELLED;
    }

    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE == COMPLETE
    }

    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST == JOIN_INTEREST
    }

    fn unset_join_interested(&mut self) {
        self.0 &= !JOIN_INTEREST
    }

    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER == JOIN_WAKER
    }

    fn set_join_waker(&mut self) {
        self.0 |= JOIN_WAKER;
    }

    fn unset_join_waker(&mut self) {
        self.0 &= !JOIN_WAKER
    }

    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_COUNT_MASK) >> REF_COUNT_SHIFT
    }

    fn ref_inc(&mut self) {
        assert!(self.0 <= isize::MAX as usize);
        self.0 += REF_ONE;
    }

    fn ref_dec(&mut self) {
        assert!(self.ref_count() > 0);
        self.0 -= REF_ONE
    }
}

impl fmt::Debug for State {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(fmt)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.debug_struct("Snapshot")
            .field("is_running", &self.is_running())
            .field("is_complete", &self.is_complete())
            .field("is_notified", &self.is_notified())
            .field("is_cancelled", &self.is_cancelled())
            .field("is_join_interested", &self.is_join_interested())
            .field("is_join_waker_set", &self.is_join_waker_set())
            .field("ref_count", &self.ref_count())
            .finish()
    }
}
