//! asyncio's queues: [`Queue`] (FIFO), [`PriorityQueue`] (lowest first) and [`LifoQueue`],
//! one implementation, [`BaseQueue`], generic over its [`Storage`].
//!
//! # Fairness: reservations
//!
//! Waiting getters and putters are served strictly FIFO, with no barging. When an item
//! arrives and a getter waits, the item is *reserved* for that getter (counted, not moved:
//! the getter takes whichever item the storage yields when it runs); likewise a freed slot
//! is reserved for the first waiting putter. Reserved items are invisible to
//! [`get_nowait`](BaseQueue::get_nowait) and reserved slots to
//! [`put_nowait`](BaseQueue::put_nowait), which is the only visible difference from
//! asyncio, whose queues let a newcomer take what a woken waiter was woken for.
//!
//! # Cancellation is drop
//!
//! A woken getter that is dropped gives its reservation back, and the next getter is woken;
//! the item stays in the queue. A `put` future owns its item until it is enqueued: dropped,
//! it drops the item and never enqueues it (and a slot reserved for it goes to the next
//! putter).
//!
//! # Shutdown
//!
//! [`shutdown(false)`](BaseQueue::shutdown): puts, waiting ones too, fail with
//! [`ErrorKind::QueueShutDown`](crate::ErrorKind::QueueShutDown); gets drain the items left,
//! then fail. `shutdown(true)`: the items are dropped, the unfinished count drops by as many,
//! every waiting get fails, and [`join`](BaseQueue::join) returns if the count reached zero
//! (as in CPython 3.13: items already taken and not yet `task_done` still count).
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use taskio::{create_task, Queue};
//!
//! taskio::run(async {
//!     let queue = Arc::new(Queue::new(2));
//!     let q = queue.clone();
//!     let consumer = create_task(async move {
//!         let mut got = Vec::new();
//!         while let Ok(item) = q.get().await {
//!             got.push(item);
//!             q.task_done()?;
//!         }
//!         Ok(got)
//!     });
//!     for i in 0..10 {
//!         queue.put(i).await?; // waits while the queue holds two items
//!     }
//!     queue.join().await?; // every item taken and marked done
//!     queue.shutdown(false); // the consumer's next get fails: it ends
//!     assert_eq!(consumer.await?, (0..10).collect::<Vec<_>>());
//!     Ok(())
//! })
//! .unwrap();
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::sync::{Mutex, MutexGuard};
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

mod sealed {
    pub trait Sealed {}
}

/// How a [`BaseQueue`] stores its items, which decides the order `get` returns them in.
/// Implemented by [`Fifo`], [`Lifo`] and [`Priority`]; sealed.
///
/// # Examples
///
/// ```
/// use taskio::queues::{BaseQueue, Lifo};
/// let q: BaseQueue<u8, Lifo<u8>> = BaseQueue::new(0);
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 2);
/// ```
pub trait Storage<T>: sealed::Sealed {
    /// Empty storage.
    fn new() -> Self;
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item.
    fn pop(&mut self) -> Option<T>;
    /// The number of items.
    fn len(&self) -> usize;
    /// Whether there is no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Drops every item.
    fn clear(&mut self);
}

/// First in, first out: the storage of [`Queue`].
///
/// # Examples
///
/// ```
/// let q = taskio::Queue::new(0); // a BaseQueue<_, Fifo<_>>
/// q.put_nowait('a').unwrap();
/// q.put_nowait('b').unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 'a');
/// ```
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: the storage of [`LifoQueue`].
///
/// # Examples
///
/// ```
/// let q = taskio::LifoQueue::new(0);
/// q.put_nowait('a').unwrap();
/// q.put_nowait('b').unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 'b');
/// ```
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Lowest first: the storage of [`PriorityQueue`]. Equal items come out in no set order.
///
/// # Examples
///
/// ```
/// let q = taskio::PriorityQueue::new(0);
/// q.put_nowait((2, "b")).unwrap();
/// q.put_nowait((1, "a")).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), (1, "a"));
/// ```
#[derive(Debug)]
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> sealed::Sealed for Fifo<T> {}
impl<T> sealed::Sealed for Lifo<T> {}
impl<T> sealed::Sealed for Priority<T> {}

