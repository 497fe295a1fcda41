//! A TaskGroup's bookkeeping: who counts the children, who wakes the scope.
//!
//! # The protocol
//!
//! `live` is one atomic word: the number of children not yet ended (`count * ONE`) and the
//! [`EXITING`] bit (the scope's body is over and the scope waits for the count to reach
//! zero). Everything else (the children's handles, kept only to cancel them; the errors;
//! `aborting`; `finished`; the scope's waker) is under the mutex.
//!
//! 1. **Create** ([`Scope::create`]), one mutex acquisition: refuse when finished, when
//!    exiting with a zero count ("finished"), or when aborting ("shutting down"); else spawn
//!    the child, add `ONE` and push its handle. Increments only happen under the mutex and
//!    only while the group is open, so once the scope has seen (under the mutex) a zero count
//!    with `EXITING` set, nobody can add a child any more.
//! 2. **A child ends normally** (success, or cancelled: not an error) in [`Scope::child_ended`]:
//!    `fetch_sub(ONE, Release)`, no mutex. Only the child whose subtraction left `EXITING`
//!    alone (the previous value was `ONE | EXITING`) takes the mutex, to take the scope's
//!    waker and wake it.
//! 3. **A child fails** ([`Scope::child_failed`]): under the mutex it records its error,
//!    starts the abort if it is the first (takes the handles to cancel and the waker: the
//!    body must be dropped), and only *then* subtracts `ONE`, so a scope that sees the count
//!    at zero also sees every error.
//! 4. **Exit** ([`Scope::poll_exit`]): under the mutex the scope stores its waker and sets
//!    `EXITING` with `fetch_or(AcqRel)`; a zero count in the previous value means every
//!    child has ended. No lost wake-up: the last child's subtraction is either before the
//!    `fetch_or` in the word's modification order (then the scope sees zero) or after it
//!    (then the child sees `EXITING`, and takes the mutex after the scope released it, so it
//!    finds the waker). The `Release` subtractions and the `Acquire` of the `fetch_or` make
//!    every child's end happen before the scope returns (the subtractions form one release
//!    sequence).
//! 5. **Handles of ended children** are not removed by the children (that would need the
//!    mutex): `create` sweeps them out in batches ([`State::sweep`]), amortised O(1) per
//!    create, and the scope drops the rest when it finishes. A handle is only used to
//!    cancel its child, and cancelling an ended child does nothing.
//!
//! Handles are dropped and cancelled, and wakers woken, after the mutex is released.

use std::mem;
use std::task::{Poll, Waker};

use crate::exceptions::Error;
use crate::kernel::sync::atomic::{AtomicUsize, Ordering};
use crate::kernel::sync::Mutex;

/// Bit of `live`: the body is over and the scope waits for the count to reach zero. Set
/// under the mutex, never unset.
const EXITING: usize = 1;
/// One child in `live` (the count is `live / ONE`).
const ONE: usize = 2;

/// `create` sweeps ended children's handles out once there are this many (then at twice
/// what is left). Under loom it sweeps on every create, so that models run it.
#[cfg(not(loom))]
const SWEEP_MIN: usize = 64;
#[cfg(loom)]
const SWEEP_MIN: usize = 1;

/// What the scope keeps of a child: enough to tell whether it has ended and to cancel it.
pub(crate) trait Child {
    fn is_done(&self) -> bool;
    fn cancel(&self);
}

/// Why [`Scope::create`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The scope has returned (or was dropped), or is returning: "TaskGroup is finished".
    Finished,
    /// A child failed or the body raised: "TaskGroup is shutting down".
    ShuttingDown,
}

/// The state shared by the group's handles and its children; see the module docs.
pub(crate) struct Scope<C, P = C> {
    /// Children not yet ended, times `ONE`, plus `EXITING`.
    live: AtomicUsize,
    state: Mutex<State<C, P>>,
    /// A supervised group's report of a child's failure (instead of aborting the group);
    /// set before the scope is shared, never changed.
    pub(crate) supervisor: Option<Box<dyn Fn(Error) + Send + Sync>>,
}

struct State<C, P> {
    /// The children's handles, oldest first (ended ones included until swept).
    children: Vec<C>,
    /// `children.len()` at which `create` sweeps next.
    sweep_at: usize,
    /// Failures in completion order.
    errors: Vec<Error>,
    aborting: bool,
    finished: bool,
    /// The task that runs the scope's body (asyncio's parent task), when there is one: the
    /// first failure requests its cancellation, so that the body is cancelled at its
    /// current checkpoint.
    parent: Option<P>,
    /// `parent`'s cancellation was requested by the group (so the scope withdraws one
    /// request when it exits: `uncancel`).
    parent_cancel_requested: bool,
    /// The scope's waker (body polling or exit waiting). Taken by the first failure (to
    /// drop the body) and by the last child once the scope is exiting.
    waker: Option<Waker>,
}

