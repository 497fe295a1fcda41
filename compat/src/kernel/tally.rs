//! A gather's tally: how many children are left and which failed first, told by the
//! children's completions (`gather.rs` builds every gather form on it).
//!
//! # The protocol
//!
//! One mutex holds `remaining`, the first failure and the gather's waker.
//!
//! 1. **Add.** The gather listens to each distinct child with the tally
//!    ([`Completion::listen`](super::completion::Completion::listen)); a child already done
//!    reports at once, from inside `listen`, so completions may arrive while children are
//!    still being added.
//! 2. **Report** ([`DoneListener::on_done`], once per child: see `completion.rs`): under the
//!    mutex, subtract one from `remaining`; on a failure, keep it if its completion sequence
//!    number is the lowest seen. Take the waker only if this report can end the gather (the
//!    count reached zero, or a failure while failures end it); wake it after the mutex.
//! 3. **Seal** ([`Tally::seal`]) adds the number of children, once all were added. Before it
//!    the count only goes below zero, so `remaining == 0` (after a report or at a poll)
//!    means exactly "every child added and completed".
//! 4. **Poll** ([`Tally::poll`]) reads the state and, if it must wait, stores its waker, all
//!    under the same mutex: a report ordered after the poll finds the waker, one ordered
//!    before it is seen by the poll. No wake-up can be lost.
//!
//! The loom models at the end of this file check steps 1 to 4.

use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::exceptions::Error;
use crate::kernel::completion::DoneListener;
use crate::kernel::sync::Mutex;

/// What a gather's children report to; see the module docs.
pub(crate) struct Tally {
    inner: Mutex<TallyInner>,
}

struct TallyInner {
    /// Distinct children not completed yet, once sealed (step 3); may be negative before.
    remaining: isize,
    /// Wake the gather on a failure (false with `return_exceptions`, which waits for all).
    wake_on_failure: bool,
    /// The failure that completed first (lowest completion sequence number) and its number.
    first_failure: Option<(u64, Error)>,
    waker: Option<Waker>,
}

impl DoneListener for Tally {
    fn on_done(self: Arc<Self>, _tag: usize, seq: u64, failure: Option<&Error>) {
        let waker = {
            let mut t = self.inner.lock();
            t.remaining -= 1;
            let mut wake = t.remaining == 0;
            if let Some(e) = failure {
                if t.first_failure
                    .as_ref()
                    .is_none_or(|(first, _)| seq < *first)
                {
                    t.first_failure = Some((seq, e.clone()));
                }
                wake |= t.wake_on_failure;
            }
            if wake {
                t.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Tally {
    /// A tally with no children, woken by failures.
    pub(crate) fn new() -> Arc<Tally> {
        Arc::new(Tally {
            inner: Mutex::new(TallyInner {
                remaining: 0,
                wake_on_failure: true,
                first_failure: None,
                waker: None,
            }),
        })
    }

    /// Step 3: all `n` distinct children were added.
    pub(crate) fn seal(&self, n: usize) {
        self.inner.lock().remaining += n as isize;
    }

    /// Failures no longer wake the gather (`return_exceptions`: it waits for every child).
    pub(crate) fn wait_for_all(&self) {
        self.inner.lock().wake_on_failure = false;
    }

    /// Children not completed yet (0 before the seal; see step 3).
    pub(crate) fn remaining(&self) -> usize {
        self.inner.lock().remaining.max(0) as usize
    }

    /// Step 4: `Ready(Some(first failure))` if `failures_end` and a child failed,
    /// `Ready(None)` once every child completed, else `Pending` with `waker` stored.
    pub(crate) fn poll(&self, waker: &Waker, failures_end: bool) -> Poll<Option<Error>> {
        let mut t = self.inner.lock();
        if failures_end {
            if let Some((_, e)) = &t.first_failure {
                return Poll::Ready(Some(e.clone()));
            }
        }
        if t.remaining == 0 {
            return Poll::Ready(None);
        }
        match &mut t.waker {
            Some(w) => w.clone_from(waker),
            w @ None => *w = Some(waker.clone()),
        }
        Poll::Pending
    }
}

/// loom: children completing on other threads, one of them while the children are still
/// being added. A lost wake-up is a loom deadlock of `block_on`; a gather that ends before
/// every child completed, or reports a failure other than the first, fails an assertion.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::poll_fn;

    use loom::thread;

    use super::*;
    use crate::__testing::block_on;
    use crate::exceptions::Result;
    use crate::kernel::completion::Completion;

    type Child = Arc<Completion<u32>>;

    fn child() -> Child {
        Arc::new(Completion::new(None))
    }

    fn complete_on_thread(c: &Child, r: Result<u32>) -> thread::JoinHandle<()> {
        let c = c.clone();
        thread::spawn(move || drop(c.complete(r)))
    }

    fn wait(tally: &Tally, failures_end: bool) -> Option<Error> {
        block_on(poll_fn(|cx| tally.poll(cx.waker(), failures_end)))
    }

    #[test]
    fn loom_last_completion_wakes_the_gather() {
        loom::model(|| {
            let tally = Tally::new();
            let (a, b) = (child(), child());
            a.listen(tally.clone(), 0);
            // `a` may complete before `b` is added and before the seal.
            let ta = complete_on_thread(&a, Ok(1));
            b.listen(tally.clone(), 0);
            tally.seal(2);
            let tb = complete_on_thread(&b, Ok(2));
            assert!(wait(&tally, true).is_none());
            assert!(
                a.seq().is_some() && b.seq().is_some(),
                "the gather ended before every child completed"
            );
            assert_eq!(tally.remaining(), 0);
            ta.join().unwrap();
            tb.join().unwrap();
        });
    }

    #[test]
    fn loom_first_failure_wins() {
        loom::model(|| {
            let tally = Tally::new();
            let (a, b) = (child(), child());
            a.listen(tally.clone(), 0);
            b.listen(tally.clone(), 0);
            tally.seal(2);
            let ta = complete_on_thread(&a, Err(Error::runtime("a")));
            let tb = complete_on_thread(&b, Err(Error::runtime("b")));
            // Woken by the first failure reported, whichever it is.
            assert!(wait(&tally, true).is_some());
            ta.join().unwrap();
            tb.join().unwrap();
            // Once both reported, the one that completed first is kept.
            let first = if a.seq() < b.seq() { "a" } else { "b" };
            let e = wait(&tally, true).expect("two failures");
            assert_eq!(e.to_string(), first);
            // `return_exceptions` waits for both.
            tally.wait_for_all();
            assert!(wait(&tally, false).is_none());
        });
    }
}
