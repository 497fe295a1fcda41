//! Running blocking work off the workers: [`to_thread`] and [`run_in_executor`].
//!
//! Both run a closure on the runtime's blocking pool (`taskio_runtime::spawn_blocking`) and
//! give its result as a [`Result`]: a panic in the closure becomes an error of kind
//! [`Panic`](crate::ErrorKind::Panic); work cancelled by the runtime's shutdown becomes
//! [`Cancelled`](crate::ErrorKind::Cancelled).
//!
//! | asyncio | taskio |
//! |---|---|
//! | `await asyncio.to_thread(f, x)` | `to_thread(move \|\| f(x)).await?` |
//! | `fut = loop.run_in_executor(None, f, x)` | `let fut = run_in_executor(move \|\| f(x));` |
//!
//! The difference between the two is *when* the work is submitted: `to_thread` is a
//! coroutine (nothing happens until it is awaited), `run_in_executor` submits at once and
//! returns a future of the result.
//!
//! # Cancellation
//!
//! Dropping either future (cancelling the task awaiting it) cancels the work only if it has
//! not started yet; running code cannot be interrupted, and its result is then dropped. This
//! is asyncio's rule too (a thread cannot be cancelled).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use taskio_runtime::{Handle, JoinError, JoinHandle};

use crate::{Error, Result};

/// Runs `f` on the blocking pool and waits for its result: asyncio's `to_thread`. The work
/// is submitted when the future is first polled.
///
/// # Errors
///
/// Kind `Panic` if `f` panics; `Cancelled` if the runtime shut down first; `Runtime` if
/// polled outside a runtime.
///
/// # Examples
///
/// ```
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let sum = taskio::to_thread(|| (1..=100u32).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 5050);
///     let err = taskio::to_thread(|| -> u32 { panic!("in a thread") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message(), Some("in a thread"));
/// });
/// ```
pub async fn to_thread<F, R>(f: F) -> Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    run_in_executor(f).await
}

/// Submits `f` to the blocking pool now and returns a future of its result: asyncio's
/// `loop.run_in_executor(None, f)`. Outside a runtime the future resolves to an error of
/// kind `Runtime`.
///
/// # Examples
///
/// ```
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let a = taskio::run_in_executor(|| 1 + 1); // both start now
///     let b = taskio::run_in_executor(|| 2 + 2);
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 6);
/// });
/// ```
pub fn run_in_executor<F, R>(f: F) -> BlockingTask<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match Handle::try_current() {
        Ok(handle) => run_in_executor_on(&handle, f),
        Err(_) => BlockingTask {
            inner: Inner::Failed(Some(Error::runtime(
                "run_in_executor() called outside of a taskio runtime",
            ))),
        },
    }
}

/// [`run_in_executor`] on the blocking pool of the runtime behind `handle` (callable from
/// any thread).
///
/// # Examples
///
/// ```
/// let rt = taskio::runtime::Runtime::new().unwrap();
/// let task = taskio::threads::run_in_executor_on(rt.handle(), || "from outside");
/// assert_eq!(rt.block_on(task).unwrap(), "from outside");
/// ```
pub fn run_in_executor_on<F, R>(handle: &Handle, f: F) -> BlockingTask<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    BlockingTask {
        inner: Inner::Running(handle.spawn_blocking(f)),
    }
}

/// The future of a closure running on the blocking pool, from [`run_in_executor`].
/// Dropping it cancels the work if it has not started.
#[must_use = "dropping a BlockingTask cancels work that has not started"]
pub struct BlockingTask<R> {
    inner: Inner<R>,
}

enum Inner<R> {
    Running(JoinHandle<R>),
    Failed(Option<Error>),
}

impl<R> fmt::Debug for BlockingTask<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner {
            Inner::Running(h) if h.is_finished() => "finished",
            Inner::Running(_) => "running",
            Inner::Failed(_) => "failed",
        };
        f.debug_struct("BlockingTask")
            .field("state", &state)
            .finish()
    }
}

impl<R> BlockingTask<R> {
    /// Whether the closure has finished (returned or panicked).
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            Inner::Running(h) => h.is_finished(),
            Inner::Failed(_) => true,
        }
    }
}

impl<R> Drop for BlockingTask<R> {
    fn drop(&mut self) {
        if let Inner::Running(h) = &self.inner {
            // Only cancels work that has not started (the blocking pool's rule).
            h.abort();
        }
    }
}

pub(crate) fn join_error(e: JoinError) -> Error {
    if e.is_panic() {
        Error::panic(e.into_panic())
    } else {
        Error::cancelled(None)
    }
}

impl<R> Future for BlockingTask<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Running(h) => {
                // A checkpoint: the awaiter is cancelled at once; the work is cancelled only
                // if it has not started (asyncio: a thread cannot be interrupted).
                if let Some(e) = crate::checkpoint::take_cancel() {
                    h.cancel();
                    this.inner = Inner::Failed(None);
                    return Poll::Ready(Err(e));
                }
                let r = Pin::new(h).poll(cx).map(|r| r.map_err(join_error));
                if r.is_pending() {
                    taskio_runtime::task::set_awaiting(taskio_runtime::task::Awaiting::Blocking);
                }
                r
            }
            Inner::Failed(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| Error::invalid_state("BlockingTask polled after completion")))),
        }
    }
}
