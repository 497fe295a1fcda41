//! Tasks: one allocation per spawned future, shared by the scheduler, wakers and the
//! `JoinHandle` through a reference count in the task's state word.
//!
//! # The protocol
//!
//! A task is a `Cell` (see `cell.rs`): a `Header` (state word, vtable, owned-list links, the
//! join waker slot, the id), the scheduler handle, and the *stage*: the future, then its
//! output, then nothing.
//!
//! **References.** Every handle to a task holds one reference in the state word: the
//! owned-task list (`Task`, until the task completes or is shut down), each `Notified` (a
//! promise to run it: sits in a run queue), each `Waker`, and the `JoinHandle`. A new task
//! starts with three (list, first `Notified`, `JoinHandle`). The cell is freed by whoever
//! drops the last reference, exactly once (`ref_dec` returns true for one caller only).
//!
//! **Who may touch the stage.** Whoever sets RUNNING (by `transition_to_running` from a
//! `Notified`, or `transition_to_shutdown` at shutdown) owns the stage until it unsets
//! RUNNING or sets COMPLETE; two pollers can never hold it at once, because RUNNING is set by
//! a compare-and-swap from a state where it is unset. After COMPLETE, the stage belongs to
//! the `JoinHandle` if JOIN_INTEREST was set in the completing transition, else to the
//! runtime, which drops the output at once. A task is never polled after COMPLETE:
//! `transition_to_running` fails on a complete task.
//!
//! **Wakes.** A wake sets NOTIFIED. If the task is idle and was not notified, the waker
//! submits a `Notified` (by value: the waker's reference becomes it; by reference: a new
//! one is taken). If the task is running, only the bit is set; when the poll returns
//! `Pending`, `transition_to_idle` sees it and the poller's reference becomes a new
//! `Notified` that goes to the back of the queue (this is how `yield_now` works). So a wake
//! during a poll is never lost and a task is never queued twice.
//!
//! **Delivered cancellation.** `JoinHandle::cancel` records a request in the header's
//! cancel word and wakes the task; the task's next checkpoint delivers it as an error (the
//! protocol, its drop fallback and the self-cancel rule: `cancel.rs`).
//!
//! **Cancellation by drop.** `abort` sets CANCELLED (and submits the task if it is idle and not
//! queued); whoever next claims the stage drops the future instead of polling it, stores a
//! cancelled `JoinError` and completes. A panic in a poll or in the future's destructor is
//! caught and stored as a panic `JoinError`; it never unwinds into the worker.
//!
//! **The join waker.** The slot in the header is owned by the `JoinHandle` while JOIN_WAKER
//! is unset, and may be read by the runtime while it is set. The handle writes a waker, then
//! sets the bit (failing if the task completed meanwhile, in which case it reads the
//! output). On completion the runtime wakes the waker if the bit is set, then unsets it,
//! handing the slot back; if the handle was dropped in between, the runtime clears the slot.
//!
//! **Tasks with data.** `Handle::spawn_with` (for the `taskio` crate) makes a task whose
//! cell also holds a value `D` (after the stage), shared by `TaskRef<D>`s, which stand in
//! for the `JoinHandle`: such a task starts with four references (list, `Notified`, the
//! spawner's `TaskRef`, and the `TaskRef` its future was made from) and without
//! JOIN_INTEREST, so its output is dropped on completion and the join waker slot is never
//! used. A `TaskRef` only reads the state word, aborts (as a `JoinHandle` does), and reads
//! `D`; `D` is never written, and is dropped exactly once, when the cell is freed (after the
//! stage: the cell's fields drop in order). The future's own `TaskRef` is dropped with the
//! future, which happens under RUNNING (or the shutdown's claim), whose reference is still
//! held: so it is never the last one, and the cell is never freed from inside its own
//! stage.
//!
//! **Listing tasks with data.** `D: TaskData` names a view type; `Handle::tasks_with_view`
//! walks the owned-task list a shard at a time, under the shard's mutex, and takes a new
//! reference on every task whose data has that view (the vtable compares `TypeId`s). The
//! list's own reference keeps a listed task alive while the mutex is held, so the new
//! reference is never taken on a freed cell; after the walk it is an ordinary `TaskRef`.
//!
//! **Shutdown.** The scheduler closes its `OwnedTasks` (no task can join it afterwards:
//! `bind` cancels a late task at once) and shuts each listed task down: if it is idle the
//! shutdown claims it and cancels it on the calling (runtime) thread; if it is running, the
//! CANCELLED bit makes its poller cancel it when the poll returns.

mod cancel;
mod cell;
mod error;
mod harness;
mod join;
pub(crate) mod list;
pub(crate) mod meta;
mod raw;
mod state;
mod task_ref;
mod waker;
mod yield_now;

#[cfg(all(test, loom))]
mod loom_tests;

pub use cancel::{
    cancelled, cancelling_itself, id, take_cancel, try_id, CancelRequested, CancelShield,
    Cancelled, Shielded,
};
pub use error::JoinError;
pub use join::JoinHandle;
pub(crate) use meta::TaskInit;
pub use meta::{set_awaiting, Awaiting, PollTimes};
pub(crate) use raw::RawTask;
pub use task_ref::{TaskData, TaskRef};
pub use waker::wake_contained;
pub use yield_now::yield_now;

use crate::loom::sync::atomic::{AtomicU64, Ordering};
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::num::NonZeroU64;
use std::ptr::NonNull;

