//! asyncio's runners: [`run`] and [`Runner`].
//!
//! A runner owns one event loop ([`Runner::get_loop`]); running `main` is
//! [`Loop::run_until_complete`], so a [`Loop::stop`] before `main` is done ends the run with
//! "Event loop stopped before Future completed.". As asyncio's `Runner` does, the runner makes
//! its loop the current loop of the thread that runs it ([`get_event_loop`](crate::get_event_loop))
//! and unsets it when it closes, after which that thread has no implicit loop any more.
//!
//! `main` runs as a task (so that, on the deterministic runner, it is scheduled FIFO with the
//! tasks it creates, exactly as in asyncio). When the runner closes, every task still
//! running is cancelled, the runner waits for them to end, reports the errors other than
//! their cancellation on stderr (asyncio's default exception handler), and shuts the
//! blocking pool down.
//!
//! # A main that borrows
//!
//! `main` need not be `'static`: it may borrow from the caller's stack, as a future given to
//! [`Runtime::block_on`](taskio_runtime::Runtime::block_on) may. The rule that makes this
//! sound is that [`Runner::run`] never returns, and never unwinds, while `main`'s future
//! exists:
//!
//! 1. The future is boxed and handed to the main task inside a wrapper whose last field,
//!    dropped after the future (a struct's fields drop in declaration order, on unwinding
//!    too), raises a flag. Nothing else ever holds the future.
//! 2. A guard local to `run` (the caller cannot leak it) waits for that flag on every way
//!    out of `run`: the normal return, the loop [stopped](Loop::stop) before `main` was done,
//!    and a panic unwinding through `run`.
//! 3. When `main` is not done by then, the guard finishes it as closing does: it cancels the
//!    main task and runs the loop until the task ends, or, past the
//!    [grace period](RunnerBuilder::shutdown_grace), drops it. So unlike asyncio's
//!    `Runner.run`, a run that ends with "Event loop stopped before Future completed." does
//!    not leave `main` pending: it has been cancelled.
//! 4. If the loop cannot be run from here (it is running on another thread, or is being
//!    closed), the guard waits for the flag without running it: whoever drives the runtime
//!    drops the future, and a closing runtime drops every task's future.
//!
//! `main`'s output stays `'static`: it leaves the task, which may run on any worker.
//!
//! # Shutdown limits
//!
//! Closing is a two-phase shutdown with two limits, both set on the [`RunnerBuilder`]:
//!
//! - [`shutdown_grace`](RunnerBuilder::shutdown_grace): how long the cancelled tasks get
//!   for their clean-up. Past it, the tasks still running are dropped and
//!   [`Runner::shutdown`] returns their names. By default there is no limit, as in asyncio
//!   (a task that swallows every cancellation keeps `close` waiting).
//! - [`shutdown_timeout`](RunnerBuilder::shutdown_timeout): how long `close` then waits for
//!   blocking work ([`to_thread`](crate::to_thread), `spawn_blocking`) still running; threads
//!   busy after it are left to finish in the background. Default 300 seconds, asyncio's
//!   `loop.shutdown_default_executor(timeout=300)`.
//!
//! # Ctrl-C (Unix)
//!
//! As `asyncio.run` and `asyncio.Runner.run` since Python 3.11: while `main` runs, the
//! first SIGINT cancels the main task ([`Task::cancel`](crate::Task::cancel) with the
//! message "KeyboardInterrupt"); when the main task then ends cancelled, `run` returns an
//! error of kind [`ErrorKind::KeyboardInterrupt`] (if it caught the cancellation and
//! returned a value, that value). The runner stops listening at that first SIGINT, so a
//! second one takes SIGINT's default action at once: the process ends.
//!
//! asyncio's conditions hold: this is only set up when `run` is called on the main thread
//! and SIGINT has its default disposition (the program installed no handler of its own,
//! with [`add_signal_handler`](crate::add_signal_handler), a live
//! [`Signal`](crate::signals::Signal) or otherwise). When `run` returns, SIGINT's default
//! disposition is back.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::kernel::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use taskio_runtime::{Builder, Handle};

