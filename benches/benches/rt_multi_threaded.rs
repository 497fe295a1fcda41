//! tokio's `benches/rt_multi_threaded.rs` workloads, on taskio, on tokio and on smol in the
//! same run.
//!
//! Group `<workload>/<N>w` holds functions `taskio`, `tokio` and `smol`: the same workload code
//! (`taskio_benches::multi`) on each runtime with N worker threads. N = 2 (this machine's
//! cores) and 4 (tokio's setting). Each runtime is built before its own measurement and
//! dropped right after, so one runtime's background load never runs during another's.
//!
//! `bash benches/compare.sh` runs this and prints the ratio table.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::{multi, Rt, Smol, Taskio, Tokio};

/// Worker counts: this machine's cores, and tokio's setting.
const WORKERS: &[usize] = &[2, 4];

fn bench_one<R: Rt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    workers: usize,
) {
    let mut w = multi::workload::<R>(name, workers).expect("known workload");
    g.bench_function(R::NAME, |b| b.iter(|| w.run()));
}

fn rt_multi(c: &mut Criterion) {
    for name in multi::WORKLOADS {
        for &workers in WORKERS {
            let mut g = c.benchmark_group(format!("{name}/{workers}w"));
            bench_one::<Taskio>(&mut g, name, workers);
            bench_one::<Tokio>(&mut g, name, workers);
            bench_one::<Smol>(&mut g, name, workers);
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = rt_multi_scheduler;
    config = config();
    targets = rt_multi
}
criterion_main!(rt_multi_scheduler);
