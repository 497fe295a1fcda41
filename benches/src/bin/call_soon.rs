//! `loop.call_soon` throughput: taskio's event loop against CPython's asyncio (issue 16).
//!
//! The program: inside a running loop, schedule `CALLBACKS` callbacks with `call_soon` (each
//! adds its index to a sum and counts itself; the last one sets a Future) and await that
//! Future. CPython's twin sets the Future from one more callback (its loop runs callbacks
//! FIFO on one thread). Checked by the sum. Repeated
//! `REPS` times in one loop; the median wall time is printed, as a markdown table:
//! runner | CPython asyncio | taskio | speedup.
//!
//! `cargo run --release -p taskio-benches --bin call_soon -- [--reps N] [--no-python]`

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Callbacks per repetition.
const CALLBACKS: u64 = 100_000;

const PYTHON: &str = r#"
import asyncio, statistics, sys, time
N = int(sys.argv[1]); REPS = int(sys.argv[2])
async def once():
    loop = asyncio.get_running_loop()
    total = [0]
    def add(i):
        total[0] += i
    fut = loop.create_future()
    for i in range(N):
        loop.call_soon(add, i)
    loop.call_soon(fut.set_result, None)
    await fut
    assert total[0] == N * (N - 1) // 2
async def main():
    await once()
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter_ns(); await once(); times.append(time.perf_counter_ns() - t0)
    print(int(statistics.median(times)))
asyncio.run(main())
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One repetition on the running loop.
async fn once() -> taskio::Result<()> {
    let lp = taskio::get_running_loop()?;
    let (total, ran) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let fut = lp.create_future::<()>();
    for i in 0..CALLBACKS {
        let (t, r, f) = (total.clone(), ran.clone(), fut.clone());
        lp.call_soon(move || {
            t.fetch_add(i, Ordering::Relaxed);
            // On several workers callbacks start in order but may end out of it: the last
            // to end sets the Future.
            if r.fetch_add(1, Ordering::AcqRel) + 1 == CALLBACKS {
                let _ = f.set_result(());
            }
        })?;
    }
    fut.await?;
    assert_eq!(
        total.load(Ordering::Relaxed),
        CALLBACKS * (CALLBACKS - 1) / 2
    );
    Ok(())
}

fn time_taskio(current_thread: bool, reps: usize) -> Duration {
    let mut b = taskio::Runner::builder();
    if current_thread {
        b.current_thread();
    } else {
        b.worker_threads(2);
    }
    let runner = b.build().expect("runner");
    let times = runner
        .run(async move {
            once().await?;
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t0 = Instant::now();
                once().await?;
                times.push(t0.elapsed());
            }
            Ok(times)
        })
        .expect("call_soon program");
    runner.close();
    median(times)
}

fn time_python(reps: usize) -> Option<Duration> {
    let out = Command::new("python3")
        .args(["-c", PYTHON, &CALLBACKS.to_string(), &reps.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("python3 failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let ns: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn main() {
    let mut reps = 9;
    let mut python = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => reps = n,
                _ => {
                    eprintln!("usage: call_soon [--reps N] [--no-python]");
                    std::process::exit(2);
                }
            },
            "--no-python" => python = false,
            _ => {
                eprintln!("usage: call_soon [--reps N] [--no-python]");
                std::process::exit(2);
            }
        }
    }
    let py = if python { time_python(reps) } else { None };
    println!("| runner | CPython asyncio | taskio | speedup |");
    println!("|---|--:|--:|--:|");
    for (name, ct) in [("current thread", true), ("2 workers", false)] {
        let t = time_taskio(ct, reps);
        match py {
            Some(p) => println!(
                "| {name} ({CALLBACKS} call_soon) | {:.2} ms | {:.2} ms | {:.1}x |",
                p.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                p.as_secs_f64() / t.as_secs_f64()
            ),
            None => println!(
                "| {name} ({CALLBACKS} call_soon) | - | {:.2} ms | - |",
                t.as_secs_f64() * 1e3
            ),
        }
    }
}
