//! tokio's `benches/time_timeout.rs` workloads, on taskio and on tokio in the same run.
//!
//! Groups `time_timeout/<w>` (a `timeout(1 s, quick_job())` per iteration, awaited: timer
//! registration + cancellation on the fast path) and `time_sleep/<w>` (an unpolled
//! `sleep(1 s)` created and dropped per iteration), each with functions `taskio` and `tokio`.
//! `<w>` is `ct` (tokio's 1-worker case: current-thread), `8w` (tokio's setting) and `2w`
//! (this machine's cores). Group `cancel_scope/<w>` prices taskio's deadline scopes against
//! tokio's `timeout` (the same loop as `time_timeout`, from taskio tasks): `taskio` is
//! `move_on_after` (trio's cancel scope), `taskio_timeout` asyncio's `timeout()`, `tokio`
//! `tokio::time::timeout`. Criterion's iteration = one timeout / one sleep (`iter_custom`,
//! as tokio's). The workload code is `taskio_benches::time`.
//!
//! `bash benches/compare.sh` runs this and prints the ratio table.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::time::{
    scope_runner, scope_timeout_job, spawn_sleep_job, spawn_timeout_job, time_runtime, ScopeKind,
};
use taskio_benches::{Rt, Taskio, Tokio};

/// Worker counts: 1 (current-thread), this machine's cores, tokio's 8.
const WORKERS: &[usize] = &[1, 2, 8];

fn label(workers: usize) -> String {
    if workers == 1 {
        "ct".to_string()
    } else {
        format!("{workers}w")
    }
}

fn bench_timeout<R: Rt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    workers: usize,
) {
    let rt = time_runtime::<R>(workers);
    g.bench_function(R::NAME, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            R::block_on(&rt, async {
                spawn_timeout_job::<R>(iters as usize, workers).await;
            });
            start.elapsed()
        })
    });
}

fn bench_sleep<R: Rt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    workers: usize,
) {
    let rt = time_runtime::<R>(workers);
    g.bench_function(R::NAME, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            R::block_on(&rt, async {
                spawn_sleep_job::<R>(iters as usize, workers).await;
            });
            start.elapsed()
        })
    });
}

fn bench_scopes(c: &mut Criterion) {
    for &workers in WORKERS {
        let mut g = c.benchmark_group(format!("cancel_scope/{}", label(workers)));
        for (name, kind) in [
            ("taskio", ScopeKind::MoveOnAfter),
            ("taskio_timeout", ScopeKind::Timeout),
        ] {
            let runner = scope_runner(workers);
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    scope_timeout_job(&runner, iters as usize, workers, kind);
                    start.elapsed()
                })
            });
        }
        bench_timeout::<Tokio>(&mut g, workers);
        g.finish();
    }
}

fn time_timeout(c: &mut Criterion) {
    for &workers in WORKERS {
        let mut g = c.benchmark_group(format!("time_timeout/{}", label(workers)));
        bench_timeout::<Taskio>(&mut g, workers);
        bench_timeout::<Tokio>(&mut g, workers);
        g.finish();
    }
    for &workers in WORKERS {
        let mut g = c.benchmark_group(format!("time_sleep/{}", label(workers)));
        bench_sleep::<Taskio>(&mut g, workers);
        bench_sleep::<Tokio>(&mut g, workers);
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = timeout_benchmark;
    config = config();
    targets = time_timeout, bench_scopes
}
criterion_main!(timeout_benchmark);
