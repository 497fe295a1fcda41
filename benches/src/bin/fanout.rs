//! Times the asyncio fan-out programs on taskio (`std::time::Instant`, several repetitions,
//! median) and on CPython's asyncio (`benches/python/fanout.py`, run as a child process),
//! and prints one markdown table: program | CPython asyncio | taskio | speedup.
//!
//! `bash benches/python/compare.sh` builds and runs this. Alone:
//! `cargo run --release -p taskio-benches --bin fanout -- [--reps N] [--no-python] [program ...]`
//!
//! taskio runs each program under a `taskio::Runner` with 2 workers (this machine's cores)
//! and, in a second column, on the current-thread scheduler (asyncio's own one-thread model).
//! Programs and constants: `taskio_benches::asyncio` and `fanout.py` (the same ones).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use taskio_benches::asyncio::{self, TaskioAsyncio};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_taskio(rt: &TaskioAsyncio, program: &str, reps: usize) -> Duration {
    let want = asyncio::expected(program);
    assert_eq!(rt.run(program), want, "{program}: wrong checksum"); // warm-up
    let times = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            let got = rt.run(program);
            let dt = t0.elapsed();
            assert_eq!(got, want, "{program}: wrong checksum");
            dt
        })
        .collect();
    median(times)
}

/// `program -> median` from `fanout.py`, or `None` if python3 failed.
fn time_python(programs: &[&str], reps: usize) -> Option<Vec<(String, Duration)>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/fanout.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(reps.to_string())
        .args(programs)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("python3 failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    text.lines()
        .map(|l| {
            let (name, ns) = l.split_once('\t')?;
            Some((
                name.to_string(),
                Duration::from_nanos(ns.trim().parse().ok()?),
            ))
        })
        .collect()
}

fn fmt(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn usage() -> String {
    format!(
        "usage: fanout [--reps N] [--no-python] [program ...]\n\
         times the asyncio fan-out programs on taskio (2 workers and current-thread) and on\n\
         CPython's asyncio (unless --no-python); N repetitions each (default 9), medians.\n\
         programs (default: all): {}",
        asyncio::PROGRAMS.join(" ")
    )
}

fn main() {
    let mut reps = 9;
    let mut python = true;
    let mut programs: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => reps = n,
                _ => {
                    eprintln!("--reps needs a positive number\n\n{}", usage());
                    std::process::exit(2);
                }
            },
            "--no-python" => python = false,
            "-h" | "--help" => {
                println!("{}", usage());
                return;
            }
            p if asyncio::PROGRAMS.contains(&p) => programs.push(p.to_string()),
            other => {
                eprintln!("unknown argument `{other}`\n\n{}", usage());
                std::process::exit(2);
            }
        }
    }
    let programs: Vec<&str> = if programs.is_empty() {
        asyncio::PROGRAMS.to_vec()
    } else {
        programs.iter().map(String::as_str).collect()
    };

    let py = if python {
        eprintln!("running CPython asyncio ({reps} reps each)...");
        time_python(&programs, reps)
    } else {
        None
    };
    eprintln!("running taskio ({reps} reps each)...");
    let multi = TaskioAsyncio::new(Some(2));
    let tio: Vec<Duration> = programs
        .iter()
        .map(|p| time_taskio(&multi, p, reps))
        .collect();
    drop(multi);
    let ct = TaskioAsyncio::new(None);
    let tio_ct: Vec<Duration> = programs.iter().map(|p| time_taskio(&ct, p, reps)).collect();
    drop(ct);

    println!(
        "| program | CPython asyncio | taskio (2 workers) | speedup | taskio (current_thread) | speedup |"
    );
    println!("|---|--:|--:|--:|--:|--:|");
    for (i, p) in programs.iter().enumerate() {
        let py_t = py
            .as_ref()
            .and_then(|v| v.iter().find(|(n, _)| n == p).map(|(_, d)| *d));
        let speed = |t: Duration| {
            py_t.map_or("—".to_string(), |py| {
                format!("{:.1}×", py.as_secs_f64() / t.as_secs_f64())
            })
        };
        println!(
            "| {p} | {} | {} | {} | {} | {} |",
            py_t.map_or("—".to_string(), fmt),
            fmt(tio[i]),
            speed(tio[i]),
            fmt(tio_ct[i]),
            speed(tio_ct[i]),
        );
    }
}
