//! What a task records about itself for the task tree, the dumps and the per-task counters.
//!
//! # The protocol
//!
//! `Meta` lives in the task's header. The counters are plain `std` atomics with one writer each
//! and `Relaxed` accesses throughout: they order nothing and guard nothing, so a reader sees
//! some recent value of each, not a consistent set (a dump is a diagnostic, not a
//! synchronisation point).
//!
//! - `Header::polls` is written only by the poller, that is the thread holding RUNNING
//!   (`state.rs`), so a load and a store stand in for an atomic add.
//! - `awaiting` is written by the task itself during a poll: cleared by the harness before the
//!   poll, set by a checkpoint that returns `Pending` ([`set_awaiting`]).
//!
//! A reader (`Handle::dump`) reads them from another thread while holding the owned-task
//! list's shard lock, whose reference keeps the cell alive (see `list.rs`).
//!
//! A build with `--cfg taskio_unobserved` compiles these writes out, and the watchdog's poll
//! marks (`runtime/metrics.rs`) with them. It exists only to measure what they cost
//! (`benches/always_on_cost.sh`): in it a dump shows no polls and no awaits, and the watchdog
//! sees no poll.
//!
//! These are not loom atomics on purpose: no protocol depends on their values, and modelling
//! them would only multiply the interleavings of every model that polls a task.
//!
//! # Size
//!
//! Every byte here is in every task's allocation, and the allocation's size matters more than
//! its contents: glibc's allocator frees a chunk of up to 128 bytes (a request of up to 120)
//! into a lock-free fast bin, and anything larger through its arena's lock, so a task freed on
//! another thread than the one that spawned it costs about twice as much one word past that
//! size (measured: `spawn_many_local`, BENCHMARKS.md). Hence only what the hot path writes is in
//! the task: `awaiting`, and `polls` (a `u32` beside the cancel word). A task's parent and
//! spawn site, written once and read only by dumps, and its poll times (kept only by a
//! runtime built with `Builder::task_poll_times`) are in its owned-list shard (`list.rs`),
//! under the lock its spawn and its release take anyway; and `JoinError` is two words. So a
//! task is no larger than before any of this was recorded (`spawn(async {})`: 120 bytes).

use crate::task::Id;
use std::panic::Location;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Per-task records kept in the task (see the module docs).
pub(crate) struct Meta {
    /// What the task awaits, encoded by `Awaiting::encode` (0: nothing recorded).
    pub(crate) awaiting: AtomicU64,
    /// The task's span, entered around each poll (the `tracing` feature).
    #[cfg(feature = "tracing")]
    pub(crate) span: tracing::Span,
}

/// What a spawn passes down to the cell it creates. The parent is not here: it is looked up
/// (`Origin`) only on a runtime that records it, a thread-local read the others skip.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskInit {
    pub(crate) id: Id,
    pub(crate) spawned_at: &'static Location<'static>,
}

impl TaskInit {
    /// A new task spawned by the caller of the `#[track_caller]` chain that reaches here.
    #[track_caller]
    #[inline]
    pub(crate) fn new() -> TaskInit {
        TaskInit {
            id: Id::next(),
            spawned_at: Location::caller(),
        }
    }
}

impl Meta {
    pub(crate) fn new(init: &TaskInit) -> Meta {
        #[cfg(not(feature = "tracing"))]
        let _ = init;
        Meta {
            awaiting: AtomicU64::new(0),
            #[cfg(feature = "tracing")]
            span: {
                let span = tracing::trace_span!(
                    target: "taskio::task",
                    "task",
                    task.id = init.id.as_u64(),
                    task.parent = crate::task::try_id().map_or(0, |p| p.as_u64()),
                    spawned_at = %init.spawned_at,
                );
                tracing::trace!(target: "taskio::task", parent: &span, "spawned");
                span
            },
        }
    }
}

/// The process's reference instant for the times packed into task words.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

#[cfg_attr(taskio_unobserved, allow(dead_code))]
fn nanos_since_epoch(t: Instant) -> u64 {
    (t.saturating_duration_since(epoch()).as_nanos() as u64) & ARG_MASK
}

/// A task's poll times, kept on a runtime built with
/// [`Builder::task_poll_times`](crate::Builder::task_poll_times).
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Builder::new_current_thread()
///     .task_poll_times(true)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let task = taskio_runtime::spawn(std::future::pending::<()>());
///     taskio_runtime::yield_now().await; // let it run once
///     let dump = taskio_runtime::Handle::current().dump();
///     let times = dump.get(task.id()).unwrap().poll_times.unwrap();
///     assert!(times.max <= times.total);
///     assert!(times.first_poll_delay.is_some());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollTimes {
    /// The time spent in all the task's polls.
    pub total: Duration,
    /// The longest single poll.
    pub max: Duration,
    /// From spawn to the first poll (`None` before it).
    pub first_poll_delay: Option<Duration>,
}

