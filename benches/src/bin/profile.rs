//! Runs one workload N times on one runtime, for profilers (callgrind, perf).
//!
//! `profile <multi|current> <workload> <taskio|tokio|smol> <workers> <iterations>`, e.g.
//! `valgrind --tool=callgrind $CARGO_TARGET_DIR/release/profile multi chained_spawn taskio 2 20`

use std::env;

use taskio_benches::{current, multi, Rt, Smol, Taskio, Tokio, Workload};

fn build<R: Rt>(suite: &str, name: &str, workers: usize) -> Box<dyn Workload> {
    match suite {
        "multi" => multi::workload::<R>(name, workers),
        "current" => current::workload::<R>(name),
        _ => None,
    }
    .unwrap_or_else(|| panic!("unknown workload {suite} {name}"))
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 6 {
        eprintln!(
            "usage: profile <multi|current> <workload> <taskio|tokio|smol> <workers> <iterations>"
        );
        std::process::exit(2);
    }
    let workers: usize = args[4].parse().expect("workers");
    let iters: usize = args[5].parse().expect("iterations");
    let mut w = match args[3].as_str() {
        "taskio" => build::<Taskio>(&args[1], &args[2], workers),
        "tokio" => build::<Tokio>(&args[1], &args[2], workers),
        "smol" => build::<Smol>(&args[1], &args[2], workers),
        other => panic!("unknown runtime {other}"),
    };
    let start = std::time::Instant::now();
    for _ in 0..iters {
        w.run();
    }
    eprintln!(
        "{} x{iters}: {:?} per iteration",
        args[2],
        start.elapsed() / iters as u32
    );
}