use crate::events::{Loop, LoopSlot};
use crate::exceptions::{Error, ErrorKind, Result};
use crate::kernel::task::{self as task_core, AnyCoreRef};
use crate::tasks::Delay;
use crate::tasks::Task;

/// asyncio's `loop.shutdown_default_executor` timeout.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `main` on a new multi-thread runtime and returns its result; then cancels the tasks
/// still running, waits for them and shuts the runtime down (asyncio's `asyncio.run`).
///
/// # Errors
///
/// `main`'s own error; `Runtime` if called from inside a running runtime ("asyncio.run()
/// cannot be called from a running event loop"), if the loop was stopped before `main` was
/// done ("Event loop stopped before Future completed."), or if the runtime cannot be built.
///
/// # Panics
///
/// A panic in `main` is re-raised here, as a panic.
///
/// # Examples
///
/// ```
/// let v = taskio::run(async {
///     let t = taskio::create_task(async { Ok(20) });
///     Ok(t.await? + 1)
/// })
/// .unwrap();
/// assert_eq!(v, 21);
///
/// // main may borrow from the caller.
/// let words = vec!["a", "bb", "ccc"];
/// let total = taskio::run(async { Ok(words.iter().map(|w| w.len()).sum::<usize>()) }).unwrap();
/// assert_eq!(total, 6);
///
/// // Not from inside a running runtime.
/// taskio::run(async {
///     let err = taskio::run(async { Ok(()) }).unwrap_err();
///     assert_eq!(err.kind(), taskio::ErrorKind::Runtime);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn run<F, T>(main: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send,
    T: Send + 'static,
{
    check_not_running("asyncio.run() cannot be called from a running event loop")?;
    let runner = Runner::new()?;
    let out = runner.run(main);
    runner.close();
    out
}

fn check_not_running(msg: &str) -> Result<()> {
    if Handle::try_current().is_ok() {
        return Err(Error::runtime(msg));
    }
    Ok(())
}

/// A runtime plus its loop state, to run one or more `main` coroutines (asyncio's
/// `asyncio.Runner`). Build one with [`Runner::builder`] to pick the deterministic
/// current-thread scheduler or a paused clock.
///
/// # Examples
///
/// ```
/// let runner = taskio::Runner::builder().current_thread().build().unwrap();
/// assert_eq!(runner.run(async { Ok(1) }).unwrap(), 1);
/// assert_eq!(runner.run(async { Ok(2) }).unwrap(), 2);
/// runner.close();
/// ```
pub struct Runner {
    lp: Loop,
    /// How long closing waits for cancelled tasks (`None`: no limit).
    grace: Option<Duration>,
    /// How long closing waits for blocking work.
    blocking_timeout: Duration,
    /// This runner made its loop the current loop of the thread that ran it (asyncio's
    /// Runner calls `set_event_loop` once, and `set_event_loop(None)` when it closes).
    set_loop: AtomicBool,
}

/// Configures a [`Runner`].
///
/// # Examples
///
/// ```
/// let runner = taskio::Runner::builder().worker_threads(2).build().unwrap();
/// assert_eq!(runner.run(async { Ok("hi") }).unwrap(), "hi");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RunnerBuilder {
    current_thread: bool,
    workers: Option<usize>,
    paused: bool,
    grace: Option<Duration>,
    blocking_timeout: Option<Duration>,
    /// `task_tree(false)` was asked for.
    no_task_tree: bool,
    /// A bad argument, reported by `build`.
    invalid: Option<Error>,
}

