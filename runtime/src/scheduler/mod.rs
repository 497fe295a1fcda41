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
use crate::task::{Id, JoinHandle, TaskData, TaskRef};
use std::future::Future;

/// Tuning shared by both schedulers.
#[derive(Clone)]
pub(crate) struct Config {
    /// Every this many ticks the global queue is checked first (fairness).
    pub(crate) global_queue_interval: u32,
    /// Every this many ticks the driver is polled without blocking.
    pub(crate) event_interval: u32,
    /// Whether a task woken by the running task goes to the LIFO slot.
    pub(crate) lifo_enabled: bool,
    /// Called on each runtime thread when it starts / stops.
    pub(crate) on_thread_start: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
    pub(crate) on_thread_stop: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
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
    /// Spawns a task onto this scheduler.
    pub(crate) fn spawn<F>(&self, future: F, id: Id) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn(h, future, id),
            Handle::MultiThread(h) => multi_thread::Handle::spawn(h, future, id),
        }
    }

    /// Spawns a task carrying `data` onto this scheduler (see `TaskRef`).
    pub(crate) fn spawn_with<D, F, M>(&self, data: D, make: M, id: Id) -> TaskRef<D>
    where
        D: TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(TaskRef<D>) -> F,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn_with(h, data, make, id),
            Handle::MultiThread(h) => multi_thread::Handle::spawn_with(h, data, make, id),
        }
    }

    /// Every live task whose data has the view type `V` (see `OwnedTasks::views`).
    pub(crate) fn tasks_with_view<V: ?Sized + 'static>(&self) -> Vec<TaskRef<V>> {
        match self {
            Handle::CurrentThread(h) => h.tasks_with_view(),
            Handle::MultiThread(h) => h.tasks_with_view(),
        }
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
