//! `yield_now`: give the worker to the other ready tasks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once, so every task that was ready runs before this one resumes. asyncio's
/// `sleep(0)`.
///
/// On the current-thread runtime the task goes to the back of the run queue (asyncio's
/// exact order). On the multi-thread runtime it resumes once its worker has run what else it
/// had: its queue, a share of the global queue, stolen work (or at the next maintenance
/// tick), which keeps a yielding loop from starving tasks that arrive from outside.
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
        // path when this poll returns: to the back of the queue (current-thread), or to the
        // worker's deferred list (multi-thread).
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
