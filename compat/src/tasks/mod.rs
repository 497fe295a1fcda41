//! asyncio's `Task`: [`create_task`], [`Task`], [`current_task`], [`all_tasks`], [`sleep`].
//!
//! A [`Task<T>`] is a cheap, cloneable handle to a spawned coroutine that returns
//! `taskio::Result<T>`. The coroutine runs on the runtime's workers whether or not anyone
//! awaits it. Awaiting a handle gives `taskio::Result<T>`: the value, the coroutine's error,
//! `Cancelled` (with the message given to [`Task::cancel`]) or `Panic`.
//!
//! # Reading a result twice
//!
//! asyncio lets any number of awaiters read one task's result. A `Task<T>` is shared the same
//! way, so awaiting it (and [`Task::result`]) hands out a *clone* of the value: that needs
//! `T: Clone`. For values that cannot be cloned, [`Task::join`] moves the value out; any
//! later read of it returns an `InvalidState` error.
//!
//! # Awaiting a task cancels it when the awaiter is cancelled
//!
//! In asyncio, cancelling a coroutine that is blocked in `await task` cancels `task` too
//! (that is why [`shield`](crate::shield()) exists). taskio keeps that rule: a
//! [`TaskFuture`] that was polled and is dropped before the task finished cancels the task.
//! Creating a task and dropping its handle without awaiting it does *not* cancel it (the task
//! is detached, as in asyncio).

mod callbacks;
mod common;
mod sleep;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use taskio_runtime::task::TaskRef;
use taskio_runtime::Handle;

pub use self::callbacks::DoneCallback;
pub use self::sleep::{sleep, Delay, Sleep, TimeLimit};
use crate::exceptions::{Error, Result};
use crate::kernel::completion::Outcome;
use crate::kernel::ids::FirstSeen;
use crate::kernel::task::{self, erase, AnyCore, AnyCoreRef, Cancel, Core, CoreRef};

/// Wraps `coro` in a [`Task`] and schedules it on the current runtime.
///
/// The task starts running at the runtime's next opportunity (on the deterministic runner,
/// after the tasks already in the ready queue). Its name is `Task-N`.
///
/// # Panics
///
/// Outside a runtime (asyncio raises `RuntimeError: no running event loop`).
///
/// # Examples
///
/// ```
/// use taskio::create_task;
///
/// let v = taskio::run(async {
///     let t = create_task(async { Ok(21 * 2) });
///     t.await
/// })
/// .unwrap();
/// assert_eq!(v, 42);
/// ```
#[track_caller]
pub fn create_task<F, T>(coro: F) -> Task<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Task::from_core(spawn_current(coro, None))
}

/// [`create_task`] with a name (asyncio's `create_task(coro, name=...)`).
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::tasks::create_task_named("worker", async { Ok(()) });
///     assert_eq!(t.get_name(), "worker");
///     t.await
/// })
/// .unwrap();
/// ```
#[track_caller]
pub fn create_task_named<F, T>(name: impl Into<String>, coro: F) -> Task<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Task::from_core(spawn_current(coro, Some(name.into())))
}

/// Spawns a task on the current runtime (borrowing its handle: no reference counted).
#[track_caller]
fn spawn_current<F, T>(coro: F, name: Option<String>) -> CoreRef<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let at = std::panic::Location::caller();
    match Handle::with_current(move |h| Core::spawn(coro, name, h, at)) {
        Some(core) => core,
        // The same panic as `Handle::current` outside a runtime.
        None => panic!(
            "there is no taskio runtime running on this thread: `create_task` must be called \
             from inside a taskio runtime"
        ),
    }
}

/// The distinct tasks of `tasks`, in order of first appearance (linear time: the ids of tasks
/// made for the call increase, and only otherwise are they hashed).
pub(crate) fn distinct<T: Send + 'static>(
    tasks: impl IntoIterator<Item = Task<T>>,
) -> Vec<Task<T>> {
    let mut out: Vec<Task<T>> = Vec::new();
    let mut first = FirstSeen::default();
    for t in tasks {
        if first.is_new(t.id(), || out.iter().map(Task::id)) {
            out.push(t);
        }
    }
    out
}

/// The task whose coroutine is running on this thread, if any.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::tasks::create_task_named("child", async {
///         Ok(taskio::current_task().unwrap().get_name())
///     });
///     assert_eq!(t.await?, "child");
///     Ok(())
/// })
/// .unwrap();
/// assert!(taskio::current_task().is_none());
/// ```
pub fn current_task() -> Option<AnyTask> {
    task::current().map(|core| AnyTask { core })
}

