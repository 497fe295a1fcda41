//! What the optional observers cost (issue #14): tokio's scheduler workloads on taskio with
//! the defaults (task dumps and counters, always on), with per-task poll times
//! (`Builder::task_poll_times`), and with the slow-poll watchdog (`Builder::on_slow_poll`),
//! beside tokio, in the same run.
//!
//! Group `observe/<workload>/<N>w` (`/ct` for the current-thread runtime) holds the functions
//! `taskio`, `taskio+poll_times`, `taskio+watchdog` and `tokio`. The cost of the always-on
//! part is measured against a build without it (`benches/always_on_cost.sh`), and the task
//! tree's on the fan-out programs with `fanout --no-task-tree` (BENCHMARKS.md).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use taskio_benches::{current, multi, set_observe, Observe, Taskio, Tokio};

const MULTI: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "ping_pong",
    "yield_many",
    "chained_spawn",
];
const CURRENT: &[&str] = &[
    "spawn_many_local",
    "ping_pong",
    "yield_many",
    "chained_spawn",
];

fn observe(c: &mut Criterion) {
    let modes = [
        ("taskio", Observe::Default),
        ("taskio+poll_times", Observe::PollTimes),
        ("taskio+watchdog", Observe::Watchdog),
    ];
    for name in MULTI {
        let mut g = c.benchmark_group(format!("observe/{name}/2w"));
        for (label, mode) in modes {
            set_observe(mode);
            let mut w = multi::workload::<Taskio>(name, 2).expect("known workload");
            g.bench_function(label, |b| b.iter(|| w.run()));
        }
        set_observe(Observe::Default);
        let mut w = multi::workload::<Tokio>(name, 2).expect("known workload");
        g.bench_function("tokio", |b| b.iter(|| w.run()));
        g.finish();
    }
    for name in CURRENT {
        let mut g = c.benchmark_group(format!("observe/{name}/ct"));
        for (label, mode) in modes {
            set_observe(mode);
            let mut w = current::workload::<Taskio>(name).expect("known workload");
            g.bench_function(label, |b| b.iter(|| w.run()));
        }
        set_observe(Observe::Default);
        let mut w = current::workload::<Tokio>(name).expect("known workload");
        g.bench_function("tokio", |b| b.iter(|| w.run()));
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
    name = observe_cost;
    config = config();
    targets = observe
}
criterion_main!(observe_cost);
