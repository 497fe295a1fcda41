//! asyncio's `wait`: wait for some of a set of tasks, without cancelling or raising.

use std::future::Future;
use std::task::Poll;

use crate::exceptions::{Error, Result};
use crate::kernel::watch::Watch;
use crate::rt_time;
use crate::tasks::{Task, TimeLimit};

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use taskio::wait::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task fails (a cancelled task does not count), or all are done.
    FirstException,
    /// When every task is done.
    #[default]
    AllCompleted,
}

/// asyncio's `FIRST_COMPLETED`.
pub const FIRST_COMPLETED: ReturnWhen = ReturnWhen::FirstCompleted;
/// asyncio's `FIRST_EXCEPTION`.
pub const FIRST_EXCEPTION: ReturnWhen = ReturnWhen::FirstException;
/// asyncio's `ALL_COMPLETED`.
pub const ALL_COMPLETED: ReturnWhen = ReturnWhen::AllCompleted;

/// Waits until `return_when` holds or `timeout` passes (seconds, a `Duration`, or `None`: see
/// [`TimeLimit`]), and returns `(done, pending)`
/// (distinct tasks, each list in argument order). Never cancels anything and never returns
/// Timeout: on timeout the unfinished tasks are simply in `pending`. Tasks that finished by
/// the time it returns count as done.
///
/// # Errors
///
/// `Value` when `tasks` is empty or `timeout` is NaN.
///
/// # Examples
///
/// ```
/// use taskio::wait::{wait, ALL_COMPLETED, FIRST_COMPLETED};
/// use taskio::{create_task, sleep};
///
/// taskio::run(async {
///     let fast = create_task(async { Ok(1) });
///     let slow = create_task(async { sleep(3600).await?; Ok(2) });
///     let (done, pending) = wait([fast.clone(), slow.clone()], None, FIRST_COMPLETED).await?;
///     assert_eq!((done, pending), (vec![fast.clone()], vec![slow.clone()]));
///     // With a limit in seconds: on timeout the unfinished tasks are in `pending`.
///     let (done, pending) = wait([fast.clone(), slow.clone()], 0.01, ALL_COMPLETED).await?;
///     assert_eq!((done, pending), (vec![fast], vec![slow.clone()]));
///     slow.cancel(None);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn wait<I, T>(
    tasks: I,
    timeout: impl TimeLimit,
    return_when: ReturnWhen,
) -> Result<(Vec<Task<T>>, Vec<Task<T>>)>
where
    I: IntoIterator<Item = Task<T>>,
    T: Send + 'static,
{
    let unique = crate::tasks::distinct(tasks);
    if unique.is_empty() {
        return Err(Error::value("Set of Tasks/Futures is empty."));
    }
    let mut watch = Watch::new(unique.iter().map(Task::any_core).collect());
    let mut deadline = timeout.into_limit()?.map(|t| Box::pin(rt_time::sleep(t)));
    std::future::poll_fn(|cx| {
        // A checkpoint: a cancellation of the waiting task ends the wait (the tasks run on).
        if let Some(e) = crate::checkpoint::take_cancel() {
            return Poll::Ready(Err(e));
        }
        while let Poll::Ready(batch) = watch.poll_next_batch(cx) {
            if watch.all_done() {
                return Poll::Ready(Ok(()));
            }
            let hit = match return_when {
                ReturnWhen::FirstCompleted => !batch.is_empty(),
                ReturnWhen::FirstException => batch.iter().filter(|d| d.failed).any(|d| {
                    matches!(watch.children[d.index].failure(), Some(Some(e)) if !e.is_cancelled())
                }),
                ReturnWhen::AllCompleted => false,
            };
            if hit {
                return Poll::Ready(Ok(()));
            }
        }
        match deadline.as_mut() {
            Some(d) => d.as_mut().poll(cx).map(Ok),
            None => Poll::Pending,
        }
    })
    .await?;
    let (done, pending) = unique.into_iter().partition(Task::done);
    Ok((done, pending))
}
