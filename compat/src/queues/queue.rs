//! [`BaseQueue`]: the one queue, its state under one mutex and the reservation rules (see
//! the [module docs](super) for fairness, cancellation and shutdown).

use std::fmt;
use std::marker::PhantomData;

use super::{Get, Join, Put, PutError, Storage};
use crate::exceptions::{Error, Result};
use crate::kernel::sync::{Mutex, MutexGuard};
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// The queue behind [`Queue`](super::Queue), [`PriorityQueue`](super::PriorityQueue) and [`LifoQueue`](super::LifoQueue); see the
/// [module docs](super) for fairness, cancellation and shutdown.
///
/// # Examples
///
/// ```
/// let q = taskio::Queue::new(1);
/// q.put_nowait("a").unwrap();
/// let err = q.put_nowait("b").unwrap_err();
/// assert_eq!(err.error().kind(), taskio::ErrorKind::QueueFull);
/// assert_eq!(err.into_item(), "b");
/// ```
pub struct BaseQueue<T, S: Storage<T>> {
    pub(super) maxsize: usize,
    pub(super) state: Mutex<State<T, S>>,
}

/// What a waiting getter is notified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GetWake {
    /// An item is reserved for it.
    Item,
    ShutDown,
}

/// What a waiting putter is notified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PutWake {
    /// A slot is reserved for it.
    Slot,
    ShutDown,
}

pub(super) struct State<T, S: Storage<T>> {
    pub(super) items: S,
    /// Items reserved for notified getters. Invariant: a getter waits only while
    /// `items.len() == get_reserved` (every item is promised).
    pub(super) get_reserved: usize,
    /// Slots reserved for notified putters. Invariant: a putter waits only while there is
    /// no free, unreserved slot.
    pub(super) put_reserved: usize,
    /// Puts not yet matched by a `task_done`.
    pub(super) unfinished: usize,
    pub(super) shutdown: bool,
    /// `shutdown(true)` dropped the items: no reservation is worth anything any more.
    pub(super) cleared: bool,
    pub(super) getters: WaitList<GetWake>,
    pub(super) putters: WaitList<PutWake>,
    pub(super) joiners: WaitList<()>,
    pub(super) _items: PhantomData<T>,
}

impl<T, S: Storage<T>> State<T, S> {
    pub(super) fn has_space(&self, maxsize: usize) -> bool {
        maxsize == 0 || self.items.len() + self.put_reserved < maxsize
    }

    /// Takes an unreserved item, if any.
    pub(super) fn take(&mut self) -> Option<T> {
        if self.items.len() > self.get_reserved {
            self.items.pop()
        } else {
            None
        }
    }

    pub(super) fn enqueue(&mut self, item: T) {
        self.items.push(item);
        self.unfinished += 1;
    }

    /// Restores the invariants after any change: hands unreserved items to waiting
    /// getters, free slots to waiting putters, fails every waiter after a shutdown, and
    /// releases the joiners when nothing is unfinished.
    ///
    /// Inlined for its first test: the common case (nobody waits) has nothing to hand out,
    /// and costs no call.
    #[inline]
    pub(super) fn rebalance(&mut self, maxsize: usize, wakers: &mut Wakers) {
        if self.getters.has_waiting()
            || self.putters.has_waiting()
            || (self.unfinished == 0 && self.joiners.has_waiting())
        {
            self.rebalance_slow(maxsize, wakers);
        }
    }

    /// [`rebalance`](State::rebalance) when someone waits.
    #[inline(never)]
    pub(super) fn rebalance_slow(&mut self, maxsize: usize, wakers: &mut Wakers) {
        if !self.cleared && self.getters.has_waiting() {
            while self.items.len() > self.get_reserved {
                match wakers.push_notified(self.getters.notify_one(GetWake::Item)) {
                    Ok(()) => self.get_reserved += 1,
                    Err(_) => break,
                }
            }
        }
        if self.shutdown {
            self.getters.notify_all(|| GetWake::ShutDown, wakers);
            self.putters.notify_all(|| PutWake::ShutDown, wakers);
        } else if self.putters.has_waiting() {
            while self.has_space(maxsize) {
                match wakers.push_notified(self.putters.notify_one(PutWake::Slot)) {
                    Ok(()) => self.put_reserved += 1,
                    Err(_) => break,
                }
            }
        }
        if self.unfinished == 0 {
            self.joiners.notify_all(|| (), wakers);
        }
    }
}

impl<T, S: Storage<T>> BaseQueue<T, S> {
    /// A queue holding at most `maxsize` items; `0` means unbounded (asyncio's
    /// `maxsize <= 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::<u32>::new(0);
    /// assert_eq!(q.maxsize(), 0);
    /// assert!(!q.full());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        BaseQueue {
            maxsize,
            state: Mutex::new(State {
                items: S::new(),
                get_reserved: 0,
                put_reserved: 0,
                unfinished: 0,
                shutdown: false,
                cleared: false,
                getters: WaitList::awaiting(Awaiting::Queue),
                putters: WaitList::awaiting(Awaiting::Queue),
                joiners: WaitList::new(),
                _items: PhantomData,
            }),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<T, S>> {
        self.state.lock()
    }

    /// Runs `f` on the state, then restores the invariants and wakes whoever it woke once
    /// the mutex is released.
    pub(super) fn update<R>(&self, f: impl FnOnce(&mut State<T, S>) -> R) -> R {
        let mut wakers = Wakers::new();
        let out = {
            let mut st = self.lock();
            let out = f(&mut st);
            st.rebalance(self.maxsize, &mut wakers);
            out
        };
        wakers.wake_all();
        out
    }