impl<C: Child, P> State<C, P> {
    /// Moves the ended children's handles out (to be dropped after the mutex), keeping the
    /// others in order, unless most children are still running (`live` of them); sets the
    /// next sweep point.
    fn sweep(&mut self, live: usize) -> Vec<C> {
        let mut ended = Vec::new();
        if live * 2 <= self.children.len() {
            let all = mem::replace(&mut self.children, Vec::with_capacity(live));
            for c in all {
                if c.is_done() {
                    ended.push(c);
                } else {
                    self.children.push(c);
                }
            }
        }
        self.sweep_at = (self.children.len() * 2).max(SWEEP_MIN);
        ended
    }
}

impl<C: Child, P: Child> Scope<C, P> {
    pub(crate) fn new() -> Scope<C, P> {
        Scope {
            live: AtomicUsize::new(0),
            state: Mutex::new(State {
                children: Vec::new(),
                sweep_at: SWEEP_MIN,
                errors: Vec::new(),
                aborting: false,
                finished: false,
                parent: None,
                parent_cancel_requested: false,
                waker: None,
            }),
            supervisor: None,
        }
    }

    /// A scope whose body runs in the task `parent` (see `State::parent`).
    pub(crate) fn with_parent(parent: Option<P>) -> Scope<C, P> {
        let scope = Scope::new();
        scope.state.lock().parent = parent;
        scope
    }

    /// True if the group requested its parent's cancellation (once; the caller withdraws it).
    pub(crate) fn parent_cancel_requested(&self) -> bool {
        self.state.lock().parent_cancel_requested
    }

    /// Adds a child made by `spawn` (called under the mutex, once the group is known to be
    /// open), which returns the caller's value and the handle the scope keeps. The caller
    /// must then arrange for exactly one of [`child_ended`](Self::child_ended) /
    /// [`child_failed`](Self::child_failed) once the child ends (and not before this
    /// returned).
    pub(crate) fn create<R>(&self, spawn: impl FnOnce() -> (R, C)) -> Result<R, Closed> {
        let (r, ended) = {
            let mut st = self.state.lock();
            // Relaxed: increments happen under this mutex; a stale non-zero count only means
            // the new child is added and the scope (which checks under the mutex) waits.
            let live = self.live.load(Ordering::Relaxed);
            if st.finished || live == EXITING {
                return Err(Closed::Finished);
            }
            if st.aborting {
                return Err(Closed::ShuttingDown);
            }
            let ended = if st.children.len() >= st.sweep_at {
                st.sweep(live / ONE)
            } else {
                Vec::new()
            };
            let (r, child) = spawn();
            // Relaxed: the child cannot end (subtract) before the caller registers it, after
            // this returns; the spawn publishes this increment to it.
            self.live.fetch_add(ONE, Ordering::Relaxed);
            st.children.push(child);
            (r, ended)
        };
        drop(ended);
        Ok(r)
    }