impl RunnerBuilder {
    /// The deterministic mode: one thread, one FIFO ready queue, asyncio's exact order.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// r.run(async { Ok(()) }).unwrap();
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.current_thread = true;
        self
    }

    /// The number of worker threads of the multi-thread scheduler (default: one per core).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().worker_threads(3).build().unwrap();
    /// r.run(async { Ok(()) }).unwrap();
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.workers = Some(n);
        self
    }

    /// Whether each task records its parent and spawn site (default: on), which the task
    /// tree needs: [`capture_call_graph`](crate::capture_call_graph), `print_call_graph`
    /// and the dumps show who awaits whom from it. Off, the dumps still list every live
    /// task with its state and what it awaits, but each as a root of its own; a spawn then
    /// skips two hash-map operations under a lock it takes anyway (BENCHMARKS.md has what
    /// that saves on the fan-out programs).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().task_tree(false).build().unwrap();
    /// let n = r.run(async { taskio::gather!(async { Ok(1) }, async { Ok(2) }).await }).unwrap();
    /// assert_eq!(n, (1, 2));
    /// ```
    pub fn task_tree(&mut self, enabled: bool) -> &mut Self {
        self.no_task_tree = !enabled;
        self
    }

    /// Starts with the clock paused: time only moves when every task waits on a timer, and
    /// then jumps to the next deadline (timer tests in no real time).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async { taskio::sleep(3600).await }).unwrap(); // no real hour passes
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.paused = paused;
        self
    }

    /// How long closing the runner waits for the cancelled tasks' clean-up (seconds, or a
    /// `Duration`) before it drops the tasks still running ([`Runner::shutdown`] returns
    /// their names). By default it waits without a limit, as asyncio does. A period <= 0
    /// drops at once what the cancellation did not end in the same pass.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder()
    ///     .current_thread()
    ///     .start_paused(true)
    ///     .shutdown_grace(5)
    ///     .build()
    ///     .unwrap();
    /// r.run(async {
    ///     let t: taskio::Task<()> = taskio::create_task(async {
    ///         loop {
    ///             let _ = taskio::sleep(3600).await; // swallows every cancellation
    ///         }
    ///     });
    ///     t.set_name("stubborn");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// assert_eq!(r.shutdown(), ["stubborn"]); // dropped after its 5 s of grace
    /// ```
    pub fn shutdown_grace(&mut self, grace: impl Delay) -> &mut Self {
        match grace.into_delay() {
            Ok(d) => self.grace = Some(d.unwrap_or_default()),
            Err(e) => self.invalid = Some(e),
        }
        self
    }

    /// How long closing the runner waits for blocking work still running ([`to_thread`](
    /// crate::to_thread), `spawn_blocking`), once the tasks have ended (seconds, or a
    /// `Duration`); threads still busy after it are left to finish in the background.
    /// Default 300 seconds, as asyncio's `shutdown_default_executor`.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().shutdown_timeout(0.1).build().unwrap();
    /// r.run(async {
    ///     // Blocking work nobody waits for: close does not wait 10 s for it.
    ///     drop(taskio::to_thread(|| std::thread::sleep(std::time::Duration::from_secs(10))));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// r.close();
    /// ```
    pub fn shutdown_timeout(&mut self, timeout: impl Delay) -> &mut Self {
        match timeout.into_delay() {
            Ok(d) => self.blocking_timeout = Some(d.unwrap_or_default()),
            Err(e) => self.invalid = Some(e),
        }
        self
    }

    /// Builds the runner.
    ///
    /// # Errors
    ///
    /// `Io` if the OS refuses threads or the poller; `Value` for a NaN shutdown limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Runner::builder().build().is_ok());
    /// ```
    pub fn build(&self) -> Result<Runner> {
        if let Some(e) = &self.invalid {
            return Err(e.clone());
        }
        Ok(Runner {
            lp: self.build_loop()?,
            grace: self.grace,
            blocking_timeout: self.blocking_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            set_loop: AtomicBool::new(false),
        })
    }

    /// The runner's runtime and its loop (what [`new_event_loop`](crate::new_event_loop)
    /// uses too). The worker threads learn their loop from the runtime's thread hooks.
    pub(crate) fn build_loop(&self) -> Result<Loop> {
        let mut b = if self.current_thread {
            Builder::new_current_thread()
        } else {
            Builder::new_multi_thread()
        };
        if let Some(n) = self.workers {
            b.worker_threads(n);
        }
        let slot = Arc::new(LoopSlot::new());
        let s = slot.clone();
        // asyncio's introspection (`dump_tasks`, the call graphs) needs every task's parent.
        b.enable_all()
            .task_tree(!self.no_task_tree)
            .start_paused(self.paused)
            .on_thread_start(move || crate::events::running_enter_thread(s.clone()))
            .on_thread_stop(crate::events::running_leave_thread);
        let rt = b.build()?;
        Ok(Loop::from_runtime(rt, slot))
    }
}

