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
//!   cancelled, and so is the body: the group requests the cancellation of the task it runs
//!   in, delivered at the body's current checkpoint (a body parked on something that is no
//!   checkpoint is dropped by the group instead).
//! - The scope then waits for every child. The failures are collected in completion order,
//!   the body's own error (if any) last, into a Group error "unhandled errors in a
//!   TaskGroup". Cancelled children are not errors.
//! - A body that returns `Err(Cancelled)` ends the scope Cancelled once the children are
//!   done (unless children failed: the Group error wins).
//! - [`TaskGroup::create_task`] fails once the group is finished or shutting down after a
//!   failure; creating tasks while the scope waits for its children (no failure) works.
//!
//! A cancellation of the awaiting task from outside is delivered to the body (or to the
//! scope's exit wait): the group cancels every child, waits for all of them, clean-up
//! included, and then passes the Cancelled on, unless children failed (then the Group error
//! wins). Dropping the scope's future cancels the body and every child, but cannot wait.
//!
//! The bookkeeping (an atomic count of the children, so that a child ending normally takes
//! no lock) is in `taskgroup/scope.rs`, with its protocol and its loom model.

mod scope;

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use crate::kernel::sync::Mutex;

use taskio_runtime::Handle;

use self::scope::{Child, Closed, Scope};
use crate::cancel_scope::{held, Domain};
use crate::exceptions::{Error, Result};
use crate::kernel::completion::DoneListener;
use crate::kernel::task::{take_cancel, AnyCoreRef, Cancel, Core};
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

/// The group's state, told by its children when they end.
type Shared = Scope<AnyCoreRef, Domain>;

impl Child for Domain {
    fn is_done(&self) -> bool {
        Domain::is_done(self)
    }

    fn cancel(&self) {
        Domain::cancel(self);
    }
}

impl Child for AnyCoreRef {
    fn is_done(&self) -> bool {
        self.seq().is_some()
    }

    fn cancel(&self) {
        Cancel::cancel(self, None);
    }
}

