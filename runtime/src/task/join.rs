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
/// dropped when it completes. [`abort`](JoinHandle::abort) cancels the task.
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

    /// Cancels the task. If it has not finished, its future is dropped at its current
    /// `.await` (on a runtime thread) and the handle resolves to a cancelled `JoinError`.
    /// Aborting a finished task does nothing.
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
        }
        ret
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.raw.state().drop_join_handle_fast().is_ok() {
            return;
        }
        self.raw.drop_join_handle_slow();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}
