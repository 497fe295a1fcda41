//! The shared state of one task, and the future the runtime actually runs.
//!
//! # The protocol
//!
//! A task is one runtime task spawned with its `Core<T>` as data
//! ([`Handle::spawn_with`](taskio_runtime::Handle::spawn_with)): one allocation holds the
//! runtime's header, the future ([`Run`]) and the `Core`. A [`CoreRef<T>`] (a counted
//! [`TaskRef`]) is shared by the task's [`Task`](crate::tasks::Task) handles, its future's
//! [`Guard`] and whoever listens for its completion (erased to an [`AnyCoreRef`]); the
//! `Core` is dropped with the last of them. Everything mutable is the `Core`'s
//! [`Completion`] (one mutex; its protocol is in `completion.rs`):
//!
//! 1. **Completion** happens exactly once, in [`Core::complete`] ([`Completion::complete`]):
//!    the outcome is stored and the waiters and listeners told; the done callbacks it hands
//!    back go to one new runtime task (so they are *scheduled*, never run inline, and run in
//!    registration order).
//! 2. **Cancellation** is the runtime's (delivered at checkpoints: see
//!    `taskio_runtime::task`'s `take_cancel`). [`Cancel::cancel`] stores the message under
//!    the mutex while the task is pending, then asks the runtime task for its cancellation
//!    (after releasing it). Each taskio checkpoint calls [`take_cancel`], which turns the
//!    runtime's delivery into `Err(Cancelled(message))`. When the future is dropped without
//!    having completed the task (the runtime's drop fallback, `abort`, shutdown, a request
//!    before the first poll), its [`Guard`] completes the task as Cancelled. A body that
//!    returns while a request it made itself is undelivered ends cancelled (the runtime's
//!    `cancelling_itself`).
//! 3. **The loop is the runtime.** `all_tasks()` lists the runtime's own owned-task list
//!    (every live runtime task, kept for shutdown) through the `Core`'s [`TaskData`] view,
//!    skipping tasks whose outcome is published: there is no registry of our own to insert
//!    into and remove from on every task (the runtime adds a task to its list before it can
//!    be scheduled, so a task always finds itself). A cancel needs a `TaskRef`, which exists
//!    only once the runtime task does, so no early cancel can be lost.
//!
//! Listeners and wakers are called with no lock held, so they may re-enter any task.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use taskio_runtime::task::{TaskData, TaskRef};
use taskio_runtime::Handle;

use crate::exceptions::{Error, Result};
use crate::kernel::completion::{Completion, DoneListener, Outcome};
use crate::tasks::DoneCallback;
use crate::tasks::Task;

/// `Task-N` names. A `static`, so a std atomic under loom too (see `kernel::sync`).
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

/// The tasks of the runtime `handle` that are not done, oldest (lowest id) first: asyncio's
/// `all_tasks()` of the loop. A task that has just completed may still be in the runtime's
/// list for a moment (it leaves after its outcome is published), so done ones are skipped.
pub(crate) fn all_tasks(handle: &Handle) -> Vec<AnyCoreRef> {
    let mut v = handle.tasks_with_view::<dyn AnyCore>();
    v.retain(|c| c.seq().is_none());
    v.sort_unstable_by_key(TaskRef::id);
    v
}

/// A counted reference to a task and its `Core` (the task's one allocation).
pub(crate) type CoreRef<T> = TaskRef<Core<T>>;

/// A counted reference to a task of any output type.
pub(crate) type AnyCoreRef = TaskRef<dyn AnyCore>;

/// The type-erased view of a task reference.
pub(crate) fn erase<T: Send + 'static>(core: CoreRef<T>) -> AnyCoreRef {
    TaskRef::map(core, |c| c as &dyn AnyCore)
}

pub(crate) struct Core<T: Send + 'static> {
    /// `N` of the default name `Task-N`, formatted only when asked for (most tasks are never
    /// asked their name; a name set by the user is the completion's).
    number: u64,
    completion: Completion<T>,
}