impl DoneListener for Shared {
    fn on_done(self: Arc<Self>, _tag: usize, _seq: u64, failure: Option<&Error>) {
        match failure.filter(|e| !e.is_cancelled()) {
            None => self.child_ended(),
            // A supervised group reports the failure and goes on. A hook that panics loses
            // no count: the child has ended either way.
            Some(e) if self.supervisor.is_some() => {
                if let Some(hook) = &self.supervisor {
                    let _ = catch_unwind(AssertUnwindSafe(|| hook(e.clone())));
                }
                self.child_ended();
            }
            // asyncio runs the group's done callback with `call_soon`: the tasks already in
            // the ready queue take their step before the group reacts (and may fail too).
            Some(e) => {
                let (me, e) = (self, e.clone());
                match Handle::try_current() {
                    Ok(h) => drop(h.spawn(async move { me.child_failed(e) })),
                    Err(_) => me.child_failed(e),
                }
            }
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
    ///     assert_eq!(err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors.len(), 1);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn run<F, Fut, R>(body: F) -> Result<R>
    where
        F: FnOnce(TaskGroup) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        Self::run_with(None, body).await
    }

    /// Runs `body` with a **supervised** group: a child's failure (an `Err` other than
    /// Cancelled, or a panic) is passed to `on_error` and cancels nothing; the other children
    /// and the body go on. What a server needs for its connection handlers. Everything else
    /// is [`run`](Self::run)'s: the scope waits for every child; the body's own error cancels
    /// the children and is returned in a Group error (alone: the children's failures went to
    /// the hook); a
    /// cancellation from outside cancels every child and is passed on once they have ended.
    /// A panic in `on_error` is caught and dropped.
    ///
    /// # Errors
    ///
    /// The body's error, or Cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use taskio::{sleep, Error, TaskGroup};
    ///
    /// taskio::run(async {
    ///     let failures = Arc::new(Mutex::new(Vec::new()));
    ///     let seen = failures.clone();
    ///     let served = TaskGroup::run_supervised(
    ///         move |e| seen.lock().unwrap().push(e.to_string()),
    ///         |tg| async move {
    ///             let bad = tg.create_task(async { Err::<u32, _>(Error::runtime("bad request")) })?;
    ///             let good = tg.create_task(async { sleep(0.01).await?; Ok(200) })?;
    ///             let _ = bad.join().await; // failed, and nobody was cancelled
    ///             good.await
    ///         },
    ///     )
    ///     .await?;
    ///     assert_eq!(served, 200);
    ///     assert_eq!(*failures.lock().unwrap(), ["bad request"]);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn run_supervised<F, Fut, R>(
        on_error: impl Fn(Error) + Send + Sync + 'static,
        body: F,
    ) -> Result<R>
    where
        F: FnOnce(TaskGroup) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        Self::run_with(Some(Box::new(on_error)), body).await
    }

    async fn run_with<F, Fut, R>(
        supervisor: Option<Box<dyn Fn(Error) + Send + Sync>>,
        body: F,
    ) -> Result<R>
    where
        F: FnOnce(TaskGroup) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        // Where the body runs (the task, or the shield around it): the first failure
        // cancels it (delivered at the body's checkpoint). Outside any task (`block_on`'s
        // future) the body is dropped instead.
        let parent = Domain::current();
        let has_parent = parent.is_some();
        let mut scope = Scope::with_parent(parent.clone());
        scope.supervisor = supervisor;
        let tg = TaskGroup {
            shared: Arc::new(scope),
        };
        let _guard = AbortOnDrop(tg.clone());
        let mut body = pin!(Some(body(tg.clone())));

        // 1. The body, until it returns (or, with no parent task, until the group aborts).
        let body_result: Option<Result<R>> = poll_fn(|cx| {
            if !has_parent && tg.shared.body_must_stop(cx.waker()) {
                body.set(None);
                return Poll::Ready(None);
            }
            let aborting = has_parent && tg.shared.is_aborting();
            let fut = body.as_mut().as_pin_mut().expect("polled after completion");
            let held_before = held();
            match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                Ok(Poll::Pending) => {
                    // Polled after the group asked for its cancellation, the body did not take
                    // it: it waits on something that is no checkpoint. The group drops it
                    // (instead of the runtime dropping the whole task).
                    if aborting && held() == held_before {
                        if let Some(e) = take_cancel() {
                            body.set(None);
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                    Poll::Pending
                }
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

        // 2. Exit: a body error aborts the group; wait for every child, clean-up included.
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
                tg.shared.abort();
                None
            }
            None => None,
        };
        poll_fn(|cx| {
            // A checkpoint: a cancellation delivered while the group waits (from outside, as
            // the group's own request is made only once it is aborting) aborts it, and is
            // passed on once every child has ended.
            if let Some(e) = take_cancel() {
                if !tg.shared.is_aborting() {
                    tg.shared.abort();
                    propagate_cancel = Some(e);
                }
            }
            tg.shared.poll_exit(cx.waker())
        })
        .await;

        // 3. The outcome. The group's own request on its parent is withdrawn; only if none
        // is left is a Cancelled the group's own (asyncio's `uncancel() == 0`).
        if tg.shared.parent_cancel_requested() {
            if let Some(p) = &parent {
                if p.uncancel() == 0 {
                    propagate_cancel = None;
                }
            }
        }
        let mut errors = tg.shared.take_errors();
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
            // The body was interrupted by the group's own `cancel()` (or, with no parent task,
            // dropped): no value to return, and no error.
            None => Err(Error::cancelled(None)),
        }
    }

    /// Ends the group early, without an error (asyncio 3.15's `TaskGroup.cancel`): every
    /// unfinished child is cancelled, and so is the body (the task running it: delivered at
    /// its checkpoint); the group then waits for the children as always. Idempotent; does
    /// nothing once the group has finished. (asyncio also allows it before the group is
    /// entered; a `TaskGroup` here exists only inside [`run`](Self::run).)
    ///
    /// The group's own cancellation is not the task's: once the group has exited, the task
    /// is not being cancelled ([`cancelling`](crate::Task::cancelling) is back to what it
    /// was) and goes on. `run` returns the body's value if the body caught the cancellation
    /// and returned one; a body the cancellation interrupted has no value to return, so
    /// `run` then returns `Err` of kind Cancelled (where asyncio's `async with` would simply
    /// end). Children's failures still make a Group error.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{sleep, TaskGroup};
    ///
    /// taskio::run(async {
    ///     let out = TaskGroup::run(|tg| async move {
    ///         let server = tg.create_task(async { sleep(3600).await })?;
    ///         tg.cancel(); // e.g. on a shutdown request
    ///         let _ = sleep(3600).await; // delivered here; caught
    ///         assert!(server.cancelling() > 0);
    ///         Ok("exited early")
    ///     })
    ///     .await?;
    ///     assert_eq!(out, "exited early");
    ///     // The task itself is not cancelled: it goes on.
    ///     assert_eq!(taskio::current_task().unwrap().cancelling(), 0);
    ///     sleep(0).await?;
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self) {
        self.shared.cancel_group();
    }

    /// Graceful two-phase shutdown of the group's children (the body goes on): every
    /// unfinished child is cancelled (its clean-up runs, and may await); after `grace`
    /// (seconds, or a `Duration`) the children still running are dropped. Returns the names
    /// of the dropped children. The wait is shielded: a cancellation of the body that comes
    /// meanwhile is delivered after it. Cancelled children are not failures; the group
    /// stays open (new children may be created).
    ///
    /// # Errors
    ///
    /// `Value` for a NaN grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{sleep, TaskGroup};
    ///
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { sleep(3600).await })?; // ends at its cancellation
    ///         let stubborn: taskio::Task<()> = tg.create_task(async {
    ///             loop {
    ///                 let _ = sleep(3600).await; // swallows every cancellation
    ///             }
    ///         })?;
    ///         stubborn.set_name("stubborn");
    ///         sleep(0).await?; // the children start
    ///         let dropped = tg.shutdown(5).await?;
    ///         assert_eq!(dropped, ["stubborn"]);
    ///         assert!(stubborn.cancelled());
    ///         Ok(())
    ///     })
    ///     .await
    /// })
    /// .unwrap();
    /// ```
    pub async fn shutdown(&self, grace: impl crate::tasks::Delay) -> Result<Vec<String>> {
        let grace = grace.into_delay()?.unwrap_or_default();
        let children = self.shared.live_children();
        Ok(crate::shutdown::cancel_then_drop(children, Some(grace)).await)
    }

    /// Starts a child and waits until it reports that it is ready (trio's `nursery.start`):
    /// `f` gets a [`TaskStatus`], and the child calls [`TaskStatus::started`] with a value
    /// (a bound address, say) once it is ready; `start` returns that value, and the child
    /// goes on running in the group.
    ///
    /// Until `started`, the child belongs to the caller: if it fails first, `start` returns
    /// its error (the group is not aborted: the error was the caller's to handle); if it
    /// returns first, `start` fails with `Runtime`; if the caller is cancelled while it
    /// waits, the child is cancelled too. After `started`, the child is an ordinary child
    /// of the group. As in trio, only `started` or the child's end ends the wait: a child
    /// that drops its `TaskStatus` (or never uses it) is waited for until it ends.
    ///
    /// # Errors
    ///
    /// The child's error before `started`; `Runtime` as above, or when the group refuses
    /// new children; Cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
    /// use taskio::TaskGroup;
    ///
    /// taskio::run(async {
    ///     TaskGroup::run(|tg| async move {
    ///         // A server task that reports its port once it listens.
    ///         let port = tg
    ///             .start(|status| async move {
    ///                 let server = start_server(
    ///                     |_r: StreamReader, w: StreamWriter| async move { w.write(b"hi\n") },
    ///                     "127.0.0.1",
    ///                     0,
    ///                 )
    ///                 .await?;
    ///                 status.started(server.sockets()[0].as_inet().unwrap().port());
    ///                 server.serve_forever().await
    ///             })
    ///             .await?;
    ///         let (mut r, _w) = open_connection("127.0.0.1", port).await?;
    ///         assert_eq!(r.readline().await?, b"hi\n");
    ///         tg.cancel(); // done: stop the server
    ///         Ok(())
    ///     })
    ///     .await
    ///     .or_else(|e| if e.is_cancelled() { Ok(()) } else { Err(e) })
    /// })
    /// .unwrap();
    /// ```
    pub async fn start<F, Fut, V, T>(&self, f: F) -> Result<V>
    where
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        V: Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Mutex::new(StartSlot {
            value: None,
            outcome: StartOutcome::Waiting,
            waker: None,
        }));
        let fut = f(TaskStatus { slot: slot.clone() });
        let mine = slot.clone();
        let child = self.create_task(async move {
            let r = fut.await;
            let mut st = mine.lock();
            if matches!(st.outcome, StartOutcome::Started) {
                return r;
            }
            st.outcome = match r {
                Ok(_) => StartOutcome::Failed(Error::runtime(
                    "child exited without calling TaskStatus::started()",
                )),
                Err(e) => StartOutcome::Failed(e),
            };
            let waker = st.waker.take();
            drop(st);
            if let Some(w) = waker {
                w.wake();
            }
            // The failure is `start`'s to report, not the group's.
            Err(Error::cancelled(None))
        })?;
        poll_fn(|cx| {
            let mut st = slot.lock();
            if let Some(v) = st.value.take() {
                return Poll::Ready(Ok(v));
            }
            if let StartOutcome::Failed(e) = &st.outcome {
                return Poll::Ready(Err(e.clone()));
            }
            if let Some(e) = take_cancel() {
                drop(st);
                child.cancel(None);
                return Poll::Ready(Err(e));
            }
            st.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
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
        let handle = Handle::current();
        let at = std::panic::Location::caller();
        let (task, core) = self
            .shared
            .create(|| {
                let task = Task::from_core(Core::spawn(coro, None, &handle, at));
                let core = task.any_core();
                ((task, core.clone()), core)
            })
            .map_err(|closed| match closed {
                Closed::Finished => Error::runtime("TaskGroup is finished"),
                Closed::ShuttingDown => Error::runtime("TaskGroup is shutting down"),
            })?;
        // Outside the mutex: a child already done tells the group at once.
        core.listen(self.shared.clone(), 0);
        Ok(task)
    }
}