/// The tasks of the current loop that are not done yet, oldest first. The loop is the
/// runtime this thread is inside (a [`Runner`](crate::Runner)'s, or any taskio runtime):
/// the list is the runtime's own list of live tasks, so keeping it costs a task nothing.
/// Outside a runtime it is empty (asyncio raises `RuntimeError: no running event loop`).
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::create_task(std::future::pending::<taskio::Result<()>>());
///     let all = taskio::all_tasks();
///     assert!(all.iter().any(|a| a.id() == t.id()));
///     t.cancel(None);
///     Ok(())
/// })
/// .unwrap();
/// assert!(taskio::all_tasks().is_empty()); // no runtime here
/// ```
pub fn all_tasks() -> Vec<AnyTask> {
    let Ok(handle) = Handle::try_current() else {
        return Vec::new();
    };
    task::all_tasks(&handle)
        .into_iter()
        .map(|core| AnyTask { core })
        .collect()
}

/// A handle to a scheduled coroutine: asyncio's `Task`. Cheap to clone; see the
/// [module docs](self).
///
/// # Examples
///
/// ```
/// use taskio::{create_task, ErrorKind};
///
/// taskio::run(async {
///     let t = create_task(std::future::pending::<taskio::Result<u8>>());
///     assert!(!t.done());
///     assert_eq!(t.result().unwrap_err().kind(), ErrorKind::InvalidState);
///     assert!(t.cancel(Some("stop")));
///     let err = t.clone().await.unwrap_err();
///     assert_eq!(err.cancel_message(), Some("stop"));
///     assert!(t.cancelled() && t.done());
///     assert!(!t.cancel(None));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Task<T: Send + 'static> {
    core: CoreRef<T>,
}

