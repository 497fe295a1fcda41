//! Graceful two-phase shutdown, shared by [`TaskGroup::shutdown`](crate::TaskGroup::shutdown),
//! [`Server::shutdown`](crate::Server::shutdown) and [`Runner`](crate::Runner)'s close:
//!
//! 1. **Signal**: every task is cancelled (delivered at its next checkpoint, so its clean-up
//!    runs and may await).
//! 2. **Grace**: wait until every task has ended, or the grace period has passed.
//! 3. **Drop**: the tasks still running are dropped (their futures' destructors run, no more
//!    polls), and their names are returned, so that a server can log what it had to cut.
//!
//! The wait is shielded: a cancellation of the task that runs the shutdown waits until the
//! shutdown is over (it is delivered at the next checkpoint after), so a shutdown always
//! finishes what it started.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use taskio_runtime::task::TaskRef;

use crate::cancel_scope::CancelScope;
use crate::kernel::task::{AnyCoreRef, Cancel};
use crate::rt_time;

/// Waits until every task in `tasks` is done, or `limit` (if any) has passed.
async fn wait_done(tasks: &[AnyCoreRef], limit: Option<Duration>) {
    let mut keys: Vec<Option<u64>> = vec![None; tasks.len()];
    let mut sleep: Option<Pin<Box<rt_time::Sleep>>> = limit.map(|d| Box::pin(rt_time::sleep(d)));
    poll_fn(|cx| {
        let mut all = true;
        for (t, k) in tasks.iter().zip(keys.iter_mut()) {
            if t.poll_done(k, cx).is_pending() {
                all = false;
            }
        }
        if all {
            return Poll::Ready(());
        }
        if sleep
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready())
        {
            return Poll::Ready(());
        }
        Poll::Pending
    })
    .await;
    for (t, k) in tasks.iter().zip(keys) {
        if let Some(k) = k {
            t.unlisten(k);
        }
    }
}

/// The three phases on `tasks` (see the module docs); the names of the tasks dropped.
/// `grace: None` waits without a limit (nothing is dropped).
pub(crate) async fn cancel_then_drop(
    tasks: Vec<AnyCoreRef>,
    grace: Option<Duration>,
) -> Vec<String> {
    let work = async {
        for t in &tasks {
            Cancel::cancel(t, None);
        }
        wait_done(&tasks, grace).await;
        let mut dropped = Vec::new();
        let mut left = Vec::new();
        for t in tasks.iter().filter(|t| t.seq().is_none()) {
            dropped.push(t.name());
            TaskRef::abort(t);
            left.push(t.clone());
        }
        // An abort drops the future on a runtime thread: wait until that is done.
        wait_done(&left, None).await;
        Ok(dropped)
    };
    match CancelScope::shielded().run(work).await {
        Ok(Some(dropped)) => dropped,
        // The shield has no deadline and nobody else holds it: it is never cancelled.
        _ => Vec::new(),
    }
}