    /// The bound given to [`new`](BaseQueue::new) (0: unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Queue::<()>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// The number of items in the queue (including those promised to woken getters).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.put_nowait(()).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether the queue holds no item.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    /// Whether the queue holds `maxsize` items (never, when unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        self.maxsize != 0 && self.lock().items.len() >= self.maxsize
    }

    /// Whether [`shutdown`](BaseQueue::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::<u8>::new(0);
    /// q.shutdown(false);
    /// assert!(q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.lock().shutdown
    }

    /// Puts `item` now, or fails with QueueFull (no free slot, or the free slots are
    /// promised to waiting putters) or QueueShutDown; the item comes back in the error.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(1);
    /// assert!(q.put_nowait(1).is_ok());
    /// let err = q.put_nowait(2).unwrap_err();
    /// assert_eq!(err.into_parts().1, 2);
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        let maxsize = self.maxsize;
        self.update(|st| {
            if st.shutdown {
                Err(PutError::new(Error::queue_shut_down(), item))
            } else if st.has_space(maxsize) && !st.putters.has_waiting() {
                st.enqueue(item);
                Ok(())
            } else {
                Err(PutError::new(Error::queue_full(), item))
            }
        })
    }

    /// Puts `item`, waiting (FIFO) while the queue is full. Fails with QueueShutDown if the
    /// queue is shut down before or while waiting, giving the item back. Dropping the
    /// future drops the item; it is never enqueued.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let q = taskio::Queue::new(1);
    /// q.put(1).await.unwrap();
    /// assert!(q.full());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, S> {
        Put {
            queue: self,
            item: Some(item),
            waiter: None,
        }
    }

    /// Takes the next item now, or fails with QueueEmpty (no item, or every item is promised
    /// to a woken getter) or, once shut down, QueueShutDown (nothing is left for this caller,
    /// and nothing more will come).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::<u8>::new(0);
    /// assert_eq!(q.get_nowait().unwrap_err().kind(), taskio::ErrorKind::QueueEmpty);
    /// ```
    pub fn get_nowait(&self) -> Result<T> {
        self.update(|st| match st.take() {
            Some(item) => Ok(item),
            None if st.shutdown => Err(Error::queue_shut_down()),
            None => Err(Error::queue_empty()),
        })
    }

    /// Takes the next item, waiting (FIFO) while the queue is empty. Once the queue is shut
    /// down, drains what is left, then fails with QueueShutDown.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// taskio::run(async {
    ///     let q = Arc::new(taskio::Queue::new(0));
    ///     let q2 = q.clone();
    ///     let getter = taskio::create_task(async move { q2.get().await });
    ///     q.put_nowait("hello")?;
    ///     assert_eq!(getter.await?, "hello");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get(&self) -> Get<'_, T, S> {
        Get {
            queue: self,
            waiter: None,
        }
    }

    /// Marks one item as processed; fails ([`ErrorKind::Value`](crate::ErrorKind::Value),
    /// asyncio's `ValueError`) if called more times than items were put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<()> {
        self.update(|st| {
            if st.unfinished == 0 {
                return Err(Error::value("task_done() called too many times"));
            }
            st.unfinished -= 1;
            Ok(())
        })
    }

    /// Waits until every item put has been marked processed with
    /// [`task_done`](BaseQueue::task_done).
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let q = taskio::Queue::<u8>::new(0);
    /// q.join().await.unwrap(); // nothing unfinished: returns at once
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn join(&self) -> Join<'_, T, S> {
        Join {
            queue: self,
            waiter: None,
            done: false,
        }
    }

    /// Shuts the queue down; see the [module docs](super) for the rules.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown(false);
    /// assert!(q.put_nowait(2).is_err());
    /// assert_eq!(q.get_nowait().unwrap(), 1); // drains
    /// assert_eq!(q.get_nowait().unwrap_err().kind(), taskio::ErrorKind::QueueShutDown);
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        // Dropped items are dropped after the mutex is released.
        let mut dropped = S::new();
        self.update(|st| {
            st.shutdown = true;
            if immediate {
                st.unfinished = st.unfinished.saturating_sub(st.items.len());
                std::mem::swap(&mut st.items, &mut dropped);
                st.get_reserved = 0;
                st.cleared = true;
            }
        });
        drop(dropped);
    }
}

/// The drop of a registered [`Put`] or [`Get`], out of line: the inlined `Drop` of a future
/// that completed is one test.
impl<T, S: Storage<T>> BaseQueue<T, S> {
    #[cold]
    #[inline(never)]
    pub(super) fn leave_putters(&self, id: WaiterId) {
        self.update(|st| {
            if st.putters.remove(id) == Some(PutWake::Slot) {
                // Give the reserved slot back; `update` hands it to the next putter.
                st.put_reserved -= 1;
            }
        });
    }

    #[cold]
    #[inline(never)]
    pub(super) fn leave_getters(&self, id: WaiterId) {
        self.update(|st| {
            if st.getters.remove(id) == Some(GetWake::Item) && !st.cleared {
                // Give the reserved item back; `update` hands it to the next getter.
                st.get_reserved -= 1;
            }
        });
    }
}

impl<T, S> fmt::Debug for BaseQueue<T, S>
where
    S: Storage<T>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &st.items.len())
            .field("unfinished", &st.unfinished)
            .field("getters", &st.getters.n_waiting())
            .field("putters", &st.putters.n_waiting())
            .field("shutdown", &st.shutdown)
            .finish()
    }
}