impl<T: Send + 'static> Task<T> {
    pub(crate) fn from_core(core: CoreRef<T>) -> Task<T> {
        Task { core }
    }

    pub(crate) fn any_core(&self) -> AnyCoreRef {
        erase(self.core.clone())
    }

    /// The task's shared state (tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn core_for_tests(&self) -> &Core<T> {
        &self.core
    }

    /// The type-erased task, borrowed (no reference taken).
    pub(crate) fn dyn_core(&self) -> &dyn AnyCore {
        &*self.core
    }

    /// Requests cancellation: returns false if the task is done, else true (it can be called
    /// again; the last message wins; each call counts, see [`cancelling`](Self::cancelling)).
    ///
    /// As in asyncio, the request does not stop the task: it is *delivered* as
    /// `Err(Cancelled(msg))` at the task's next checkpoint (every taskio awaitable), where
    /// the coroutine may propagate it with `?` (the task ends cancelled), run clean-up that
    /// awaits, or swallow it and return a value (the task is then not cancelled). Cancelled
    /// before its first poll, its body never runs. A task parked on a future that is no
    /// checkpoint (not from taskio) is cancelled by drop instead; see the
    /// [`cancellation`](crate::cancellation) page.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(1) });
    ///     assert!(t.cancel(Some("never mind")));
    ///     assert!(t.cancel(None));
    ///     assert!(t.clone().await.unwrap_err().is_cancelled());
    ///     assert!(!t.cancel(None));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        common::cancel(&self.core, msg)
    }

    /// How many cancellation requests the task has that were not withdrawn by
    /// [`uncancel`](Self::uncancel) (asyncio's `Task.cancelling()`).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async {
    ///         taskio::sleep(3600).await?;
    ///         Ok(())
    ///     });
    ///     taskio::sleep(0).await?;
    ///     assert_eq!(t.cancelling(), 0);
    ///     t.cancel(None);
    ///     t.cancel(None);
    ///     assert_eq!(t.cancelling(), 2);
    ///     assert!(t.clone().await.unwrap_err().is_cancelled());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelling(&self) -> u32 {
        common::cancelling(&self.core)
    }

    /// Withdraws one cancellation request (asyncio's `Task.uncancel()`) and returns how many
    /// are left; withdrawing the last one also withdraws a request not yet delivered.
    /// Structured code (TaskGroup, timeouts) uses it to tell its own cancellation from
    /// someone else's.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     me.cancel(None);
    ///     // Delivered at the next checkpoint...
    ///     let err = taskio::sleep(0).await.unwrap_err();
    ///     assert!(err.is_cancelled());
    ///     // ...caught, and withdrawn: the task goes on, not cancelled.
    ///     assert_eq!(me.uncancel(), 0);
    ///     taskio::sleep(0).await?;
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn uncancel(&self) -> u32 {
        common::uncancel(&self.core)
    }

    /// True once the task ended cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     t.cancel(None);
    ///     assert!(!t.cancelled()); // asked, not yet ended
    ///     let _ = t.clone().await;
    ///     assert!(t.cancelled());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled(&self) -> bool {
        common::cancelled(&self.core)
    }

    /// True once the task ended, in any way.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     assert!(!t.done());
    ///     t.clone().await?;
    ///     assert!(t.done());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn done(&self) -> bool {
        common::done(&self.core)
    }

    /// The task's value (a clone), or its error. `InvalidState` while pending; `Cancelled`
    /// with the message when it was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(String::from("x")) });
    ///     assert!(t.result().is_err());
    ///     t.clone().await?;
    ///     assert_eq!(t.result()?, "x");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.core.read_outcome(|o| match o {
            Outcome::Pending => Err(Error::invalid_state("Result is not set.")),
            Outcome::Value(v) => Ok(v.clone()),
            Outcome::Taken => Err(Error::invalid_state("Result was taken by Task::join.")),
            Outcome::Failed(e) => Err(e.clone()),
        })
    }

    /// The task's error (`Ok(None)` if it succeeded). `InvalidState` while pending;
    /// `Err(Cancelled)` when it was cancelled, as asyncio raises it.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Err::<(), _>(taskio::Error::runtime("boom")) });
    ///     let _ = t.clone().await;
    ///     assert_eq!(t.exception()?.unwrap().to_string(), "boom");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn exception(&self) -> Result<Option<Error>> {
        common::exception(&self.core)
    }

    /// Schedules `cb(&task)` for when the task is done. Callbacks never run inline: they run
    /// in a runtime task of their own, in registration order, even when the task is already
    /// done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// taskio::run(async {
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     let t = taskio::create_task(async { Ok(5) });
    ///     t.clone().await?;
    ///     let l = log.clone();
    ///     t.add_done_callback(move |t: &taskio::Task<i32>| l.lock().unwrap().push(t.result().unwrap()));
    ///     assert!(log.lock().unwrap().is_empty()); // scheduled, not run inline
    ///     taskio::sleep(0).await?;
    ///     assert_eq!(*log.lock().unwrap(), [5]);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn add_done_callback(&self, cb: impl Into<DoneCallback<T>>) {
        Core::add_callback(&self.core, cb.into());
    }

    /// Removes every registration of `cb`; returns how many there were.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     let cb = taskio::tasks::DoneCallback::new(|_: &taskio::Task<()>| {});
    ///     t.add_done_callback(cb.clone());
    ///     assert_eq!(t.remove_done_callback(&cb), 1);
    ///     assert_eq!(t.remove_done_callback(&cb), 0);
    ///     t.await
    /// })
    /// .unwrap();
    /// ```
    pub fn remove_done_callback(&self, cb: &DoneCallback<T>) -> usize {
        self.core.remove_callback(cb)
    }

    /// The task's name (`Task-N` unless set).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     assert!(t.get_name().starts_with("Task-"));
    ///     t.set_name("renamed");
    ///     assert_eq!(t.get_name(), "renamed");
    ///     t.await
    /// })
    /// .unwrap();
    /// ```
    pub fn get_name(&self) -> String {
        common::get_name(&self.core)
    }

    /// Renames the task.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     t.set_name("io");
    ///     assert_eq!(t.get_name(), "io");
    ///     t.await
    /// })
    /// .unwrap();
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        common::set_name(&self.core, name.into())
    }

    /// A process-unique id.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let (a, b) = (taskio::create_task(async { Ok(()) }), taskio::create_task(async { Ok(()) }));
    ///     assert_ne!(a.id(), b.id());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> u64 {
        common::id(&self.core)
    }

    /// The type-erased handle (what [`current_task`] and [`all_tasks`] return).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     assert_eq!(t.as_any().id(), t.id());
    ///     t.await
    /// })
    /// .unwrap();
    /// ```
    pub fn as_any(&self) -> AnyTask {
        AnyTask {
            core: self.any_core(),
        }
    }

    /// Awaits the task and *moves* its value out (no `T: Clone` needed). Later reads of the
    /// value return `InvalidState`; errors can be read any number of times.
    ///
    /// # Examples
    ///
    /// ```
    /// struct NotClone(u8);
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(NotClone(7)) });
    ///     assert_eq!(t.join().await?.0, 7);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// `task.await` on such a task does not compile, and rustc's message misleads: it says
    /// "`Task<NotClone>` is not a future" and suggests removing the `.await` (the
    /// `IntoFuture` impl needs `T: Clone`, and an unmet bound of an impl of std's
    /// `IntoFuture` is reported as std's "not a future"). The fix is `.join().await`:
    ///
    /// ```compile_fail,E0277
    /// struct NotClone(u8);
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(NotClone(7)) });
    ///     assert_eq!(t.await?.0, 7); // error[E0277]: `Task<NotClone>` is not a future
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn join(self) -> Join<T> {
        Join {
            wait: WaitDone::new(self.core),
        }
    }
}

