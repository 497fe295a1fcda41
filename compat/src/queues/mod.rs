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

mod error;
mod futures;
mod queue;
mod storage;

pub use self::error::PutError;
pub use self::futures::{Get, Join, Put};
pub use self::queue::BaseQueue;
pub use self::storage::{Fifo, Lifo, Priority, Storage};

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
