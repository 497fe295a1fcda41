//! Loopback echo load: taskio's, tokio's and smol's echo servers, one after the other in one
//! run, under the same client load; prints a markdown table (round trips/s, p50/p99 latency,
//! ratios taskio/tokio, then smol's columns and ratios taskio/smol).
//!
//! `echo_bench [--secs S] [--warmup S] [--conns N] [--workers N] [--client same|fixed]
//!  [--rounds N] [--only taskio|tokio|smol] [--msg BYTES]` (`--only`: one runtime, stats on stderr,
//!  for profilers)
//!
//! - `--client same` (default): server and clients share the runtime under test (N workers).
//!   On a small machine this is the fair setup: all the CPU goes to the runtime under test,
//!   nothing is oversubscribed, and both ends of every round trip pay that runtime's costs.
//! - `--client fixed`: the clients run on a separate tokio current-thread runtime (the same
//!   for every server), so only the server's runtime changes; on 2 cores the client thread
//!   competes with the server's workers.
//!
//! Constants: 64 connections, messages of 64 B and 16 KiB, 3 s measured after 0.5 s of
//! warm-up per run; loopback (127.0.0.1) only. Each runtime is dropped before the next runs;
//! the order (taskio, tokio, smol) rotates by one each round.
//!
//! smol: async-executor on N worker threads, async-io's reactor, `smol::net` sockets
//! (`taskio_benches::Smol`).

use std::time::Duration;

use taskio_benches::echo::{run_clients, start_server, NetRt};
use taskio_benches::time::quantile;
use taskio_benches::{Rt, Smol, Taskio, Tokio};

/// Message sizes.
const MSG_SIZES: &[usize] = &[64, 16 * 1024];

#[derive(Debug, Clone)]
struct Opts {
    secs: f64,
    warmup: f64,
    conns: usize,
    workers: usize,
    fixed_client: bool,
    rounds: usize,
    /// Run one runtime only (for profilers): `taskio`, `tokio` or `smol`.
    only: Option<String>,
    /// Message sizes to run (default [`MSG_SIZES`]).
    sizes: Vec<usize>,
}

/// Round trips per second, p50, p99 of one run.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

fn run<S: NetRt>(o: &Opts, msg: usize) -> Vec<Duration> {
    let server_rt = S::multi_thread_all(o.workers);
    let addr = start_server::<S>(&server_rt, msg);
    let (warmup, measure) = (
        Duration::from_secs_f64(o.warmup),
        Duration::from_secs_f64(o.secs),
    );
    if o.fixed_client {
        let client_rt = Tokio::current_thread_all();
        run_clients::<Tokio>(&client_rt, addr, o.conns, msg, warmup, measure)
    } else {
        run_clients::<S>(&server_rt, addr, o.conns, msg, warmup, measure)
    }
}

fn stats(mut lat: Vec<Duration>, secs: f64) -> Stats {
    lat.sort_unstable();
    Stats {
        rps: lat.len() as f64 / secs,
        p50: quantile(&lat, 0.50),
        p99: quantile(&lat, 0.99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let mut o = Opts {
        secs: 3.0,
        warmup: 0.5,
        conns: 64,
        workers: 2,
        fixed_client: false,
        rounds: 1,
        only: None,
        sizes: MSG_SIZES.to_vec(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "echo_bench [--secs S] [--warmup S] [--conns N] [--workers N] [--client same|fixed] \
             [--rounds N] [--only taskio|tokio|smol] [--msg BYTES]\n\n\
             Loopback echo, taskio's server, tokio's, then smol's (order rotating per round), \
             round trips/s and p50/p99 latency; see the file's docs and BENCHMARKS.md."
        );
        return;
    }
    for pair in args.chunks(2) {
        let v = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--secs" => o.secs = v.parse().expect("--secs"),
            "--warmup" => o.warmup = v.parse().expect("--warmup"),
            "--conns" => o.conns = v.parse().expect("--conns"),
            "--workers" => o.workers = v.parse().expect("--workers"),
            "--rounds" => o.rounds = v.parse().expect("--rounds"),
            "--client" => o.fixed_client = v == "fixed",
            "--only" => o.only = Some(v.to_string()),
            "--msg" => o.sizes = vec![v.parse().expect("--msg")],
            other => {
                eprintln!("echo_bench: unknown option {other} (see --help)");
                std::process::exit(2);
            }
        }
    }
    if let Some(only) = &o.only {
        for &msg in &o.sizes {
            let lat = match only.as_str() {
                "taskio" => run::<Taskio>(&o, msg),
                "tokio" => run::<Tokio>(&o, msg),
                "smol" => run::<Smol>(&o, msg),
                other => panic!("unknown runtime {other}"),
            };
            let n = lat.len();
            let s = stats(lat, o.secs);
            eprintln!(
                "{only} {msg} B: {n} round trips, {:.0}/s, p50 {}, p99 {}",
                s.rps,
                us(s.p50),
                us(s.p99)
            );
        }
        return;
    }
    let client = if o.fixed_client {
        "separate tokio current-thread runtime"
    } else {
        "same runtime as the server"
    };
    println!(
        "echo: {} connections, {} s per run after {} s warm-up, server on {} workers, \
         clients on the {client}, {} round(s), order rotating\n",
        o.conns, o.secs, o.warmup, o.workers, o.rounds
    );
    println!(
        "| message | taskio round trips/s | tokio round trips/s | throughput ratio \
         (taskio/tokio) | taskio p50 | tokio p50 | taskio p99 | tokio p99 | p99 ratio \
         (taskio/tokio) | smol round trips/s | throughput ratio (taskio/smol) | smol p50 | \
         smol p99 | p99 ratio (taskio/smol) |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for &msg in &o.sizes {
        let (mut t, mut k, mut m) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..o.rounds {
            // Round r starts with runtime r % 3: taskio, tokio, smol, taskio, ...
            for i in 0..3 {
                match (round + i) % 3 {
                    0 => t.extend(run::<Taskio>(&o, msg)),
                    1 => k.extend(run::<Tokio>(&o, msg)),
                    _ => m.extend(run::<Smol>(&o, msg)),
                }
            }
        }
        let total = o.secs * o.rounds as f64;
        let (t, k, m) = (stats(t, total), stats(k, total), stats(m, total));
        let size = if msg >= 1024 {
            format!("{} KiB", msg / 1024)
        } else {
            format!("{msg} B")
        };
        println!(
            "| {size} | {:.0} | {:.0} | {:.2} | {} | {} | {} | {} | {:.2} | {:.0} | {:.2} | {} | {} \
             | {:.2} |",
            t.rps,
            k.rps,
            t.rps / k.rps,
            us(t.p50),
            us(k.p50),
            us(t.p99),
            us(k.p99),
            t.p99.as_secs_f64() / k.p99.as_secs_f64(),
            m.rps,
            t.rps / m.rps,
            us(m.p50),
            us(m.p99),
            t.p99.as_secs_f64() / m.p99.as_secs_f64()
        );
    }
}
