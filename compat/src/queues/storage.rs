//! How a queue stores its items, which decides the order `get` returns them in: [`Fifo`],
//! [`Lifo`], [`Priority`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod sealed {
    pub trait Sealed {}
}

/// How a [`BaseQueue`](super::BaseQueue) stores its items, which decides the order `get` returns them in.
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

/// First in, first out: the storage of [`Queue`](super::Queue).
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

/// Last in, first out: the storage of [`LifoQueue`](super::LifoQueue).
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

/// Lowest first: the storage of [`PriorityQueue`](super::PriorityQueue). Equal items come out in no set order.
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
