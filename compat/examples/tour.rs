//! The tour: what taskio does, in a few seconds.
//!
//! Part 1 runs a short version of each asyncio tutorial program ported in this folder (see
//! the individual examples for the full ones), timing each, and, where `python3` is
//! installed, the same program in CPython's asyncio (`examples/python/*.py`) for
//! comparison. Part 2 goes beyond asyncio, with trio's structured concurrency: cancel
//! scopes with shielded clean-up, a server's graceful two-phase shutdown, and a live task tree
//! with a slow poll caught by the watchdog. Part 3 shows
//! the runtime underneath: panics, cancellation, FIFO order and a fan-out of 100 000 tasks.
//!
//! Run it with `cargo run --release --example tour`.

// Each tutorial program stays a standalone example with its own copy of `common`, so the
// tour, which includes them all, loads `common/mod.rs` once per program.
#![allow(clippy::duplicate_mod)]

// The tutorial programs, included as modules (their `main`s are unused here).
#[allow(dead_code)]
#[path = "cleanup.rs"]
mod cleanup;
#[allow(dead_code)]
#[path = "display_date.rs"]
mod display_date;
#[allow(dead_code)]
#[path = "echo.rs"]
mod echo;
#[allow(dead_code)]
#[path = "factorial.rs"]
mod factorial;
#[allow(dead_code)]
#[path = "factorials_exercise.rs"]
mod factorials_exercise;
#[allow(dead_code)]
#[path = "files.rs"]
mod files;
#[allow(dead_code)]
#[path = "graceful_server.rs"]
mod graceful_server;
#[allow(dead_code)]
#[path = "lets_wait.rs"]
mod lets_wait;
#[allow(dead_code)]
#[path = "observe.rs"]
mod observe;
#[allow(dead_code)]
#[path = "send_message.rs"]
mod send_message;
#[allow(dead_code)]
#[path = "shield_and_cancel.rs"]
mod shield_and_cancel;
#[allow(dead_code)]
#[path = "speech.rs"]
mod speech;
#[allow(dead_code)]
#[path = "stop_the_loop.rs"]
mod stop_the_loop;
#[allow(dead_code)]
#[path = "worker.rs"]
mod worker;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use taskio::runtime::{spawn, yield_now, Builder, Runtime};

/// The tour's sleeps, as a fraction of the tutorials' (the full examples use longer ones).
const SCALE: f64 = 0.05;
/// Tasks in the gather fan-out compared with CPython (CPython needs ~30 µs per task).
const GATHER_N: u64 = 10_000;

/// A program run on taskio and, when possible, on CPython.
struct Program {
    name: &'static str,
    /// The scale argument for the demo and the Python script.
    scale: f64,
    demo: fn(f64) -> taskio::Result<()>,
}

/// `python3` and its version, if it is installed and recent enough for the scripts
/// (`asyncio.TaskGroup` needs 3.11).
fn find_python() -> Result<String, String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2]); sys.exit(sys.version_info < (3, 11))",
        ])
        .output()
        .map_err(|_| "python3 not found".to_owned())?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(version)
    } else {
        Err(format!("python3 is {version}, the scripts need 3.11+"))
    }
}

/// Runs every program's script in one `python3` (`examples/python/run_all.py`, so that the
/// interpreter starts once) and returns, for each program, the time its asyncio program
/// reported, or why there is none.
fn python_times(py_dir: &Path, programs: &[Program]) -> Vec<Result<Duration, String>> {
    let specs = programs.iter().map(|p| format!("{}:{}", p.name, p.scale));
    let out = match Command::new("python3")
        .arg(py_dir.join("run_all.py"))
        .args(specs)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            return programs
                .iter()
                .map(|_| Err(format!("could not run python3: {e}")))
                .collect()
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    programs
        .iter()
        .map(|p| {
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix(p.name).and_then(|r| r.strip_prefix(' ')))
                .ok_or_else(|| "the script did not run".to_owned())?;
            match line.strip_prefix("elapsed: ") {
                Some(t) => t
                    .trim()
                    .parse::<f64>()
                    .map(Duration::from_secs_f64)
                    .map_err(|_| format!("unreadable time {t:?}")),
                None => Err(format!("the script {line}")),
            }
        })
        .collect()
}