impl Runner {
    /// A runner on the multi-thread scheduler with default settings.
    ///
    /// # Errors
    ///
    /// `Io` if the runtime cannot be built.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::new().unwrap();
    /// assert_eq!(r.run(async { Ok(5) }).unwrap(), 5);
    /// ```
    pub fn new() -> Result<Runner> {
        RunnerBuilder::default().build()
    }

    /// A [`RunnerBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// r.run(async { Ok(()) }).unwrap();
    /// ```
    pub fn builder() -> RunnerBuilder {
        RunnerBuilder::default()
    }

    /// Runs `main` as a task to completion and returns its result. Tasks it leaves running
    /// keep running (until the next `run` or [`close`](Runner::close)). `main` may borrow
    /// from the caller: see [the module docs](self#a-main-that-borrows).
    ///
    /// # Errors
    ///
    /// `main`'s error, or `Runtime`: when called from inside a running runtime, or "Event
    /// loop stopped before Future completed." when the loop was [stopped](Loop::stop) first
    /// (`main` has then been cancelled, and dropped if it outlived the grace period, before
    /// `run` returns: it cannot outlive what it borrows).
    ///
    /// # Panics
    ///
    /// A panic in `main` is re-raised.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// let err = r.run(async { Err::<(), _>(taskio::Error::runtime("no")) }).unwrap_err();
    /// assert_eq!(err.to_string(), "no");
    ///
    /// // A borrowed main whose loop stops first: cancelled before `run` returns, so its
    /// // clean-up has run (and could await) by then.
    /// let mut log = Vec::new();
    /// let err = r
    ///     .run(async {
    ///         taskio::get_running_loop()?.stop();
    ///         let slept = taskio::sleep(3600).await;
    ///         log.push(format!("clean-up after {:?}", slept.as_ref().map_err(|e| e.kind())));
    ///         slept
    ///     })
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "Event loop stopped before Future completed.");
    /// assert_eq!(log, ["clean-up after Err(Cancelled)"]);
    /// ```
    pub fn run<F, T>(&self, main: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send,
        T: Send + 'static,
    {
        check_not_running("Runner.run() cannot be called from a running event loop")?;
        if !self.set_loop.swap(true, Ordering::Relaxed) {
            crate::set_event_loop(Some(&self.lp));
        }
        // Listening before main is spawned: a SIGINT main raises at once is seen. (No
        // signals under loom: see `crate::signals`.)
        #[cfg(all(unix, not(loom)))]
        let sigint = {
            // The listener registers with this runtime's driver.
            let _enter = self.lp.rt_handle().enter();
            crate::signals::MainInterrupt::start(self.lp.rt_handle())
        };
        let gone = Arc::new(Gone::default());
        let boxed: Pin<Box<dyn Future<Output = Result<T>> + Send + '_>> = Box::pin(main);
        // SAFETY: `scope` (declared next, a local the caller cannot leak) does not let this
        // function return or unwind until `gone` is raised, which `Scoped`'s last field does
        // once the box has been dropped (the module docs' rule, steps 1 to 4); nothing but
        // the `Scoped` wrapper ever holds the box.
        let fut = unsafe { erase_lifetime(boxed) };
        let mut scope = MainScope {
            runner: self,
            main: None,
            gone: gone.clone(),
        };
        let scoped = Scoped {
            fut,
            _gone: RaiseOnDrop(gone),
        };
        let out = self.lp.run_until_complete_then(scoped, |task| {
            scope.main = Some(task.any_core());
            #[cfg(all(unix, not(loom)))]
            if let Some(sigint) = &sigint {
                sigint.set_main(task);
            }
        });
        // The loop stopped first: main is cancelled (its future dropped) before we go on.
        drop(scope);
        #[cfg(all(unix, not(loom)))]
        let out = {
            let interrupted = sigint.is_some_and(|s| s.finish());
            match out {
                // asyncio: a main task that ended cancelled after the SIGINT is a
                // KeyboardInterrupt; one that caught the cancellation returns what it
                // returned.
                Err(e) if interrupted && e.is_cancelled() => Err(Error::keyboard_interrupt()),
                out => out,
            }
        };
        match out {
            Err(e) if e.kind() == ErrorKind::Panic => match e.into_panic() {
                Ok(p) => std::panic::resume_unwind(p),
                Err(e) => Err(e),
            },
            r => r,
        }
    }

    /// The runner's loop (asyncio's `Runner.get_loop()`): to schedule callbacks on it, or
    /// to run it with [`Loop::run_until_complete`]. Closing the runner closes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// let lp = r.get_loop();
    /// assert_eq!(lp.run_until_complete(async { Ok(3) }).unwrap(), 3);
    /// r.run(async move {
    ///     assert!(taskio::get_running_loop()? == lp);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// let lp = r.get_loop();
    /// r.close();
    /// assert!(lp.is_closed());
    /// ```
    pub fn get_loop(&self) -> Loop {
        self.lp.clone()
    }

    /// The runtime's handle (to spawn onto it from other threads).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::new().unwrap();
    /// let h = r.handle().spawn(async { 1 });
    /// assert_eq!(r.run(async move { Ok(h.await.unwrap()) }).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        self.lp.rt_handle()
    }

    /// Cancels every task still running, waits for them (up to the
    /// [grace period](RunnerBuilder::shutdown_grace), if one is set; then the rest are
    /// dropped), reports their errors (other than the cancellation) on stderr, and shuts
    /// the runtime and its blocking pool down (waiting up to the
    /// [shutdown timeout](RunnerBuilder::shutdown_timeout) for blocking work). Dropping the
    /// runner does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// r.run(async {
    ///     taskio::create_task(std::future::pending::<taskio::Result<()>>());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// r.close(); // the pending task is cancelled
    /// ```
    pub fn close(mut self) {
        self.close_inner();
    }

    /// [`close`](Self::close), returning the names of the tasks that were dropped because
    /// they were still running when the [grace period](RunnerBuilder::shutdown_grace)
    /// ended (always empty without one).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().shutdown_grace(1).build().unwrap();
    /// r.run(async {
    ///     taskio::create_task(async { taskio::sleep(3600).await }); // ends when cancelled
    ///     Ok(())
    /// })
    /// .unwrap();
    /// assert!(r.shutdown().is_empty());
    /// ```
    pub fn shutdown(mut self) -> Vec<String> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Vec<String> {
        if self.set_loop.swap(false, Ordering::Relaxed) {
            crate::set_event_loop(None);
        }
        let Some(rt) = self.lp.take_runtime_for_close() else {
            return Vec::new();
        };
        let mut dropped = Vec::new();
        if Handle::try_current().is_err() {
            let tasks: Vec<AnyCoreRef> = task_core::all_tasks(rt.handle());
            // Run as a task of its own (not `block_on`'s future), so that its wait is a
            // shielded region of a task, like every other shutdown.
            let grace = self.grace;
            match rt.block_on(rt.spawn(cancel_all(tasks, grace))) {
                Ok(names) => dropped = names,
                Err(e) => crate::report::report(
                    "Runner.close() could not cancel the tasks",
                    Some(&crate::threads::join_error(e)),
                ),
            }
        }
        rt.shutdown_timeout(self.blocking_timeout);
        dropped
    }
}

