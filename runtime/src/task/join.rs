//! `JoinHandle`: await a spawned task's output, or abort it.

use crate::runtime::coop;
use crate::task::raw::RawTask;
use crate::task::{Id, JoinError};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was
/// cancelled. Dropping it *detaches* the task: the task keeps running and its output is
/// dropped when it completes. [`cancel`](JoinHandle::cancel) requests the task's
/// cancellation (delivered at its next checkpoint); [`abort`](JoinHandle::abort) drops it.
///
/// Awaiting a `JoinHandle` is a checkpoint that forwards: when the awaiting task's
/// cancellation is delivered there, the awaited task's cancellation is requested and the
/// await goes on until it has ended.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let handle = taskio_runtime::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    _p: PhantomData<T>,
}

// SAFETY: the handle only moves a `T` out of the task (never shares one), so it is `Send`
// and `Sync` when `T: Send`; the task's state word synchronises every access.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above; `&JoinHandle` allows only `abort`, `is_finished` and `id`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> UnwindSafe for JoinHandle<T> {}
impl<T> RefUnwindSafe for JoinHandle<T> {}
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _p: PhantomData,
        }
    }

    #[cfg(all(test, loom))]
    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    /// Cancels the task by drop. If it has not finished, its future is dropped at its current
    /// `.await` (on a runtime thread), without running more of it, and the handle resolves
    /// to a cancelled `JoinError`. Aborting a finished task does nothing. See
    /// [`cancel`](Self::cancel) for the cancellation the task sees.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Requests the task's cancellation, asyncio's way: the request is *delivered* at the
    /// task's next checkpoint ([`task::take_cancel`](crate::task::take_cancel), the runtime's
    /// I/O readiness waits, awaiting a `JoinHandle`, every `taskio` awaitable) as an error
    /// the task may propagate, handle with more awaits, or swallow. False if the task has
    /// finished. Repeatable: each call counts ([`cancelling`](Self::cancelling)).
    ///
    /// A task parked on a future that is no checkpoint is cancelled by drop instead, at the
    /// poll the request causes (so a cancelled task always ends); a task cancelled before
    /// its first poll never runs. [`abort`](Self::abort) always drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task;
    ///
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (started, is_started) = std::sync::mpsc::channel();
    ///     let handle = taskio_runtime::spawn(async move {
    ///         started.send(()).unwrap();
    ///         let c = task::cancelled().await; // delivered here
    ///         // Clean-up may await (a JoinHandle, I/O) before the task ends.
    ///         taskio_runtime::spawn(async {}).await.unwrap();
    ///         Err::<(), _>(c)
    ///     });
    ///     is_started.recv().unwrap(); // (a task cancelled before it starts never runs)
    ///     assert!(handle.cancel());
    ///     assert_eq!(handle.cancelling(), 1);
    ///     assert_eq!(handle.await.unwrap(), Err(task::Cancelled));
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.raw.request_cancel()
    }

    /// How many cancellation requests the task has that were not withdrawn with
    /// [`uncancel`](Self::uncancel) (asyncio's `Task.cancelling()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(std::future::pending::<()>());
    ///     assert_eq!(handle.cancelling(), 0);
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.raw.cancelling()
    }

    /// Withdraws one cancellation request (asyncio's `Task.uncancel()`); returns how many
    /// are left. Withdrawing the last one also withdraws a request not yet delivered.
    /// Structured code uses it to tell its own cancellation from someone else's.
    ///
    /// # Examples
    ///
    /// ```
    /// // One thread: the task is not polled (its requests not delivered) until this yields.
    /// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(async { taskio_runtime::task::cancelled().await });
    ///     handle.cancel();
    ///     handle.cancel();
    ///     assert_eq!(handle.uncancel(), 1);
    ///     assert_eq!(handle.uncancel(), 0);
    ///     assert_eq!(handle.uncancel(), 0);
    ///     handle.abort(); // (if not delivered yet, nothing is pending any more)
    /// });
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.raw.uncancel()
    }

    /// True once the task has finished (returned, panicked or been cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(async {});
    ///     while !handle.is_finished() {
    ///         taskio_runtime::yield_now().await;
    ///     }
    ///     assert!(handle.await.is_ok());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let a = taskio_runtime::spawn(async {});
    ///     let b = taskio_runtime::spawn(async {});
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A checkpoint that forwards: the awaiting task's cancellation becomes the awaited
        // task's, whose outcome then reaches the awaiter (asyncio's `await task`).
        if crate::task::take_cancel().is_some() {
            self.raw.request_cancel();
        }
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let mut ret = Poll::Pending;
        // SAFETY: `ret` has the output type of the task this handle was created for, and
        // this is the task's JoinHandle.
        unsafe {
            self.raw.try_read_output(
                &mut ret as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            );
        }
        if ret.is_ready() {
            coop.made_progress();
        } else {
            crate::task::set_awaiting(crate::task::Awaiting::Task(self.id()));
        }
        ret
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.raw.state().drop_join_handle_fast().is_ok() {
            return;
        }
        // SAFETY: this is the `JoinHandle`, giving up its reference; `raw` is not used again.
        unsafe { self.raw.drop_join_handle_slow() };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}
