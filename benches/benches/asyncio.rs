//! The asyncio fan-out programs (issue 4, "Speed"), on taskio's asyncio layer and on tokio in
//! the same run: gather of 10k / 100k trivial tasks, TaskGroup fan-out of 10k, Queue
//! producer/consumer (4 × 25k items, bounded 100 and unbounded), Lock contention (8 × 10k),
//! Semaphore (100 tasks, 10 permits, 10k acquisitions). Workload code:
//! `taskio_benches::asyncio`.
//!
//! Group `<program>/2w` holds `taskio` (asyncio layer under a `taskio::Runner`) and `tokio`
//! (`JoinSet`, `mpsc`, `Mutex`, `Semaphore`); the gather groups also hold `tokio_join_all`
//! (join handles awaited in order) and `taskio_rt` (taskio's runtime alone: spawn + join
//! handles, the floor under the asyncio layer). Each runtime is built before its own
//! measurement and dropped right after.
//!
//! `bash benches/compare.sh asyncio` runs this and prints the ratio table.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::asyncio::{self, TaskioAsyncio, TokioAsyncio, TokioVariant};

/// This machine's cores.
const WORKERS: usize = 2;

fn bench_asyncio(c: &mut Criterion) {
    for &program in asyncio::PROGRAMS {
        let want = asyncio::expected(program);
        let mut g = c.benchmark_group(format!("{program}/{WORKERS}w"));
        {
            let t = TaskioAsyncio::new(Some(WORKERS));
            assert_eq!(t.run(program), want);
            g.bench_function("taskio", |b| b.iter(|| t.run(program)));
        }
        if let Some(n) = program.strip_prefix("gather_") {
            let n = if n == "10k" {
                asyncio::GATHER_SMALL
            } else {
                asyncio::GATHER_LARGE
            };
            let rt = asyncio::taskio_rt(WORKERS);
            assert_eq!(asyncio::taskio_rt_gather(&rt, n), want);
            g.bench_function("taskio_rt", |b| {
                b.iter(|| asyncio::taskio_rt_gather(&rt, n))
            });
        }
        {
            let k = TokioAsyncio::new(Some(WORKERS));
            assert_eq!(k.run(program, TokioVariant::Default), want);
            g.bench_function("tokio", |b| {
                b.iter(|| k.run(program, TokioVariant::Default))
            });
            if program.starts_with("gather_") {
                assert_eq!(k.run(program, TokioVariant::JoinAll), want);
                g.bench_function("tokio_join_all", |b| {
                    b.iter(|| k.run(program, TokioVariant::JoinAll))
                });
            }
        }
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
    name = asyncio_benches;
    config = config();
    targets = bench_asyncio
}
criterion_main!(asyncio_benches);