/// Erases the lifetime of a boxed future.
///
/// # Safety
///
/// The box must be dropped before `'a` ends: the future it holds may borrow for `'a`.
unsafe fn erase_lifetime<'a, T>(
    fut: Pin<Box<dyn Future<Output = T> + Send + 'a>>,
) -> Pin<Box<dyn Future<Output = T> + Send + 'static>> {
    // SAFETY: the two types differ only in the trait object's lifetime bound, so they have
    // the same layout; the caller keeps the box from outliving `'a`.
    unsafe { std::mem::transmute(fut) }
}

/// Raised once a borrowed main's future has been dropped.
#[derive(Default)]
struct Gone {
    gone: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
}

impl Gone {
    fn is_raised(&self) -> bool {
        *self.gone.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn raise(&self) {
        *self.gone.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_all();
    }

    fn wait(&self) {
        let mut gone = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        while !*gone {
            gone = self.changed.wait(gone).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Raises its flag when dropped.
struct RaiseOnDrop(Arc<Gone>);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.raise();
    }
}

/// The main task's future: the caller's (lifetime-erased) future, then the flag. Field
/// order matters: `fut` is dropped first, and `_gone` is dropped (raising the flag) even
/// when `fut`'s destructor panics.
struct Scoped<T> {
    fut: Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>,
    _gone: RaiseOnDrop,
}

impl<T> Future for Scoped<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.fut.as_mut().poll(cx)
    }
}