/// The type-erased view of a task, for `AnyTask`, gathers and groups.
pub(crate) trait AnyCore: Send + Sync + 'static {
    fn name(&self) -> String;
    fn set_name(&self, name: String);
    /// Stores the cancellation message (the last one wins); false if the task is done. The
    /// caller then requests the runtime task's cancellation: see [`Cancel::cancel`].
    fn set_cancel_message(&self, msg: Option<String>) -> bool;
    /// The error a delivered cancellation of this task is (its message).
    fn cancelled_error(&self) -> Error;
    /// `None` while pending; `Some(None)` on success; `Some(Some(err))` on failure.
    fn failure(&self) -> Option<Option<Error>>;
    /// The completion sequence number, once done.
    fn seq(&self) -> Option<u64>;
    /// Registers (or refreshes) a waker; `Ready` once done.
    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()>;
    /// Registers a listener; if the task is already done, it is told at once (inline).
    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64>;
    fn unlisten(&self, key: u64);
    /// Removes the registrations of `listener` (the address of its `Arc`'s data): for an
    /// owner that keeps no keys.
    fn unlisten_listener(&self, listener: *const ());
}

impl<T: Send + 'static> TaskData for Core<T> {
    type View = dyn AnyCore;

    fn view(&self) -> &dyn AnyCore {
        self
    }

    fn name(&self) -> Option<String> {
        Some(AnyCore::name(self))
    }
}

/// `cancel` on a task reference: asyncio's `Task.cancel`.
pub(crate) trait Cancel {
    /// Requests cancellation; false if the task is done. See the module docs.
    fn cancel(&self, msg: Option<String>) -> bool;
}

impl<C: AnyCore + ?Sized> Cancel for TaskRef<C> {
    fn cancel(&self, msg: Option<String>) -> bool {
        if !self.set_cancel_message(msg) {
            return false;
        }
        // After the mutex is released: the runtime records the request and wakes the task;
        // its next checkpoint delivers it.
        TaskRef::cancel(self)
    }
}

/// The task being polled on this thread.
pub(crate) fn current() -> Option<AnyCoreRef> {
    TaskRef::<dyn AnyCore>::current()
}

pub(crate) use crate::checkpoint::take_cancel;

impl<T: Send + 'static> Core<T> {
    /// Creates the task and spawns it on `handle` (the spawn site the runtime records is the
    /// caller's, through `#[track_caller]` on every function of the chain).
    #[track_caller]
    pub(crate) fn spawn<F>(
        fut: F,
        name: Option<String>,
        handle: &Handle,
        at: &'static std::panic::Location<'static>,
    ) -> CoreRef<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        // As in asyncio, only unnamed tasks take a number from the counter.
        let number = if name.is_none() {
            NAME_COUNTER.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        let core = Core {
            number,
            completion: Completion::new(name),
        };
        handle.spawn_with_at(
            core,
            move |me| Run {
                fut: Some(fut),
                guard: Guard {
                    core: me,
                    completed: false,
                },
            },
            at,
        )
    }

    /// How many wakers and listeners wait for this task (tests: nothing may be left behind).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiter_count(&self) -> usize {
        self.completion.waiter_count()
    }

    /// Stores the outcome (once) and tells everyone; see the module docs.
    fn complete(this: &CoreRef<T>, result: Result<T>) {
        if let Some(callbacks) = this.completion.complete(result) {
            if !callbacks.is_empty() {
                Core::schedule_callbacks(this, callbacks);
            }
        }
    }

    /// Runs `callbacks` in order, in one new runtime task.
    pub(crate) fn schedule_callbacks(this: &CoreRef<T>, callbacks: Vec<DoneCallback<T>>) {
        // Every task belongs to a runtime; `None` would be a runtime-internal test scheduler.
        let Some(handle) = TaskRef::handle(this) else {
            return;
        };
        let task = Task::from_core(this.clone());
        drop(handle.spawn(async move {
            for cb in callbacks {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| cb.call(&task))) {
                    crate::report::report(
                        &format!("a done callback of {} panicked", task.get_name()),
                        Some(&Error::panic(p)),
                    );
                }
            }
        }));
    }

    pub(crate) fn add_callback(this: &CoreRef<T>, cb: DoneCallback<T>) {
        if let Err(cb) = this.completion.add_callback(cb) {
            Core::schedule_callbacks(this, vec![cb]);
        }
    }

    pub(crate) fn remove_callback(&self, cb: &DoneCallback<T>) -> usize {
        self.completion.remove_callback(cb)
    }

    /// Reads a done task's outcome with `read`.
    pub(crate) fn read_outcome<R>(
        &self,
        read: impl FnOnce(&mut Outcome<T>) -> Result<R>,
    ) -> Result<R> {
        self.completion.read_outcome(read)
    }
}