/// What a waiting task awaits, as recorded at the checkpoint where it is parked.
///
/// The runtime's own checkpoints (sleeps, I/O readiness, joins) record it, and a library
/// built on the runtime records its own with [`set_awaiting`]; a task parked on any other
/// future shows [`TaskState::Waiting`](crate::dump::TaskState::Waiting) with no `Awaiting`.
/// Objects are named by address (`lock 0x…`), so two tasks waiting on the same lock show the
/// same one.
///
/// # Examples
///
/// ```
/// use taskio_runtime::task::Awaiting;
///
/// assert_eq!(Awaiting::Task(taskio_runtime::task::Id::from_u64(7).unwrap()).to_string(), "task 7");
/// assert_eq!(Awaiting::Lock(0x1000).to_string(), "lock 0x1000");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Awaiting {
    /// A timer, due at this instant.
    Sleep {
        /// When it fires.
        until: Instant,
    },
    /// Another task's completion.
    Task(Id),
    /// Readiness of an I/O source (a socket, a pipe).
    Io,
    /// A lock (by address).
    Lock(usize),
    /// An event (by address).
    Event(usize),
    /// A condition variable (by address).
    Condition(usize),
    /// A semaphore (by address).
    Semaphore(usize),
    /// A barrier (by address).
    Barrier(usize),
    /// A queue (by address): to get an item, or room to put one.
    Queue(usize),
    /// Several tasks at once (a gather, a wait): the awaiting task's children.
    Tasks,
    /// A task group's children.
    TaskGroup,
    /// A blocking call on the blocking pool.
    Blocking,
    /// A signal.
    Signal,
    /// A stream or a channel (by address).
    Channel(usize),
}

const KIND_SHIFT: u32 = 56;
const ARG_MASK: u64 = (1 << KIND_SHIFT) - 1;

impl Awaiting {
    #[cfg_attr(taskio_unobserved, allow(dead_code))]
    pub(crate) fn encode(self) -> u64 {
        let (kind, arg): (u64, u64) = match self {
            Awaiting::Sleep { until } => (1, nanos_since_epoch(until)),
            Awaiting::Task(id) => (2, id.as_u64()),
            Awaiting::Io => (3, 0),
            Awaiting::Lock(a) => (4, a as u64),
            Awaiting::Event(a) => (5, a as u64),
            Awaiting::Condition(a) => (6, a as u64),
            Awaiting::Semaphore(a) => (7, a as u64),
            Awaiting::Barrier(a) => (8, a as u64),
            Awaiting::Queue(a) => (9, a as u64),
            Awaiting::Tasks => (10, 0),
            Awaiting::TaskGroup => (11, 0),
            Awaiting::Blocking => (12, 0),
            Awaiting::Signal => (13, 0),
            Awaiting::Channel(a) => (14, a as u64),
        };
        (kind << KIND_SHIFT) | (arg & ARG_MASK)
    }

    pub(crate) fn decode(word: u64) -> Option<Awaiting> {
        let arg = word & ARG_MASK;
        let addr = arg as usize;
        Some(match word >> KIND_SHIFT {
            1 => Awaiting::Sleep {
                until: epoch() + Duration::from_nanos(arg),
            },
            2 => Awaiting::Task(Id::from_u64(arg)?),
            3 => Awaiting::Io,
            4 => Awaiting::Lock(addr),
            5 => Awaiting::Event(addr),
            6 => Awaiting::Condition(addr),
            7 => Awaiting::Semaphore(addr),
            8 => Awaiting::Barrier(addr),
            9 => Awaiting::Queue(addr),
            10 => Awaiting::Tasks,
            11 => Awaiting::TaskGroup,
            12 => Awaiting::Blocking,
            13 => Awaiting::Signal,
            14 => Awaiting::Channel(addr),
            _ => return None,
        })
    }
}

impl std::fmt::Display for Awaiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Awaiting::Sleep { until } => {
                let left = until.saturating_duration_since(Instant::now());
                write!(f, "sleep ({left:.3?} left)")
            }
            Awaiting::Task(id) => write!(f, "task {id}"),
            Awaiting::Io => f.write_str("I/O readiness"),
            Awaiting::Lock(a) => write!(f, "lock {a:#x}"),
            Awaiting::Event(a) => write!(f, "event {a:#x}"),
            Awaiting::Condition(a) => write!(f, "condition {a:#x}"),
            Awaiting::Semaphore(a) => write!(f, "semaphore {a:#x}"),
            Awaiting::Barrier(a) => write!(f, "barrier {a:#x}"),
            Awaiting::Queue(a) => write!(f, "queue {a:#x}"),
            Awaiting::Tasks => f.write_str("its tasks"),
            Awaiting::TaskGroup => f.write_str("its task group"),
            Awaiting::Blocking => f.write_str("a blocking call"),
            Awaiting::Signal => f.write_str("a signal"),
            Awaiting::Channel(a) => write!(f, "stream {a:#x}"),
        }
    }
}

/// Records what the task being polled on this thread awaits, for
/// [`Handle::dump`](crate::Handle::dump): call it where a future returns `Pending`. The
/// record lasts until the task's next poll begins. Outside a task it does nothing.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
/// use taskio_runtime::task::{set_awaiting, Awaiting};
///
/// struct Forever;
/// impl Future for Forever {
///     type Output = ();
///     fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
///         set_awaiting(Awaiting::Event(self.get_mut() as *mut Self as usize));
///         Poll::Pending
///     }
/// }
///
/// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = taskio_runtime::spawn(Forever);
///     taskio_runtime::yield_now().await;
///     let dump = taskio_runtime::Handle::current().dump();
///     assert!(matches!(dump.get(task.id()).unwrap().awaiting, Some(Awaiting::Event(_))));
/// });
/// ```
pub fn set_awaiting(what: Awaiting) {
    #[cfg(taskio_unobserved)]
    let _ = what;
    #[cfg(not(taskio_unobserved))]
    if let Some(task) = crate::task::cancel::current_task() {
        // SAFETY: the task polled on this thread is alive for the whole poll (its poller
        // holds a reference).
        let header = unsafe { task.as_ref() };
        header
            .meta
            .awaiting
            .store(what.encode(), std::sync::atomic::Ordering::Relaxed);
    }
}
