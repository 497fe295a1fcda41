//! Stress, by property: `stress` (a million tasks, drop-counted), `spsc` (ping-pong over a
//! hand-made channel), `stampede` (wakes from many threads, aborts racing wakes),
//! `no_starvation` (yield storm), and deep spawn chains. A lost wake-up hangs, which the
//! watchdog of `rt_tests!` turns into a failure; a leak or double drop breaks the counters.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use taskio_runtime::{spawn, yield_now, JoinHandle};
use taskio_tests::{chan, rt_tests, Counts, Flavor};

rt_tests! {
    stress_million_tasks,
    spsc_ping_pong,
    no_starvation_yield_storm,
    spawn_chain_depth,
    stampede_wakes_from_threads,
    stampede_abort_racing_wakes,
    no_starvation_lifo_pair,
    no_starvation_busy_yielders,
    stress_cross_runtime_ping_pong,
    stress_runtime_churn,
}

/// Counts down; the last `done` wakes the waiter.
struct Countdown {
    remaining: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Countdown {
    fn new(n: usize) -> Arc<Countdown> {
        Arc::new(Countdown {
            remaining: AtomicUsize::new(n),
            waker: Mutex::new(None),
        })
    }

    fn done(&self) {
        if self.remaining.fetch_sub(1, SeqCst) == 1 {
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.remaining.load(SeqCst) == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// One task of the million: its future and its output are drop-counted.
fn counted_task(
    counts: &Arc<Counts>,
    countdown: &Arc<Countdown>,
    i: u64,
) -> impl Future<Output = taskio_tests::Out> + Send + 'static {
    let g = counts.fut_guard();
    let c = counts.clone();
    let d = countdown.clone();
    async move {
        let _g = g;
        if i % 8 == 0 {
            yield_now().await;
        }
        d.done();
        c.out(i)
    }
}

fn stress_million_tasks(flavor: Flavor) {
    const OUTSIDE_THREADS: u64 = 4;
    const PER_OUTSIDE_THREAD: u64 = 125_000;
    const INSIDE_SPAWNERS: u64 = 100;
    const PER_INSIDE_SPAWNER: u64 = 5_000;
    const TOTAL: u64 = OUTSIDE_THREADS * PER_OUTSIDE_THREAD + INSIDE_SPAWNERS * PER_INSIDE_SPAWNER;
    assert_eq!(TOTAL, 1_000_000);

    let rt = flavor.rt();
    let counts = Counts::new();
    let countdown = Countdown::new(TOTAL as usize);
    let value_sum = Arc::new(AtomicUsize::new(0));
    // Outside threads: every other handle goes to the block_on future to be awaited, the
    // rest are detached (their outputs are dropped by the runtime).
    let (tx, mut rx) = chan::<JoinHandle<taskio_tests::Out>>();
    let outside: Vec<_> = (0..OUTSIDE_THREADS)
        .map(|t| {
            let handle = rt.handle().clone();
            let tx = tx.clone();
            let counts = counts.clone();
            let countdown = countdown.clone();
            thread::spawn(move || {
                for k in 0..PER_OUTSIDE_THREAD {
                    let i = t * PER_OUTSIDE_THREAD + k;
                    let h = handle.spawn(counted_task(&counts, &countdown, i));
                    if i % 2 == 0 {
                        tx.send(h);
                    }
                }
            })
        })
        .collect();
    drop(tx);
    rt.block_on(async {
        // Inside: spawner tasks spawn from a task, awaiting half their children.
        let spawners: Vec<_> = (0..INSIDE_SPAWNERS)
            .map(|s| {
                let counts = counts.clone();
                let countdown = countdown.clone();
                let value_sum = value_sum.clone();
                spawn(async move {
                    let base = OUTSIDE_THREADS * PER_OUTSIDE_THREAD + s * PER_INSIDE_SPAWNER;
                    let mut awaited = Vec::new();
                    for k in 0..PER_INSIDE_SPAWNER {
                        let i = base + k;
                        let h = spawn(counted_task(&counts, &countdown, i));
                        if i % 2 == 0 {
                            awaited.push(h);
                        }
                    }
                    for h in awaited {
                        let out = h.await.unwrap();
                        value_sum.fetch_add(out.value as usize, SeqCst);
                    }
                })
            })
            .collect();
        let outside_awaited = (OUTSIDE_THREADS * PER_OUTSIDE_THREAD / 2) as usize;
        for _ in 0..outside_awaited {
            let out = rx.recv().await.await.unwrap();
            value_sum.fetch_add(out.value as usize, SeqCst);
        }
        for s in spawners {
            s.await.unwrap();
        }
        countdown.wait().await;
    });
    for t in outside {
        t.join().unwrap();
    }
    // Every task body ran to its end; the even ones' outputs came back here.
    let expected_even_sum: u64 = (0..TOTAL).filter(|i| i % 2 == 0).sum();
    assert_eq!(value_sum.load(SeqCst) as u64, expected_even_sum);
    drop(rt);
    let total = TOTAL as usize;
    assert_eq!(counts.fut_created.load(SeqCst), total);
    assert_eq!(
        counts.futs_dropped(),
        total,
        "futures leaked or dropped twice"
    );
    assert_eq!(counts.out_created.load(SeqCst), total);
    assert_eq!(
        counts.outs_dropped(),
        total,
        "outputs leaked or dropped twice"
    );
    assert_eq!(
        Arc::strong_count(&counts),
        1,
        "a task cell kept its future alive"
    );
    assert_eq!(Arc::strong_count(&countdown), 1);
}

fn spsc_ping_pong(flavor: Flavor) {
    const ROUND_TRIPS: u64 = 100_000;
    let rt = flavor.rt();
    let (ping_tx, mut ping_rx) = chan::<u64>();
    let (pong_tx, mut pong_rx) = chan::<u64>();
    let total = rt.block_on(async move {
        let ponger = spawn(async move {
            for _ in 0..ROUND_TRIPS {
                let v = ping_rx.recv().await;
                pong_tx.send(v + 1);
            }
        });
        let pinger = spawn(async move {
            let mut v = 0;
            for _ in 0..ROUND_TRIPS {
                ping_tx.send(v);
                v = pong_rx.recv().await;
            }
            v
        });
        ponger.await.unwrap();
        pinger.await.unwrap()
    });
    assert_eq!(total, ROUND_TRIPS);
}

fn no_starvation_yield_storm(flavor: Flavor) {
    const TASKS: usize = 1000;
    const YIELDS: usize = 100;
    let rt = flavor.rt();
    let polls = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let hs: Vec<_> = (0..TASKS)
            .map(|_| {
                let polls = polls.clone();
                spawn(async move {
                    for _ in 0..YIELDS {
                        polls.fetch_add(1, SeqCst);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(polls.load(SeqCst), TASKS * YIELDS);
}

fn chain(depth: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 0;
        }
        spawn(chain(depth - 1)).await.unwrap() + 1
    })
}

fn spawn_chain_depth(flavor: Flavor) {
    const DEPTH: u32 = 10_000;
    let rt = flavor.rt();
    // Each task spawns the next and awaits it: 10k tasks alive at once, resolved from the
    // bottom up through join wakers.
    assert_eq!(rt.block_on(rt.spawn(chain(DEPTH))).unwrap(), DEPTH);
    // A detached chain: each task spawns the next and finishes; the last one reports.
    let (tx, mut rx) = chan::<u32>();
    fn detached(n: u32, tx: taskio_tests::Sender<u32>) {
        drop(spawn(async move {
            if n == 0 {
                tx.send(DEPTH);
            } else {
                detached(n - 1, tx);
            }
        }));
    }
    let got = rt.block_on(async move {
        detached(DEPTH, tx);
        rx.recv().await
    });
    assert_eq!(got, DEPTH);
}

fn stampede_wakes_from_threads(flavor: Flavor) {
    const TASKS: usize = 200;
    const MSGS: u64 = 200;
    const THREADS: usize = 4;
    let rt = flavor.rt();
    let mut senders = Vec::new();
    let mut joins = Vec::new();
    for _ in 0..TASKS {
        let (tx, mut rx) = chan::<u64>();
        senders.push(tx);
        joins.push(rt.spawn(async move {
            let mut sum = 0;
            for _ in 0..MSGS * THREADS as u64 {
                sum += rx.recv().await;
            }
            sum
        }));
    }
    let senders = Arc::new(senders);
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let senders = senders.clone();
            thread::spawn(move || {
                for m in 0..MSGS {
                    for s in senders.iter() {
                        s.send(m);
                    }
                }
            })
        })
        .collect();
    let sums = rt.block_on(async {
        let mut sums = Vec::new();
        for j in joins {
            sums.push(j.await.unwrap());
        }
        sums
    });
    for t in threads {
        t.join().unwrap();
    }
    let expected = THREADS as u64 * (0..MSGS).sum::<u64>();
    assert!(sums.iter().all(|&s| s == expected));
}

fn stampede_abort_racing_wakes(flavor: Flavor) {
    const TASKS: u64 = 5_000;
    let rt = flavor.rt();
    let counts = Counts::new();
    let mut senders = Vec::new();
    let mut joins = Vec::new();
    for i in 0..TASKS {
        let (tx, mut rx) = chan::<u64>();
        let g = counts.fut_guard();
        let c = counts.clone();
        senders.push(tx);
        joins.push(rt.spawn(async move {
            let _g = g;
            let v = rx.recv().await;
            yield_now().await;
            c.out(v + i)
        }));
    }
    // One thread wakes every task while another aborts the odd ones.
    let senders = Arc::new(senders);
    let joins = Arc::new(joins);
    let waker = {
        let senders = senders.clone();
        thread::spawn(move || {
            for s in senders.iter() {
                s.send(1);
            }
        })
    };
    let aborter = {
        let joins = joins.clone();
        thread::spawn(move || {
            for h in joins.iter().skip(1).step_by(2) {
                h.abort();
            }
        })
    };
    waker.join().unwrap();
    aborter.join().unwrap();
    let joins = Arc::try_unwrap(joins).unwrap();
    let (ok, cancelled) = rt.block_on(async {
        let (mut ok, mut cancelled) = (0, 0);
        for (i, h) in joins.into_iter().enumerate() {
            match h.await {
                Ok(out) => {
                    assert_eq!(out.value, i as u64 + 1);
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "{e:?}");
                    assert!(i % 2 == 1, "task {i} was never aborted");
                    cancelled += 1;
                }
            }
        }
        (ok, cancelled)
    });
    assert_eq!(ok + cancelled, TASKS as usize);
    assert!(ok >= TASKS as usize / 2);
    drop(rt);
    assert_eq!(counts.futs_dropped(), TASKS as usize);
    assert_eq!(counts.outs_dropped(), counts.out_created.load(SeqCst));
    assert_eq!(counts.out_created.load(SeqCst), ok);
    assert_eq!(Arc::strong_count(&counts), 1);
}

/// A message-passing pair that is always ready (and would live in the LIFO slot forever)
/// does not starve a task waiting in the queue, nor the `block_on` future, nor a task
/// spawned from outside.
fn no_starvation_lifo_pair(flavor: Flavor) {
    let rt = flavor.rt();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (a_tx, mut a_rx) = chan::<u64>();
    let (b_tx, mut b_rx) = chan::<u64>();
    let s1 = stop.clone();
    let ping = rt.spawn(async move {
        let mut n = 0;
        while !s1.load(SeqCst) {
            a_tx.send(n);
            n = b_rx.recv().await;
        }
        // Tell the other side to stop.
        a_tx.send(u64::MAX);
        n
    });
    let pong = rt.spawn(async move {
        loop {
            let n = a_rx.recv().await;
            if n == u64::MAX {
                return;
            }
            b_tx.send(n + 1);
        }
    });
    // Spawned from outside while the pair runs; it stops them.
    let stopper = {
        let handle = rt.handle().clone();
        let stop = stop.clone();
        thread::spawn(move || {
            handle.spawn(async move {
                stop.store(true, SeqCst);
            })
        })
    };
    let stopper = stopper.join().unwrap();
    rt.block_on(async {
        stopper.await.unwrap();
        ping.await.unwrap();
        pong.await.unwrap();
    });
}

/// Tasks that yield forever do not starve the `block_on` future woken from another
/// thread, nor a queued task.
fn no_starvation_busy_yielders(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    for _ in 0..8 {
        let g = counts.fut_guard();
        drop(rt.spawn(async move {
            let _g = g;
            loop {
                yield_now().await;
            }
        }));
    }
    let (tx, mut rx) = chan::<u32>();
    let t = thread::spawn(move || tx.send(11));
    let v = rt.block_on(async {
        let v = rx.recv().await;
        v + spawn(async { 1 }).await.unwrap()
    });
    t.join().unwrap();
    assert_eq!(v, 12);
    drop(rt);
    assert_eq!(counts.futs_dropped(), 8);
}

/// Ping-pong between tasks of two different runtimes of the same flavour (each wake
/// crosses runtimes: the waking thread is inside the other runtime), awaiting each other's
/// join handles at the end.
fn stress_cross_runtime_ping_pong(flavor: Flavor) {
    const ROUND_TRIPS: u64 = 20_000;
    let rt1 = flavor.rt();
    let rt2 = Arc::new(flavor.rt());
    let (ping_tx, mut ping_rx) = chan::<u64>();
    let (pong_tx, mut pong_rx) = chan::<u64>();
    let ponger = rt2.spawn(async move {
        for _ in 0..ROUND_TRIPS {
            let v = ping_rx.recv().await;
            pong_tx.send(v + 1);
        }
        ROUND_TRIPS
    });
    // Someone must drive rt2 if it is a current-thread runtime: a thread in its block_on,
    // until told to stop.
    let (stop_tx, mut stop_rx) = chan::<()>();
    let driver = {
        let rt2 = rt2.clone();
        thread::spawn(move || rt2.block_on(stop_rx.recv()))
    };
    let total = rt1.block_on(async move {
        let pinger = spawn(async move {
            let mut v = 0;
            for _ in 0..ROUND_TRIPS {
                ping_tx.send(v);
                v = pong_rx.recv().await;
            }
            v
        });
        // A join handle of the other runtime, awaited here.
        ponger.await.unwrap() + pinger.await.unwrap()
    });
    assert_eq!(total, 2 * ROUND_TRIPS);
    stop_tx.send(());
    driver.join().unwrap();
}

/// Many short-lived runtimes with live tasks: start-up and shutdown races.
fn stress_runtime_churn(flavor: Flavor) {
    let counts = Counts::new();
    for i in 0..100u64 {
        let rt = flavor.rt();
        let (tx, mut rx) = chan::<u64>();
        for k in 0..20 {
            let g = counts.fut_guard();
            let tx = tx.clone();
            drop(rt.spawn(async move {
                let _g = g;
                tx.send(k);
                if k % 2 == 0 {
                    std::future::pending::<()>().await;
                }
                yield_now().await;
            }));
        }
        if i % 2 == 0 {
            rt.block_on(async {
                for _ in 0..20 {
                    rx.recv().await;
                }
            });
        }
        drop(rt);
        assert_eq!(counts.futs_dropped() as u64, (i + 1) * 20);
    }
    assert_eq!(Arc::strong_count(&counts), 1);
}

/// Oversubscribed and odd-sized multi-thread runtimes (16 and 3 workers on a small
/// machine) through the wake-heavy bodies: the idle/search protocol under pressure.
#[test]
fn stress_oversubscribed_workers() {
    taskio_tests::watchdog("stress_oversubscribed_workers", || {
        for n in [16, 3] {
            let flavor = Flavor::MultiThread(n);
            spsc_ping_pong(flavor);
            stampede_wakes_from_threads(flavor);
            stampede_abort_racing_wakes(flavor);
            no_starvation_lifo_pair(flavor);
            stress_runtime_churn(flavor);
        }
    });
}
