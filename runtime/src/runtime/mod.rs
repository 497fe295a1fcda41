//! `Runtime`, `Handle`, and the free functions that find the current runtime.

mod builder;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod metrics;
pub(crate) mod park;
pub(crate) mod watchdog;

pub use builder::Builder;
pub use metrics::{RuntimeMetrics, WorkerMetrics};
pub use watchdog::SlowPoll;

use crate::scheduler::{self, current_thread::CurrentThread, multi_thread::MultiThread};
use crate::task::{JoinHandle, TaskInit};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

/// The runtime: a scheduler (multi-thread or current-thread), its driver (I/O and timers)
/// and its threads.
///
/// Dropping it shuts it down: every task still alive is cancelled (its future is dropped on
/// a runtime thread, so destructors run), queued wake-ups are discarded, and the worker
/// threads are joined. [`shutdown_timeout`](Runtime::shutdown_timeout) bounds the wait.
///
/// # Examples
///
/// ```
/// use taskio_runtime::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let handles: Vec<_> = (0..10u64).map(|i| taskio_runtime::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    scheduler: Scheduler,
    handle: Handle,
    /// Set by the first shutdown (`shutdown_timeout`, or drop) so the second does nothing.
    shut_down: bool,
    /// The slow-poll watchdog's thread, if the builder asked for one; stopped first at
    /// shutdown.
    watchdog: Option<watchdog::Watchdog>,
}

pub(crate) enum Scheduler {
    CurrentThread(CurrentThread),
    MultiThread(MultiThread),
}

/// A cloneable reference to a runtime, to spawn onto it from anywhere.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let out = std::thread::spawn(move || {
///     let join = handle.spawn(async { 5 });
///     handle.block_on(join).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(out, 5);
/// ```
#[derive(Clone)]
#[repr(transparent)] // `with_current` views a `scheduler::Handle` as a `Handle`
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

/// Returned by [`Handle::try_current`] outside a runtime.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no taskio runtime running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

/// Keeps a runtime current on this thread (see [`Runtime::enter`]) until dropped.
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _p: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish()
    }
}

impl Runtime {
    /// A multi-thread runtime with one worker per core, I/O and timers enabled.
    ///
    /// # Errors
    ///
    /// If the OS refuses a thread or the I/O poller.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new()?;
    /// rt.block_on(async { println!("hello from taskio") });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Starts the slow-poll watchdog for this runtime (`Builder::on_slow_poll`).
    pub(crate) fn start_watchdog(
        &mut self,
        threshold: Duration,
        hook: watchdog::Hook,
    ) -> std::io::Result<()> {
        self.watchdog = Some(watchdog::Watchdog::start(
            self.handle.inner.clone(),
            threshold,
            hook,
        )?);
        Ok(())
    }

    pub(crate) fn from_parts(scheduler: Scheduler, inner: scheduler::Handle) -> Runtime {
        Runtime {
            scheduler,
            handle: Handle { inner },
            shut_down: false,
            watchdog: None,
        }
    }

