//! The two schedulers and the handle that names either.
//!
//! - `current_thread`: one FIFO run queue driven by the thread in `block_on`. With it the
//!   order of events is asyncio's; it is the deterministic mode.
//! - `multi_thread`: one worker per core, each with a local queue and a LIFO slot, a global
//!   injector, work stealing, and parking with no lost wake-up.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

#[cfg(all(test, loom))]
mod loom_tests;

use crate::blocking;
use crate::driver;
use crate::loom::sync::Arc;
use crate::task::{JoinHandle, TaskData, TaskInit, TaskRef};
use std::future::Future;

/// Tuning shared by both schedulers.
#[derive(Clone)]
pub(crate) struct Config {
    /// Every this many ticks the global queue is checked first (fairness). On the
    /// multi-thread scheduler, when `tune_global_queue_interval` is set, the most polls
    /// between two checks, which the worker shortens when its polls are long.
    pub(crate) global_queue_interval: u32,
    /// The interval was not set by the user: the multi-thread workers tune it to time.
    pub(crate) tune_global_queue_interval: bool,
    /// Every this many ticks the driver is polled without blocking.
    pub(crate) event_interval: u32,
    /// Whether a task woken by the running task goes to the LIFO slot.
    pub(crate) lifo_enabled: bool,
    /// Whether tasks keep their poll times (`Builder::task_poll_times`).
    pub(crate) task_poll_times: bool,
    /// Whether tasks' parents and spawn sites are recorded (`Builder::task_tree`).
    pub(crate) task_tree: bool,
    /// Called on each runtime thread when it starts / stops.
    pub(crate) on_thread_start: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
    pub(crate) on_thread_stop: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
    /// Unit tests only: the next multi-thread worker to park panics instead (a fault in the
    /// worker outside any task poll).
    #[cfg(test)]
    pub(crate) panic_at_park: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("lifo_enabled", &self.lifo_enabled)
            .finish_non_exhaustive()
    }
}

/// A handle to a scheduler of either kind.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
    MultiThread(Arc<multi_thread::Handle>),
}

impl Handle {
    /// True if both are handles of the same scheduler.
    #[cfg(feature = "hyper")]
    #[inline]
    pub(crate) fn ptr_eq(&self, other: &Handle) -> bool {
        match (self, other) {
            (Handle::CurrentThread(a), Handle::CurrentThread(b)) => Arc::ptr_eq(a, b),
            (Handle::MultiThread(a), Handle::MultiThread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Spawns a task onto this scheduler.
    #[inline]
    pub(crate) fn spawn<F>(&self, future: F, init: TaskInit) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn(h, future, init),
            Handle::MultiThread(h) => multi_thread::Handle::spawn(h, future, init),
        }
    }

    /// Spawns a task carrying `data` onto this scheduler (see `TaskRef`).
    #[inline]
    pub(crate) fn spawn_with<D, F, M>(&self, data: D, make: M, init: TaskInit) -> TaskRef<D>
    where
        D: TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(TaskRef<D>) -> F,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn_with(h, data, make, init),
            Handle::MultiThread(h) => multi_thread::Handle::spawn_with(h, data, make, init),
        }
    }

    /// Every live task whose data has the view type `V` (see `OwnedTasks::views`).
    pub(crate) fn tasks_with_view<V: ?Sized + 'static>(&self) -> Vec<TaskRef<V>> {
        match self {
            Handle::CurrentThread(h) => h.tasks_with_view(),
            Handle::MultiThread(h) => h.tasks_with_view(),
        }
    }

    /// A snapshot of every live task (see `crate::dump`).
    pub(crate) fn dump(&self) -> crate::dump::TaskDump {
        let mut tasks = Vec::new();
        match self {
            Handle::CurrentThread(h) => h.owned().snapshot(&mut tasks),
            Handle::MultiThread(h) => h.owned().snapshot(&mut tasks),
        }
        crate::dump::TaskDump::new(tasks)
    }

    /// A snapshot of the runtime's counters (see `runtime/metrics.rs`).
    pub(crate) fn metrics(&self) -> crate::runtime::metrics::RuntimeMetrics {
        let (workers, global_queue_depth, (alive_tasks, spawned_tasks)) = match self {
            Handle::CurrentThread(h) => (
                vec![h.counters.snapshot(0, 0)],
                h.inject_len(),
                h.owned().counts(),
            ),
            Handle::MultiThread(h) => (h.worker_metrics(), h.inject_len(), h.owned().counts()),
        };
        let driver = self.driver();
        let (blocking_threads, idle_blocking_threads) = self.blocking().thread_counts();
        crate::runtime::metrics::RuntimeMetrics {
            workers,
            global_queue_depth,
            spawned_tasks,
            alive_tasks,
            io_events: driver.io_events(),
            io_sources: driver.io_sources(),
            timers: driver.timers(),
            blocking_threads,
            idle_blocking_threads,
        }
    }

    /// How many workers have counters (1 for the current-thread runtime).
    pub(crate) fn worker_count(&self) -> usize {
        match self {
            Handle::CurrentThread(_) => 1,
            Handle::MultiThread(h) => h.shared.counters.len(),
        }
    }

    /// Worker `i`'s counters.
    pub(crate) fn worker_counters(&self, i: usize) -> &crate::runtime::metrics::WorkerCounters {
        match self {
            Handle::CurrentThread(h) => &h.counters,
            Handle::MultiThread(h) => &h.shared.counters[i],
        }
    }

    /// Tasks waiting behind worker `i`'s current poll (see `SlowPoll::queued_behind`).
    pub(crate) fn queued_on(&self, i: usize) -> usize {
        match self {
            Handle::CurrentThread(h) => h.inject_len(),
            Handle::MultiThread(h) => h.local_len(i),
        }
    }

    /// Wakes a parked worker, if any, to look for work (the watchdog's nudge).
    pub(crate) fn wake_a_worker(&self) {
        if let Handle::MultiThread(h) = self {
            h.nudge();
        }
    }

    /// The name and spawn site of a live task.
    pub(crate) fn describe(
        &self,
        id: crate::task::Id,
    ) -> (
        Option<String>,
        Option<&'static std::panic::Location<'static>>,
    ) {
        let found = match self {
            Handle::CurrentThread(h) => h.owned().describe(id),
            Handle::MultiThread(h) => h.owned().describe(id),
        };
        found.unwrap_or((None, None))
    }

    /// The blocking pool.
    pub(crate) fn blocking(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(h) => &h.blocking,
            Handle::MultiThread(h) => &h.blocking,
        }
    }

    /// The driver's handle.
    pub(crate) fn driver(&self) -> &Arc<driver::Handle> {
        match self {
            Handle::CurrentThread(h) => &h.driver,
            Handle::MultiThread(h) => &h.driver,
        }
    }
}
