//! Runtime counters: per worker, and of the driver, read as one snapshot struct.
//!
//! Each worker owns a `WorkerCounters` on a cache line of its own. Only that worker writes
//! it (a `Relaxed` load and store stand in for an add: one writer), and any thread reads it
//! (`Handle::metrics`, the watchdog). No counter orders or guards anything; a snapshot is a
//! set of recent values, not one instant. They are `std` atomics under loom too, for the
//! reason `task/meta.rs` gives.
//!
//! The watchdog's two words are here as well: `poll_seq` counts the polls begun (it is also
//! the worker's poll count), and `poll_task` is the id of the task being polled, 0 for a
//! `block_on` future, or `NOT_POLLING` between polls. A poll whose `poll_seq` has not moved
//! while `poll_task` says "polling", for longer than the threshold, is a slow poll (see
//! `watchdog.rs`). A worker pays a store and an add at a poll's start and a store at its
//! end.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// One worker's counters (see the module docs).
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct WorkerCounters {
    steals: AtomicU64,
    stolen_tasks: AtomicU64,
    parks: AtomicU64,
    lifo_hits: AtomicU64,
    /// Nanoseconds spent out of park, up to `active_since`.
    busy_ns: AtomicU64,
    /// Since when the worker has been out of park (nanoseconds since `epoch`; 0 while
    /// parked).
    active_since: AtomicU64,
    pub(crate) poll_seq: AtomicU64,
    pub(crate) poll_task: AtomicU64,
}

/// `poll_task` between polls (no task id is `u64::MAX`: ids count up from 1).
pub(crate) const NOT_POLLING: u64 = u64::MAX;

impl Default for WorkerCounters {
    fn default() -> WorkerCounters {
        WorkerCounters {
            steals: AtomicU64::new(0),
            stolen_tasks: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            lifo_hits: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            active_since: AtomicU64::new(0),
            poll_seq: AtomicU64::new(0),
            poll_task: AtomicU64::new(NOT_POLLING),
        }
    }
}

#[inline]
fn bump(c: &AtomicU64, by: u64) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

/// The reference instant of the busy-time words.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    // Never 0, which means "parked".
    (epoch().elapsed().as_nanos() as u64).max(1)
}

impl WorkerCounters {
    /// A poll of task `id` begins.
    #[inline]
    pub(crate) fn poll_begin(&self, id: u64) {
        #[cfg(not(taskio_unobserved))]
        self.poll_task.store(id, Relaxed);
        #[cfg(taskio_unobserved)]
        let _ = id;
        bump(&self.poll_seq, 1);
    }

    /// The poll ends.
    #[inline]
    pub(crate) fn poll_end(&self) {
        #[cfg(not(taskio_unobserved))]
        self.poll_task.store(NOT_POLLING, Relaxed);
    }

    /// A steal took `tasks` tasks.
    pub(crate) fn stole(&self, tasks: usize) {
        bump(&self.steals, 1);
        bump(&self.stolen_tasks, tasks as u64);
    }

    /// The next task came from the LIFO slot.
    #[inline]
    pub(crate) fn lifo_hit(&self) {
        bump(&self.lifo_hits, 1);
    }

    /// The worker starts running (at thread start, and after each park).
    pub(crate) fn active(&self) {
        self.active_since.store(now_ns(), Relaxed);
    }

    /// The worker parks.
    pub(crate) fn parking(&self) {
        bump(&self.parks, 1);
        self.stopped();
    }

    /// The worker stops running (it parks, or leaves `block_on`).
    pub(crate) fn stopped(&self) {
        // A `block_on` future that panicked left without `poll_end`.
        self.poll_task.store(NOT_POLLING, Relaxed);
        let since = self.active_since.swap(0, Relaxed);
        if since != 0 {
            bump(&self.busy_ns, now_ns().saturating_sub(since));
        }
    }

    pub(crate) fn snapshot(&self, index: usize, local_queue_depth: usize) -> WorkerMetrics {
        let since = self.active_since.load(Relaxed);
        let mut busy = self.busy_ns.load(Relaxed);
        if since != 0 {
            busy = busy.saturating_add(now_ns().saturating_sub(since));
        }
        WorkerMetrics {
            index,
            polls: self.poll_seq.load(Relaxed),
            steals: self.steals.load(Relaxed),
            stolen_tasks: self.stolen_tasks.load(Relaxed),
            parks: self.parks.load(Relaxed),
            lifo_hits: self.lifo_hits.load(Relaxed),
            busy: Duration::from_nanos(busy),
            local_queue_depth,
            parked: since == 0,
        }
    }
}

/// One worker's counters, as read by [`Handle::metrics`](crate::Handle::metrics). Counts
/// are totals since the runtime started.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// The worker's index (0 for the current-thread runtime's one driver thread).
    pub index: usize,
    /// Task polls.
    pub polls: u64,
    /// Successful steals from other workers or the global queue while searching.
    pub steals: u64,
    /// Tasks those steals moved here.
    pub stolen_tasks: u64,
    /// Times the worker went to sleep for want of work.
    pub parks: u64,
    /// Tasks run from the LIFO slot (the task the previous one woke).
    pub lifo_hits: u64,
    /// Time spent out of park: running tasks, searching, driving I/O without blocking.
    pub busy: Duration,
    /// Tasks in the worker's local queue when read.
    pub local_queue_depth: usize,
    /// True if the worker was parked when read.
    pub parked: bool,
}

/// A snapshot of a runtime's counters: [`Handle::metrics`](crate::Handle::metrics).
///
/// Always on: a worker's counters are written by that worker alone, on a cache line of its
/// own, with plain stores (BENCHMARKS.md has what they cost).
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..100).map(|_| taskio_runtime::spawn(async {})).collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.workers.len(), 2);
/// assert!(m.total_polls() >= 100);
/// assert_eq!(m.spawned_tasks, 100);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Each worker's counters.
    pub workers: Vec<WorkerMetrics>,
    /// Tasks in the global (injection) queue when read.
    pub global_queue_depth: usize,
    /// Tasks spawned onto the runtime so far.
    pub spawned_tasks: u64,
    /// Live tasks (spawned, not yet released) when read.
    pub alive_tasks: usize,
    /// I/O readiness events the driver has dispatched.
    pub io_events: u64,
    /// I/O sources (sockets, pipes) registered with the driver when read.
    pub io_sources: usize,
    /// Timers pending in the timer wheel when read.
    pub timers: usize,
    /// Threads of the blocking pool.
    pub blocking_threads: usize,
    /// Idle threads of the blocking pool.
    pub idle_blocking_threads: usize,
}

impl RuntimeMetrics {
    /// Polls on all workers.
    pub fn total_polls(&self) -> u64 {
        self.workers.iter().map(|w| w.polls).sum()
    }

    /// Steals on all workers.
    pub fn total_steals(&self) -> u64 {
        self.workers.iter().map(|w| w.steals).sum()
    }
}
