//! Cooperative budget: a task gets a number of "leaf" operations per poll (JoinHandle,
//! timers, sockets). When it is spent, those operations return `Pending` (after waking the
//! task), so a task that always finds work ready still yields to its neighbours.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Leaf operations per task poll (tokio uses the same figure).
const BUDGET: u8 = 128;

crate::loom::rt_thread_local! {
    /// `None` outside a task poll: no limit.
    static CURRENT: Cell<Option<u8>> = Cell::new(None);
}

/// Runs `f` (one task poll) with a fresh budget, restoring the previous one after.
#[inline]
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0;
            let _ = CURRENT.try_with(|c| c.set(prev));
        }
    }
    let prev = CURRENT.with(|c| c.replace(Some(BUDGET)));
    let _reset = Reset(prev);
    f()
}

/// True if the current poll may still make progress.
#[inline]
pub(crate) fn has_budget_remaining() -> bool {
    CURRENT.with(|c| c.get().is_none_or(|b| b > 0))
}

/// A unit of budget taken by a leaf future; given back on drop unless
/// [`made_progress`](RestoreOnPending::made_progress) was called.
pub(crate) struct RestoreOnPending(Cell<bool>);

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    pub(crate) fn made_progress(&self) {
        self.0.set(false);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if self.0.get() {
            let _ = CURRENT.try_with(|c| {
                if let Some(b) = c.get() {
                    c.set(Some(b.saturating_add(1)));
                }
            });
        }
    }
}

/// Takes one unit of budget, or wakes the task and returns `Pending` if there is none left.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|c| match c.get() {
        None => Poll::Ready(RestoreOnPending(Cell::new(false))),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            c.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Cell::new(true)))
        }
    })
}
