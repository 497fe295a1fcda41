//! The multi-thread, work-stealing scheduler.
//!
//! Each worker owns a `crossbeam_deque::Worker` (its local FIFO queue) and a LIFO slot;
//! other workers steal from the queue through its `Stealer`. Wakes from outside a worker go
//! to the global `Injector`. See `worker.rs` for the search order, `idle.rs` for the
//! searching/parking protocol and `park.rs` for sleeping in the driver or on a condvar.
//!
//! Shutdown: `Handle::shutdown` sets `is_shutdown`, closes the injector and unparks every
//! worker. Each worker leaves its loop, shuts down the owned tasks (dropping their futures
//! on that worker thread), drops what is left in its queues and signals its exit. The
//! `Runtime` waits for the exits (up to the shutdown timeout), then drops what remains in
//! the injector and shuts the driver down. A wake that arrives after the injector closed is
//! dropped; a task spawned after the owned list closed is cancelled at once.
//!
//! # A worker that panics
//!
//! A panic in a task's poll, in a task's drop, in a thread hook or in a waker called by a
//! driver is caught where it happens and costs only that task or that wake-up. A panic in
//! the worker's own code (a bug in this crate) ends that worker's loop: its thread then
//! shuts the whole runtime down, cancels every task as each worker does when it leaves,
//! and counts its exit. Every `JoinHandle` resolves (to a cancellation error, unless its
//! task had finished) and the `Runtime`'s drop returns instead of waiting forever for the
//! dead worker. A runtime that has lost a worker cannot be trusted to run its tasks:
//! wake-ups meant for that worker would go nowhere.

mod idle;
mod park;
mod queue;
mod worker;

use crate::driver::{self, Driver};
use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::runtime::metrics::WorkerCounters;
use crate::runtime::{context, coop, park::ParkThread};
use crate::scheduler::{self, Config};
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, Schedule, Task, TaskData, TaskInit, TaskRef};
use queue::{Injector, Steal, Stealer, Worker};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How worker threads are made.
pub(crate) struct ThreadConfig {
    pub(crate) name: std::sync::Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
}

/// The scheduler as owned by the `Runtime`.
pub(crate) struct MultiThread {
    threads: Mutex<Vec<crate::loom::thread::JoinHandle<()>>>,
}

/// The shared state; the tasks' scheduler handle.
pub(crate) struct Handle {
    pub(super) shared: Shared,
    pub(crate) driver: Arc<driver::Handle>,
    pub(crate) blocking: crate::blocking::Spawner,
}

pub(super) struct Shared {
    remotes: Box<[Remote]>,
    /// Each worker's counters, written by that worker only (`runtime/metrics.rs`).
    pub(super) counters: Box<[WorkerCounters]>,
    inject: Injector<worker::Task>,
    inject_closed: AtomicBool,
    idle: idle::Idle,
    owned: OwnedTasks<Arc<Handle>>,
    config: Config,
    driver: Mutex<Driver>,
    is_shutdown: AtomicBool,
    /// Number of workers that have not yet exited, for `shutdown_timeout`.
    running: Mutex<usize>,
    exited: Condvar,
}

struct Remote {
    steal: Stealer<worker::Task>,
    unpark: park::Unparker,
}

