//! ASYNCIO.md "Queues", rule by rule.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use taskio::{ErrorKind, LifoQueue, PriorityQueue, Queue};
use taskio_tests::{block_on, spawn_thread as spawn, Polled};

/// Counts drops, to check items are dropped exactly once.
#[derive(Debug)]
struct Tracked(u32, Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn maxsize_zero_is_unbounded() {
    let q = Queue::new(0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
    assert!(Polled::new(q.put(1)).ready().is_ok());
}

#[test]
fn put_waits_while_full_and_put_nowait_fails_with_queue_full() {
    let q = Queue::new(2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(q.full());
    let err = q.put_nowait(3).unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::QueueFull);
    assert_eq!(err.into_item(), 3, "the item comes back");
    let mut put = Polled::new(q.put(3));
    put.pending();
    assert_eq!(q.get_nowait().unwrap(), 1);
    assert!(put.woken());
    put.ready().unwrap();
    assert_eq!(q.qsize(), 2);
}

#[test]
fn get_waits_while_empty_and_get_nowait_fails_with_queue_empty() {
    let q = Queue::new(0);
    assert_eq!(q.get_nowait().unwrap_err().kind(), ErrorKind::QueueEmpty);
    let mut get = Polled::new(q.get());
    get.pending();
    q.put_nowait(7).unwrap();
    assert!(get.woken());
    assert_eq!(get.ready().unwrap(), 7);
}

#[test]
fn waiting_getters_are_served_fifo() {
    let q = Queue::new(0);
    let mut a = Polled::new(q.get());
    let mut b = Polled::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(1).unwrap();
    assert!(a.woken() && !b.woken());
    // The item is promised to `a`: a newcomer cannot take it.
    assert_eq!(q.get_nowait().unwrap_err().kind(), ErrorKind::QueueEmpty);
    q.put_nowait(2).unwrap();
    assert!(b.woken());
    assert_eq!(
        b.ready().unwrap(),
        1,
        "FIFO storage: b takes the first item left"
    );
    assert_eq!(a.ready().unwrap(), 2);
}

#[test]
fn waiting_putters_are_served_fifo() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = Polled::new(q.put(1));
    let mut b = Polled::new(q.put(2));
    a.pending();
    b.pending();
    assert_eq!(q.get_nowait().unwrap(), 0);
    assert!(a.woken() && !b.woken());
    // The slot is promised to `a`.
    assert_eq!(
        q.put_nowait(9).unwrap_err().error().kind(),
        ErrorKind::QueueFull
    );
    b.pending();
    a.ready().unwrap();
    assert_eq!(q.get_nowait().unwrap(), 1);
    assert!(b.woken());
    b.ready().unwrap();
    assert_eq!(q.get_nowait().unwrap(), 2);
}

#[test]
fn woken_getter_cancelled_leaves_the_item_and_wakes_the_next() {
    let q = Queue::new(0);
    let mut a = Polled::new(q.get());
    let mut b = Polled::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait("x").unwrap();
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken());
    assert_eq!(q.qsize(), 1, "the item stayed in the queue");
    assert_eq!(b.ready().unwrap(), "x");
}

#[test]
fn woken_getter_cancelled_with_nobody_waiting_frees_the_item() {
    let q = Queue::new(0);
    let mut a = Polled::new(q.get());
    a.pending();
    q.put_nowait(5).unwrap();
    drop(a);
    assert_eq!(q.get_nowait().unwrap(), 5);
}

#[test]
fn cancelled_put_never_enqueues_its_item() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    q.put_nowait(Tracked(1, drops.clone())).unwrap();
    let mut put = Polled::new(q.put(Tracked(2, drops.clone())));
    put.pending();
    drop(put);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the put's item was dropped with it"
    );
    assert_eq!(q.get_nowait().unwrap().0, 1);
    assert!(q.empty());
}

#[test]
fn woken_putter_cancelled_passes_the_slot_on() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = Polled::new(q.put(1));
    let mut b = Polled::new(q.put(2));
    a.pending();
    b.pending();
    assert_eq!(q.get_nowait().unwrap(), 0);
    assert!(a.woken());
    drop(a);
    assert!(b.woken());
    b.ready().unwrap();
    assert_eq!(q.get_nowait().unwrap(), 2);
    assert!(q.empty());
}

#[test]
fn every_put_counts_one_unfinished_item_and_join_waits_for_zero() {
    let q = Queue::new(0);
    let mut join = Polled::new(q.join());
    join.ready().unwrap(); // nothing unfinished
    q.put_nowait(1).unwrap();
    Polled::new(q.put(2)).ready().unwrap();
    let mut join = Polled::new(q.join());
    join.pending();
    q.get_nowait().unwrap();
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(!join.woken(), "one item is still unfinished");
    join.pending();
    q.task_done().unwrap();
    assert!(join.woken());
    join.ready().unwrap();
}

