//! Which workers are parked and how many are searching for work.
//!
//! One atomic word holds two counts: workers *unparked* (not in `sleepers`) and workers
//! *searching* (unparked, with empty queues, stealing). A notifier wakes a parked worker only
//! if no worker is searching and some worker is parked: a searcher will find the new work,
//! and waking more would only make them fight over it. At most half the workers search at
//! once.
//!
//! No lost wake-up: a worker about to park takes the `sleepers` lock, lowers the counts and
//! adds itself (one step under the lock, SeqCst). If it was the last searcher, it looks at
//! every queue once more after that step and wakes a worker if it finds work. A notifier
//! pushes its task *before* reading the counts (SeqCst). So either the notifier sees the
//! searcher still counted (and the searcher's re-check sees the task), or it sees no
//! searcher and a parked worker (and wakes one). A searcher that finds work and stops
//! searching while being the last one wakes another worker, so the search goes on while work
//! may be pending.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

/// Bits of the word used for the searching count.
const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

#[derive(Debug)]
pub(super) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

#[derive(Clone, Copy, Debug)]
struct State(usize);

impl State {
    fn num_searching(self) -> usize {
        self.0 & SEARCH_MASK
    }

    fn num_unparked(self) -> usize {
        self.0 >> UNPARK_SHIFT
    }
}

impl Idle {
    pub(super) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many workers");
        Idle {
            // All workers start unparked, none searching.
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// If a worker should be woken for new work, marks one unparked and searching and
    /// returns its index.
    pub(super) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        Some(worker)
    }

    fn notify_should_wakeup(&self) -> bool {
        // A read-modify-write, not a load: it takes part in the SeqCst order with the
        // notifier's push (see the module docs).
        let state = State(self.state.fetch_add(0, SeqCst));
        state.num_searching() == 0 && state.num_unparked() < self.num_workers
    }

    /// The worker parks. Returns true if it was the last searcher (it must then re-check
    /// every queue).
    pub(super) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE | usize::from(is_searching);
        let prev = State(self.state.fetch_sub(dec, SeqCst));
        sleepers.push(worker);
        is_searching && prev.num_searching() == 1
    }

    /// The worker wants to steal. Refused when half the workers already search.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = State(self.state.load(SeqCst));
        if 2 * state.num_searching() >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work. Returns true if it was the last searcher (it must
    /// then wake another worker to keep searching).
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        let prev = State(self.state.fetch_sub(1, SeqCst));
        debug_assert!(prev.num_searching() > 0);
        prev.num_searching() == 1
    }

    /// Takes `worker` out of the sleepers (it woke with work of its own). Returns true if it
    /// was there; if not, a notifier already took it out and counted it as searching.
    pub(super) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        if let Some(i) = sleepers.iter().position(|&w| w == worker) {
            sleepers.swap_remove(i);
            self.state.fetch_add(UNPARK_ONE, SeqCst);
            true
        } else {
            false
        }
    }

    /// True if every worker is parked.
    pub(super) fn all_parked(&self) -> bool {
        State(self.state.load(SeqCst)).num_unparked() == 0
    }

    /// True if `worker` is still in the sleepers.
    pub(super) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }
}