impl<T> Storage<T> for Fifo<T> {
    fn new() -> Self {
        Fifo(VecDeque::new())
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T> Storage<T> for Lifo<T> {
    fn new() -> Self {
        Lifo(Vec::new())
    }
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T: Ord> Storage<T> for Priority<T> {
    fn new() -> Self {
        Priority(BinaryHeap::new())
    }
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// asyncio's `Queue`: first in, first out.
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::new(0);
/// q.put(1).await.unwrap();
/// q.put(2).await.unwrap();
/// assert_eq!(q.get().await.unwrap(), 1);
/// # Ok(())
/// # }).unwrap();
/// ```
pub type Queue<T> = BaseQueue<T, Fifo<T>>;

/// asyncio's `PriorityQueue`: lowest item first (put `(priority, data)` tuples).
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::PriorityQueue::new(0);
/// for n in [3, 1, 2] {
///     q.put(n).await.unwrap();
/// }
/// assert_eq!(q.get().await.unwrap(), 1);
/// # Ok(())
/// # }).unwrap();
/// ```
pub type PriorityQueue<T> = BaseQueue<T, Priority<T>>;

/// asyncio's `LifoQueue`: last in, first out.
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::LifoQueue::new(0);
/// q.put(1).await.unwrap();
/// q.put(2).await.unwrap();
/// assert_eq!(q.get().await.unwrap(), 2);
/// # Ok(())
/// # }).unwrap();
/// ```
pub type LifoQueue<T> = BaseQueue<T, Lifo<T>>;

/// The queue behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`]; see the
/// [module docs](self) for fairness, cancellation and shutdown.
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
    maxsize: usize,
    state: Mutex<State<T, S>>,
}

/// What a waiting getter is notified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GetWake {
    /// An item is reserved for it.
    Item,
    ShutDown,
}

/// What a waiting putter is notified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PutWake {
    /// A slot is reserved for it.
    Slot,
    ShutDown,
}

struct State<T, S: Storage<T>> {
    items: S,
    /// Items reserved for notified getters. Invariant: a getter waits only while
    /// `items.len() == get_reserved` (every item is promised).
    get_reserved: usize,
    /// Slots reserved for notified putters. Invariant: a putter waits only while there is
    /// no free, unreserved slot.
    put_reserved: usize,
    /// Puts not yet matched by a `task_done`.
    unfinished: usize,
    shutdown: bool,
    /// `shutdown(true)` dropped the items: no reservation is worth anything any more.
    cleared: bool,
    getters: WaitList<GetWake>,
    putters: WaitList<PutWake>,
    joiners: WaitList<()>,
    _items: PhantomData<T>,
}

impl<T, S: Storage<T>> State<T, S> {
    fn has_space(&self, maxsize: usize) -> bool {
        maxsize == 0 || self.items.len() + self.put_reserved < maxsize
    }

    /// Takes an unreserved item, if any.
    fn take(&mut self) -> Option<T> {
        if self.items.len() > self.get_reserved {
            self.items.pop()
        } else {
            None
        }
    }