impl<T: Send + 'static> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task {
            core: self.core.clone(),
        }
    }
}

impl<T: Send + 'static> PartialEq for Task<T> {
    fn eq(&self, other: &Self) -> bool {
        TaskRef::ptr_eq(&self.core, &other.core)
    }
}

impl<T: Send + 'static> Eq for Task<T> {}

impl<T: Send + 'static> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        common::debug(&self.core, "Task", f)
    }
}

impl<T: Clone + Send + 'static> IntoFuture for Task<T> {
    type Output = Result<T>;
    type IntoFuture = TaskFuture<T>;

    fn into_future(self) -> TaskFuture<T> {
        TaskFuture {
            wait: WaitDone::new(self.core),
        }
    }
}

impl<T: Clone + Send + 'static> IntoFuture for &Task<T> {
    type Output = Result<T>;
    type IntoFuture = TaskFuture<T>;

    fn into_future(self) -> TaskFuture<T> {
        self.clone().into_future()
    }
}

/// Waits for a core to be done; if dropped after being polled while the task is pending,
/// cancels the task (asyncio's `await task` in a cancelled coroutine).
struct WaitDone<T: Send + 'static> {
    core: CoreRef<T>,
    key: Option<u64>,
    polled: bool,
}

impl<T: Send + 'static> WaitDone<T> {
    fn new(core: CoreRef<T>) -> Self {
        WaitDone {
            core,
            key: None,
            polled: false,
        }
    }

    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A checkpoint that forwards (asyncio's `await task`): the awaiter's cancellation
        // becomes the awaited task's, whose outcome then reaches the awaiter.
        if let Some(e) = task::take_cancel() {
            self.core.cancel(e.cancel_message().map(str::to_owned));
        }
        self.polled = true;
        let r = self.core.poll_done(&mut self.key, cx);
        if r.is_ready() {
            self.polled = false;
        } else {
            taskio_runtime::task::set_awaiting(taskio_runtime::task::Awaiting::Task(TaskRef::id(
                &self.core,
            )));
        }
        r
    }
}

impl<T: Send + 'static> Drop for WaitDone<T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.core.unlisten(k);
        }
        if self.polled {
            self.core.cancel(None);
        }
    }
}

/// The future of `task.await` (see [`Task`]): the task's result, cloned.
///
/// Dropping it while it waits cancels the task; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
/// taskio::run(async {
///     let fut: taskio::tasks::TaskFuture<u8> = taskio::create_task(async { Ok(3) }).into_future();
///     assert_eq!(fut.await?, 3);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct TaskFuture<T: Send + 'static> {
    wait: WaitDone<T>,
}

impl<T: Clone + Send + 'static> Future for TaskFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        std::task::ready!(this.wait.poll_done(cx));
        Poll::Ready(Task::from_core(this.wait.core.clone()).result())
    }
}

impl<T: Send + 'static> fmt::Debug for TaskFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        common::debug(&self.wait.core, "TaskFuture", f)
    }
}

/// The future of [`Task::join`]: the task's value, moved out.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let v = taskio::create_task(async { Ok(vec![1, 2]) }).join().await?;
///     assert_eq!(v, [1, 2]);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Join<T: Send + 'static> {
    wait: WaitDone<T>,
}

impl<T: Send + 'static> Future for Join<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        std::task::ready!(this.wait.poll_done(cx));
        Poll::Ready(
            this.wait
                .core
                .read_outcome(|o| match std::mem::replace(o, Outcome::Taken) {
                    Outcome::Value(v) => Ok(v),
                    Outcome::Failed(e) => {
                        *o = Outcome::Failed(e.clone());
                        Err(e)
                    }
                    Outcome::Taken => Err(Error::invalid_state("Result was taken by Task::join.")),
                    Outcome::Pending => unreachable!("polled done"),
                }),
        )
    }
}

impl<T: Send + 'static> fmt::Debug for Join<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        common::debug(&self.wait.core, "Join", f)
    }
}

