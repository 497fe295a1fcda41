//! "worker": a task with a done callback, then what `cancelled()`, `done()`, `result()` and
//! `exception()` say about a task that succeeded, one that failed and one that was
//! cancelled.
//!
//! Run it with `cargo run --example worker`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{sleep, Error, ErrorKind, Result, Runner, Task};

/// asyncio: `async def worker(name, delay): await asyncio.sleep(delay); return f"{name} done"`
async fn worker(name: &'static str, delay: f64) -> Result<String> {
    sleep(delay).await?;
    Ok(format!("{name} done"))
}

/// asyncio: `async def faulty(): await asyncio.sleep(d); raise ValueError("bad input")`
async fn faulty(delay: f64) -> Result<String> {
    sleep(delay).await?;
    Err(Error::msg("ValueError: bad input"))
}

/// asyncio: `def on_done(task): print(f"callback: {task.get_name()} is done")`
fn on_done(task: &Task<String>) {
    println!("  callback: {} is done", task.get_name());
}

/// "raises Kind: message", without saying the kind twice.
fn raises(e: &Error) -> String {
    let kind = format!("{:?}", e.kind());
    let msg = e.to_string();
    if e.kind() == ErrorKind::Other || msg.starts_with(&kind) {
        format!("raises {msg}")
    } else {
        format!("raises {kind}: {msg}")
    }
}

fn report(label: &str, t: &Task<String>) {
    let show = |r: Result<String>| match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => raises(&e),
    };
    let exception = match t.exception() {
        Ok(None) => "None".to_owned(),
        Ok(Some(e)) => format!("{e}"),
        Err(e) => raises(&e),
    };
    println!(
        "  {label}: cancelled()={} done()={} result()={} exception()={exception}",
        t.cancelled(),
        t.done(),
        show(t.result())
    );
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("worker ({}; deterministic runner)", s.note());
    let runner = Runner::builder().current_thread().build()?;
    runner.run(async move {
        let start = Instant::now();
        let ok = taskio::tasks::create_task_named("worker-1", worker("worker-1", s.secs(1.0)));
        ok.add_done_callback(on_done);
        report("worker-1 while running", &ok);
        ok.clone().await?;
        sleep(0).await?; // done callbacks are scheduled, not run inline: let it run
        report("worker-1", &ok);

        let bad = taskio::tasks::create_task_named("faulty", faulty(s.secs(0.5)));
        bad.add_done_callback(on_done);
        let _ = bad.clone().await;
        sleep(0).await?;
        report("faulty", &bad);

        let slow = taskio::tasks::create_task_named("worker-2", worker("worker-2", 3600.0));
        slow.add_done_callback(on_done);
        sleep(s.secs(0.5)).await?;
        slow.cancel(Some("no longer needed"));
        let _ = slow.clone().await;
        sleep(0).await?;
        report("worker-2", &slow);
        println!("worker: all of it in {}", since(start));
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("worker failed");
}