    /// Runs `future` to completion on the calling thread, driving the runtime's tasks too
    /// (current-thread runtime) or letting its workers run them (multi-thread).
    ///
    /// # Panics
    ///
    /// If called from inside a runtime (a task, or another `block_on`): that would block a
    /// thread that must keep driving tasks. Spawn the work and await its `JoinHandle`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.scheduler {
            Scheduler::CurrentThread(s) => s.block_on(&self.handle.inner, future),
            Scheduler::MultiThread(s) => s.block_on(&self.handle.inner, future),
        }
    }

    /// Spawns a task onto the runtime; it starts running without being awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let handle = rt.spawn(async { "done" });
    /// assert_eq!(rt.block_on(handle).unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs the blocking closure `f` on the runtime's blocking pool (see
    /// [`spawn_blocking`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(h).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().clone();
    /// assert_eq!(rt.block_on(h.spawn(async { 1 })).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread until the guard drops, so that
    /// [`spawn`] and timers work outside `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let handle = taskio_runtime::spawn(async { 3 });
    /// drop(_guard);
    /// assert_eq!(rt.block_on(handle).unwrap(), 3);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for its threads to finish.
    /// Threads still busy after that (a task blocking in its poll) are left to finish in
    /// the background.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let start = std::time::Instant::now();
        drop(self.watchdog.take());
        match (&self.scheduler, &self.handle.inner) {
            (Scheduler::CurrentThread(s), h) => s.shutdown(h),
            (Scheduler::MultiThread(s), scheduler::Handle::MultiThread(h)) => {
                s.shutdown(h, timeout)
            }
            _ => unreachable!(),
        }
        let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
        self.handle.inner.blocking().shutdown(left);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The handle of the runtime this thread is inside.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Handle::try_current).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let h = taskio_runtime::Handle::current();
    ///     assert_eq!(h.spawn(async { 2 }).await.unwrap(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("{e}: `Handle::current` must be called from inside a taskio runtime"),
        }
    }

    /// The handle of the runtime this thread is inside, or an error outside one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio_runtime::Handle::try_current().is_err());
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async { assert!(taskio_runtime::Handle::try_current().is_ok()) });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|inner| Handle {
            inner: inner.clone(),
        })
        .ok_or(TryCurrentError(()))
    }

    /// Runs `f` with the handle of the runtime this thread is inside, without cloning it
    /// (as [`try_current`](Handle::try_current) does); `None` outside a runtime. For code
    /// that needs the handle only for a moment (a spawn), on a hot path.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::Handle;
    ///
    /// assert!(Handle::with_current(|_| ()).is_none());
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let join = rt.block_on(async { Handle::with_current(|h| h.spawn(async { 7 })).unwrap() });
    /// assert_eq!(rt.block_on(join).unwrap(), 7);
    /// ```
    pub fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
        context::with_current(|inner| {
            // SAFETY: `Handle` is a `repr(transparent)` wrapper of `scheduler::Handle`, so
            // the two have one layout and a reference to one is a valid reference to the
            // other, for the same lifetime.
            let handle = unsafe { &*(inner as *const scheduler::Handle).cast::<Handle>() };
            f(handle)
        })
    }

    /// Spawns a task onto this handle's runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle();
    /// assert_eq!(rt.block_on(h.spawn(async { 'x' })).unwrap(), 'x');
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, TaskInit::new())
    }

    /// Spawns a task whose allocation also holds `data`, and whose future `make` builds from
    /// a [`TaskRef`](crate::task::TaskRef) to it; returns another `TaskRef`. The data lives
    /// until the last `TaskRef` is dropped (after the task completes, whenever that is); the
    /// future's output is dropped on completion. This is how a library keeps its own state
    /// per task in the task's one allocation (the `taskio` crate's tasks are made this way),
    /// and finds it again from the task ([`TaskRef::current`](crate::task::TaskRef::current))
    /// or from the runtime ([`tasks_with_view`](Handle::tasks_with_view)).
    ///
    /// If `make` panics, the task is not spawned and the panic propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use taskio_runtime::task::TaskData;
    ///
    /// struct Answer(Mutex<Option<u32>>);
    /// impl TaskData for Answer {
    ///     type View = Mutex<Option<u32>>;
    ///     fn view(&self) -> &Self::View {
    ///         &self.0
    ///     }
    /// }
    ///
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let task = rt.handle().spawn_with(Answer(Mutex::new(None)), |me| async move {
    ///     *me.0.lock().unwrap() = Some(6 * 7);
    /// });
    /// drop(rt); // cancels the task if it has not run
    /// assert!(taskio_runtime::task::TaskRef::is_finished(&task));
    /// ```
    #[track_caller]
    pub fn spawn_with<D, F, M>(&self, data: D, make: M) -> crate::task::TaskRef<D>
    where
        D: crate::task::TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(crate::task::TaskRef<D>) -> F,
    {
        self.inner.spawn_with(data, make, TaskInit::new())
    }

    /// [`spawn_with`](Handle::spawn_with), recording `spawned_at` as the task's spawn site
    /// (in [`dump`](Handle::dump)s and the watchdog's reports) instead of this call's: for a
    /// library whose own spawn function is `#[track_caller]` but reaches the runtime through
    /// a closure, where the caller's location is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::panic::Location;
    /// use taskio_runtime::task::TaskData;
    ///
    /// struct Unit;
    /// impl TaskData for Unit {
    ///     type View = ();
    ///     fn view(&self) -> &() {
    ///         &()
    ///     }
    /// }
    ///
    /// #[track_caller]
    /// fn my_spawn(h: &taskio_runtime::Handle) -> taskio_runtime::task::Id {
    ///     let at = Location::caller();
    ///     let task = (|| h.spawn_with_at(Unit, |_| std::future::pending::<()>(), at))();
    ///     taskio_runtime::task::TaskRef::id(&task)
    /// }
    ///
    /// let rt = taskio_runtime::Builder::new_multi_thread().task_tree(true).build().unwrap();
    /// let line = line!() + 1;
    /// let id = my_spawn(rt.handle());
    /// assert_eq!(rt.handle().dump().get(id).unwrap().spawned_at.unwrap().line(), line);
    /// ```
    pub fn spawn_with_at<D, F, M>(
        &self,
        data: D,
        make: M,
        spawned_at: &'static std::panic::Location<'static>,
    ) -> crate::task::TaskRef<D>
    where
        D: crate::task::TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(crate::task::TaskRef<D>) -> F,
    {
        let mut init = TaskInit::new();
        init.spawned_at = spawned_at;
        self.inner.spawn_with(data, make, init)
    }

    /// A reference to every live task of this runtime spawned with data whose
    /// [`TaskData::View`](crate::task::TaskData::View) is `V` (completed tasks leave the list
    /// just after completing). Walks the runtime's owned-task list, a shard at a time,
    /// holding each shard's lock only while it copies that shard's references.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task::{TaskData, TaskRef};
    ///
    /// struct Job(u32);
    /// impl TaskData for Job {
    ///     type View = u32;
    ///     fn view(&self) -> &u32 {
    ///         &self.0
    ///     }
    /// }
    ///
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle();
    /// let a = h.spawn_with(Job(1), |_| std::future::pending::<()>());
    /// let b = h.spawn_with(Job(2), |_| std::future::pending::<()>());
    /// let _plain = h.spawn(std::future::pending::<()>()); // no data: not listed
    /// let mut jobs: Vec<u32> = h.tasks_with_view::<u32>().iter().map(|j| **j).collect();
    /// jobs.sort();
    /// assert_eq!(jobs, [1, 2]);
    /// # drop((a, b));
    /// ```
    pub fn tasks_with_view<V: ?Sized + 'static>(&self) -> Vec<crate::task::TaskRef<V>> {
        self.inner.tasks_with_view()
    }

    /// A dump of every live task of this runtime: parent, name, spawn site, state, what it
    /// awaits, poll counts (see [`dump`](crate::dump)). Callable from any thread, on every
    /// flavour, while the runtime runs: it holds one shard of the task list locked at a
    /// time, for as long as reading that shard's tasks takes.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump(); // from outside the runtime, while it runs
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump.iter().next().unwrap().id, task.id());
    /// ```
    pub fn dump(&self) -> crate::dump::TaskDump {
        self.inner.dump()
    }

    /// A snapshot of this runtime's counters: per worker (polls, steals, parks, LIFO hits,
    /// local queue depth, busy time), the global queue, tasks spawned and alive, I/O events
    /// and sources, timers, blocking threads. Always kept; callable from any thread.
    ///
    /// On the current-thread runtime, `workers` has one entry (the thread in `block_on`),
    /// whose polls include the `block_on` future's; its local queue belongs to that thread
    /// and reads as 0, while `global_queue_depth` counts the wakes from other threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     taskio_runtime::spawn(async {}).await.unwrap();
    /// });
    /// let m = rt.handle().metrics();
    /// assert_eq!(m.spawned_tasks, 1);
    /// assert_eq!(m.alive_tasks, 0);
    /// assert!(m.workers[0].polls >= 2); // the task's poll and block_on's
    /// ```
    pub fn metrics(&self) -> crate::RuntimeMetrics {
        self.inner.metrics()
    }

    /// Runs the blocking closure `f` on this runtime's blocking pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(h).unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking().spawn_blocking(&self.inner, f)
    }

    /// Makes this handle's runtime current on this thread until the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().clone();
    /// std::thread::spawn(move || {
    ///     let _guard = h.enter();
    ///     assert!(taskio_runtime::Handle::try_current().is_ok());
    /// }).join().unwrap();
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_current(&self.inner),
            _p: PhantomData,
        }
    }

    /// Runs `future` to completion on the calling thread. On the current-thread runtime this
    /// drives the runtime's tasks, timers and I/O as [`Runtime::block_on`] does (waiting
    /// first if another thread is driving it); on the multi-thread runtime the workers run
    /// the tasks.
    ///
    /// # Panics
    ///
    /// If called from inside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().clone();
    /// let v = std::thread::spawn(move || h.block_on(async { 9 })).join().unwrap();
    /// assert_eq!(v, 9);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.inner {
            scheduler::Handle::CurrentThread(_) => {
                crate::scheduler::current_thread::block_on(&self.inner, future)
            }
            scheduler::Handle::MultiThread(_) => {
                crate::scheduler::multi_thread::block_on(&self.inner, future)
            }
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("inner", &self.inner)
            .finish()
    }
}