    fn enqueue(&mut self, item: T) {
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
    fn rebalance(&mut self, maxsize: usize, wakers: &mut Wakers) {
        if self.getters.has_waiting()
            || self.putters.has_waiting()
            || (self.unfinished == 0 && self.joiners.has_waiting())
        {
            self.rebalance_slow(maxsize, wakers);
        }
    }

    /// [`rebalance`](State::rebalance) when someone waits.
    #[inline(never)]
    fn rebalance_slow(&mut self, maxsize: usize, wakers: &mut Wakers) {
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

    fn lock(&self) -> MutexGuard<'_, State<T, S>> {
        self.state.lock()
    }

    /// Runs `f` on the state, then restores the invariants and wakes whoever it woke once
    /// the mutex is released.
    fn update<R>(&self, f: impl FnOnce(&mut State<T, S>) -> R) -> R {
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

    /// Shuts the queue down; see the [module docs](self) for the rules.
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
    fn leave_putters(&self, id: WaiterId) {
        self.update(|st| {
            if st.putters.remove(id) == Some(PutWake::Slot) {
                // Give the reserved slot back; `update` hands it to the next putter.
                st.put_reserved -= 1;
            }
        });
    }

    #[cold]
    #[inline(never)]
    fn leave_getters(&self, id: WaiterId) {
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

/// A failed put: the error (QueueFull or QueueShutDown) and the item, given back.
///
/// `?` turns it into a taskio [`Error`], dropping the item.
///
/// # Examples
///
/// ```
/// fn fill(q: &taskio::Queue<u8>) -> taskio::Result<()> {
///     q.put_nowait(1)?;
///     q.put_nowait(2)?; // QueueFull
///     Ok(())
/// }
/// let q = taskio::Queue::new(1);
/// assert_eq!(fill(&q).unwrap_err().kind(), taskio::ErrorKind::QueueFull);
/// ```
pub struct PutError<T> {
    error: Error,
    item: T,
}

impl<T> PutError<T> {
    fn new(error: Error, item: T) -> Self {
        PutError { error, item }
    }

    /// The error.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// let err = q.put_nowait(1).unwrap_err();
    /// assert_eq!(err.error().kind(), taskio::ErrorKind::QueueShutDown);
    /// ```
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// assert_eq!(q.put_nowait(5).unwrap_err().into_item(), 5);
    /// ```
    pub fn into_item(self) -> T {
        self.item
    }

    /// The error and the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// let (err, item) = q.put_nowait('x').unwrap_err().into_parts();
    /// assert_eq!((err.kind(), item), (taskio::ErrorKind::QueueShutDown, 'x'));
    /// ```
    pub fn into_parts(self) -> (Error, T) {
        (self.error, self.item)
    }
}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Error {
        e.error
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// The future of [`BaseQueue::put`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::new(0);
/// let fut: taskio::queues::Put<'_, u8, _> = q.put(1);
/// fut.await.unwrap();
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, T, S: Storage<T>> {
    queue: &'a BaseQueue<T, S>,
    /// Owned until enqueued (or given back in the error).
    item: Option<T>,
    waiter: Option<WaiterId>,
}

// The item is moved, never pinned.
impl<T, S: Storage<T>> Unpin for Put<'_, T, S> {}

impl<T, S: Storage<T>> Future for Put<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let queue = this.queue;
        let maxsize = queue.maxsize;
        // A checkpoint where it waits: a cancelled put never enqueues its item (it comes
        // back in the error) and passes a slot handed to it on.
        if let Some(id) = this.waiter {
            if let Some(e) = take_cancel() {
                this.waiter = None;
                queue.leave_putters(id);
                let item = this.item.take().expect("Put polled after completion");
                return Poll::Ready(Err(PutError::new(e, item)));
            }
        }
        queue.update(|st| {
            let item = this.item.take().expect("Put polled after completion");
            let enqueue = match this.waiter {
                None if st.shutdown => false,
                None if st.has_space(maxsize) && !st.putters.has_waiting() => true,
                None => {
                    if let Some(e) = take_cancel() {
                        return Poll::Ready(Err(PutError::new(e, item)));
                    }
                    this.waiter = Some(st.putters.push(cx.waker()));
                    this.item = Some(item);
                    return Poll::Pending;
                }
                Some(id) => match st.putters.poll(id, cx.waker()) {
                    Poll::Pending => {
                        this.item = Some(item);
                        return Poll::Pending;
                    }
                    Poll::Ready(wake) => {
                        this.waiter = None;
                        if wake == PutWake::Slot {
                            st.put_reserved -= 1;
                        }
                        wake == PutWake::Slot && !st.shutdown
                    }
                },
            };
            Poll::Ready(if enqueue {
                st.enqueue(item);
                Ok(())
            } else {
                Err(PutError::new(Error::queue_shut_down(), item))
            })
        })
    }
}

impl<T, S: Storage<T>> Drop for Put<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.queue.leave_putters(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Put<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").finish_non_exhaustive()
    }
}

/// The future of [`BaseQueue::get`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::new(0);
/// q.put_nowait(1).unwrap();
/// let fut: taskio::queues::Get<'_, u8, _> = q.get();
/// assert_eq!(fut.await.unwrap(), 1);
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, T, S: Storage<T>> {
    queue: &'a BaseQueue<T, S>,
    waiter: Option<WaiterId>,
}

impl<T, S: Storage<T>> Future for Get<'_, T, S> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        // A checkpoint where it waits: a cancelled get leaves an item reserved for it to the
        // next getter.
        if let Some(id) = this.waiter {
            if let Some(e) = take_cancel() {
                this.waiter = None;
                this.queue.leave_getters(id);
                return Poll::Ready(Err(e));
            }
        }
        this.queue.update(|st| match this.waiter {
            None => match st.take() {
                Some(item) => Poll::Ready(Ok(item)),
                None if st.shutdown => Poll::Ready(Err(Error::queue_shut_down())),
                None => {
                    if let Some(e) = take_cancel() {
                        return Poll::Ready(Err(e));
                    }
                    this.waiter = Some(st.getters.push(cx.waker()));
                    Poll::Pending
                }
            },
            Some(id) => match st.getters.poll(id, cx.waker()) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(wake) => {
                    this.waiter = None;
                    if wake == GetWake::ShutDown || st.cleared {
                        return Poll::Ready(Err(Error::queue_shut_down()));
                    }
                    st.get_reserved -= 1;
                    let item = st.items.pop().expect("a reserved item is in the queue");
                    Poll::Ready(Ok(item))
                }
            },
        })
    }
}

