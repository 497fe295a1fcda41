//! `yield_now`: give the worker to the other ready tasks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: the task goes to the back of its worker's run queue (not the LIFO slot),
/// so every task that was ready runs before it resumes. asyncio's `sleep(0)`.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
/// let log = Arc::new(Mutex::new(Vec::new()));
/// rt.block_on({
///     let log = log.clone();
///     async move {
///         let a = taskio_runtime::spawn({
///             let log = log.clone();
///             async move {
///                 log.lock().unwrap().push("a1");
///                 taskio_runtime::yield_now().await;
///                 log.lock().unwrap().push("a2");
///             }
///         });
///         let b = taskio_runtime::spawn({
///             let log = log.clone();
///             async move { log.lock().unwrap().push("b") }
///         });
///         a.await.unwrap();
///         b.await.unwrap();
///     }
/// });
/// assert_eq!(*log.lock().unwrap(), ["a1", "b", "a2"]);
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken during its own poll, the task is resubmitted by the scheduler's `yield_now`
        // path when this poll returns: to the back of the queue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
