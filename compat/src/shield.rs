//! asyncio's `shield`: protect a child from the cancellation of whoever awaits it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::exceptions::Result;
use crate::tasks::{Awaitable, Task};

/// Awaits `aw` without letting a cancellation of the awaiter reach it.
///
/// When the awaiting task's cancellation is delivered at the shield (a checkpoint), the
/// await returns `Err(Cancelled)` and the inner task keeps running: only the caller sees the
/// cancellation. Dropping the shield does not cancel the inner task either. If the inner task is cancelled itself,
/// the shield reports Cancelled; its result or error reaches the outer. An inner task that is
/// already done is returned as is.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use taskio::{create_task, shield, Event};
///
/// taskio::run(async {
///     let (go, started) = (Arc::new(Event::new()), Arc::new(Event::new()));
///     let (g, s) = (go.clone(), started.clone());
///     let inner = create_task(async move { g.wait().await?; Ok("saved") });
///     let i = inner.clone();
///     let outer = create_task(async move {
///         s.set();
///         shield(i).await
///     });
///     started.wait().await?;
///     outer.cancel(None);
///     assert!(outer.clone().await.unwrap_err().is_cancelled());
///     go.set();
///     assert_eq!(inner.await?, "saved"); // the inner task kept running
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn shield<A, T>(aw: A) -> Shield<T>
where
    A: Awaitable<T>,
    T: Clone + Send + 'static,
{
    Shield {
        task: aw.into_task(),
        key: None,
    }
}

/// The future of [`shield()`]. Dropping it does not cancel the inner task.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let s: taskio::shield::Shield<u8> = taskio::shield(async { Ok(1u8) });
///     assert_eq!(s.await?, 1);
///     Ok(())
/// })
/// .unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T: Send + 'static> {
    task: Task<T>,
    key: Option<u64>,
}

impl<T: Send + 'static> Shield<T> {
    /// The inner task.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let s = taskio::shield(async { Ok(1u8) });
    ///     let inner = s.inner().clone();
    ///     drop(s);
    ///     assert_eq!(inner.await?, 1);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn inner(&self) -> &Task<T> {
        &self.task
    }
}

impl<T: Clone + Send + 'static> Future for Shield<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        // The outer side is a checkpoint; the inner task never hears of it.
        if let Some(e) = crate::checkpoint::take_cancel() {
            return Poll::Ready(Err(e));
        }
        let core = this.task.any_core();
        std::task::ready!(core.poll_done(&mut this.key, cx));
        Poll::Ready(this.task.result())
    }
}

impl<T: Send + 'static> Drop for Shield<T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.task.any_core().unlisten(k);
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").field("inner", &self.task).finish()
    }
}