/// Spawns a task onto the current runtime.
///
/// # Panics
///
/// Outside a runtime (use [`Handle::spawn`] or [`Runtime::spawn`] there).
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = taskio_runtime::spawn(async { "spawned" });
///     assert_eq!(handle.await.unwrap(), "spawned");
/// });
/// ```
#[track_caller]
#[inline]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let init = TaskInit::new();
    match context::with_current(|h| h.spawn(future, init)) {
        Some(join) => join,
        None => panic!(
            "`taskio_runtime::spawn` called outside of a runtime: call it from a task or \
             from inside `Runtime::block_on`, or use `Handle::spawn`"
        ),
    }
}

/// Runs the blocking closure `f` on the current runtime's blocking pool and returns a
/// `JoinHandle` for its result.
///
/// Use it for work that would stall a worker: blocking file or socket calls, long
/// computations, C libraries. The pool grows up to
/// [`max_blocking_threads`](Builder::max_blocking_threads) threads; more work waits in its
/// queue. `abort` cancels the work only if it has not started. At shutdown, work that has not
/// started is cancelled and running work is waited for (up to
/// [`shutdown_timeout`](Runtime::shutdown_timeout)).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     taskio_runtime::spawn_blocking(|| {
///         // pretend this is a slow syscall
///         (1..=10u64).product::<u64>()
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(n, 3_628_800);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::with_current(|h| h.clone()) {
        Some(h) => h.blocking().spawn_blocking(&h, f),
        None => panic!(
            "`taskio_runtime::spawn_blocking` called outside of a runtime: call it from a task \
             or from inside `Runtime::block_on`, or use `Handle::spawn_blocking`"
        ),
    }
}
