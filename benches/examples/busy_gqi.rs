//! Experiment behind benches/PROFILE.md: `spawn_many_remote_busy{1,2}` on taskio with a
//! given `global_queue_interval`, to show the injector-starvation cause.
//!
//! `cargo run --release -p taskio-benches --example busy_gqi -- <1|2> <workers> <interval>`

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn stall() {
    let now = Instant::now();
    while now.elapsed() < Duration::from_micros(10) {
        std::thread::yield_now();
    }
}

fn chain(flag: Arc<AtomicBool>) {
    drop(taskio_runtime::spawn(async {
        if flag.load(Relaxed) {
            stall();
            chain(flag);
        }
    }));
}

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (which, workers, interval) = (args[0], args[1] as usize, args[2]);
    let rt = taskio_runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .global_queue_interval(interval)
        .build()
        .unwrap();
    let flag = Arc::new(AtomicBool::new(true));
    let n = if which == 1 { 10_000 } else { 1_000 };
    for _ in 0..(if which == 1 { 2 * workers } else { workers }) {
        let flag = flag.clone();
        if which == 1 {
            drop(rt.spawn(async move {
                while flag.load(Relaxed) {
                    taskio_runtime::yield_now().await;
                    stall();
                }
            }));
        } else {
            drop(rt.spawn(async move { chain(flag) }));
        }
    }
    for _ in 0..3 {
        let start = Instant::now();
        let handles: Vec<_> = (0..n).map(|_| rt.spawn(async {})).collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        println!(
            "busy{which} {workers}w interval {interval}: {:?}",
            start.elapsed()
        );
    }
    flag.store(false, Relaxed);
}
