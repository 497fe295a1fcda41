//! `Watch`: a set of tasks and the order in which they complete, for `wait` and
//! `as_completed` (`gather` needs less: see `tally.rs`).
//!
//! Each child gets one listener registration (tagged with its index); a completion pushes
//! the index, its completion sequence number and whether it failed into the shared
//! `Collector` and wakes the watcher. The watcher drains them, sorted by sequence number, so
//! the cost per completion is O(1) no matter how many children there are (no child's lock
//! is taken to sort), and "first" means first to complete, across workers.
//!
//! # No lost wake-up
//!
//! A report and the watcher's drain take the collector's mutex: a report ordered before a
//! drain is drained by it; one ordered after it finds the waker the drain stored (a drain
//! that finds nothing stores its waker before releasing the mutex). Each child is listened
//! to once, and a completion tells each registration once (`completion.rs`), so every child
//! is reported exactly once. The loom model at the end of this file checks it.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::kernel::sync::Mutex;

use crate::exceptions::Error;
use crate::kernel::completion::DoneListener;
use crate::kernel::task::{AnyCore, AnyCoreRef};

struct Collector {
    inner: Mutex<CollectorInner>,
}

struct CollectorInner {
    /// Children whose completion has not been reported yet.
    remaining: usize,
    /// `(seq, done)` of the completions not yet drained.
    done: Vec<(u64, Done)>,
    waker: Option<Waker>,
}

/// One child's completion, as [`Watch::poll_next_batch`] reports it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Done {
    /// The child's index in [`Watch::children`].
    pub(crate) index: usize,
    /// It ended with an error (Cancelled included).
    pub(crate) failed: bool,
}

impl DoneListener for Collector {
    fn on_done(self: Arc<Self>, tag: usize, seq: u64, failure: Option<&Error>) {
        let done = Done {
            index: tag,
            failed: failure.is_some(),
        };
        let waker = {
            let mut inner = self.inner.lock();
            inner.done.push((seq, done));
            inner.remaining -= 1;
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// What a [`Watch`] watches: a task, listened to through its completion.
pub(crate) trait Watched {
    /// See [`Completion::listen`](super::completion::Completion::listen).
    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64>;
    fn unlisten(&self, key: u64);
}

impl Watched for AnyCoreRef {
    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64> {
        AnyCore::listen(&**self, listener, tag)
    }

    fn unlisten(&self, key: u64) {
        AnyCore::unlisten(&**self, key);
    }
}

/// Distinct children (deduplicated by identity) and their completions.
pub(crate) struct Watch<C: Watched = AnyCoreRef> {
    pub(crate) children: Vec<C>,
    keys: Vec<Option<u64>>,
    collector: Arc<Collector>,
    listening: bool,
    /// Children seen done so far.
    pub(crate) n_done: usize,
}

impl<C: Watched> Watch<C> {
    /// Watches `children` (distinct tasks: see `tasks::distinct`); every completion wakes
    /// the task polling [`Watch::poll_next_batch`].
    pub(crate) fn new(children: Vec<C>) -> Watch<C> {
        let n = children.len();
        Watch {
            children,
            keys: vec![None; n],
            collector: Arc::new(Collector {
                inner: Mutex::new(CollectorInner {
                    remaining: n,
                    done: Vec::new(),
                    waker: None,
                }),
            }),
            listening: false,
            n_done: 0,
        }
    }

    pub(crate) fn all_done(&self) -> bool {
        self.n_done == self.children.len()
    }

    /// The completions reported since the last call, in the order they were reported (not
    /// necessarily completion order); `Ready(None)` when there are none and every child is
    /// done, `Pending` (with the waker registered) when there are none and some are still
    /// running.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<(u64, Done)>>> {
        if !self.listening {
            self.listening = true;
            for (i, c) in self.children.iter().enumerate() {
                self.keys[i] = c.listen(self.collector.clone(), i);
            }
        }
        let batch = {
            let mut inner = self.collector.inner.lock();
            if inner.done.is_empty() {
                if self.all_done() {
                    return Poll::Ready(None);
                }
                inner.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            std::mem::take(&mut inner.done)
        };
        for (_, d) in &batch {
            self.keys[d.index] = None;
        }
        self.n_done += batch.len();
        Poll::Ready(Some(batch))
    }

    /// The children that completed since the last call, in completion order; `Pending` (with
    /// the waker registered) when there are none and some are still running.
    pub(crate) fn poll_next_batch(&mut self, cx: &mut Context<'_>) -> Poll<Vec<Done>> {
        let Some(mut batch) = std::task::ready!(self.poll_drain(cx)) else {
            return Poll::Ready(Vec::new());
        };
        // Completions on one worker arrive in order: sort only when they did not.
        if !batch.is_sorted_by_key(|&(seq, _)| seq) {
            batch.sort_unstable_by_key(|&(seq, _)| seq);
        }
        Poll::Ready(batch.into_iter().map(|(_, d)| d).collect())
    }
}

impl<C: Watched> Drop for Watch<C> {
    fn drop(&mut self) {
        for (c, k) in self.children.iter().zip(&self.keys) {
            if let Some(k) = k {
                c.unlisten(*k);
            }
        }
    }
}

/// loom: two children completing on other threads while the watcher drains. A lost wake-up
/// is a loom deadlock of `block_on`; a child reported twice or never, or out of completion
/// order, fails an assertion.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::poll_fn;

    use loom::thread;

    use super::*;
    use crate::__testing::block_on;
    use crate::kernel::completion::Completion;

    impl Watched for Arc<Completion<u32>> {
        fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64> {
            Completion::listen(self, listener, tag)
        }

        fn unlisten(&self, key: u64) {
            Completion::unlisten(self, key);
        }
    }

    #[test]
    fn loom_every_child_reported_once_each_batch_in_order() {
        loom::model(|| {
            let children: Vec<Arc<Completion<u32>>> =
                (0..2).map(|_| Arc::new(Completion::new(None))).collect();
            let threads: Vec<_> = children
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = c.clone();
                    let r = if i == 0 {
                        Ok(0)
                    } else {
                        Err(Error::runtime("x"))
                    };
                    thread::spawn(move || drop(c.complete(r)))
                })
                .collect();
            let mut watch = Watch::new(children.clone());
            let mut seen = Vec::new();
            while !watch.all_done() {
                let batch = block_on(poll_fn(|cx| watch.poll_next_batch(cx)));
                assert!(!batch.is_empty(), "a batch with nothing while children run");
                // A batch is in completion order (a completion may be reported after a later
                // one: then they are in different batches, each reported once).
                assert!(batch.is_sorted_by_key(|d| children[d.index].seq()));
                seen.extend(batch);
            }
            for t in threads {
                t.join().unwrap();
            }
            let mut indices: Vec<usize> = seen.iter().map(|d| d.index).collect();
            indices.sort_unstable();
            assert_eq!(indices, [0, 1], "each child reported once");
            assert!(seen.iter().all(|d| d.failed == (d.index == 1)));
            assert!(block_on(poll_fn(|cx| watch.poll_next_batch(cx))).is_empty());
            drop(watch);
            assert!(children.iter().all(|c| c.waiter_count() == 0));
        });
    }
}
