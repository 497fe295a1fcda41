//! `Builder`: configure and build a `Runtime`.

use crate::driver::{self, Driver};
use crate::runtime::{Runtime, Scheduler};
use crate::scheduler::{self, current_thread, multi_thread, Config};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Runtime`] with custom settings.
///
/// I/O and time are enabled by default (so `enable_all` is only needed to undo nothing; it
/// exists for code written for tokio).
///
/// # Examples
///
/// ```
/// use taskio_runtime::Builder;
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Arc<dyn Fn() + Send + Sync>>,
    on_thread_stop: Option<Arc<dyn Fn() + Send + Sync>>,
    global_queue_interval: Option<u32>,
    event_interval: u32,
    lifo_enabled: bool,
    task_poll_times: bool,
    task_tree: bool,
    slow_poll: Option<(Duration, crate::runtime::watchdog::Hook)>,
    enable_io: bool,
    enable_time: bool,
    start_paused: bool,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    CurrentThread,
    MultiThread,
}

impl Builder {
    /// A builder for the multi-thread, work-stealing runtime (one worker per core unless
    /// [`worker_threads`](Builder::worker_threads) says otherwise).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().build().unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread, 61)
    }

    /// A builder for the current-thread runtime: every task runs on the thread that calls
    /// [`Runtime::block_on`], in FIFO order (asyncio's order).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { "hi" }), "hi");
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread, 61)
    }

    fn new(kind: Kind, event_interval: u32) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: Arc::new(|| "taskio-runtime-worker".into()),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            global_queue_interval: None,
            event_interval,
            lifo_enabled: true,
            task_poll_times: false,
            task_tree: false,
            slow_poll: None,
            enable_io: true,
            enable_time: true,
            start_paused: false,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
        }
    }

    /// Number of worker threads of the multi-thread runtime (default: the available
    /// parallelism). Ignored by the current-thread runtime.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().worker_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "worker_threads cannot be 0");
        self.worker_threads = Some(n);
        self
    }

    /// Name of the runtime's threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("web")
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
    /// assert_eq!(name.unwrap().as_deref(), Some("web"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function producing each thread's name (for numbered names).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .thread_name_fn(|| {
    ///         static N: AtomicUsize = AtomicUsize::new(0);
    ///         format!("worker-{}", N.fetch_add(1, Ordering::Relaxed))
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.thread_name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .thread_stack_size(4 * 1024 * 1024)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_stack_size(&mut self, size: usize) -> &mut Self {
        self.thread_stack_size = Some(size);
        self
    }

    /// Called on each runtime thread after it starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let s = started.clone();
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(rt);
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Called on each runtime thread before it stops.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let s = stopped.clone();
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(rt);
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Every `n` scheduler ticks a worker takes its next task from the global queue first,
    /// so tasks woken from outside are not starved by a busy local queue (default 61).
    ///
    /// Left unset, the multi-thread workers also shorten the interval when their polls are
    /// long (down to 2 polls), so that a task woken from outside waits about 200 µs of
    /// polls behind a busy worker rather than 61 polls of any length; set, it is fixed.
    /// Each such turn moves a share of the global queue (up to 128 tasks on the multi-thread
    /// scheduler, 64 on the current-thread one) to the worker's own queue.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().global_queue_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Self {
        assert!(n > 0, "global_queue_interval must be greater than 0");
        self.global_queue_interval = Some(n);
        self
    }

    /// Every `n` scheduler ticks a busy worker polls timers and I/O without blocking, so
    /// they are not starved by CPU-bound tasks (default 61).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().event_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, n: u32) -> &mut Self {
        assert!(n > 0, "event_interval must be greater than 0");
        self.event_interval = n;
        self
    }

    /// Turns off the LIFO slot: a task woken by the running task then goes to the back of
    /// the local queue instead of running next.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().disable_lifo_slot().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn disable_lifo_slot(&mut self) -> &mut Self {
        self.lifo_enabled = false;
        self
    }

    /// Keeps each task's poll times: the total and the longest poll, and the time from
    /// spawn to its first poll, shown by [`Handle::dump`](crate::Handle::dump) in
    /// [`TaskSnapshot::poll_times`](crate::dump::TaskSnapshot::poll_times). Off by default:
    /// around every poll it reads the clock twice and locks the task's shard of the task list
    /// once to add the poll up (tens of nanoseconds, on polls that may take less;
    /// BENCHMARKS.md has the measured cost). Poll counts and the rest of a dump need no
    /// option.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().task_poll_times(true).build().unwrap();
    /// let task = rt.spawn(async { taskio_runtime::yield_now().await });
    /// rt.block_on(task).unwrap();
    /// ```
    pub fn task_poll_times(&mut self, enabled: bool) -> &mut Self {
        self.task_poll_times = enabled;
        self
    }

    /// Records each task's parent (the task polled where it was spawned) and spawn site, for
    /// [`Handle::dump`](crate::Handle::dump)'s tree and the watchdog's reports. Off by
    /// default in the runtime (two hash-map operations per task, at spawn and at release,
    /// under the list lock those take anyway; BENCHMARKS.md has the measured cost); the
    /// `taskio` crate's runners turn it on. Without it a dump still lists every task with
    /// its state, what it awaits and its poll count, each as a root.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().task_tree(true).build().unwrap();
    /// rt.block_on(async {
    ///     let parent = taskio_runtime::spawn(async {
    ///         let child = taskio_runtime::spawn(std::future::pending::<()>());
    ///         (taskio_runtime::task::id(), child)
    ///     });
    ///     let (parent_id, child) = parent.await.unwrap();
    ///     let dump = taskio_runtime::Handle::current().dump();
    ///     assert_eq!(dump.get(child.id()).unwrap().parent, Some(parent_id));
    ///     assert!(dump.get(child.id()).unwrap().spawned_at.is_some());
    /// });
    /// ```
    pub fn task_tree(&mut self, enabled: bool) -> &mut Self {
        self.task_tree = enabled;
        self
    }

    /// Starts a watchdog thread with the runtime that calls `hook` once for every poll that
    /// runs longer than `threshold`: a task that blocks its worker (a blocking call, a long
    /// computation without a yield). The report ([`SlowPoll`](crate::SlowPoll)) names the
    /// task, where it was spawned, the worker, and the tasks queued behind it; the watchdog
    /// wakes a parked worker to steal those, or the report says that none can.
    ///
    /// A poll is reported between 1× and 1.5× `threshold` after it began (the watchdog
    /// looks every quarter of the threshold, at least every 0.5 ms). The hook runs on the
    /// watchdog's thread, not a worker; a panic in it is caught. The workers pay two plain
    /// stores per poll, watchdog or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let tx = std::sync::Mutex::new(tx);
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_slow_poll(Duration::from_millis(20), move |slow| {
    ///         let _ = tx.lock().unwrap().send(slow.task);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let task = rt.spawn(async {
    ///     std::thread::sleep(Duration::from_millis(100)); // blocks its worker
    /// });
    /// let id = task.id();
    /// rt.block_on(task).unwrap();
    /// assert_eq!(rx.recv().unwrap(), Some(id));
    /// ```
    pub fn on_slow_poll<F>(&mut self, threshold: Duration, hook: F) -> &mut Self
    where
        F: Fn(&crate::SlowPoll) + Send + Sync + 'static,
    {
        self.slow_poll = Some((threshold.max(Duration::from_micros(1)), Arc::new(hook)));
        self
    }

    /// Enables the I/O driver (on by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().enable_io().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_io(&mut self) -> &mut Self {
        self.enable_io = true;
        self
    }

    /// Enables timers (on by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_time(&mut self) -> &mut Self {
        self.enable_time = true;
        self
    }

    /// Enables I/O and timers (both are on by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_all(&mut self) -> &mut Self {
        self.enable_io().enable_time()
    }

    /// Starts the runtime with its clock paused: time only moves when every worker is idle,
    /// and then jumps straight to the next timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Upper bound on the threads of the blocking pool (default 512).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().max_blocking_threads(8).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads cannot be 0");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = taskio_runtime::Builder::new_multi_thread()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.thread_keep_alive = d;
        self
    }

    /// Builds the runtime: starts its worker threads (multi-thread) and its driver.
    ///
    /// # Errors
    ///
    /// If the OS refuses a thread or the I/O poller.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Builder::new_multi_thread().build()?;
    /// rt.block_on(async {});
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (driver, driver_handle) = Driver::new(driver::Cfg {
            enable_io: self.enable_io,
            enable_time: self.enable_time,
            start_paused: self.start_paused,
        })?;
        let blocking = crate::blocking::Spawner::new(
            self.max_blocking_threads,
            self.thread_keep_alive,
            self.thread_name.clone(),
            self.thread_stack_size,
        );
        let config = Config {
            global_queue_interval: self.global_queue_interval.unwrap_or(61),
            tune_global_queue_interval: self.global_queue_interval.is_none(),
            event_interval: self.event_interval,
            lifo_enabled: self.lifo_enabled,
            task_poll_times: self.task_poll_times,
            task_tree: self.task_tree,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
            #[cfg(test)]
            panic_at_park: Default::default(),
        };
        let mut rt = match self.kind {
            Kind::CurrentThread => {
                let (sched, handle) =
                    current_thread::CurrentThread::new(driver, driver_handle, blocking, config);
                Runtime::from_parts(
                    Scheduler::CurrentThread(sched),
                    scheduler::Handle::CurrentThread(handle),
                )
            }
            Kind::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_workers);
                let (sched, handle) = multi_thread::MultiThread::new(
                    workers,
                    driver,
                    driver_handle,
                    blocking,
                    config,
                    multi_thread::ThreadConfig {
                        name: self.thread_name.clone(),
                        stack_size: self.thread_stack_size,
                    },
                )?;
                Runtime::from_parts(
                    Scheduler::MultiThread(sched),
                    scheduler::Handle::MultiThread(handle),
                )
            }
        };
        if let Some((threshold, hook)) = &self.slow_poll {
            rt.start_watchdog(*threshold, hook.clone())?;
        }
        Ok(rt)
    }
}

fn default_workers() -> usize {
    static CACHED: AtomicUsize = AtomicUsize::new(0);
    let n = CACHED.load(Ordering::Relaxed);
    if n != 0 {
        return n;
    }
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    CACHED.store(n, Ordering::Relaxed);
    n
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("lifo_enabled", &self.lifo_enabled)
            .field("enable_io", &self.enable_io)
            .field("enable_time", &self.enable_time)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
