//! proptest properties of the primitives under real thread concurrency. Each property is
//! named after the invariant it checks.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use taskio::__testing::{block_on, noop_waker, spawn};
use taskio::{ErrorKind, Lock, Queue, Semaphore};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    }
}

/// Polls `fut` once with a no-op waker and drops it: a waiter cancelled at a random point.
fn poll_once_and_drop<F: Future>(fut: F) -> bool {
    let mut fut = std::pin::pin!(fut);
    let waker = noop_waker();
    fut.as_mut()
        .poll(&mut std::task::Context::from_waker(&waker))
        .is_ready()
}

proptest! {
    #![proptest_config(config())]

    /// Concurrent producers and consumers: every item is received exactly once, and each
    /// consumer sees each producer's items in the order they were put.
    #[test]
    fn queue_loses_and_duplicates_nothing_and_keeps_fifo_per_producer(
        producers in 1usize..4,
        consumers in 1usize..4,
        per_producer in 0u32..300,
        maxsize in 0usize..6,
        cancel_every in 0u32..5,
    ) {
        let q = Arc::new(Queue::new(maxsize));
        let consumer_threads: Vec<_> = (0..consumers)
            .map(|_| {
                let q = q.clone();
                spawn(async move {
                    let mut got = Vec::new();
                    let mut n = 0u32;
                    loop {
                        n += 1;
                        if cancel_every != 0 && n % cancel_every == 0 {
                            // A get cancelled after one poll must not lose an item.
                            let mut fut = std::pin::pin!(q.get());
                            let waker = noop_waker();
                            let cx = &mut std::task::Context::from_waker(&waker);
                            if let std::task::Poll::Ready(r) = fut.as_mut().poll(cx) {
                                match r {
                                    Ok(item) => got.push(item),
                                    Err(e) => {
                                        assert_eq!(e.kind(), ErrorKind::QueueShutDown);
                                        break;
                                    }
                                }
                            }
                            continue;
                        }
                        match q.get().await {
                            Ok(item) => got.push(item),
                            Err(e) => {
                                assert_eq!(e.kind(), ErrorKind::QueueShutDown);
                                break;
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                let q = q.clone();
                spawn(async move {
                    let mut sentinels_put = 0usize;
                    for seq in 0..per_producer {
                        if cancel_every != 0 && seq % cancel_every == 0 {
                            // A put dropped before it completes must not enqueue; one that
                            // completed on its first poll did.
                            if poll_once_and_drop(q.put((p, u32::MAX))) {
                                sentinels_put += 1;
                            }
                        }
                        q.put((p, seq)).await.unwrap();
                    }
                    sentinels_put
                })
            })
            .collect();
        let sentinels_put: usize = producer_threads.into_iter().map(|t| t.join().unwrap()).sum();
        q.shutdown(false);
        let received: Vec<Vec<(usize, u32)>> =
            consumer_threads.into_iter().map(|t| t.join().unwrap()).collect();

        let mut counts: HashMap<(usize, u32), usize> = HashMap::new();
        let mut sentinels = 0usize;
        for got in &received {
            let mut last: HashMap<usize, u32> = HashMap::new();
            for &(p, seq) in got {
                if seq == u32::MAX {
                    sentinels += 1; // a cancelled put that completed on its first poll
                    continue;
                }
                if let Some(&prev) = last.get(&p) {
                    prop_assert!(prev < seq, "producer {} out of order: {} then {}", p, prev, seq);
                }
                last.insert(p, seq);
                *counts.entry((p, seq)).or_default() += 1;
            }
        }
        prop_assert_eq!(sentinels, sentinels_put, "a cancelled put enqueued its item");
        prop_assert_eq!(counts.len(), producers * per_producer as usize, "lost items");
        prop_assert!(counts.values().all(|&c| c == 1), "duplicated items");
    }

    /// However many tasks compete, and however many of them give up while waiting, no more
    /// than `value` are ever inside, and every permit comes back.
    #[test]
    fn semaphore_never_admits_more_than_its_value(
        value in 1usize..4,
        tasks in 1usize..6,
        rounds in 1usize..60,
        cancel_every in 0usize..4,
    ) {
        let sem = Arc::new(Semaphore::new(value));
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..tasks)
            .map(|_| {
                let (sem, inside, max_inside) = (sem.clone(), inside.clone(), max_inside.clone());
                spawn(async move {
                    for round in 0..rounds {
                        if cancel_every != 0 && round % cancel_every == 0 {
                            // Registers (or acquires at once) and is dropped.
                            poll_once_and_drop(sem.acquire());
                        }
                        let _permit = sem.acquire().await;
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max_inside.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        prop_assert!(max_inside.load(Ordering::SeqCst) <= value);
        prop_assert_eq!(sem.value(), value, "a permit was lost or made up");
        prop_assert!(!sem.locked());
    }

    /// A lock contended by threads, some of whose waiters are cancelled, excludes and ends
    /// free.
    #[test]
    fn lock_excludes_and_ends_free_under_cancellation(
        tasks in 1usize..5,
        rounds in 1usize..80,
        cancel_every in 0usize..4,
    ) {
        let lock = Arc::new(Lock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..tasks)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                spawn(async move {
                    for round in 0..rounds {
                        if cancel_every != 0 && round % cancel_every == 0 {
                            poll_once_and_drop(lock.acquire());
                        }
                        let _g = lock.acquire().await;
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        prop_assert!(!lock.locked());
        let free = block_on(async { lock.try_acquire().is_some() });
        prop_assert!(free);
    }
}
