//! proptest properties of the primitives under real thread concurrency. Each property is
//! named after the invariant it checks.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use proptest::prelude::*;
use taskio::{ErrorKind, Lock, Queue, Semaphore};
use taskio_tests::{block_on, noop_waker, spawn_thread as spawn, Polled};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
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
                            if let Poll::Ready(r) = fut.as_mut().poll(cx) {
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

/// One step of the single-threaded queue scenario.
#[derive(Clone, Debug)]
enum Op {
    PutNowait,
    GetNowait,
    StartPut,
    StartGet,
    Poll(usize),
    Drop(usize),
    TaskDone,
    Shutdown(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::PutNowait),
        3 => Just(Op::GetNowait),
        3 => Just(Op::StartPut),
        3 => Just(Op::StartGet),
        6 => any::<usize>().prop_map(Op::Poll),
        2 => any::<usize>().prop_map(Op::Drop),
        2 => Just(Op::TaskDone),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

type Q = Queue<u32>;

enum Pending<'a> {
    Get(Polled<taskio::queues::Get<'a, u32, taskio::queues::Fifo<u32>>>),
    Put(
        Polled<taskio::queues::Put<'a, u32, taskio::queues::Fifo<u32>>>,
        u32,
    ),
}

/// What the scenario observed.
#[derive(Default)]
struct Seen {
    /// Items in the order their put completed.
    put: Vec<u32>,
    /// Items in the order their get completed.
    got: Vec<u32>,
    /// `put.len()` minus `task_done`s minus items dropped by an immediate shutdown.
    unfinished: usize,
    shut_down: bool,
    immediate: bool,
}

impl Seen {
    fn check_fifo(&self) -> std::result::Result<(), TestCaseError> {
        prop_assert!(self.got.len() <= self.put.len());
        prop_assert_eq!(&self.got[..], &self.put[..self.got.len()], "not FIFO");
        Ok(())
    }
}

/// Polls `p`; on completion records the outcome and returns true.
fn poll_pending(p: &mut Pending<'_>, seen: &mut Seen) -> std::result::Result<bool, TestCaseError> {
    match p {
        Pending::Get(f) => match f.poll() {
            Poll::Pending => Ok(false),
            Poll::Ready(Ok(v)) => {
                seen.got.push(v);
                seen.check_fifo()?;
                Ok(true)
            }
            Poll::Ready(Err(e)) => {
                prop_assert!(seen.shut_down);
                prop_assert_eq!(e.kind(), ErrorKind::QueueShutDown);
                Ok(true)
            }
        },
        Pending::Put(f, v) => match f.poll() {
            Poll::Pending => Ok(false),
            Poll::Ready(Ok(())) => {
                prop_assert!(!seen.shut_down);
                seen.put.push(*v);
                seen.unfinished += 1;
                Ok(true)
            }
            Poll::Ready(Err(e)) => {
                prop_assert!(seen.shut_down);
                prop_assert_eq!(e.error().kind(), ErrorKind::QueueShutDown);
                prop_assert_eq!(e.into_item(), *v, "the item comes back");
                Ok(true)
            }
        },
    }
}

fn woken(p: &Pending<'_>) -> bool {
    match p {
        Pending::Get(f) => f.woken_since_poll(),
        Pending::Put(f, _) => f.woken_since_poll(),
    }
}

fn run_scenario(maxsize: usize, ops: &[Op]) -> std::result::Result<(), TestCaseError> {
    let q = Q::new(maxsize);
    let mut seen = Seen::default();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut next = 0u32;
    for op in ops {
        match op {
            Op::PutNowait => {
                next += 1;
                match q.put_nowait(next) {
                    Ok(()) => {
                        prop_assert!(!seen.shut_down);
                        // No barging: a successful put_nowait means no putter is waiting
                        // unwoken for the slot it took.
                        prop_assert!(pending
                            .iter()
                            .all(|p| matches!(p, Pending::Get(_)) || woken(p)));
                        seen.put.push(next);
                        seen.unfinished += 1;
                    }
                    Err(e) => {
                        let kind = if seen.shut_down {
                            ErrorKind::QueueShutDown
                        } else {
                            ErrorKind::QueueFull
                        };
                        prop_assert_eq!(e.error().kind(), kind);
                        prop_assert!(maxsize > 0 || seen.shut_down, "unbounded never full");
                    }
                }
            }
            Op::GetNowait => match q.get_nowait() {
                Ok(v) => {
                    prop_assert!(pending
                        .iter()
                        .all(|p| matches!(p, Pending::Put(..)) || woken(p)));
                    seen.got.push(v);
                    seen.check_fifo()?;
                }
                Err(e) => {
                    // After a shutdown nothing more will come: items still in the queue
                    // are promised to woken getters.
                    let expected = if seen.shut_down {
                        ErrorKind::QueueShutDown
                    } else {
                        ErrorKind::QueueEmpty
                    };
                    prop_assert_eq!(e.kind(), expected);
                }
            },
            Op::StartPut => {
                next += 1;
                let mut p = Pending::Put(Polled::new(q.put(next)), next);
                if !poll_pending(&mut p, &mut seen)? {
                    pending.push(p);
                }
            }
            Op::StartGet => {
                let mut p = Pending::Get(Polled::new(q.get()));
                if !poll_pending(&mut p, &mut seen)? {
                    pending.push(p);
                }
            }
            Op::Poll(i) if !pending.is_empty() => {
                let i = i % pending.len();
                let was_woken = woken(&pending[i]);
                let done = poll_pending(&mut pending[i], &mut seen)?;
                // Progress only ever comes with a wake-up.
                prop_assert!(!done || was_woken, "completed without being woken");
                if done {
                    drop(pending.remove(i));
                }
            }
            Op::Drop(i) if !pending.is_empty() => {
                let i = i % pending.len();
                drop(pending.remove(i));
            }
            Op::Poll(_) | Op::Drop(_) => {}
            Op::TaskDone => {
                let r = q.task_done();
                prop_assert_eq!(r.is_ok(), seen.unfinished > 0);
                seen.unfinished = seen.unfinished.saturating_sub(1);
            }
            Op::Shutdown(immediate) => {
                if *immediate {
                    seen.unfinished = seen.unfinished.saturating_sub(q.qsize());
                    seen.immediate = true;
                }
                seen.shut_down = true;
                q.shutdown(*immediate);
                prop_assert!(q.put_nowait(0).is_err());
            }
        }
        let join_ready = Polled::new(q.join()).poll().is_ready();
        prop_assert_eq!(join_ready, seen.unfinished == 0);
    }
    // Shut down: every waiter must have been woken, and completes when polled.
    seen.shut_down = true;
    q.shutdown(false);
    for mut p in pending.drain(..) {
        prop_assert!(woken(&p), "a waiter was not woken by shutdown");
        prop_assert!(
            poll_pending(&mut p, &mut seen)?,
            "woken by shutdown but still pending"
        );
    }
    while let Ok(v) = q.get_nowait() {
        seen.got.push(v);
    }
    seen.check_fifo()?;
    if !seen.immediate {
        prop_assert_eq!(seen.got.len(), seen.put.len(), "items lost");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A random single-threaded sequence of puts, gets, waits, cancellations, task_dones and
    /// shutdowns: items come out in put order, none is lost or duplicated, a put's item
    /// comes back when it fails, nothing completes without a wake-up, no `*_nowait` barges
    /// past an unwoken waiter, `task_done`/`join` follow the unfinished count, and shutdown
    /// wakes every waiter.
    #[test]
    fn queue_matches_its_model_under_random_operations(
        maxsize in 0usize..4,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        run_scenario(maxsize, &ops)?;
    }
}

/// One step of the single-threaded semaphore / lock scenarios.
#[derive(Clone, Debug)]
enum SemOp {
    TryAcquire,
    StartAcquire,
    Poll(usize),
    DropWaiter(usize),
    DropHeld(usize),
    Release,
}

fn sem_op() -> impl Strategy<Value = SemOp> {
    prop_oneof![
        2 => Just(SemOp::TryAcquire),
        3 => Just(SemOp::StartAcquire),
        4 => any::<usize>().prop_map(SemOp::Poll),
        2 => any::<usize>().prop_map(SemOp::DropWaiter),
        3 => any::<usize>().prop_map(SemOp::DropHeld),
        1 => Just(SemOp::Release),
    ]
}

/// FIFO: when waiter `i` completes, every live waiter that arrived before it has been woken.
fn check_fifo_wakes<F: Future>(
    pending: &[(u64, Polled<F>)],
    seq: u64,
) -> std::result::Result<(), TestCaseError> {
    for (s, p) in pending {
        if *s < seq {
            prop_assert!(p.woken_since_poll(), "waiter {} served before {}", seq, s);
        }
    }
    Ok(())
}

fn run_semaphore(initial: usize, ops: &[SemOp]) -> std::result::Result<(), TestCaseError> {
    let sem = Semaphore::new(initial);
    let mut total = initial; // permits that exist: initial + manual releases
    let mut held = Vec::new();
    let mut pending = Vec::new();
    let mut next = 0u64;
    for op in ops {
        match op {
            SemOp::TryAcquire => {
                if let Some(p) = sem.try_acquire() {
                    prop_assert!(
                        pending
                            .iter()
                            .all(|(_, w): &(u64, Polled<_>)| w.woken_since_poll()),
                        "try_acquire barged past a waiter"
                    );
                    held.push(p);
                }
            }
            SemOp::StartAcquire => {
                next += 1;
                let mut w = Polled::new(sem.acquire());
                match w.poll() {
                    Poll::Ready(p) => {
                        check_fifo_wakes(&pending, next)?;
                        prop_assert!(pending.iter().all(|(_, w)| w.woken_since_poll()));
                        held.push(p.unwrap());
                    }
                    Poll::Pending => pending.push((next, w)),
                }
            }
            SemOp::Poll(i) if !pending.is_empty() => {
                let i = i % pending.len();
                let was_woken = pending[i].1.woken_since_poll();
                if let Poll::Ready(p) = pending[i].1.poll() {
                    prop_assert!(was_woken, "completed without a wake-up");
                    let (seq, _) = pending.remove(i);
                    check_fifo_wakes(&pending, seq)?;
                    held.push(p.unwrap());
                }
            }
            SemOp::DropWaiter(i) if !pending.is_empty() => {
                let i = i % pending.len();
                drop(pending.remove(i));
            }
            SemOp::DropHeld(i) if !held.is_empty() => {
                let i = i % held.len();
                drop(held.remove(i));
            }
            SemOp::Poll(_) | SemOp::DropWaiter(_) | SemOp::DropHeld(_) => {}
            SemOp::Release => {
                sem.release();
                total += 1;
            }
        }
        prop_assert!(held.len() + sem.value() <= total, "more permits than exist");
        prop_assert_eq!(sem.locked(), sem.value() == 0 || !pending.is_empty());
    }
    // Drain: every permit that exists ends up back in the count.
    drop(held);
    while !pending.is_empty() {
        let i = pending
            .iter()
            .position(|(_, w)| w.woken_since_poll())
            .unwrap_or(0);
        let (_, mut w) = pending.remove(i);
        if w.woken_since_poll() {
            let ready = w.poll();
            prop_assert!(ready.is_ready(), "woken but not ready");
        }
        // Drop it (and its permit, if any): a woken waiter's permit passes on.
    }
    prop_assert_eq!(sem.value(), total, "a permit was lost or made up");
    Ok(())
}

fn run_lock(ops: &[SemOp]) -> std::result::Result<(), TestCaseError> {
    let lock = Lock::new();
    let mut held = Vec::new(); // at most one guard
    let mut detached = false; // held with no guard (manual style)
    let mut pending = Vec::new();
    let mut next = 0u64;
    for op in ops {
        match op {
            SemOp::TryAcquire => {
                if let Some(g) = lock.try_acquire() {
                    prop_assert!(pending.is_empty(), "try_acquire barged past a waiter");
                    held.push(g);
                }
            }
            SemOp::StartAcquire => {
                next += 1;
                let mut w = Polled::new(lock.acquire());
                match w.poll() {
                    Poll::Ready(g) => {
                        prop_assert!(pending.is_empty());
                        held.push(g.unwrap());
                    }
                    Poll::Pending => pending.push((next, w)),
                }
            }
            SemOp::Poll(i) if !pending.is_empty() => {
                let i = i % pending.len();
                let was_woken = pending[i].1.woken_since_poll();
                if let Poll::Ready(g) = pending[i].1.poll() {
                    prop_assert!(was_woken, "completed without a wake-up");
                    let (seq, _) = pending.remove(i);
                    check_fifo_wakes(&pending, seq)?;
                    held.push(g.unwrap());
                }
            }
            SemOp::DropWaiter(i) if !pending.is_empty() => {
                let i = i % pending.len();
                drop(pending.remove(i));
            }
            SemOp::DropHeld(i) if !held.is_empty() => {
                // Alternate between dropping the guard and detaching it.
                let g = held.remove(i % held.len());
                if i % 2 == 0 {
                    drop(g);
                } else {
                    g.detach();
                    detached = true;
                }
            }
            SemOp::Poll(_) | SemOp::DropWaiter(_) | SemOp::DropHeld(_) => {}
            SemOp::Release => {
                let r = lock.release();
                prop_assert_eq!(r.is_ok(), !held.is_empty() || detached);
                if r.is_ok() {
                    // Whoever held it released: a guard left over is now stale.
                    held.clear();
                    detached = false;
                }
            }
        }
        prop_assert!(held.len() + usize::from(detached) <= 1, "two holders");
        prop_assert_eq!(lock.locked(), !held.is_empty() || detached);
    }
    drop(held);
    if detached {
        lock.release().unwrap();
    }
    while !pending.is_empty() {
        let i = pending
            .iter()
            .position(|(_, w)| w.woken_since_poll())
            .unwrap_or(0);
        let (_, mut w) = pending.remove(i);
        if w.woken_since_poll() {
            prop_assert!(w.poll().is_ready(), "woken but not ready");
        }
    }
    prop_assert!(!lock.locked());
    prop_assert!(lock.try_acquire().is_some(), "the lock leaked");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random acquires, cancellations, releases: never more holders than permits, FIFO
    /// service, no barging, no progress without a wake-up, `locked()` as asyncio defines
    /// it, and every permit back in the count at the end.
    #[test]
    fn semaphore_matches_its_model_under_random_operations(
        initial in 0usize..3,
        ops in proptest::collection::vec(sem_op(), 0..60),
    ) {
        run_semaphore(initial, &ops)?;
    }

    /// The same for Lock, with guards, detached holds and explicit releases mixed: one
    /// holder at most, `release` fails exactly when nobody holds it, FIFO, and the lock is
    /// free at the end.
    #[test]
    fn lock_matches_its_model_under_random_operations(
        ops in proptest::collection::vec(sem_op(), 0..60),
    ) {
        run_lock(&ops)?;
    }
}
