//! tokio's `benches/spawn_blocking.rs` workload, on taskio and on tokio in the same run.
//!
//! Group `spawn_blocking_c<N>/<W>w`: N concurrent async tasks (tokio's levels 1, 2, 4, …
//! capped at the machine's parallelism), each running `NUM_BATCHES` = 100 batches of
//! `BATCH_SIZE` = 16 no-op `spawn_blocking`s; W = the runtime's workers (tokio's default:
//! the machine's parallelism). Functions `taskio` and `tokio`. Workload code:
//! `taskio_benches::blocking`.
//!
//! `bash benches/compare.sh` runs this and prints the ratio table.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::blocking::{parallelism, spawn_blocking_batches, CONCURRENCY};
use taskio_benches::{Rt, Taskio, Tokio};

fn bench_one<R: Rt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    num_tasks: usize,
    workers: usize,
) {
    let rt = R::multi_thread_all(workers);
    g.bench_function(R::NAME, |b| {
        b.iter(|| R::block_on(&rt, spawn_blocking_batches::<R>(num_tasks)))
    });
}

fn spawn_blocking_concurrency(c: &mut Criterion) {
    let workers = parallelism();
    for &n in CONCURRENCY.iter().filter(|&&n| n <= workers) {
        let mut g = c.benchmark_group(format!("spawn_blocking_c{n}/{workers}w"));
        bench_one::<Taskio>(&mut g, n, workers);
        bench_one::<Tokio>(&mut g, n, workers);
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
    name = spawn_blocking_benches;
    config = config();
    targets = spawn_blocking_concurrency
}
criterion_main!(spawn_blocking_benches);