impl MultiThread {
    pub(crate) fn new(
        workers: usize,
        driver: Driver,
        driver_handle: driver::Handle,
        blocking: crate::blocking::Spawner,
        config: Config,
        thread_config: ThreadConfig,
    ) -> io::Result<(MultiThread, Arc<Handle>)> {
        let workers = workers.max(1);
        let locals: Vec<Worker<worker::Task>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let remotes = locals
            .iter()
            .map(|w| Remote {
                steal: w.stealer(),
                unpark: park::Unparker::new(),
            })
            .collect();
        let handle = Arc::new(Handle {
            shared: Shared {
                remotes,
                counters: (0..workers).map(|_| WorkerCounters::default()).collect(),
                inject: Injector::new(),
                inject_closed: AtomicBool::new(false),
                idle: idle::Idle::new(workers),
                owned: OwnedTasks::new(workers * 4),
                config: config.clone(),
                driver: Mutex::new(driver),
                is_shutdown: AtomicBool::new(false),
                running: Mutex::new(workers),
                exited: Condvar::new(),
            },
            driver: Arc::new(driver_handle),
            blocking,
        });
        let mut threads = Vec::with_capacity(workers);
        for (index, local) in locals.into_iter().enumerate() {
            let mut builder = crate::loom::thread::Builder::new().name((thread_config.name)());
            if let Some(size) = thread_config.stack_size {
                builder = builder.stack_size(size);
            }
            let h = handle.clone();
            let start = config.on_thread_start.clone();
            let stop = config.on_thread_stop.clone();
            let spawned = builder.spawn(move || {
                // A panicking hook is reported by the panic hook like any panic, but must
                // not take the worker (and the runtime's shutdown, which waits for it) down.
                if let Some(f) = &start {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f()));
                }
                let shared = h.clone();
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    worker::run(h, index, local)
                }));
                if run.is_err() {
                    // A fault in the worker itself, outside any task poll (those, the
                    // hooks and the drivers' wakers are contained where they run): see
                    // the module docs, "A worker that panics".
                    shared.shutdown();
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        shared.shared.owned.close_and_shutdown_all()
                    }));
                    shared.shared.worker_exited();
                }
                drop(shared);
                if let Some(f) = &stop {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f()));
                }
            });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    // Stop the workers already started before reporting the error.
                    handle.shutdown();
                    *handle.shared.running.lock() -= workers - index;
                    for t in threads {
                        let _ = t.join();
                    }
                    return Err(e);
                }
            }
        }
        Ok((
            MultiThread {
                threads: Mutex::new(threads),
            },
            handle,
        ))
    }

    /// Runs `future` to completion on the calling thread; tasks run on the workers.
    pub(crate) fn block_on<F: Future>(&self, handle: &scheduler::Handle, future: F) -> F::Output {
        block_on(handle, future)
    }

    /// Shuts down and waits up to `timeout` (`None`: no limit) for the workers to exit.
    pub(crate) fn shutdown(&self, handle: &Arc<Handle>, timeout: Option<Duration>) {
        handle.shutdown();
        if self.threads.lock().is_empty() {
            // Already shut down (`shutdown_timeout`, then the `Runtime`'s drop): the threads
            // were joined or deliberately detached; waiting again would undo the timeout.
            return;
        }
        // A runtime dropped from one of its own workers cannot wait for that worker.
        let on_own_worker = worker::with_current(handle, |core| core.is_some());
        let all_exited = if on_own_worker {
            false
        } else {
            handle.shared.wait_exited(timeout)
        };
        let threads = std::mem::take(&mut *self.threads.lock());
        if all_exited {
            for t in threads {
                let _ = t.join();
            }
            // Nothing can push into the injector any more (it is closed); drop leftovers.
            handle.shared.drain_inject();
            handle.driver.shutdown();
        }
        // Otherwise the threads are detached: each finishes its current poll, then exits.
    }
}

/// Runs `future` to completion on the calling thread (parked between polls); the workers
/// run the tasks. Shared by `Runtime::block_on` and `Handle::block_on`.
pub(crate) fn block_on<F: Future>(handle: &scheduler::Handle, future: F) -> F::Output {
    let _enter = context::enter_runtime(handle);
    let park = ParkThread::new();
    let waker = park.waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(v) = coop::budget(|| future.as_mut().poll(&mut cx)) {
            return v;
        }
        park.park();
    }
}

impl Shared {
    fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(SeqCst)
    }

    fn pop_inject(&self) -> Option<worker::Task> {
        loop {
            match self.inject.steal() {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => crate::loom::spin_loop(),
            }
        }
    }

    fn drain_inject(&self) {
        while let Some(task) = self.pop_inject() {
            drop(task);
        }
    }

    fn worker_exited(&self) {
        let mut running = self.running.lock();
        *running -= 1;
        if *running == 0 {
            self.exited.notify_all();
        }
    }

    fn wait_exited(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut running = self.running.lock();
        while *running > 0 {
            match deadline {
                #[cfg(not(loom))]
                Some(deadline) => {
                    if self.exited.wait_until(&mut running, deadline).timed_out() {
                        return *running == 0;
                    }
                }
                _ => self.exited.wait(&mut running),
            }
        }
        true
    }
}

