//! The run queues: `crossbeam_deque` normally; under loom, a stand-in with the same API
//! built on loom's mutex.
//!
//! crossbeam-deque's own atomics are invisible to loom (and its spin-waits would never let
//! the model switch threads), so the models check *our* use of the queues, with the
//! stand-in giving the same guarantees (no task lost or duplicated, FIFO for the owner,
//! batches stolen from the front).

pub(super) use crossbeam_deque::Steal;

#[cfg(not(loom))]
pub(super) use crossbeam_deque::{Injector, Stealer, Worker};

#[cfg(loom)]
pub(super) use mock::{Injector, Stealer, Worker};

#[cfg(loom)]
mod mock {
    use super::Steal;
    use crate::loom::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    /// Fewer tasks per steal than crossbeam (32) so that models see partial batches.
    const MAX_BATCH: usize = 2;

    pub(crate) struct Worker<T> {
        inner: Arc<Mutex<VecDeque<T>>>,
    }

    pub(crate) struct Stealer<T> {
        inner: Arc<Mutex<VecDeque<T>>>,
    }

    pub(crate) struct Injector<T> {
        inner: Mutex<VecDeque<T>>,
    }

    fn steal_batch_and_pop<T>(src: &mut VecDeque<T>, dest: &Worker<T>) -> Steal<T> {
        steal_batch_with_limit_and_pop(src, dest, MAX_BATCH + 1)
    }

    fn steal_batch_with_limit_and_pop<T>(
        src: &mut VecDeque<T>,
        dest: &Worker<T>,
        limit: usize,
    ) -> Steal<T> {
        let first = match src.pop_front() {
            Some(t) => t,
            None => return Steal::Empty,
        };
        let n = (src.len() / 2).min(MAX_BATCH).min(limit.saturating_sub(1));
        if n > 0 {
            let mut d = dest.inner.lock();
            for _ in 0..n {
                d.push_back(src.pop_front().unwrap());
            }
        }
        Steal::Success(first)
    }

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Worker<T> {
            Worker {
                inner: Arc::new(Mutex::new(VecDeque::new())),
            }
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer {
                inner: self.inner.clone(),
            }
        }

        pub(crate) fn push(&self, t: T) {
            self.inner.lock().push_back(t);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            self.inner.lock().pop_front()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.lock().is_empty()
        }

        pub(crate) fn len(&self) -> usize {
            self.inner.lock().len()
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn len(&self) -> usize {
            self.inner.lock().len()
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            let mut src = self.inner.lock();
            steal_batch_and_pop(&mut src, dest)
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.lock().is_empty()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector {
                inner: Mutex::new(VecDeque::new()),
            }
        }

        pub(crate) fn push(&self, t: T) {
            self.inner.lock().push_back(t);
        }

        pub(crate) fn steal(&self) -> Steal<T> {
            match self.inner.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            let mut src = self.inner.lock();
            steal_batch_and_pop(&mut src, dest)
        }

        pub(crate) fn steal_batch_with_limit_and_pop(
            &self,
            dest: &Worker<T>,
            limit: usize,
        ) -> Steal<T> {
            let mut src = self.inner.lock();
            steal_batch_with_limit_and_pop(&mut src, dest, limit)
        }

        /// crossbeam's `Injector::steal_batch_with_limit`: up to `limit` tasks (and about
        /// half of what is queued, at most `MAX_BATCH`) moved to `dest`.
        pub(crate) fn steal_batch_with_limit(&self, dest: &Worker<T>, limit: usize) -> Steal<()> {
            let mut src = self.inner.lock();
            if src.is_empty() {
                return Steal::Empty;
            }
            let n = src.len().div_ceil(2).min(MAX_BATCH).min(limit.max(1));
            let mut d = dest.inner.lock();
            for _ in 0..n {
                d.push_back(src.pop_front().unwrap());
            }
            Steal::Success(())
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.lock().is_empty()
        }

        pub(crate) fn len(&self) -> usize {
            self.inner.lock().len()
        }
    }
}
