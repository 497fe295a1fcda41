//! asyncio's `TaskGroup`, as an async scope: [`TaskGroup::run`].
//!
//! ```text
//! async with asyncio.TaskGroup() as tg:        TaskGroup::run(|tg| async move {
//!     tg.create_task(a())                          tg.create_task(a())?;
//!     tg.create_task(b())                          tg.create_task(b())?;
//!     await something()                            something().await?;
//!                                                  Ok(())
//!                                              }).await?;
//! ```
//!
//! The body runs inside the awaiting task (it is not spawned), with the group handle. The
//! scope returns the body's value once every child has ended, or fails:
//!
//! - On the first child failure (an `Err` or a panic), every other unfinished child is
//!   cancelled, and so is the body, at its current await (its future is dropped).
//! - The scope then waits for every child. The failures are collected in completion order,
//!   the body's own error (if any) last, into a Group error "unhandled errors in a
//!   TaskGroup". Cancelled children are not errors.
//! - A body that returns `Err(Cancelled)` ends the scope Cancelled once the children are
//!   done (unless children failed: the Group error wins).
//! - [`TaskGroup::create_task`] fails once the group is finished or shutting down after a
//!   failure; creating tasks while the scope waits for its children (no failure) works.
//!
//! Dropping the scope's future (the awaiting task being cancelled from outside) cancels the
//! body and every child; see the crate's cancellation page for why it cannot wait for them.

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;
use taskio_runtime::Handle;

use crate::exceptions::{Error, Result};
use crate::tasks::core::{AnyCoreRef, Cancel, Core, DoneListener};
use crate::tasks::Task;

/// A handle to a running task group; see [`TaskGroup::run`]. Cheap to clone.
///
/// # Examples
///
/// ```
/// use taskio::{sleep, TaskGroup};
///
/// let (a, b) = taskio::run(async {
///     TaskGroup::run(|tg| async move {
///         let a = tg.create_task(async { sleep(0).await?; Ok(1) })?;
///         let b = tg.create_task(async { Ok(2) })?;
///         Ok((a, b))
///     })
///     .await
/// })
/// .unwrap();
/// // Every child is done once the scope returns.
/// assert_eq!((a.result().unwrap(), b.result().unwrap()), (1, 2));
/// ```
#[derive(Clone)]
pub struct TaskGroup {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    children: Children,
    /// Failures in completion order.
    errors: Vec<Error>,
    aborting: bool,
    exiting: bool,
    finished: bool,
    /// The scope's waker (body polling or exit waiting). The scope only needs waking when
    /// the group starts aborting (to drop the body) or its last child is done (to exit), so
    /// other completions leave it be.
    waker: Option<Waker>,
}

/// The unfinished children, each under a tag (its index in the slab: no hashing); a tag is
/// reused once its child is done.
#[derive(Default)]
struct Children {
    slab: Vec<Option<AnyCoreRef>>,
    /// Indices of the `None` entries of `slab`.
    free: Vec<usize>,
}

impl Children {
    fn insert(&mut self, core: AnyCoreRef) -> usize {
        match self.free.pop() {
            Some(tag) => {
                self.slab[tag] = Some(core);
                tag
            }
            None => {
                self.slab.push(Some(core));
                self.slab.len() - 1
            }
        }
    }

    fn remove(&mut self, tag: usize) -> Option<AnyCoreRef> {
        let core = self.slab.get_mut(tag)?.take()?;
        self.free.push(tag);
        Some(core)
    }

    fn len(&self) -> usize {
        self.slab.len() - self.free.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The children, oldest tag first.
    fn all(&self) -> Vec<AnyCoreRef> {
        self.slab.iter().flatten().cloned().collect()
    }
}

impl DoneListener for Shared {
    fn on_done(self: Arc<Self>, tag: usize, _seq: u64, failure: Option<&Error>) {
        match failure.filter(|e| !e.is_cancelled()) {
            None => self.child_done(tag, None),
            // asyncio runs the group's done callback with `call_soon`: the tasks already in
            // the ready queue take their step before the group reacts (and may fail too).
            Some(e) => {
                let (me, e) = (self, e.clone());
                match Handle::try_current() {
                    Ok(h) => drop(h.spawn(async move { me.child_done(tag, Some(e)) })),
                    Err(_) => me.child_done(tag, Some(e)),
                }
            }
        }
    }
}

impl Shared {
    fn child_done(&self, tag: usize, failure: Option<Error>) {
        let (to_cancel, waker, _child) = {
            let mut st = self.state.lock();
            let child = st.children.remove(tag);
            let mut to_cancel = Vec::new();
            let mut wake = st.children.is_empty();
            if let Some(e) = failure {
                st.errors.push(e);
                if !st.aborting {
                    st.aborting = true;
                    to_cancel = st.children.all();
                    wake = true;
                }
            }
            (to_cancel, wake.then(|| st.waker.take()).flatten(), child)
        };
        for c in to_cancel {
            c.cancel(None);
        }
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl TaskGroup {
    /// Runs `body` with a new group and returns its value once every child has ended; see
    /// the [module docs](self) for the rules.
    ///
    /// # Errors
    ///
    /// A Group error holding the children's failures (completion order) and the body's own
    /// error (last); or Cancelled when the body was cancelled and no child failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{ErrorKind, TaskGroup};
    ///
    /// taskio::run(async {
    ///     let err = TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { Err::<(), _>(taskio::Error::runtime("child")) })?;
    ///         tg.create_task(std::future::pending::<taskio::Result<()>>())?; // cancelled
    ///         std::future::pending::<()>().await; // the body is cancelled too
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Group);
    ///     assert_eq!(err.group_errors().unwrap().len(), 1);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn run<F, Fut, R>(body: F) -> Result<R>
    where
        F: FnOnce(TaskGroup) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let tg = TaskGroup {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
            }),
        };
        let _guard = AbortOnDrop(tg.clone());
        let mut body = pin!(Some(body(tg.clone())));

