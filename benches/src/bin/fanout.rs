//! Times the asyncio fan-out programs on taskio (`std::time::Instant`, several repetitions,
//! median) and on CPython's asyncio (`benches/python/fanout.py`, run as a child process),
//! and prints one markdown table: program | CPython asyncio | taskio | speedup.
//!
//! `bash benches/python/compare.sh` builds and runs this. Alone:
//! `cargo run --release -p taskio-benches --bin fanout -- [--reps N] [--no-python] [--tokio] [--no-task-tree] [program ...]`
//!
//! `--no-task-tree` runs taskio's programs on runners built with `task_tree(false)`.
//!
//! `--tokio` replaces the table with taskio against tokio's version of each program (2 workers
//! each, as in the criterion bench): medians, their ratio, and the quartiles. The two are timed
//! alternately, one repetition each in turn, so that load from elsewhere falls on both alike.
//! On a machine shared with other work, `sudo chrt -f 10 fanout --no-python --tokio ...`
//! (SCHED_FIFO) gives the benchmark both cores, as on an idle machine, and makes the times
//! repeatable; without it taskio's 2-worker times are bimodal (see BENCHMARKS.md).
//!
//! taskio runs each program under a `taskio::Runner` with 2 workers (this machine's cores)
//! and, in a second column, on the current-thread scheduler (asyncio's own one-thread model).
//! Programs and constants: `taskio_benches::asyncio` and `fanout.py` (the same ones).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use taskio_benches::asyncio::{self, TaskioAsyncio, TokioAsyncio, TokioVariant};

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

/// Quartiles (25th, 50th, 75th percentile) of a sample.
fn quartiles(mut v: Vec<Duration>) -> [Duration; 3] {
    v.sort();
    let n = v.len();
    [v[n / 4], v[n / 2], v[(3 * n / 4).min(n - 1)]]
}

/// Quartiles of taskio (2 workers) and tokio (2 workers), repetitions interleaved.
///
/// The quartiles, not just the median: on 2 cores taskio's times are bimodal (a rep runs
/// either mostly on one worker, or on both with the workers contending), and the median
/// alone jumps between the modes from one run to the next.
fn time_vs_tokio(
    tio: &TaskioAsyncio,
    tok: &TokioAsyncio,
    program: &str,
    reps: usize,
) -> ([Duration; 3], [Duration; 3]) {
    let want = asyncio::expected(program);
    assert_eq!(tio.run(program), want, "{program}: wrong checksum"); // warm-up
    assert_eq!(
        tok.run(program, TokioVariant::Default),
        want,
        "{program}: tokio checksum"
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let t0 = Instant::now();
        assert_eq!(tio.run(program), want, "{program}: wrong checksum");
        a.push(t0.elapsed());
        let t0 = Instant::now();
        assert_eq!(
            tok.run(program, TokioVariant::Default),
            want,
            "{program}: tokio checksum"
        );
        b.push(t0.elapsed());
    }
    (quartiles(a), quartiles(b))
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
        "usage: fanout [--reps N] [--no-python | --tokio] [--no-task-tree] [program ...]\n\
         times the asyncio fan-out programs on taskio (2 workers and current-thread) and on\n\
         CPython's asyncio (unless --no-python); N repetitions each (default 9), medians.\n\
         --tokio: taskio and tokio (2 workers each) alternately instead, with the ratio.\n\
         --no-task-tree: taskio's runners record no parents (RunnerBuilder::task_tree).\n\
         programs (default: all): {}",
        asyncio::PROGRAMS.join(" ")
    )
}

fn main() {
    let mut reps = 9;
    let mut python = true;
    let mut tokio = false;
    let mut tree = true;
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
            "--tokio" => tokio = true,
            "--no-task-tree" => tree = false,
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

    if tokio {
        eprintln!("running taskio and tokio, alternately ({reps} reps each)...");
        let tio = TaskioAsyncio::with_task_tree(Some(2), tree);
        let tok = TokioAsyncio::new(Some(2));
        println!(
            "| program | taskio (2 workers) | tokio (2 workers) | taskio/tokio \
             | taskio p25–p75 | tokio p25–p75 |"
        );
        println!("|---|--:|--:|--:|--:|--:|");
        for p in &programs {
            let (a, b) = time_vs_tokio(&tio, &tok, p, reps);
            println!(
                "| {p} | {} | {} | {:.2} | {}–{} | {}–{} |",
                fmt(a[1]),
                fmt(b[1]),
                a[1].as_secs_f64() / b[1].as_secs_f64(),
                fmt(a[0]),
                fmt(a[2]),
                fmt(b[0]),
                fmt(b[2]),
            );
        }
        return;
    }

    let py = if python {
        eprintln!("running CPython asyncio ({reps} reps each)...");
        time_python(&programs, reps)
    } else {
        None
    };
    eprintln!("running taskio ({reps} reps each)...");
    let multi = TaskioAsyncio::with_task_tree(Some(2), tree);
    let tio: Vec<Duration> = programs
        .iter()
        .map(|p| time_taskio(&multi, p, reps))
        .collect();
    drop(multi);
    let ct = TaskioAsyncio::with_task_tree(None, tree);
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
