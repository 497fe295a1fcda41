//! tokio's `benches/rt_current_thread.rs` workloads, on taskio, on tokio and on smol in the
//! same run.
//!
//! Group `<workload>/ct` holds functions `taskio`, `tokio` and `smol`: the same workload code
//! (`taskio_benches::current`) on each current-thread runtime.
//!
//! `bash benches/compare.sh` runs this and prints the ratio table.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::{current, Rt, Smol, Taskio, Tokio};

fn bench_one<R: Rt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
) {
    let mut w = current::workload::<R>(name).expect("known workload");
    g.bench_function(R::NAME, |b| b.iter(|| w.run()));
}

fn rt_current(c: &mut Criterion) {
    for name in current::WORKLOADS {
        let mut g = c.benchmark_group(format!("{name}/ct"));
        bench_one::<Taskio>(&mut g, name);
        bench_one::<Tokio>(&mut g, name);
        bench_one::<Smol>(&mut g, name);
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
    name = rt_curr_scheduler;
    config = config();
    targets = rt_current
}
criterion_main!(rt_curr_scheduler);