/// What a child started with [`TaskGroup::start`] reports its readiness with.
pub struct TaskStatus<V> {
    slot: Arc<Mutex<StartSlot<V>>>,
}

struct StartSlot<V> {
    value: Option<V>,
    outcome: StartOutcome,
    waker: Option<std::task::Waker>,
}

enum StartOutcome {
    Waiting,
    Started,
    Failed(Error),
}

impl<V> TaskStatus<V> {
    /// Reports that the child is ready: [`TaskGroup::start`] returns `value`.
    pub fn started(self, value: V) {
        let waker = {
            let mut st = self.slot.lock();
            if !matches!(st.outcome, StartOutcome::Waiting) {
                return;
            }
            st.outcome = StartOutcome::Started;
            st.value = Some(value);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<V> fmt::Debug for TaskStatus<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let started = matches!(self.slot.lock().outcome, StartOutcome::Started);
        f.debug_struct("TaskStatus")
            .field("started", &started)
            .finish()
    }
}

/// Cancels the body (by being dropped with the scope's future) and every child when the
/// scope is dropped before it finished.
struct AbortOnDrop(TaskGroup);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.shared.close();
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (children, errors, aborting, finished) = self.shared.snapshot();
        f.debug_struct("TaskGroup")
            .field("children", &children)
            .field("errors", &errors)
            .field("aborting", &aborting)
            .field("finished", &finished)
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<TaskGroup>();
}
