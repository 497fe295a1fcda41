//! The typed side of a task: polling, completing, cancelling, reading the output.
//!
//! Each function here runs under one of the ownership rules of the [`task`](super) module
//! docs; the SAFETY comments name the rule.

use crate::task::cancel::PollGuard;
use crate::task::cell::{Cell, Header, Stage};
use crate::task::raw::RawTask;
use crate::task::state::{Snapshot, TransitionToIdle, TransitionToRunning};
use crate::task::waker::waker_ref;
use crate::task::{JoinError, Notified, Schedule, Task};
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// Typed access to a cell.
pub(crate) struct Harness<T: Future, S: 'static, D> {
    cell: NonNull<Cell<T, S, D>>,
}

enum PollFuture {
    Complete,
    Notified,
    Done,
    Dealloc,
}

impl<T: Future, S: Schedule, D> Harness<T, S, D> {
    /// # Safety
    ///
    /// `ptr` must point to a live `Cell<T, S, D>`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<T, S, D> {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<T, S, D> {
        // SAFETY: the harness is built only from a pointer to a live cell of this type, and
        // used while the caller's reference keeps it alive.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is live.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    pub(crate) fn scheduler(&self) -> &S {
        &self.cell().scheduler
    }

    // ===== stage access: only by the owner named in `Cell::stage`'s docs =====

    /// # Safety
    ///
    /// The caller owns the stage (holds RUNNING, or COMPLETE with the output's ownership).
    unsafe fn set_stage(&self, stage: Stage<T>) {
        // Move the old stage out first, so that a panicking destructor leaves the cell in
        // the new stage and never drops anything twice.
        // SAFETY: exclusive access by the caller's contract.
        let old = self
            .cell()
            .stage
            .with_mut(|ptr| unsafe { mem::replace(&mut *ptr, stage) });
        drop(old);
    }

    /// # Safety
    ///
    /// As `set_stage`.
    unsafe fn drop_future_or_output(&self) {
        // SAFETY: forwarded.
        unsafe { self.set_stage(Stage::Consumed) }
    }

    /// # Safety
    ///
    /// As `set_stage`.
    unsafe fn store_output(&self, output: Result<T::Output, JoinError>) {
        // SAFETY: forwarded.
        unsafe { self.set_stage(Stage::Finished(output)) }
    }

    /// # Safety
    ///
    /// As `set_stage`, and the stage must be `Finished`.
    unsafe fn take_output(&self) -> Result<T::Output, JoinError> {
        // SAFETY: exclusive access by the caller's contract.
        let stage = self
            .cell()
            .stage
            .with_mut(|ptr| unsafe { mem::replace(&mut *ptr, Stage::Consumed) });
        match stage {
            Stage::Finished(output) => output,
            _ => panic!("JoinHandle polled after completion"),
        }
    }

    // ===== polling =====

    /// Runs a `Notified` (its reference is consumed).
    pub(crate) fn poll(self) {
        match self.poll_inner() {
            PollFuture::Notified => {
                // Woken during its own poll (`yield_now`, an exhausted budget, a wake from
                // another thread): the running reference becomes a new `Notified`, which
                // goes to the back of the queue.
                // SAFETY: `transition_to_idle` handed the running reference to us.
                let task = unsafe { Notified::<S>::from_raw(self.header().into()) };
                self.scheduler().yield_now(task);
            }
            PollFuture::Complete => self.complete(),
            // SAFETY: the state says the last reference is gone.
            PollFuture::Dealloc => unsafe { self.raw().dealloc() },
            PollFuture::Done => {}
        }
    }

    fn poll_inner(&self) -> PollFuture {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success { first_poll } => {
                // One load per poll: the cancellation protocol's steps 5 and 6 (`cancel.rs`).
                let cancel = self.header().cancel.load();
                if first_poll && cancel.is_pending() {
                    // SAFETY: we hold RUNNING.
                    unsafe { self.cancel_task() };
                    return PollFuture::Complete;
                }
                #[cfg(feature = "tracing")]
                let _entered = self.header().meta.span.enter();
                // The poller's own words (`meta.rs`): a plain load and store each.
                #[cfg(not(taskio_unobserved))]
                {
                    use std::sync::atomic::Ordering::Relaxed;
                    let header = self.header();
                    header
                        .polls
                        .store(header.polls.load(Relaxed).wrapping_add(1), Relaxed);
                    header.meta.awaiting.store(0, Relaxed);
                }
                let waker = waker_ref(self.raw());
                let mut cx = Context::from_waker(&waker);
                let guard = PollGuard::enter(self.header().into());
                // SAFETY: we hold RUNNING.
                let ready = unsafe { self.poll_future(&mut cx, &guard) }.is_ready();
                if ready {
                    return PollFuture::Complete;
                }
                let fallback = !guard.delivered()
                    && !guard.held()
                    && cancel.same_request_pending(self.header().cancel.load());
                drop(guard);
                if fallback {
                    // Parked on something that is no checkpoint: the drop fallback.
                    // SAFETY: we still hold RUNNING.
                    unsafe { self.cancel_task() };
                    return PollFuture::Complete;
                }
                match self.header().state.transition_to_idle() {
                    TransitionToIdle::Ok => PollFuture::Done,
                    TransitionToIdle::OkNotified => PollFuture::Notified,
                    TransitionToIdle::OkDealloc => PollFuture::Dealloc,
                    TransitionToIdle::Cancelled => {
                        // SAFETY: we still hold RUNNING.
                        unsafe { self.cancel_task() };
                        PollFuture::Complete
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                // SAFETY: we hold RUNNING.
                unsafe { self.cancel_task() };
                PollFuture::Complete
            }
            TransitionToRunning::Failed => PollFuture::Done,
            TransitionToRunning::Dealloc => PollFuture::Dealloc,
        }
    }

    /// Polls the future once; on `Ready` (or a panic) stores the output.
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING; `guard` marks this task as the thread's current one.
    unsafe fn poll_future(&self, cx: &mut Context<'_>, guard: &PollGuard) -> Poll<()> {
        let id = self.header().id;
        let res = panic::catch_unwind(AssertUnwindSafe(|| {
            /// Drops the future if `poll` unwinds, still inside `catch_unwind`.
            struct Guard<'a, T: Future, S: Schedule, D>(&'a Harness<T, S, D>);
            impl<T: Future, S: Schedule, D> Drop for Guard<'_, T, S, D> {
                fn drop(&mut self) {
                    // SAFETY: the poller holds RUNNING.
                    unsafe { self.0.drop_future_or_output() }
                }
            }
            let guard = Guard(self);
            let res = self.cell().stage.with_mut(|ptr| {
                // SAFETY: we hold RUNNING, so the stage is ours.
                match unsafe { &mut *ptr } {
                    Stage::Running(fut) => {
                        // SAFETY: the future lives in the heap cell and is never moved out
                        // of it while `Running` (it is dropped in place), so it is pinned.
                        unsafe { std::pin::Pin::new_unchecked(fut) }.poll(cx)
                    }
                    _ => unreachable!("a task was polled after it completed"),
                }
            });
            mem::forget(guard);
            res
        }));
        let output = match res {
            Ok(Poll::Pending) => return Poll::Pending,
            // The cancellation protocol's step 7: a task that cancelled itself and returned
            // ends cancelled.
            Ok(Poll::Ready(output))
                if guard.by_self() && self.header().cancel.load().is_pending() =>
            {
                // The output's destructor is user code: its panic is the task's outcome.
                match panic::catch_unwind(AssertUnwindSafe(|| drop(output))) {
                    Ok(()) => Err(JoinError::cancelled(id)),
                    Err(payload) => Err(JoinError::panic(id, payload)),
                }
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(id, payload)),
        };
        // Storing the output drops the future, whose destructor may panic.
        let res = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: we hold RUNNING.
            unsafe { self.store_output(output) }
        }));
        if let Err(payload) = res {
            // SAFETY: we hold RUNNING.
            unsafe { self.store_output(Err(JoinError::panic(id, payload))) };
        }
        Poll::Ready(())
    }

    /// Drops the future and stores the cancellation (or the destructor's panic).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING.
    unsafe fn cancel_task(&self) {
        let id = self.header().id;
        let res = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: forwarded.
            unsafe { self.drop_future_or_output() }
        }));
        let err = match res {
            Ok(()) => JoinError::cancelled(id),
            Err(payload) => JoinError::panic(id, payload),
        };
        // SAFETY: forwarded.
        unsafe { self.store_output(Err(err)) };
    }

    /// RUNNING → COMPLETE, then tell the `JoinHandle`, leave the owned list, and drop the
    /// references this completion holds.
    fn complete(self) {
        #[cfg(feature = "tracing")]
        tracing::trace!(target: "taskio::task", parent: &self.header().meta.span, "completed");
        let snapshot = self.header().state.transition_to_complete();
        let _ = panic::catch_unwind(AssertUnwindSafe(|| self.notify_join(snapshot)));
        let num_release = self.release();
        if self.header().state.transition_to_terminal(num_release) {
            // SAFETY: that was the last reference.
            unsafe { self.raw().dealloc() };
        }
    }

    fn notify_join(&self, snapshot: Snapshot) {
        if !snapshot.is_join_interested() {
            // Nobody will read the output: it is the runtime's to drop.
            // SAFETY: COMPLETE without JOIN_INTEREST gives the runtime the stage.
            unsafe { self.drop_future_or_output() };
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER is set, so the runtime may read the slot.
            self.header().join_waker.with(|ptr| match unsafe { &*ptr } {
                Some(waker) => waker.wake_by_ref(),
                None => panic!("JOIN_WAKER set with an empty waker slot"),
            });
            let snapshot = self.header().state.unset_waker_after_complete();
            if !snapshot.is_join_interested() {
                // The JoinHandle was dropped meanwhile and left the slot to us.
                // SAFETY: JOIN_WAKER is now unset and the handle is gone: the slot is ours.
                unsafe { self.set_join_waker(None) };
            }
        }
    }

    /// Removes the task from its scheduler's owned list; returns the number of references
    /// to drop (ours, plus the list's if it still held one).
    fn release(&self) -> usize {
        // SAFETY: we hold the running reference, so this borrowed handle is live; it is
        // never dropped (ManuallyDrop), so it takes and drops no reference.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.header().into()) });
        match self.scheduler().release(&me) {
            Some(task) => {
                mem::forget(task);
                2
            }
            None => 1,
        }
    }

    /// # Safety
    ///
    /// The caller owns the join waker slot (see JOIN_WAKER).
    unsafe fn set_join_waker(&self, waker: Option<Waker>) {
        // SAFETY: forwarded; drop the old waker after the write.
        let old = self
            .header()
            .join_waker
            .with_mut(|ptr| unsafe { mem::replace(&mut *ptr, waker) });
        drop(old);
    }

    // ===== the JoinHandle side =====

    /// # Safety
    ///
    /// Called by the `JoinHandle` only; `dst` is a valid `Poll<Result<T::Output, _>>`.
    pub(crate) unsafe fn try_read_output(
        self,
        dst: *mut Poll<Result<T::Output, JoinError>>,
        waker: &Waker,
    ) {
        if self.can_read_output(waker) {
            // SAFETY: COMPLETE with JOIN_INTEREST: the output is the handle's. `dst` is
            // valid by the caller's contract.
            unsafe { *dst = Poll::Ready(self.take_output()) };
        }
    }

    /// True if the task is complete; otherwise makes sure `waker` is in the slot.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let snapshot = self.header().state.load();
        debug_assert!(snapshot.is_join_interested());
        if snapshot.is_complete() {
            return true;
        }
        let res = if snapshot.is_join_waker_set() {
            // SAFETY: with JOIN_WAKER set, the handle may read the slot (nobody writes it).
            let same = self.header().join_waker.with(|ptr| match unsafe { &*ptr } {
                Some(w) => w.will_wake(waker),
                None => false,
            });
            if same {
                return false;
            }
            self.header()
                .state
                .unset_join_waker()
                .and_then(|snapshot| self.set_join_waker_and_publish(waker.clone(), snapshot))
        } else {
            self.set_join_waker_and_publish(waker.clone(), snapshot)
        };
        match res {
            Ok(_) => false,
            Err(snapshot) => {
                debug_assert!(snapshot.is_complete());
                true
            }
        }
    }

    fn set_join_waker_and_publish(
        &self,
        waker: Waker,
        snapshot: Snapshot,
    ) -> Result<Snapshot, Snapshot> {
        debug_assert!(!snapshot.is_join_waker_set());
        // SAFETY: JOIN_WAKER is unset, so the handle owns the slot.
        unsafe { self.set_join_waker(Some(waker)) };
        let res = self.header().state.set_join_waker();
        if res.is_err() {
            // Completed meanwhile; the slot is still ours: clear it.
            // SAFETY: JOIN_WAKER is still unset.
            unsafe { self.set_join_waker(None) };
        }
        res
    }

    /// Drops the `JoinHandle`'s reference, and the output or waker if they are its to drop.
    pub(crate) fn drop_join_handle_slow(self) {
        let t = self.header().state.transition_to_join_handle_dropped();
        if t.drop_output {
            // The output's destructor is user code; it must not unwind into the caller's
            // drop of the JoinHandle twice over, so its panic is swallowed.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: COMPLETE with JOIN_INTEREST (until now): the output is ours.
                unsafe { self.drop_future_or_output() }
            }));
        }
        if t.drop_waker {
            // SAFETY: the transition gave the slot to the handle.
            unsafe { self.set_join_waker(None) };
        }
        // SAFETY: the handle's reference, which the caller (the `JoinHandle`) handed over.
        unsafe { self.raw().drop_reference() };
    }

    /// Runtime shutdown, holding the owned list's reference.
    pub(crate) fn shutdown(self) {
        if !self.header().state.transition_to_shutdown() {
            // Running elsewhere (it will see CANCELLED) or already complete.
            // SAFETY: the owned list's reference, which the caller handed over.
            unsafe { self.raw().drop_reference() };
            return;
        }
        // SAFETY: the transition gave us RUNNING; the list's reference stands in for the
        // running reference.
        unsafe { self.cancel_task() };
        self.complete();
    }
}
