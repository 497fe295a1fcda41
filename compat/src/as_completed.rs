//! asyncio's `as_completed`: the children's results in completion order, as a
//! [`futures_core::Stream`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::exceptions::{Error, Result};
use crate::kernel::watch::Watch;
use crate::rt_time;
use crate::tasks::{Awaitable, Task, TimeLimit};

/// Yields the children's results in the order they complete (duplicates collapse). With a
/// timeout (one for the whole iteration: seconds, a `Duration`, or `None`, see
/// [`TimeLimit`]), once it passes every remaining item is `Timeout` (a NaN timeout: one
/// `Value` error, then the end);
/// the pending tasks are not cancelled. The stream can be resumed after a `break`.
/// [`AsCompleted::tasks`] gives the form that yields the original tasks.
///
/// # Examples
///
/// ```
/// use taskio::{as_completed, create_task, sleep};
///
/// // A paused clock: the order is set by the deadlines, not by how busy the machine is.
/// let runner = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// runner.run(async {
///     let slow = create_task(async { sleep(2).await?; Ok("slow") });
///     let fast = create_task(async { sleep(1).await?; Ok("fast") });
///     let mut it = as_completed([slow, fast], None);
///     let mut order = Vec::new();
///     while let Some(r) = it.next().await {
///         order.push(r?);
///     }
///     assert_eq!(order, ["fast", "slow"]);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn as_completed<I, A, T>(aws: I, timeout: impl TimeLimit) -> AsCompleted<T>
where
    I: IntoIterator<Item = A>,
    A: Awaitable<T>,
    T: Send + 'static,
{
    let tasks = crate::tasks::distinct(aws.into_iter().map(Awaitable::into_task));
    let (limit, invalid) = match timeout.into_limit() {
        Ok(limit) => (limit, None),
        Err(e) => (None, Some(e)),
    };
    let watch = Watch::new(tasks.iter().map(Task::any_core).collect());
    AsCompleted {
        tasks,
        watch,
        ready: VecDeque::new(),
        yielded: 0,
        deadline: limit.map(|t| Box::pin(rt_time::sleep(t))),
        timed_out: false,
        invalid,
    }
}

/// The stream of [`as_completed()`].
pub struct AsCompleted<T: Send + 'static> {
    tasks: Vec<Task<T>>,
    watch: Watch,
    ready: VecDeque<usize>,
    yielded: usize,
    deadline: Option<Pin<Box<rt_time::Sleep>>>,
    timed_out: bool,
    /// The error of a NaN timeout: the one item before the end.
    invalid: Option<Error>,
}

impl<T: Send + 'static> AsCompleted<T> {
    /// The next completed task (`Err(Timeout)` once the timeout passed; `None` at the end).
    fn poll_next_task(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Task<T>>>> {
        if let Some(e) = self.invalid.take() {
            self.yielded = self.tasks.len();
            return Poll::Ready(Some(Err(e)));
        }
        if self.yielded == self.tasks.len() {
            return Poll::Ready(None);
        }
        // A checkpoint: the awaiting task's cancellation ends this await (the tasks run on,
        // and the iteration may be resumed).
        if let Some(e) = crate::checkpoint::take_cancel() {
            return Poll::Ready(Some(Err(e)));
        }
        if !self.timed_out {
            while let Poll::Ready(batch) = self.watch.poll_next_batch(cx) {
                if batch.is_empty() {
                    break;
                }
                self.ready.extend(batch.into_iter().map(|d| d.index));
            }
            if let Some(i) = self.ready.pop_front() {
                self.yielded += 1;
                return Poll::Ready(Some(Ok(self.tasks[i].clone())));
            }
            let expired = self
                .deadline
                .as_mut()
                .is_some_and(|d| d.as_mut().poll(cx).is_ready());
            if !expired {
                return Poll::Pending;
            }
            self.timed_out = true;
        }
        self.yielded += 1;
        Poll::Ready(Some(Err(Error::timeout())))
    }

    /// The next result in completion order (`Stream::poll_next` as an `async fn`).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let mut it = taskio::as_completed([async { Ok(1) }], None);
    ///     assert_eq!(it.next().await.unwrap()?, 1);
    ///     assert!(it.next().await.is_none());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn next(&mut self) -> Option<Result<T>>
    where
        T: Clone,
    {
        std::future::poll_fn(|cx| self.poll_next_result(cx)).await
    }

    fn poll_next_result(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>>
    where
        T: Clone,
    {
        self.poll_next_task(cx)
            .map(|o| o.map(|r| r.and_then(|t| t.result())))
    }

    /// The form that yields the original tasks (asyncio's `async for t in as_completed(..)`).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let t = taskio::create_task(async { Ok(5) });
    ///     let mut it = taskio::as_completed([t.clone()], None).tasks();
    ///     assert_eq!(it.next().await.unwrap()?, t);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn tasks(self) -> AsCompletedTasks<T> {
        AsCompletedTasks { inner: self }
    }
}

impl<T: Clone + Send + 'static> Stream for AsCompleted<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().poll_next_result(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.invalid.is_some() {
            1
        } else {
            self.tasks.len() - self.yielded
        };
        (n, Some(n))
    }
}

/// The stream of [`AsCompleted::tasks`]: the original tasks in completion order.
pub struct AsCompletedTasks<T: Send + 'static> {
    inner: AsCompleted<T>,
}

impl<T: Send + 'static> AsCompletedTasks<T> {
    /// The next completed task (`Err(Timeout)` once the timeout passed).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let mut it = taskio::as_completed([async { Ok(()) }], None).tasks();
    ///     assert!(it.next().await.unwrap()?.done());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn next(&mut self) -> Option<Result<Task<T>>> {
        std::future::poll_fn(|cx| self.inner.poll_next_task(cx)).await
    }
}

impl<T: Send + 'static> Stream for AsCompletedTasks<T> {
    type Item = Result<Task<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_task(cx)
    }
}

impl<T: Send + 'static> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("children", &self.tasks.len())
            .field("yielded", &self.yielded)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

impl<T: Send + 'static> fmt::Debug for AsCompletedTasks<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<AsCompleted<u8>>();
    is::<AsCompletedTasks<u8>>();
}
