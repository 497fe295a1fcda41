//! The slow-poll watchdog: a thread that notices a poll running past a threshold, reports
//! it through the user's hook, and gets the tasks queued behind it moving.
//!
//! It reads each worker's `poll_seq`/`poll_task` (`metrics.rs`) every quarter of the
//! threshold. A worker inside a poll (`poll_task` is not `NOT_POLLING`) whose `poll_seq` has
//! not changed since the watchdog first saw that value, for at least the threshold, is in a
//! slow poll: it is reported once. Since the value was first seen at most one period after the poll began,
//! a poll is reported between 1× and 1.5× the threshold after it began (plus the time the
//! watchdog thread itself takes to be scheduled).
//!
//! The workers pay two plain stores and an add per poll for this (`poll_begin`/`poll_end`),
//! whether or not a watchdog runs; the watchdog thread exists only if the builder asked for one.
//!
//! The tasks in a blocked worker's local queue can be stolen: the watchdog wakes a parked
//! worker to do it (a parked worker would otherwise wait for the next wake-up). The one task
//! in its LIFO slot (the task the slow poll woke last, if any) cannot be stolen: the slot is
//! the worker's own; it is not counted in `queued_behind` and runs when the poll returns.

use crate::runtime::metrics::NOT_POLLING;
use crate::scheduler;
use crate::task::Id;
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The user's hook.
pub(crate) type Hook = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// A poll that ran past the watchdog's threshold, as given to the hook of
/// [`Builder::on_slow_poll`](crate::Builder::on_slow_poll).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SlowPoll {
    /// The worker running it (0 on the current-thread runtime).
    pub worker: usize,
    /// The task being polled; `None` for the future given to `block_on` (current-thread
    /// runtime), which is no task.
    pub task: Option<Id>,
    /// The task's name, if its data gives it one.
    pub name: Option<String>,
    /// Where the task was spawned (`None` for `block_on`'s future, or a task that completed
    /// before the report was made).
    pub spawned_at: Option<&'static Location<'static>>,
    /// How long the poll had run when reported (at least; the poll is still running).
    pub elapsed: Duration,
    /// Tasks in the worker's local queue (multi-thread), or woken from other threads and
    /// not yet picked up (current-thread): they wait unless another worker takes them.
    pub queued_behind: usize,
    /// Other workers able to take them: not themselves in a slow poll. 0 on the
    /// current-thread runtime, or with one worker: then nothing queued behind the slow poll
    /// runs until it returns.
    pub free_workers: usize,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.task {
            Some(id) => write!(f, "task {id}")?,
            None => f.write_str("the block_on future")?,
        }
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        if let Some(site) = self.spawned_at {
            write!(f, " (spawned at {site})")?;
        }
        write!(
            f,
            " has been in one poll for {:?} on worker {}",
            self.elapsed, self.worker
        )?;
        if self.queued_behind > 0 {
            if self.free_workers > 0 {
                write!(
                    f,
                    "; {} queued tasks behind it go to the {} other workers",
                    self.queued_behind, self.free_workers
                )?;
            } else {
                write!(
                    f,
                    "; {} queued tasks behind it wait: no other worker can take them",
                    self.queued_behind
                )?;
            }
        }
        Ok(())
    }
}

/// The watchdog's thread, stopped and joined on drop (with the runtime).
pub(crate) struct Watchdog {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

impl Watchdog {
    pub(crate) fn start(
        handle: scheduler::Handle,
        threshold: Duration,
        hook: Hook,
    ) -> std::io::Result<Watchdog> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("taskio-watchdog".into())
            .spawn(move || watch(handle, threshold, hook, stop2))?;
        Ok(Watchdog {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the watchdog remembers of one worker.
#[derive(Clone, Copy)]
struct Seen {
    seq: u64,
    /// The `poll_task` of that poll.
    task: u64,
    since: Instant,
    reported: bool,
}

fn watch(
    handle: scheduler::Handle,
    threshold: Duration,
    hook: Hook,
    stop: Arc<(Mutex<bool>, Condvar)>,
) {
    let period = (threshold / 4).max(Duration::from_micros(500));
    let workers = handle.worker_count();
    let mut seen: Vec<Option<Seen>> = vec![None; workers];
    let mut stopped = stop.0.lock();
    while !*stopped {
        let now = Instant::now();
        let mut slow: Vec<usize> = Vec::new();
        for (i, slot) in seen.iter_mut().enumerate() {
            let counters = handle.worker_counters(i);
            let seq = counters.poll_seq.load(Relaxed);
            let task = counters.poll_task.load(Relaxed);
            if task == NOT_POLLING {
                *slot = None;
                continue;
            }
            match slot {
                Some(s) if s.seq == seq && s.task == task => {
                    if now.duration_since(s.since) >= threshold {
                        slow.push(i);
                    }
                }
                _ => {
                    *slot = Some(Seen {
                        seq,
                        task,
                        since: now,
                        reported: false,
                    })
                }
            }
        }
        let busy = slow.len();
        for i in slow {
            let s = seen[i].as_mut().unwrap();
            if s.reported {
                continue;
            }
            s.reported = true;
            let elapsed = now.duration_since(s.since);
            let id = Id::from_u64(s.task);
            let (name, spawned_at) = match id {
                Some(id) => handle.describe(id),
                None => (None, None),
            };
            let queued_behind = handle.queued_on(i);
            let free_workers = workers - busy;
            if queued_behind > 0 && free_workers > 0 {
                handle.wake_a_worker();
            }
            let report = SlowPoll {
                worker: i,
                task: id,
                name,
                spawned_at,
                elapsed,
                queued_behind,
                free_workers,
            };
            #[cfg(feature = "tracing")]
            {
                let task_id = id.map_or(0, |i| i.as_u64());
                tracing::warn!(target: "taskio::watchdog", task_id, "{}", report);
            }
            // The hook runs without the stop lock, so a runtime dropped meanwhile waits for it
            // rather than the hook for the runtime. A panicking hook costs one report.
            parking_lot::MutexGuard::unlocked(&mut stopped, || {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&report)));
            });
            if *stopped {
                return;
            }
        }
        stop.1.wait_for(&mut stopped, period);
    }
}