/// Keeps [`Runner::run`] from ending while its main's future exists: see the module docs.
struct MainScope<'r> {
    runner: &'r Runner,
    /// The main task, once spawned.
    main: Option<AnyCoreRef>,
    gone: Arc<Gone>,
}

impl MainScope<'_> {
    /// Cancels the main task and runs the loop until it has ended (or, past the grace
    /// period, been dropped).
    fn finish(&self) {
        let Some(main) = self.main.clone() else {
            return;
        };
        let lp = &self.runner.lp;
        let grace = self.runner.grace;
        let Ok(ender): Result<Task<Vec<String>>> = lp.create_task(async move {
            Ok(crate::shutdown::cancel_then_drop(vec![main], grace).await)
        }) else {
            return;
        };
        while !ender.done() && !self.gone.is_raised() {
            // A stop made during this run ends it early: run again. A loop closed or
            // running elsewhere is not ours to run.
            if lp.run_until_complete(ender.clone()).is_err() && (lp.is_closed() || lp.is_running())
            {
                return;
            }
        }
    }
}

impl Drop for MainScope<'_> {
    fn drop(&mut self) {
        if self.gone.is_raised() {
            return;
        }
        // Whatever `finish` does, even panicking, nothing returns before the flag is up.
        let _ = catch_unwind(AssertUnwindSafe(|| self.finish()));
        self.gone.wait();
    }
}

/// asyncio's `_cancel_all_tasks`, with a grace period: the names of the tasks dropped.
async fn cancel_all(tasks: Vec<AnyCoreRef>, grace: Option<Duration>) -> Vec<String> {
    let dropped = crate::shutdown::cancel_then_drop(tasks.clone(), grace).await;
    for t in &tasks {
        if let Some(Some(e)) = t.failure() {
            if !e.is_cancelled() {
                crate::report::report(
                    &format!("unhandled error during Runner.close() in task {}", t.name()),
                    Some(&e),
                );
            }
        }
    }
    dropped
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.close_inner();
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("closed", &self.lp.is_closed())
            .finish()
    }
}
