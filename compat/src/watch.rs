//! `Watch`: a set of tasks and the order in which they complete, for `gather`, `wait` and
//! `as_completed`.
//!
//! Each child gets one listener registration (tagged with its index); a completion pushes
//! the index into the shared `Collector` and wakes the watcher. The watcher drains the
//! indices, sorted by completion sequence number, so the cost per completion is O(1) no
//! matter how many children there are, and "first" means first to complete, across workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::exceptions::Error;
use crate::tasks::core::{AnyCore, DoneListener};

#[derive(Default)]
struct Collector {
    inner: Mutex<CollectorInner>,
}

#[derive(Default)]
struct CollectorInner {
    done: Vec<usize>,
    waker: Option<Waker>,
}

impl DoneListener for Collector {
    fn on_done(self: Arc<Self>, tag: usize, _failure: Option<&Error>) {
        let waker = {
            let mut inner = self.inner.lock();
            inner.done.push(tag);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Distinct children (deduplicated by identity) and their completions.
pub(crate) struct Watch {
    pub(crate) children: Vec<Arc<dyn AnyCore>>,
    keys: Vec<Option<u64>>,
    collector: Arc<Collector>,
    listening: bool,
    /// Children seen done so far.
    pub(crate) n_done: usize,
}

impl Watch {
    /// Deduplicates `children`; returns the watch and, for each input, its child index.
    pub(crate) fn new(children: Vec<Arc<dyn AnyCore>>) -> (Watch, Vec<usize>) {
        let mut index: HashMap<u64, usize> = HashMap::new();
        let mut unique = Vec::new();
        let slots = children
            .into_iter()
            .map(|c| {
                *index.entry(c.id()).or_insert_with(|| {
                    unique.push(c);
                    unique.len() - 1
                })
            })
            .collect();
        let n = unique.len();
        let watch = Watch {
            children: unique,
            keys: vec![None; n],
            collector: Arc::default(),
            listening: false,
            n_done: 0,
        };
        (watch, slots)
    }

    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    pub(crate) fn all_done(&self) -> bool {
        self.n_done == self.children.len()
    }

    /// The children that completed since the last call, in completion order; `Pending` (with
    /// the waker registered) when there are none and some are still running.
    pub(crate) fn poll_next_batch(&mut self, cx: &mut Context<'_>) -> Poll<Vec<usize>> {
        if !self.listening {
            self.listening = true;
            for (i, c) in self.children.iter().enumerate() {
                self.keys[i] = c.listen(self.collector.clone(), i);
            }
        }
        let mut batch = {
            let mut inner = self.collector.inner.lock();
            if inner.done.is_empty() {
                if self.all_done() {
                    return Poll::Ready(Vec::new());
                }
                inner.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            std::mem::take(&mut inner.done)
        };
        for &i in &batch {
            self.keys[i] = None;
        }
        self.n_done += batch.len();
        batch.sort_by_key(|&i| self.children[i].seq());
        Poll::Ready(batch)
    }

    /// Cancels every child not done yet.
    pub(crate) fn cancel_pending(&self) {
        for c in &self.children {
            c.cancel(None);
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for (c, k) in self.children.iter().zip(&self.keys) {
            if let Some(k) = k {
                c.unlisten(*k);
            }
        }
    }
}