impl<T: Send + 'static> AnyCore for Core<T> {
    fn name(&self) -> String {
        match self.completion.user_name() {
            Some(name) => name,
            None => format!("Task-{}", self.number),
        }
    }

    fn set_name(&self, name: String) {
        self.completion.set_name(name);
    }

    fn set_cancel_message(&self, msg: Option<String>) -> bool {
        self.completion.set_cancel_message(msg)
    }

    fn cancelled_error(&self) -> Error {
        self.completion.cancelled_error()
    }

    fn failure(&self) -> Option<Option<Error>> {
        self.completion.failure()
    }

    fn seq(&self) -> Option<u64> {
        self.completion.seq()
    }

    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        self.completion.poll_done(key, cx)
    }

    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64> {
        self.completion.listen(listener, tag)
    }

    fn unlisten(&self, key: u64) {
        self.completion.unlisten(key);
    }

    fn unlisten_listener(&self, listener: *const ()) {
        self.completion.unlisten_listener(listener);
    }
}
/// Completes the task as Cancelled if it is dropped before [`Run::poll`] completed it: this
/// is what the runtime's abort (and its shutdown) ends up doing.
struct Guard<T: Send + 'static> {
    /// The task's own reference (its future's): never the last one, see the runtime's
    /// `TaskRef` docs.
    core: CoreRef<T>,
    /// `Run::poll` completed the task (the common case: nothing left to do, and no
    /// cancellation error to build only for `complete` to drop it).
    completed: bool,
}

impl<T: Send + 'static> Drop for Guard<T> {
    fn drop(&mut self) {
        if !self.completed {
            let err = self.core.cancelled_error();
            Core::complete(&self.core, Err(err));
        }
    }
}

/// The future the runtime runs for a task. Field order matters: `fut` is dropped before
/// `guard`, so destructors run before the task is marked done.
struct Run<F, T: Send + 'static> {
    fut: Option<F>,
    guard: Guard<T>,
}

impl<F, T> Future for Run<F, T>
where
    F: Future<Output = Result<T>>,
    T: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: structural pinning: `fut` is never moved out of `Run` (it is dropped in
        // place through `Pin::set`), `Run` has no `Drop` impl, and `guard` is never pinned
        // (it is `Unpin` and only used by reference).
        let (mut fut, guard) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.fut), &mut this.guard)
        };
        if fut.is_none() {
            return Poll::Ready(());
        }
        let core = &guard.core;
        let res = catch_unwind(AssertUnwindSafe(|| {
            fut.as_mut().as_pin_mut().expect("checked above").poll(cx)
        }));
        let result = match res {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(r)) => r,
            Err(payload) => Err(Error::panic(payload)),
        };
        // asyncio's rule: a task that cancelled itself and then returned ends cancelled (a
        // request from another thread landing while the body returns came too late).
        let cancelled_itself = taskio_runtime::task::cancelling_itself();
        // Destructors first (they may panic too), then the outcome.
        let dropped = catch_unwind(AssertUnwindSafe(|| fut.set(None)));
        let result = match dropped {
            Err(payload) => Err(Error::panic(payload)),
            Ok(()) if cancelled_itself => Err(core.cancelled_error()),
            Ok(()) => result,
        };
        Core::complete(core, result);
        guard.completed = true;
        Poll::Ready(())
    }
}

#[allow(dead_code)]
fn _payload_is_send(_: Box<dyn Any + Send>) {}
