//! Timers through the real schedulers: sleeps, the paused clock, deadline order, timeouts,
//! intervals.

use std::sync::{Arc, Mutex};
use taskio_runtime::time::{self, Duration, Instant, MissedTickBehavior};
use taskio_runtime::{spawn, Builder, Runtime};

fn paused_current() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

fn flavours() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap(),
        Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap(),
    ]
}

#[test]
fn sleep_completes_on_every_flavour() {
    for rt in flavours() {
        rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..100u64)
                .map(|i| spawn(async move { time::sleep(Duration::from_millis(i % 10)).await }))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            // A sleep never returns before its deadline.
            assert!(start.elapsed() >= Duration::from_millis(9));
        });
    }
}

#[test]
fn paused_clock_long_sleep_runs_in_no_real_time() {
    let rt = paused_current();
    let real = std::time::Instant::now();
    rt.block_on(async {
        let start = Instant::now();
        time::sleep(Duration::from_secs(24 * 3600)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
    });
    // Not a timing assertion about speed: a day of virtual time cannot have been waited.
    assert!(real.elapsed() < Duration::from_secs(3600));
}

#[test]
fn paused_clock_on_the_multi_thread_runtime() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let h = spawn(async {
            let start = Instant::now();
            time::sleep(Duration::from_secs(600)).await;
            start.elapsed()
        });
        assert_eq!(h.await.unwrap(), Duration::from_secs(600));
    });
}

/// 100k sleeps with pseudo-random deadlines all fire, in deadline order (ties in spawn
/// order), on the current-thread runtime with the paused clock.
#[test]
fn hundred_thousand_sleeps_fire_in_deadline_order() {
    const N: u64 = 100_000;
    let rt = paused_current();
    let order = Arc::new(Mutex::new(Vec::with_capacity(N as usize)));
    rt.block_on({
        let order = order.clone();
        async move {
            let mut x: u64 = 0x2545_F491_4F6C_DD1D;
            let mut handles = Vec::with_capacity(N as usize);
            for i in 0..N {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let delay = x % 50_000; // up to 50 s, millisecond steps
                let order = order.clone();
                handles.push(spawn(async move {
                    time::sleep(Duration::from_millis(delay)).await;
                    order.lock().unwrap().push((delay, i));
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    let order = order.lock().unwrap();
    assert_eq!(order.len(), N as usize, "some sleeps never fired");
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "sleeps fired out of deadline order"
    );
}

#[test]
fn timeout_expires_and_passes_through() {
    let rt = paused_current();
    rt.block_on(async {
        let slow = time::timeout(Duration::from_secs(1), time::sleep(Duration::from_secs(5))).await;
        assert!(slow.is_err());
        assert_eq!(slow.unwrap_err().to_string(), "deadline has elapsed");
        let fast = time::timeout(Duration::from_secs(5), async { 3 }).await;
        assert_eq!(fast.unwrap(), 3);
    });
}

#[test]
fn interval_missed_tick_behaviours() {
    for (behaviour, expected) in [
        // Ticks at 0, then the task is late by 350 ms (3.5 periods), then ticks again.
        (MissedTickBehavior::Burst, [0, 350, 350, 350, 400]),
        (MissedTickBehavior::Delay, [0, 350, 450, 550, 650]),
        (MissedTickBehavior::Skip, [0, 350, 400, 500, 600]),
    ] {
        let rt = paused_current();
        let got = rt.block_on(async move {
            let start = Instant::now();
            let mut iv = time::interval(Duration::from_millis(100));
            iv.set_missed_tick_behavior(behaviour);
            let mut seen = Vec::new();
            iv.tick().await;
            seen.push(start.elapsed().as_millis() as u64);
            time::sleep(Duration::from_millis(350)).await;
            for _ in 0..4 {
                iv.tick().await;
                seen.push(start.elapsed().as_millis() as u64);
            }
            seen
        });
        assert_eq!(got, expected, "{behaviour:?}");
    }
}

#[test]
fn spawn_blocking_at_its_cap_runs_all_queued_work() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let results = rt.block_on(async {
        let handles: Vec<_> = (0..20u64)
            .map(|i| {
                let peak = peak.clone();
                let running = running.clone();
                taskio_runtime::spawn_blocking(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    running.fetch_sub(1, SeqCst);
                    i * 2
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    });
    assert_eq!(results, (0..20u64).map(|i| i * 2).collect::<Vec<_>>());
    let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "ran {peak} blocking closures at once with a cap of 2"
    );
}

#[test]
fn shutdown_with_blocking_work_still_running() {
    use std::sync::mpsc;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let running = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        // Blocks until the test releases it (after shutdown_timeout returned).
        let _ = release_rx.recv_timeout(std::time::Duration::from_secs(30));
    });
    started_rx.recv().unwrap();
    rt.shutdown_timeout(Duration::from_millis(50));
    // shutdown_timeout returned while the blocking closure still runs.
    release_tx.send(()).unwrap();
    drop(running);
}

/// The paused clock waits for blocking work in flight, and moves on once the last of it ends
/// even when nobody awaits its `JoinHandle` (a detached `spawn_blocking`): before the pool
/// unparked the driver, a runtime whose only other work was a sleep stayed parked forever.
#[test]
fn paused_clock_advances_after_detached_blocking_work() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let builders: [fn() -> Builder; 3] = [
        Builder::new_current_thread,
        || {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(1);
            b
        },
        || {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(2);
            b
        },
    ];
    for (i, builder) in builders.into_iter().enumerate() {
        taskio_tests::watchdog(&format!("paused_blocking_{i}"), move || {
            let rt = builder().start_paused(true).build().unwrap();
            let done = Arc::new(AtomicBool::new(false));
            let seen = rt.block_on({
                let done = done.clone();
                async move {
                    let start = Instant::now();
                    let work_done = done.clone();
                    drop(taskio_runtime::spawn_blocking(move || {
                        // Brief work, long enough that the workers park before it ends (the
                        // case that hung); the test is correct however long it takes.
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        work_done.store(true, SeqCst);
                    }));
                    time::sleep(Duration::from_secs(3600)).await;
                    assert_eq!(start.elapsed(), Duration::from_secs(3600));
                    done.load(SeqCst)
                }
            });
            // Time did not jump while the blocking work was in flight.
            assert!(
                seen,
                "the clock moved past the sleep before the blocking work ended"
            );
        });
    }
}