        // 1. The body, until it returns or the group aborts.
        let body_result: Option<Result<R>> = poll_fn(|cx| {
            {
                let mut st = tg.shared.state.lock();
                if st.aborting {
                    drop(st);
                    body.set(None);
                    return Poll::Ready(None);
                }
                set_waker(&mut st.waker, cx.waker());
            }
            let fut = body.as_mut().as_pin_mut().expect("polled after completion");
            match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(r)) => {
                    body.set(None);
                    Poll::Ready(Some(r))
                }
                Err(p) => {
                    body.set(None);
                    Poll::Ready(Some(Err(Error::panic(p))))
                }
            }
        })
        .await;

        // 2. Exit: a body error aborts the group; wait for every child.
        let mut body_error = None;
        let mut propagate_cancel = None;
        let value = match body_result {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                if e.is_cancelled() {
                    propagate_cancel = Some(e);
                } else {
                    body_error = Some(e);
                }
                tg.abort();
                None
            }
            None => None,
        };
        tg.shared.state.lock().exiting = true;
        poll_fn(|cx| {
            let mut st = tg.shared.state.lock();
            if st.children.is_empty() {
                st.finished = true;
                return Poll::Ready(());
            }
            set_waker(&mut st.waker, cx.waker());
            Poll::Pending
        })
        .await;

        // 3. The outcome.
        let mut errors = std::mem::take(&mut tg.shared.state.lock().errors);
        if let Some(c) = propagate_cancel {
            if errors.is_empty() {
                return Err(c);
            }
        }
        errors.extend(body_error);
        if !errors.is_empty() {
            return Err(Error::group("unhandled errors in a TaskGroup", errors));
        }
        match value {
            Some(v) => Ok(v),
            // Aborted with no error left: cannot happen (abort follows an error), but be total.
            None => Err(Error::cancelled(None)),
        }
    }

    /// Creates a child task in the group (asyncio's `tg.create_task`).
    ///
    /// # Errors
    ///
    /// `Runtime` when the group is finished ("TaskGroup is finished") or shutting down after
    /// a failure ("TaskGroup is shutting down").
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::TaskGroup;
    ///
    /// taskio::run(async {
    ///     let mut kept = None;
    ///     TaskGroup::run(|tg| {
    ///         kept = Some(tg.clone());
    ///         async move {
    ///             let t = tg.create_task(async { Ok(5) })?;
    ///             assert_eq!(t.await?, 5);
    ///             Ok(())
    ///         }
    ///     })
    ///     .await?;
    ///     let err = kept.unwrap().create_task(async { Ok(()) }).unwrap_err();
    ///     assert!(err.to_string().contains("is finished"));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn create_task<F, T>(&self, coro: F) -> Result<Task<T>>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.check_open()?;
        let task = Task::from_core(Core::spawn(coro, None, Handle::current()));
        let core = task.any_core();
        let (tag, abort_now) = {
            let mut st = self.shared.state.lock();
            (st.children.insert(core.clone()), st.aborting)
        };
        core.listen(self.shared.clone(), tag);
        if abort_now {
            core.cancel(None);
        }
        Ok(task)
    }

    fn check_open(&self) -> Result<()> {
        let st = self.shared.state.lock();
        if st.finished || (st.exiting && st.children.is_empty()) {
            return Err(Error::runtime("TaskGroup is finished"));
        }
        if st.aborting {
            return Err(Error::runtime("TaskGroup is shutting down"));
        }
        Ok(())
    }

    /// Cancels every unfinished child and marks the group as shutting down.
    fn abort(&self) {
        let children: Vec<_> = {
            let mut st = self.shared.state.lock();
            st.aborting = true;
            st.children.all()
        };
        for c in children {
            c.cancel(None);
        }
    }
}

/// Stores `waker` in `slot`, without a clone when it is the one already there.
fn set_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) => w.clone_from(waker),
        None => *slot = Some(waker.clone()),
    }
}

/// Cancels the body (by being dropped with the scope's future) and every child when the
/// scope is dropped before it finished.
struct AbortOnDrop(TaskGroup);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let finished = self.0.shared.state.lock().finished;
        if !finished {
            self.0.abort();
            self.0.shared.state.lock().finished = true;
        }
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("TaskGroup")
            .field("children", &st.children.len())
            .field("errors", &st.errors.len())
            .field("aborting", &st.aborting)
            .field("finished", &st.finished)
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<TaskGroup>();
}