impl<T, S: Storage<T>> Drop for Get<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.queue.leave_getters(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Get<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").finish_non_exhaustive()
    }
}

/// The future of [`BaseQueue::join`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::<u8>::new(0);
/// let fut: taskio::queues::Join<'_, u8, _> = q.join();
/// fut.await.unwrap();
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Join<'a, T, S: Storage<T>> {
    queue: &'a BaseQueue<T, S>,
    waiter: Option<WaiterId>,
    done: bool,
}

impl<T, S: Storage<T>> Future for Join<'_, T, S> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        assert!(!this.done, "Join polled after completion");
        let mut st = this.queue.lock();
        let ready = if this.waiter.is_none() && st.unfinished == 0 {
            Poll::Ready(())
        } else if let Some(e) = take_cancel() {
            // A checkpoint where it waits (joiners are woken together: nothing to pass on).
            if let Some(id) = this.waiter.take() {
                let _ = st.joiners.remove(id);
            }
            this.done = true;
            return Poll::Ready(Err(e));
        } else {
            match this.waiter {
                None => {
                    this.waiter = Some(st.joiners.push(cx.waker()));
                    Poll::Pending
                }
                Some(id) => st.joiners.poll(id, cx.waker()),
            }
        };
        if ready.is_ready() {
            this.waiter = None;
            this.done = true;
        }
        ready.map(Ok)
    }
}

impl<T, S: Storage<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            // Every joiner is released together: nothing to pass on.
            let _ = self.queue.state.lock().joiners.remove(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Join<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn _assert_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Queue<String>>();
        check::<PriorityQueue<u32>>();
        check::<LifoQueue<Vec<u8>>>();
        check::<Put<'_, String, Fifo<String>>>();
        check::<Get<'_, String, Fifo<String>>>();
        check::<Join<'_, String, Fifo<String>>>();
        check::<PutError<String>>();
    }
}