#[test]
fn task_done_below_zero_is_an_error() {
    let q = Queue::new(0);
    assert_eq!(q.task_done().unwrap_err().kind(), ErrorKind::Value);
    q.put_nowait(()).unwrap();
    q.task_done().unwrap();
    assert!(q.task_done().is_err());
}

#[test]
fn shutdown_fails_puts_including_waiting_ones() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut waiting = Polled::new(q.put(2));
    waiting.pending();
    q.shutdown(false);
    assert!(waiting.woken());
    let err = waiting.ready().unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::QueueShutDown);
    assert_eq!(err.into_item(), 2);
    let err = q.put_nowait(3).unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::QueueShutDown);
    let err = Polled::new(q.put(4)).ready().unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::QueueShutDown);
}

#[test]
fn shutdown_fails_a_putter_woken_for_a_slot_before_it_ran() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut put = Polled::new(q.put(2));
    put.pending();
    assert_eq!(q.get_nowait().unwrap(), 1); // slot promised to `put`
    q.shutdown(false);
    let err = put.ready().unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::QueueShutDown);
    assert!(q.empty());
}

#[test]
fn shutdown_gets_drain_then_fail() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    assert_eq!(Polled::new(q.get()).ready().unwrap(), 1);
    assert_eq!(q.get_nowait().unwrap(), 2);
    assert_eq!(q.get_nowait().unwrap_err().kind(), ErrorKind::QueueShutDown);
    let err = Polled::new(q.get()).ready().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueShutDown);
}

#[test]
fn shutdown_wakes_waiting_getters_of_an_empty_queue() {
    let q = Queue::<u8>::new(0);
    let mut a = Polled::new(q.get());
    a.pending();
    q.shutdown(false);
    assert!(a.woken());
    assert_eq!(a.ready().unwrap_err().kind(), ErrorKind::QueueShutDown);
}

#[test]
fn shutdown_immediate_drops_items_lowers_unfinished_and_releases_join() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for i in 0..3 {
        q.put_nowait(Tracked(i, drops.clone())).unwrap();
    }
    let mut join = Polled::new(q.join());
    join.pending();
    q.shutdown(true);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "the items were dropped");
    assert!(q.empty());
    assert!(join.woken());
    join.ready().unwrap();
    drop(join);
    assert!(
        q.task_done().is_err(),
        "the unfinished count dropped to zero"
    );
    assert_eq!(q.get_nowait().unwrap_err().kind(), ErrorKind::QueueShutDown);
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "dropped exactly once");
}

#[test]
fn shutdown_immediate_keeps_items_already_taken_unfinished() {
    // CPython 3.13: only the dropped items leave the count.
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.get_nowait().unwrap();
    q.shutdown(true);
    let mut join = Polled::new(q.join());
    join.pending();
    q.task_done().unwrap();
    assert!(join.woken());
    join.ready().unwrap();
}

#[test]
fn shutdown_immediate_fails_a_getter_woken_for_an_item() {
    let q = Queue::new(0);
    let mut a = Polled::new(q.get());
    a.pending();
    q.put_nowait(1).unwrap(); // promised to `a`
    q.shutdown(true);
    assert_eq!(a.ready().unwrap_err().kind(), ErrorKind::QueueShutDown);
}

#[test]
fn priority_queue_gives_lowest_first() {
    let q = PriorityQueue::new(0);
    for n in [5, 1, 4, 2, 3] {
        q.put_nowait(n).unwrap();
    }
    let out: Vec<_> = (0..5).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(out, [1, 2, 3, 4, 5]);
}

#[test]
fn lifo_queue_gives_last_first() {
    let q = LifoQueue::new(0);
    for n in 1..=3 {
        q.put_nowait(n).unwrap();
    }
    let out: Vec<_> = (0..3).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(out, [3, 2, 1]);
}

#[test]
fn bounded_lifo_and_priority_queues_wait_too() {
    let q = LifoQueue::new(1);
    q.put_nowait(1).unwrap();
    let mut put = Polled::new(q.put(2));
    put.pending();
    assert_eq!(q.get_nowait().unwrap(), 1);
    put.ready().unwrap();
    let p = PriorityQueue::new(1);
    let mut get = Polled::new(p.get());
    get.pending();
    p.put_nowait(3).unwrap();
    assert_eq!(get.ready().unwrap(), 3);
}

#[test]
fn dropping_the_queue_drops_its_items_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for i in 0..4 {
        q.put_nowait(Tracked(i, drops.clone())).unwrap();
    }
    drop(q.get_nowait().unwrap());
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn producer_consumer_across_threads_with_join() {
    let q = Arc::new(Queue::new(4));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            spawn(async move {
                let mut sum = 0u64;
                while let Ok(n) = q.get().await {
                    sum += n;
                    q.task_done().unwrap();
                }
                sum
            })
        })
        .collect();
    block_on(async {
        for n in 1..=1000u64 {
            q.put(n).await.unwrap();
        }
        q.join().await.unwrap();
        q.shutdown(false);
    });
    let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(total, 500_500);
}