    /// A child ended without an error (success or cancelled).
    pub(crate) fn child_ended(&self) {
        let prev = self.live.fetch_sub(ONE, Ordering::Release);
        debug_assert!(prev >= ONE, "a TaskGroup child was counted twice");
        if prev == ONE | EXITING {
            let waker = self.state.lock().waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// A child failed with `error`: recorded, and the first failure aborts the group.
    pub(crate) fn child_failed(&self, error: Error) {
        let (to_cancel, waker) = {
            let mut st = self.state.lock();
            st.errors.push(error);
            let mut to_cancel = Vec::new();
            let mut wake = false;
            if !st.aborting {
                st.aborting = true;
                to_cancel = mem::take(&mut st.children);
                wake = true;
                // Under the mutex, before the count drops: a scope that sees every child
                // ended also sees this request made, so it withdraws exactly it.
                let st = &mut *st;
                if let Some(p) = &st.parent {
                    st.parent_cancel_requested = true;
                    p.cancel();
                }
            }
            // After the error is in: whoever sees the count drop sees the error.
            let prev = self.live.fetch_sub(ONE, Ordering::Release);
            debug_assert!(prev >= ONE, "a TaskGroup child was counted twice");
            wake |= prev == ONE | EXITING;
            (to_cancel, if wake { st.waker.take() } else { None })
        };
        for c in &to_cancel {
            c.cancel();
        }
        drop(to_cancel);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The body's poll: `true` when the group is aborting (the body must be dropped), else
    /// `waker` is stored.
    pub(crate) fn body_must_stop(&self, waker: &Waker) -> bool {
        let mut st = self.state.lock();
        if st.aborting {
            return true;
        }
        set_waker(&mut st.waker, waker);
        false
    }

    /// The exit's poll: `Ready` (and finished) once every child has ended, else `waker` is
    /// stored.
    pub(crate) fn poll_exit(&self, waker: &Waker) -> Poll<()> {
        let mut st = self.state.lock();
        let prev = self.live.fetch_or(EXITING, Ordering::AcqRel);
        if prev / ONE != 0 {
            set_waker(&mut st.waker, waker);
            taskio_runtime::task::set_awaiting(taskio_runtime::task::Awaiting::TaskGroup);
            return Poll::Pending;
        }
        st.finished = true;
        st.waker = None;
        let ended = mem::take(&mut st.children);
        drop(st);
        drop(ended);
        Poll::Ready(())
    }

    /// Marks the group as shutting down and cancels every unfinished child.
    pub(crate) fn abort(&self) {
        let to_cancel = {
            let mut st = self.state.lock();
            st.aborting = true;
            mem::take(&mut st.children)
        };
        for c in &to_cancel {
            c.cancel();
        }
    }

    /// The children not yet ended (for a shutdown: cancelling an ended child does nothing).
    pub(crate) fn live_children(&self) -> Vec<C>
    where
        C: Clone,
    {
        let st = self.state.lock();
        st.children
            .iter()
            .filter(|c| !c.is_done())
            .cloned()
            .collect()
    }

    /// The scope is dropped before it finished: abort, and refuse creates from now on.
    pub(crate) fn close(&self) {
        let to_cancel = {
            let mut st = self.state.lock();
            if st.finished {
                return;
            }
            st.finished = true;
            st.aborting = true;
            mem::take(&mut st.children)
        };
        for c in &to_cancel {
            c.cancel();
        }
    }

    /// The group's own early exit (asyncio 3.15's `TaskGroup.cancel`): shut down as a failure
    /// would (cancel every child, and the parent task, once), without an error. Nothing once
    /// the group has finished; idempotent.
    pub(crate) fn cancel_group(&self) {
        let to_cancel = {
            let mut st = self.state.lock();
            if st.finished {
                return;
            }
            let mut to_cancel = Vec::new();
            if !st.aborting {
                st.aborting = true;
                to_cancel = mem::take(&mut st.children);
            }
            let st = &mut *st;
            if let Some(p) = &st.parent {
                if !st.parent_cancel_requested {
                    st.parent_cancel_requested = true;
                    p.cancel();
                }
            }
            (to_cancel, st.waker.take())
        };
        for c in &to_cancel.0 {
            c.cancel();
        }
        drop(to_cancel.0);
        if let Some(w) = to_cancel.1 {
            w.wake();
        }
    }

    /// True once the group is shutting down (a failure, a body error, a cancellation).
    pub(crate) fn is_aborting(&self) -> bool {
        self.state.lock().aborting
    }

    /// The failures so far, in completion order (taken).
    pub(crate) fn take_errors(&self) -> Vec<Error> {
        mem::take(&mut self.state.lock().errors)
    }

    /// `(children not yet ended, errors, aborting, finished)`, for `Debug`.
    pub(crate) fn snapshot(&self) -> (usize, usize, bool, bool) {
        let st = self.state.lock();
        let live = self.live.load(Ordering::Relaxed) / ONE;
        (live, st.errors.len(), st.aborting, st.finished)
    }
}

/// Stores `waker` in `slot`, without a clone when it is the one already there.
fn set_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) => w.clone_from(waker),
        None => *slot = Some(waker.clone()),
    }
}

