//! `TaskRef`: a counted reference to a task spawned with data, and to that data.
//!
//! A library that keeps state per task (the `taskio` crate keeps asyncio's: result, name,
//! done callbacks) attaches it to the runtime task itself, so a task is still one
//! allocation, and finds it again from the task (`TaskRef::current`) or from a listing of the
//! runtime's live tasks (`Handle::tasks_with_view`).

use crate::task::raw::RawTask;
use crate::task::Id;
use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;

/// The data of a task spawned with [`Handle::spawn_with`](crate::Handle::spawn_with), and
/// the view of it that [`Handle::tasks_with_view`](crate::Handle::tasks_with_view) lists.
///
/// The runtime already keeps every live task in its owned-task list (to cancel them at
/// shutdown); listing the tasks whose data has a given view type walks that list, so a
/// library's `all_tasks` needs no registry of its own. The view also names the data of the
/// current task ([`TaskRef::current`]).
///
/// # Examples
///
/// ```
/// use taskio_runtime::task::{TaskData, TaskRef};
///
/// struct Named(&'static str);
/// impl TaskData for Named {
///     type View = str;
///     fn view(&self) -> &str {
///         self.0
///     }
/// }
///
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let h = taskio_runtime::Handle::current();
///     let task = h.spawn_with(Named("worker"), |_me| std::future::pending::<()>());
///     let listed = h.tasks_with_view::<str>();
///     assert_eq!(listed.len(), 1);
///     assert_eq!(&*listed[0], "worker");
///     TaskRef::abort(&task);
/// });
/// ```
pub trait TaskData: Send + Sync + 'static {
    /// What a listing of these tasks dereferences to (often a trait object).
    type View: ?Sized + 'static;

    /// The view of this data.
    fn view(&self) -> &Self::View;

    /// The task's name, for [`Handle::dump`](crate::Handle::dump) and the watchdog's
    /// reports; `None` (the default) shows the task by id only. It is asked from the thread
    /// taking the dump, outside the runtime's locks.
    fn name(&self) -> Option<String> {
        None
    }
}

/// A counted reference to a task spawned with [`Handle::spawn_with`](crate::Handle::spawn_with),
/// dereferencing to the data stored in the task's allocation.
///
/// Like an `Arc` of the data: cloning takes a reference (one atomic add on the task's state
/// word), dropping the last reference frees the task, and its data with it. The data lives
/// as long as any `TaskRef` to it, whether or not the task has completed; it is dropped
/// exactly once, when the cell is freed.
///
/// Its own functions are associated functions (`TaskRef::abort(&r)`), as `Arc`'s are, so
/// that they never hide the data's methods.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use taskio_runtime::task::{TaskData, TaskRef};
///
/// struct Flag(AtomicBool);
/// impl TaskData for Flag {
///     type View = AtomicBool;
///     fn view(&self) -> &AtomicBool {
///         &self.0
///     }
/// }
///
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let flag = Flag(AtomicBool::new(false));
///     let task = taskio_runtime::Handle::current().spawn_with(flag, |me| async move {
///         me.0.store(true, Ordering::Release); // the future reaches its own data
///     });
///     while !TaskRef::is_finished(&task) {
///         taskio_runtime::yield_now().await;
///     }
///     assert!(task.0.load(Ordering::Acquire));
/// });
/// ```
pub struct TaskRef<D: ?Sized> {
    raw: RawTask,
    /// Points into the cell `raw` names (or to data reachable from it: see `map`); valid
    /// while this reference keeps the cell alive.
    data: NonNull<D>,
}

// SAFETY: a `TaskRef` shares `&D` between threads (so `D: Sync`) and may free the cell, and
// with it the task's data, on any thread (so `D: Send`; `spawn_with` requires the original
// data to be `Send + Sync`, and `map` only narrows the view). The state word synchronises
// the reference count.
unsafe impl<D: ?Sized + Send + Sync> Send for TaskRef<D> {}
// SAFETY: as above; `&TaskRef` gives only `&D`, `abort`, `is_finished` and `id`.
unsafe impl<D: ?Sized + Send + Sync> Sync for TaskRef<D> {}

impl<D: ?Sized> TaskRef<D> {
    /// # Safety
    ///
    /// 1. `raw` is a live task, and the caller hands over one of its references.
    /// 2. `data` is valid for reads as a `D` until the cell is freed, and never written
    ///    meanwhile.
    pub(crate) unsafe fn from_raw(raw: RawTask, data: NonNull<D>) -> TaskRef<D> {
        TaskRef { raw, data }
    }

    /// Requests the task's cancellation, as [`JoinHandle::cancel`](crate::JoinHandle::cancel):
    /// delivered at its next checkpoint. False once the task is complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task::{TaskData, TaskRef};
    ///
    /// struct Unit;
    /// impl TaskData for Unit {
    ///     type View = Unit;
    ///     fn view(&self) -> &Unit {
    ///         self
    ///     }
    /// }
    ///
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let task = taskio_runtime::Handle::current()
    ///         .spawn_with(Unit, |_me| async {
    ///             taskio_runtime::task::cancelled().await;
    ///         });
    ///     assert!(TaskRef::cancel(&task));
    ///     assert_eq!(TaskRef::cancelling(&task), 1);
    ///     while !TaskRef::is_finished(&task) {
    ///         taskio_runtime::yield_now().await;
    ///     }
    ///     assert!(!TaskRef::cancel(&task));
    /// });
    /// ```
    pub fn cancel(this: &TaskRef<D>) -> bool {
        this.raw.request_cancel()
    }