/// A task of any output type: what [`current_task`] and [`all_tasks`] return.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::create_task(std::future::pending::<taskio::Result<()>>());
///     let any = t.as_any();
///     assert!(any.cancel(Some("bye")));
///     let _ = t.clone().await;
///     assert!(any.cancelled() && any.done());
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct AnyTask {
    pub(crate) core: AnyCoreRef,
}

impl AnyTask {
    /// See [`Task::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     assert!(me.cancel(None)); // cancels the main task at its next await
    ///     Ok(())
    /// });
    /// ```
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        common::cancel(&self.core, msg)
    }

    /// See [`Task::cancelling`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     assert_eq!(taskio::current_task().unwrap().cancelling(), 0);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelling(&self) -> u32 {
        common::cancelling(&self.core)
    }

    /// See [`Task::uncancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     me.cancel(None);
    ///     assert_eq!(me.uncancel(), 0); // withdrawn before its delivery
    ///     taskio::sleep(0).await?; // nothing to deliver
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn uncancel(&self) -> u32 {
        common::uncancel(&self.core)
    }

    /// See [`Task::cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     assert!(!taskio::current_task().unwrap().cancelled());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled(&self) -> bool {
        common::cancelled(&self.core)
    }

    /// See [`Task::done`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     assert!(!taskio::current_task().unwrap().done());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn done(&self) -> bool {
        common::done(&self.core)
    }

    /// See [`Task::exception`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     assert!(me.exception().is_err()); // still running
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn exception(&self) -> Result<Option<Error>> {
        common::exception(&self.core)
    }

    /// See [`Task::get_name`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     assert!(taskio::current_task().unwrap().get_name().starts_with("Task-"));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_name(&self) -> String {
        common::get_name(&self.core)
    }

    /// See [`Task::set_name`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     me.set_name("main");
    ///     assert_eq!(me.get_name(), "main");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        common::set_name(&self.core, name.into())
    }

    /// See [`Task::id`].
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(()) });
    ///     assert_eq!(t.as_any().id(), t.id());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> u64 {
        common::id(&self.core)
    }
}

impl PartialEq for AnyTask {
    fn eq(&self, other: &Self) -> bool {
        TaskRef::ptr_eq(&self.core, &other.core)
    }
}

impl Eq for AnyTask {}

impl fmt::Debug for AnyTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        common::debug(&self.core, "AnyTask", f)
    }
}

/// Anything a combinator accepts as one child: a [`Task`] (used as is) or a coroutine
/// returning `taskio::Result<T>` (wrapped in a task with [`create_task`], as asyncio's
/// `ensure_future` does).
///
/// # Examples
///
/// ```
/// use taskio::tasks::{Awaitable, Task};
///
/// taskio::run(async {
///     let a: Task<i32> = async { Ok(1) }.into_task();
///     let b: Task<i32> = a.clone().into_task();
///     assert_eq!(a, b);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub trait Awaitable<T: Send + 'static> {
    /// The task for this child (spawning it if it is a coroutine).
    fn into_task(self) -> Task<T>;
}

impl<T: Send + 'static> Awaitable<T> for Task<T> {
    fn into_task(self) -> Task<T> {
        self
    }
}

impl<T: Send + 'static> Awaitable<T> for &Task<T> {
    fn into_task(self) -> Task<T> {
        self.clone()
    }
}

impl<T, F> Awaitable<T> for F
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn into_task(self) -> Task<T> {
        create_task(self)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Task<u8>>();
    is::<AnyTask>();
    is::<TaskFuture<u8>>();
    is::<Join<u8>>();
    is::<DoneCallback<u8>>();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_first_appearances_in_order_however_the_ids_come() {
        let runner = crate::Runner::builder().current_thread().build().unwrap();
        runner
            .run(async {
                let t: Vec<Task<u8>> = (0..5).map(|i| create_task(async move { Ok(i) })).collect();
                let ids = |v: Vec<Task<u8>>| v.iter().map(Task::id).collect::<Vec<_>>();
                let all = ids(t.clone());
                // Increasing: all kept, nothing hashed.
                assert_eq!(ids(distinct(t.clone())), all);
                // A repeat, then out of order, then repeats of tasks seen before the switch.
                let mixed = [
                    &t[0], &t[1], &t[1], &t[3], &t[2], &t[0], &t[4], &t[3], &t[2],
                ];
                let got = ids(distinct(mixed.iter().map(|t| (*t).clone())));
                assert_eq!(got, [all[0], all[1], all[3], all[2], all[4]]);
                assert!(distinct(Vec::<Task<u8>>::new()).is_empty());
                crate::gather(t).await.map(drop)
            })
            .unwrap();
    }
}
