//! The loop's timers: a heap ordered by `(when, call order)` and the one driver task that
//! sleeps until the earliest deadline (protocol step 2 of the [module docs](super)).
//!
//! The driver works in two phases, as asyncio's `_run_once` does: when it finds timers due,
//! it takes them off the heap (in heap order) and yields, so that they run behind whatever
//! was ready already (asyncio appends them to `_ready`); at its next turn it runs them.
//!
//! The driver's state is under the loop's state mutex: `active` says a driver task exists
//! (set by `add` when it spawns one, cleared by the driver, under the mutex, when it finds the
//! heap empty, so a timer added after that spawns a new driver and none is lost). The
//! driver's waker is stored under the same mutex before it sleeps, and `add` (for a new
//! earliest timer), `cancelled`, and the start of a run wake it.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use taskio_runtime::time::{sleep_until, Instant, Sleep};

use super::handles::HandleInner;
use super::{Loop, Shared};

/// The timer heap and its driver's state.
#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Entry>,
    /// A driver task exists.
    active: bool,
    /// The driver's waker while it waits.
    waker: Option<Waker>,
}

impl Timers {
    /// The driver's waker, to wake once the state mutex is released.
    pub(super) fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }

    /// Empties the heap (the loop closes); the callbacks are dropped by the caller, outside
    /// the mutex.
    pub(super) fn clear(&mut self) -> Vec<Arc<HandleInner>> {
        self.heap.drain().map(|e| e.handle).collect()
    }
}

struct Entry {
    when: f64,
    /// `None`: never due (an infinite `when`).
    deadline: Option<Instant>,
    handle: Arc<HandleInner>,
}

impl Entry {
    fn key(&self) -> (f64, u64) {
        (self.when, self.handle.seq)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed: `BinaryHeap` is a max-heap, and the earliest `(when, seq)` must be on top.
    fn cmp(&self, other: &Entry) -> CmpOrdering {
        let (a, b) = (self.key(), other.key());
        b.0.total_cmp(&a.0).then(b.1.cmp(&a.1))
    }
}

/// Adds a timer, spawning the driver if there is none or waking it if this timer is the
/// new earliest.
pub(super) fn add(lp: &Loop, handle: Arc<HandleInner>, deadline: Option<Instant>) {
    let when = handle.when.expect("a timer has a deadline");
    let (spawn, wake) = {
        let mut st = lp.shared.state.lock();
        let t = &mut st.timers;
        let earliest = t
            .heap
            .peek()
            .is_none_or(|top| (when, handle.seq) < top.key());
        t.heap.push(Entry {
            when,
            deadline,
            handle,
        });
        let spawn = !std::mem::replace(&mut t.active, true);
        (spawn, if earliest { t.take_waker() } else { None })
    };
    if spawn {
        drop(lp.shared.handle.spawn(Driver {
            lp: Arc::downgrade(&lp.shared),
            sleep: None,
            batch: Vec::new(),
        }));
    }
    if let Some(w) = wake {
        w.wake();
    }
}

/// A timer was cancelled: the driver looks at the heap again.
pub(super) fn cancelled(lp: &Loop) {
    let w = lp.shared.state.lock().timers.take_waker();
    if let Some(w) = w {
        w.wake();
    }
}

/// The driver task.
struct Driver {
    lp: Weak<Shared>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Due timers taken off the heap, in heap order, to run at the driver's next turn.
    batch: Vec<Arc<HandleInner>>,
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(lp) = Loop::from_weak(&this.lp) else {
            return Poll::Ready(());
        };
        loop {
            let mut st = lp.shared.state.lock();
            if st.closed {
                st.timers.active = false;
                return Poll::Ready(());
            }
            if !st.running {
                // Timers fire only while the loop runs; the next run wakes the driver (and
                // a batch already due waits for it with the other set-aside callbacks).
                // The runtime's timer is dropped too: a paused clock does not jump to a loop
                // timer while the loop is not running.
                st.deferred.extend(this.batch.drain(..));
                st.timers.waker = Some(cx.waker().clone());
                this.sleep = None;
                return Poll::Pending;
            }
            if st.stopping && this.batch.is_empty() {
                st.timers.waker = Some(cx.waker().clone());
                this.sleep = None;
                return Poll::Pending;
            }
            if !this.batch.is_empty() {
                // Phase 2: the due timers' turn has come.
                drop(st);
                for h in std::mem::take(&mut this.batch) {
                    h.run(&lp);
                }
                continue;
            }
            let now = Instant::now();
            while let Some(top) = st.timers.heap.peek() {
                if top.handle.is_cancelled() {
                    st.timers.heap.pop();
                } else if top.deadline.is_some_and(|d| d <= now) {
                    this.batch
                        .push(st.timers.heap.pop().expect("peeked").handle);
                } else {
                    break;
                }
            }
            if !this.batch.is_empty() {
                // Phase 1: asyncio appends the due timers to the ready queue, behind what is
                // ready already; the driver takes its place at the back and runs them then.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let Some(top) = st.timers.heap.peek() else {
                st.timers.active = false;
                return Poll::Ready(());
            };
            let deadline = top.deadline;
            st.timers.waker = Some(cx.waker().clone());
            drop(st);
            let Some(deadline) = deadline else {
                this.sleep = None; // only infinite deadlines left
                return Poll::Pending;
            };
            let sleep = match &mut this.sleep {
                Some(s) => {
                    if s.deadline() != deadline {
                        s.as_mut().reset(deadline);
                    }
                    s
                }
                None => this.sleep.insert(Box::pin(sleep_until(deadline))),
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}