    /// Requests not withdrawn, as [`JoinHandle::cancelling`](crate::JoinHandle::cancelling).
    pub fn cancelling(this: &TaskRef<D>) -> u32 {
        this.raw.cancelling()
    }

    /// Withdraws one request, as [`JoinHandle::uncancel`](crate::JoinHandle::uncancel);
    /// returns how many are left.
    pub fn uncancel(this: &TaskRef<D>) -> u32 {
        this.raw.uncancel()
    }

    /// Cancels the task by drop, as [`JoinHandle::abort`](crate::JoinHandle::abort): its future is
    /// dropped (on a runtime thread) instead of polled again. Does nothing once the task is
    /// complete. The data stays until the last `TaskRef` is dropped.
    pub fn abort(this: &TaskRef<D>) {
        this.raw.remote_abort();
    }

    /// True once the task has completed (returned, panicked or been cancelled): its future
    /// has been dropped.
    pub fn is_finished(this: &TaskRef<D>) -> bool {
        this.raw.state().load().is_complete()
    }

    /// The handle of the runtime the task was spawned on (`None` only for tasks of the
    /// runtime's internal test schedulers).
    pub fn handle(this: &TaskRef<D>) -> Option<crate::Handle> {
        this.raw.runtime_handle()
    }

    /// The task's id.
    pub fn id(this: &TaskRef<D>) -> Id {
        this.raw.header().id
    }

    /// True if both refer to the same task.
    pub fn ptr_eq(a: &TaskRef<D>, b: &TaskRef<D>) -> bool {
        a.raw == b.raw
    }

    /// A reference to the same task that dereferences to a part of its data (or to the
    /// data as a trait object: `TaskRef::map(r, |d| d as &dyn Trait)`). Takes no new
    /// reference: this one moves into the result.
    pub fn map<U: ?Sized>(this: TaskRef<D>, f: impl for<'a> FnOnce(&'a D) -> &'a U) -> TaskRef<U> {
        let data = NonNull::from(f(&*this));
        let raw = this.raw;
        std::mem::forget(this);
        // SAFETY: 1. `this`'s reference moves into the result (it was forgotten, not
        // dropped). 2. `f` returned a `&'a U` for any borrow `'a` of the data, so the `U`
        // lives at least as long as the data, which is never written and lives until the
        // cell is freed.
        unsafe { TaskRef::from_raw(raw, data) }
    }
}

impl<V: ?Sized + 'static> TaskRef<V> {
    /// A new reference to the task being polled on this thread, if it carries data whose
    /// [`TaskData::View`] is `V`: how a library finds its own state of the current task.
    /// `None` outside a task, or for a task without such data.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task::{TaskData, TaskRef};
    ///
    /// struct Named(&'static str);
    /// impl TaskData for Named {
    ///     type View = str;
    ///     fn view(&self) -> &str {
    ///         self.0
    ///     }
    /// }
    ///
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     assert!(TaskRef::<str>::current().is_none()); // block_on's future is no task
    ///     let h = taskio_runtime::Handle::current();
    ///     let task = h.spawn_with(Named("worker"), |_me| async {
    ///         let me = TaskRef::<str>::current().unwrap();
    ///         assert_eq!(&*me, "worker");
    ///     });
    ///     while !TaskRef::is_finished(&task) {
    ///         taskio_runtime::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn current() -> Option<TaskRef<V>> {
        let ptr = crate::task::cancel::current_task()?;
        // SAFETY: the task being polled is alive for the whole poll (its poller holds a
        // reference), and so during this call.
        let raw = unsafe { RawTask::from_raw(ptr) };
        let data = raw.view::<V>()?;
        raw.state().ref_inc();
        // SAFETY: 1. the reference just taken is handed over. 2. `view` points into the
        // cell's data, which is never written and lives until the cell is freed.
        Some(unsafe { TaskRef::from_raw(raw, data) })
    }
}

impl<D: ?Sized> Deref for TaskRef<D> {
    type Target = D;

    fn deref(&self) -> &D {
        // SAFETY: this reference keeps the cell, and so the data, alive; the data is only
        // ever read until the cell is freed (`from_raw`'s contract).
        unsafe { self.data.as_ref() }
    }
}

impl<D: ?Sized> Clone for TaskRef<D> {
    fn clone(&self) -> TaskRef<D> {
        self.raw.state().ref_inc();
        TaskRef {
            raw: self.raw,
            data: self.data,
        }
    }
}

impl<D: ?Sized> Drop for TaskRef<D> {
    fn drop(&mut self) {
        // SAFETY: this `TaskRef`'s reference, given up as it drops.
        unsafe { self.raw.drop_reference() };
    }
}

impl<D: ?Sized> fmt::Debug for TaskRef<D> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(fmt, "TaskRef({})", TaskRef::id(self))
    }
}