impl Handle {
    #[inline]
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, init: TaskInit) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (join, notified) = me.shared.owned.bind(future, me.clone(), init);
        if let Some(notified) = notified {
            me.schedule_task(notified, false);
        }
        join
    }

    #[inline]
    pub(crate) fn spawn_with<D, F, M>(
        me: &Arc<Handle>,
        data: D,
        make: M,
        init: TaskInit,
    ) -> TaskRef<D>
    where
        D: TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(TaskRef<D>) -> F,
    {
        let (task, notified) = me.shared.owned.bind_with_data(data, make, me.clone(), init);
        if let Some(notified) = notified {
            me.schedule_task(notified, false);
        }
        task
    }

    /// See `OwnedTasks::views`.
    pub(crate) fn tasks_with_view<V: ?Sized + 'static>(&self) -> Vec<TaskRef<V>> {
        self.shared.owned.views()
    }

    fn schedule_task(&self, task: worker::Task, is_yield: bool) {
        let task = worker::with_current(self, |core| match core {
            Some(core) => {
                core.schedule_local(task, is_yield);
                None
            }
            None => Some(task),
        });
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    fn push_remote(&self, task: worker::Task) {
        let shared = &self.shared;
        if shared.inject_closed.load(SeqCst) {
            drop(task);
            return;
        }
        shared.inject.push(task);
        // Shutdown may have closed the injector and drained it between the check above and
        // the push: check again and drain ourselves (both sides are SeqCst).
        if shared.inject_closed.load(SeqCst) {
            shared.drain_inject();
            return;
        }
        self.notify_parked();
    }

    /// Wakes a parked worker if none is searching.
    fn notify_parked(&self) {
        if let Some(index) = self.shared.idle.worker_to_notify() {
            self.shared.remotes[index].unpark.unpark(&self.driver);
        }
    }

    /// True if the clock is paused and nothing can run until time moves: every worker is
    /// parked, the global queue is empty and no blocking work is in flight.
    fn can_auto_advance(&self) -> bool {
        self.driver.is_paused()
            && self.shared.idle.all_parked()
            && self.shared.inject.is_empty()
            && !self.blocking.busy()
    }

    /// Wakes a worker if any queue holds work.
    fn notify_if_work_pending(&self) {
        let shared = &self.shared;
        let pending =
            shared.remotes.iter().any(|r| !r.steal.is_empty()) || !shared.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }

    /// Starts the shutdown (idempotent).
    pub(crate) fn shutdown(&self) {
        let shared = &self.shared;
        if shared.is_shutdown.swap(true, SeqCst) {
            return;
        }
        shared.inject_closed.store(true, SeqCst);
        shared.drain_inject();
        for remote in shared.remotes.iter() {
            remote.unpark.unpark(&self.driver);
        }
        self.driver.unpark();
    }
}

impl Handle {
    /// Each worker's counters, and its local queue's depth.
    pub(crate) fn worker_metrics(&self) -> Vec<crate::runtime::metrics::WorkerMetrics> {
        let shared = &self.shared;
        shared
            .counters
            .iter()
            .zip(shared.remotes.iter())
            .enumerate()
            .map(|(i, (c, r))| c.snapshot(i, r.steal.len()))
            .collect()
    }

    /// Tasks in worker `i`'s local queue.
    pub(crate) fn local_len(&self, i: usize) -> usize {
        self.shared.remotes[i].steal.len()
    }

    /// Wakes a parked worker, if any (see `notify_parked`).
    pub(crate) fn nudge(&self) {
        self.notify_parked();
    }

    /// Tasks in the global queue.
    pub(crate) fn inject_len(&self) -> usize {
        self.shared.inject.len()
    }

    /// The runtime's live tasks.
    pub(crate) fn owned(&self) -> &OwnedTasks<Arc<Handle>> {
        &self.shared.owned
    }
}

impl Schedule for Arc<Handle> {
    fn task_poll_times(&self) -> bool {
        self.shared.config.task_poll_times
    }

    fn task_tree(&self) -> bool {
        self.shared.config.task_tree
    }

    fn runtime_handle(&self) -> Option<crate::Handle> {
        Some(crate::Handle {
            inner: super::Handle::MultiThread(self.clone()),
        })
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.shared.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }
}

impl fmt::Debug for MultiThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread").finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("multi_thread::Handle")
            .field("workers", &self.shared.remotes.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::runtime::Builder;
    use std::sync::atomic::Ordering::SeqCst;

    /// A worker that panics outside any task poll shuts the runtime down: the task waited
    /// on resolves, the pending one is cancelled (its future dropped), and the drop of the
    /// runtime returns instead of waiting for the dead worker's exit.
    #[test]
    fn a_worker_that_panics_shuts_the_runtime_down() {
        for workers in [1, 2] {
            let rt = Builder::new_multi_thread()
                .worker_threads(workers)
                .build()
                .unwrap();
            let handle = rt.handle().clone();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            struct Dropped(std::sync::mpsc::Sender<()>);
            impl Drop for Dropped {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            // Pending forever unless cancelled; its future owns `tx`.
            let pending = handle.spawn(async move {
                let _d = Dropped(tx);
                std::future::pending::<()>().await
            });
            let sched = match &handle.inner {
                crate::scheduler::Handle::MultiThread(h) => h.clone(),
                _ => unreachable!(),
            };
            sched.shared.config.panic_at_park.store(true, SeqCst);
            // Wake a parked worker so that it parks again and takes the fault.
            let ran = rt.block_on(handle.spawn(async { 7 }));
            // That task may have run before the fault, or been cancelled by it.
            if let Ok(v) = ran {
                assert_eq!(v, 7);
            }
            rx.recv_timeout(std::time::Duration::from_secs(60))
                .expect("the pending task's future was dropped");
            let joined = rt.block_on(pending);
            assert!(joined.unwrap_err().is_cancelled());
            assert!(!sched.shared.config.panic_at_park.load(SeqCst));
            drop(rt);
        }
    }
}