/// A task's id: unique among the tasks of the process while it lives.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = taskio_runtime::spawn(async {});
///     println!("spawned task {}", handle.id());
/// });
/// ```
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        #[cfg(not(loom))]
        static NEXT: AtomicU64 = AtomicU64::new(1);
        #[cfg(loom)]
        loom::lazy_static! {
            static ref NEXT: AtomicU64 = AtomicU64::new(1);
        }
        loop {
            let id = NEXT.fetch_add(1, Ordering::Relaxed);
            if let Some(id) = NonZeroU64::new(id) {
                return Id(id);
            }
        }
    }

    /// The id with this number (as [`as_u64`](Id::as_u64) gives it, or a log shows it);
    /// `None` for 0, which is no task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task::Id;
    ///
    /// assert_eq!(Id::from_u64(7).unwrap().as_u64(), 7);
    /// assert!(Id::from_u64(0).is_none());
    /// ```
    pub fn from_u64(id: u64) -> Option<Id> {
        NonZeroU64::new(id).map(Id)
    }

    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     assert!(taskio_runtime::spawn(async {}).id().as_u64() > 0);
    /// });
    /// ```
    pub fn as_u64(&self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a task needs from the scheduler it belongs to.
pub(crate) trait Schedule: Sync + Sized + 'static {
    /// The task completed: take it out of the owned list, returning the list's reference.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// Submit a woken task.
    fn schedule(&self, task: Notified<Self>);

    /// Submit a task that woke itself during its own poll: to the back of the queue.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The runtime handle of this scheduler (`TaskRef::handle`): `None` for the blocking
    /// pool's and the tests' schedulers, which belong to no runtime of their own.
    fn runtime_handle(&self) -> Option<crate::Handle> {
        None
    }

    /// Whether this scheduler's tasks keep their poll times (`Builder::task_poll_times`):
    /// the scheduler then times each `Task::run` and adds it with `OwnedTasks::record_poll`.
    fn task_poll_times(&self) -> bool {
        false
    }

    /// Whether this scheduler records its tasks' parents and spawn sites
    /// (`Builder::task_tree`).
    fn task_tree(&self) -> bool {
        false
    }
}

/// A task that belongs to no owned list (blocking-pool work): it holds the reference a list
/// would hold and the first `Notified`.
pub(crate) struct UnownedTask<S: 'static> {
    task: Task<S>,
    notified: Notified<S>,
}

/// Creates a task outside any owned list.
pub(crate) fn unowned<F, S>(
    future: F,
    scheduler: S,
    init: TaskInit,
) -> (UnownedTask<S>, JoinHandle<F::Output>)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, init);
    // SAFETY: a new task holds three references, one for each of these handles.
    unsafe {
        (
            UnownedTask {
                task: Task::from_raw(raw.header_ptr()),
                notified: Notified::from_raw(raw.header_ptr()),
            },
            JoinHandle::new(raw),
        )
    }
}

impl<S: 'static> UnownedTask<S> {
    /// Runs the task once (a blocking task completes in its first poll).
    pub(crate) fn run(self) {
        let UnownedTask { task, notified } = self;
        notified.run();
        drop(task);
    }

    /// Cancels the task without running it.
    pub(crate) fn shutdown(self) {
        let UnownedTask { task, notified } = self;
        drop(notified);
        task.shutdown();
    }
}

/// An owned reference to a task (the owned list's).
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _p: PhantomData<S>,
}

/// A task to run: a reference that is a promise to poll it once.
pub(crate) struct Notified<S: 'static>(Task<S>);

// SAFETY: a `Task<S>` is a counted pointer to a cell holding a future and its output (both
// `Send`: every constructor requires it), the scheduler `S`, and the header. Whoever holds one
// may poll the future, drop it, read the output, or free the cell, each under the state
// word's protocol (module docs), from any thread: so the future and the output move between
// threads (they are `Send`), `S` is used through `&S` from any thread and dropped on any
// thread (hence `S: Send + Sync`), and the header's cells are touched only under the state
// word's or the owned list's protocols. A `&Task<S>` only reads the id and the state word.
unsafe impl<S: Send + Sync> Send for Task<S> {}
// SAFETY: as above.
unsafe impl<S: Send + Sync> Sync for Task<S> {}
// SAFETY: as above; a `Notified<S>` is a `Task<S>` with the promise to poll it once.
unsafe impl<S: Send + Sync> Send for Notified<S> {}
// SAFETY: as above.
unsafe impl<S: Send + Sync> Sync for Notified<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    ///
    /// `ptr` is a live task of scheduler type `S`, and the caller hands over one reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            // SAFETY: forwarded.
            raw: unsafe { RawTask::from_raw(ptr) },
            _p: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    /// Gives up the handle without dropping its reference.
    pub(crate) fn into_raw(self) -> RawTask {
        let raw = self.raw;
        mem::forget(self);
        raw
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.raw.header().id
    }

    /// Shuts the task down (see the module docs); consumes this reference.
    pub(crate) fn shutdown(self) {
        // SAFETY: `into_raw` hands over this `Task`'s reference, the owned list's.
        unsafe { self.into_raw().shutdown() };
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    ///
    /// As `Task::from_raw`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified<S> {
        // SAFETY: forwarded.
        Notified(unsafe { Task::from_raw(ptr) })
    }

    /// Polls the task once, consuming this reference.
    pub(crate) fn run(self) {
        // SAFETY: `into_raw` hands over this `Notified`'s reference.
        unsafe { self.0.into_raw().poll() };
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.0.id()
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        // SAFETY: this `Task`'s reference, given up as it drops (`into_raw` forgets the
        // `Task`, so a handed-over reference never reaches here).
        unsafe { self.raw.drop_reference() };
    }
}

impl<S> fmt::Debug for Task<S> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(fmt, "Task({})", self.id())
    }
}

impl<S> fmt::Debug for Notified<S> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(fmt, "Notified({})", self.id())
    }
}

pub(crate) use self::cell::Header;