fn secs(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

/// taskio's side of the gather fan-out: `gather` of `n` tasks that return their index.
fn gather_fanout(n: u64) -> taskio::Result<()> {
    let sum: u64 = taskio::run(async move {
        let tasks = (0..n).map(|i| taskio::create_task(async move { Ok(i) }));
        Ok(taskio::gather(tasks).await?.iter().sum())
    })?;
    assert_eq!(sum, n * (n - 1) / 2);
    println!("gather of {n} tasks created with create_task: sum of results = {sum}");
    Ok(())
}

fn main() {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("taskio tour: asyncio's semantics on a multi-thread runtime with {workers} worker(s)");
    println!("Sleeps are {SCALE} x the tutorials' (shorter waits show the same thing).\n");

    let python = find_python();
    let py_dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "examples", "python"]
        .iter()
        .collect();

    // Part 1: the asyncio tutorial programs.
    println!("Part 1: asyncio tutorial programs, ported (each also runs on its own: cargo run --example NAME)\n");
    let programs = [
        Program {
            name: "lets_wait",
            scale: SCALE,
            demo: lets_wait::demo,
        },
        Program {
            name: "send_message",
            scale: SCALE,
            demo: send_message::demo,
        },
        Program {
            name: "factorial",
            scale: SCALE,
            demo: factorial::demo,
        },
        Program {
            name: "worker",
            scale: SCALE,
            demo: worker::demo,
        },
        Program {
            name: "files",
            scale: 1.0,
            demo: files::demo,
        },
        Program {
            name: "shield_and_cancel",
            scale: SCALE,
            demo: shield_and_cancel::demo,
        },
        Program {
            name: "echo",
            scale: 1.0,
            demo: echo::demo,
        },
        Program {
            name: "factorials_exercise",
            scale: SCALE,
            demo: factorials_exercise::demo,
        },
        Program {
            name: "display_date",
            scale: SCALE,
            demo: display_date::demo,
        },
        Program {
            name: "stop_the_loop",
            scale: SCALE,
            demo: stop_the_loop::demo,
        },
        Program {
            name: "speech",
            scale: SCALE,
            demo: speech::demo,
        },
        Program {
            name: "fanout",
            scale: GATHER_N as f64,
            demo: |n| gather_fanout(n as u64),
        },
    ];
    // CPython first, in one interpreter, so that the two never share the cores.
    let cpython: Vec<Result<Duration, String>> = match &python {
        Ok(version) => {
            println!("(timing the CPython {version} versions first...)\n");
            python_times(&py_dir, &programs)
        }
        Err(why) => programs.iter().map(|_| Err(why.clone())).collect(),
    };
    let mut table = Vec::new();
    for (p, theirs) in programs.iter().zip(cpython) {
        println!("── {} ──", p.name);
        let start = Instant::now();
        let outcome = (p.demo)(p.scale);
        let ours = start.elapsed();
        if let Err(e) = &outcome {
            println!("  FAILED: {e}");
        }
        match &theirs {
            Ok(t) => println!("→ taskio {}, CPython asyncio {}\n", secs(ours), secs(*t)),
            Err(why) => println!("→ taskio {} (CPython: {why})\n", secs(ours)),
        }
        table.push((p.name, outcome.is_ok(), ours, theirs.ok()));
    }

    // Part 2: beyond asyncio (no CPython version: asyncio has no cancel scopes, no start
    // handshake, no two-phase shutdown).
    println!("Part 2: beyond asyncio, trio's structured concurrency (cargo run --example NAME)\n");
    type Demo = fn(f64) -> taskio::Result<()>;
    let beyond: [(&str, Demo); 3] = [
        ("cleanup", cleanup::demo),
        ("graceful_server", graceful_server::demo),
        ("observe", observe::demo),
    ];
    for (name, demo) in beyond {
        println!("── {name} ──");
        let start = Instant::now();
        let outcome = demo(SCALE);
        let ours = start.elapsed();
        if let Err(e) = &outcome {
            println!("  FAILED: {e}");
        }
        println!("→ taskio {}\n", secs(ours));
        table.push((name, outcome.is_ok(), ours, None));
    }

    // Part 3: the runtime underneath.
    println!("Part 3: the runtime underneath\n");
    let rt = Runtime::new().expect("failed to start the runtime");

    // 1. spawn and join
    let answer = rt.block_on(async { spawn(async { 6 * 7 }).await.unwrap() });
    println!("1. spawn + join: a task computed {answer}");

    // 2. a panic in a task is an error for its awaiter, not a crash (the default hook
    // would print it; the tour keeps its output short)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let err = rt.block_on(async { spawn(async { panic!("oops") }).await.unwrap_err() });
    std::panic::set_hook(hook);
    println!("2. a task panicked and the runtime carried on: {err}");

    // 3. abort: cancellation is drop
    let cancelled = rt.block_on(async {
        let h = spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err().is_cancelled()
    });
    println!("3. abort: the task ended cancelled = {cancelled}");

    // 4. yield_now on the current-thread runtime: asyncio's FIFO order
    let order = Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut handles = Vec::new();
            for name in ["A", "B", "C"] {
                let log = log.clone();
                handles.push(spawn(async move {
                    for step in 0..2 {
                        log.lock().unwrap().push(format!("{name}{step}"));
                        yield_now().await;
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            log.lock().unwrap().join(" ")
        });
    println!("4. three tasks yielding on the current-thread runtime run round-robin: {order}");

    // 5. fan-out
    const N: u64 = 100_000;
    let start = Instant::now();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..N).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, N * (N - 1) / 2);
    println!(
        "5. fan-out: spawned and joined {N} tasks in {:.1} ms ({:.0} ns per task)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / N as f64
    );
    drop(rt);

    // Summary
    println!("\nSummary (wall time of each program; the sleeps dominate where there are any)");
    println!(
        "  {:<20} {:>10} {:>16}",
        "program", "taskio", "CPython asyncio"
    );
    for (name, ok, ours, theirs) in &table {
        let theirs = theirs.map_or_else(|| "-".to_owned(), secs);
        let ours = if *ok {
            secs(*ours)
        } else {
            "FAILED".to_owned()
        };
        println!("  {name:<20} {ours:>10} {theirs:>16}");
    }
    if let Err(why) = &python {
        println!("  (no CPython column: {why})");
    }
}
