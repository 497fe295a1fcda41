//! The tour: what taskio does, in a few seconds.
//!
//! Run it with `cargo run --release --example tour`.

use std::time::Instant;
use taskio::runtime::{spawn, yield_now, Builder, Runtime};

fn main() {
    let rt = Runtime::new().expect("failed to start the runtime");
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("taskio tour: a multi-thread runtime with {workers} worker(s)\n");

    // 1. spawn and join
    let answer = rt.block_on(async { spawn(async { 6 * 7 }).await.unwrap() });
    println!("1. spawn + join: a task computed {answer}");

    // 2. a panic in a task is an error for its awaiter, not a crash (the default hook
    // would print it; the tour keeps its output short)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let err = rt.block_on(async { spawn(async { panic!("oops") }).await.unwrap_err() });
    std::panic::set_hook(hook);
    println!("2. a task panicked and the runtime carried on: {err}");

    // 3. abort: cancellation is drop
    let cancelled = rt.block_on(async {
        let h = spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err().is_cancelled()
    });
    println!("3. abort: the task ended cancelled = {cancelled}");

    // 4. yield_now on the current-thread runtime: asyncio's FIFO order
    let order = Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut handles = Vec::new();
            for name in ["A", "B", "C"] {
                let log = log.clone();
                handles.push(spawn(async move {
                    for step in 0..2 {
                        log.lock().unwrap().push(format!("{name}{step}"));
                        yield_now().await;
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            let v = log.lock().unwrap().join(" ");
            v
        });
    println!("4. three tasks yielding on the current-thread runtime run round-robin: {order}");

    // 5. fan-out
    const N: u64 = 100_000;
    let start = Instant::now();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..N).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, N * (N - 1) / 2);
    println!(
        "5. fan-out: spawned and joined {N} tasks in {:.1} ms ({:.0} ns per task)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / N as f64
    );
}