/// loom: the protocol with the children (and a late creator) on other threads. A lost
/// wake-up of the scope is a loom deadlock; a scope that returns before a child ended, or
/// without seeing a child's writes, fails `check_all_ended` (the output is a loom
/// `UnsafeCell`, so an unordered read is reported as a race); a child counted twice trips the
/// `debug_assert` (models run with debug assertions on) or returns early.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::poll_fn;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::__testing::block_on;

    /// One child: its output (written by its thread before it ends, read by the scope's
    /// thread after the scope returned), and its done and cancelled flags.
    struct Inner {
        out: UnsafeCell<Option<u32>>,
        done: AtomicBool,
        cancelled: AtomicBool,
    }

    // SAFETY: `Inner` is shared by a child's thread, the scope's thread and the thread that
    // creates the child. Its atomics are `Sync`; `out` (a loom `UnsafeCell`, `!Sync`) is never
    // accessed by two threads without an order between them:
    // 1. `out` is written once, only by the child's own thread (`end`), and that write is
    //    sequenced before the child tells the scope: `child_ended` and `child_failed` both
    //    end in a `Release` `fetch_sub(ONE)` of `live`.
    // 2. `out` is read only by the scope's thread (`check_all_ended`), after `poll_exit`
    //    returned `Ready`. `Ready` means the `AcqRel` `fetch_or` of that poll read a value of
    //    `live` with a zero count. Each created child added `ONE` before the count could be
    //    seen at zero (creates add under the mutex while the group is open, and the scope
    //    closes it under that mutex), so that value comes after every child's subtraction in
    //    `live`'s modification order.
    // 3. Every operation on `live` is a read-modify-write, so each child's `Release`
    //    subtraction heads a release sequence that reaches the value the `fetch_or` read: the
    //    subtraction synchronises with the `fetch_or`, and by 1 and 2 the write happens before
    //    the read.
    // 4. The parent in the last model is never written, and a refused `create` makes no
    //    child: nothing else holds an `out`.
    // The models assert the conclusion: loom's `UnsafeCell` fails a model on any access pair
    // not ordered by happens-before.
    unsafe impl Sync for Inner {}

    #[derive(Clone)]
    struct TestChild(Arc<Inner>);

    impl Child for TestChild {
        fn is_done(&self) -> bool {
            self.0.done.load(Ordering::Acquire)
        }

        fn cancel(&self) {
            self.0.cancelled.store(true, Ordering::Release);
        }
    }

    type TestScope = Arc<Scope<TestChild>>;
    /// Every child created, for the final check.
    type Created = Arc<Mutex<Vec<TestChild>>>;

    fn create(scope: &TestScope, created: &Created) -> Result<TestChild, Closed> {
        scope.create(|| {
            let c = TestChild(Arc::new(Inner {
                out: UnsafeCell::new(None),
                done: AtomicBool::new(false),
                cancelled: AtomicBool::new(false),
            }));
            created.lock().push(c.clone());
            (c.clone(), c)
        })
    }

    /// The child's end: output, done flag, then the scope is told.
    fn end(scope: &TestScope, c: &TestChild, v: u32, fails: bool) {
        // SAFETY: step 1 of the `Sync` argument on `Inner`: this is the child's thread, the
        // only writer, and the scope is told after this write.
        c.0.out.with_mut(|p| unsafe { *p = Some(v) });
        c.0.done.store(true, Ordering::Release);
        if fails {
            scope.child_failed(Error::runtime("boom"));
        } else {
            scope.child_ended();
        }
    }

    /// Runs the child `c` on a new thread.
    fn run_child(scope: &TestScope, c: TestChild, v: u32, fails: bool) -> thread::JoinHandle<()> {
        let s = scope.clone();
        thread::spawn(move || end(&s, &c, v, fails))
    }

    fn exit(scope: &TestScope) {
        block_on(poll_fn(|cx| scope.poll_exit(cx.waker())));
    }

    /// After the scope returned: every created child has ended and its output is visible.
    fn check_all_ended(created: &Created) -> usize {
        let created = created.lock();
        for c in created.iter() {
            // SAFETY: steps 2 and 3 of the `Sync` argument on `Inner`: the scope returned, so
            // every child's write happened before this read.
            let out = c.0.out.with(|p| unsafe { *p });
            assert!(out.is_some(), "the scope returned before a child ended");
        }
        created.len()
    }

    fn new() -> (TestScope, Created) {
        (Arc::new(Scope::new()), Arc::new(Mutex::new(Vec::new())))
    }

    #[test]
    fn loom_last_child_wakes_the_exiting_scope() {
        loom::model(|| {
            let (scope, created) = new();
            let a = create(&scope, &created).unwrap();
            let b = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, false);
            let tb = run_child(&scope, b, 2, false);
            exit(&scope);
            assert_eq!(check_all_ended(&created), 2);
            assert!(scope.take_errors().is_empty());
            ta.join().unwrap();
            tb.join().unwrap();
        });
    }

    #[test]
    fn loom_failure_is_recorded_before_the_scope_sees_zero() {
        loom::model(|| {
            let (scope, created) = new();
            let a = create(&scope, &created).unwrap();
            let b = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, true);
            let tb = run_child(&scope, b, 2, false);
            exit(&scope);
            assert_eq!(check_all_ended(&created), 2);
            assert_eq!(scope.take_errors().len(), 1);
            ta.join().unwrap();
            tb.join().unwrap();
        });
    }

    #[test]
    fn loom_create_racing_the_close_is_waited_for_or_refused() {
        loom::model(|| {
            let (scope, created) = new();
            let a = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, false);
            let late = {
                let (s, cr) = (scope.clone(), created.clone());
                thread::spawn(move || match create(&s, &cr) {
                    Ok(c) => {
                        end(&s, &c, 2, false);
                        Ok(())
                    }
                    Err(e) => Err(e),
                })
            };
            exit(&scope);
            let n = check_all_ended(&created);
            ta.join().unwrap();
            match late.join().unwrap() {
                Ok(()) => assert_eq!(n, 2),
                Err(e) => assert_eq!((e, n), (Closed::Finished, 1)),
            }
            assert_eq!(create(&scope, &created).err(), Some(Closed::Finished));
        });
    }

    #[test]
    fn loom_failure_racing_create_cancels_or_refuses() {
        loom::model(|| {
            let (scope, created) = new();
            let a = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, true);
            let late = {
                let (s, cr) = (scope.clone(), created.clone());
                thread::spawn(move || match create(&s, &cr) {
                    Ok(c) => {
                        // Runs until cancelled: an abort that misses it never ends.
                        while !c.0.cancelled.load(Ordering::Acquire) {
                            thread::yield_now();
                        }
                        end(&s, &c, 2, false);
                        Ok(())
                    }
                    Err(e) => Err(e),
                })
            };
            exit(&scope);
            let n = check_all_ended(&created);
            assert_eq!(scope.take_errors().len(), 1);
            ta.join().unwrap();
            match late.join().unwrap() {
                Ok(()) => assert_eq!(n, 2),
                // Refused after the abort, or after the scope returned.
                Err(_) => assert_eq!(n, 1),
            }
        });
    }

    #[test]
    fn loom_abort_racing_create_cancels_or_refuses() {
        loom::model(|| {
            let (scope, created) = new();
            let late = {
                let (s, cr) = (scope.clone(), created.clone());
                thread::spawn(move || match create(&s, &cr) {
                    Ok(c) => {
                        while !c.0.cancelled.load(Ordering::Acquire) {
                            thread::yield_now();
                        }
                        end(&s, &c, 2, false);
                        Ok(())
                    }
                    Err(e) => Err(e),
                })
            };
            scope.abort(); // the body raised
            exit(&scope);
            let n = check_all_ended(&created);
            assert!(scope.take_errors().is_empty());
            match late.join().unwrap() {
                Ok(()) => assert_eq!(n, 1),
                Err(_) => assert_eq!(n, 0),
            }
        });
    }

    #[test]
    fn loom_failure_wakes_the_body() {
        loom::model(|| {
            let (scope, created) = new();
            let a = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, true);
            block_on(poll_fn(|cx| {
                if scope.body_must_stop(cx.waker()) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }));
            exit(&scope);
            assert_eq!(check_all_ended(&created), 1);
            assert_eq!(scope.take_errors().len(), 1);
            ta.join().unwrap();
        });
    }

    /// The group's request on its parent task (made by the first failure) happens before the
    /// scope can see every child ended: a scope that returned and saw the request made finds
    /// the parent cancelled (so its `uncancel` withdraws exactly that request), and the
    /// request is made once however failures and the group's own `cancel` interleave.
    #[test]
    fn loom_parent_cancel_is_made_before_the_scope_sees_zero() {
        loom::model(|| {
            let created: Created = Arc::new(Mutex::new(Vec::new()));
            let parent = TestChild(Arc::new(Inner {
                out: UnsafeCell::new(None),
                done: AtomicBool::new(false),
                cancelled: AtomicBool::new(false),
            }));
            let scope: TestScope = Arc::new(Scope::with_parent(Some(parent.clone())));
            let a = create(&scope, &created).unwrap();
            let b = create(&scope, &created).unwrap();
            let ta = run_child(&scope, a, 1, true);
            let tb = run_child(&scope, b, 2, true);
            let canceller = {
                let s = scope.clone();
                thread::spawn(move || s.cancel_group())
            };
            exit(&scope);
            assert_eq!(check_all_ended(&created), 2);
            assert!(scope.parent_cancel_requested());
            assert!(
                parent.0.cancelled.load(Ordering::Acquire),
                "the scope saw the request recorded but not made"
            );
            ta.join().unwrap();
            tb.join().unwrap();
            canceller.join().unwrap();
            assert_eq!(scope.take_errors().len(), 2);
        });
    }
}
