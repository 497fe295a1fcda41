//! "Let's wait": create tasks and await them, gather four coroutines, and give up on one
//! with `wait_for` (the asyncio docs' "Coroutines and Tasks" page, ported).
//!
//! Run it with `cargo run --example lets_wait`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{clock, since, Scale};
use taskio::{create_task, gather, sleep, wait_for, Result};

/// asyncio: `async def say_after(delay, what): await asyncio.sleep(delay); print(what)`
async fn say_after(delay: f64, what: &'static str) -> Result<()> {
    sleep(delay).await?;
    println!("  {what}");
    Ok(())
}

/// A job that takes `delay` seconds and returns a value, to gather.
async fn job(name: &'static str, delay: f64) -> Result<String> {
    sleep(delay).await?;
    println!("  {name} finished");
    Ok(format!("result {name}"))
}

/// asyncio: `async def eternity(): await asyncio.sleep(3600)`
async fn eternity() -> Result<&'static str> {
    sleep(3600).await?;
    Ok("never")
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("lets_wait ({})", s.note());
    taskio::run(async move {
        // 1. three tasks, created at once, awaited one after the other: they run together.
        let t1 = create_task(say_after(s.secs(1.0), "hello"));
        let t2 = create_task(say_after(s.secs(2.0), "world"));
        let t3 = create_task(say_after(s.secs(3.0), "from three tasks"));
        let start = Instant::now();
        println!("three tasks: started at {}", clock());
        t1.await?;
        t2.await?;
        t3.await?;
        println!(
            "three tasks: finished at {} after {} (1 + 2 + 3 tutorial seconds ran side by side)",
            clock(),
            since(start)
        );

        // 2. gather of four: results in argument order, whatever order they finish in.
        let start = Instant::now();
        let results = gather([
            job("a", s.secs(3.0)),
            job("b", s.secs(1.0)),
            job("c", s.secs(2.0)),
            job("d", s.secs(0.5)),
        ])
        .await?;
        println!(
            "gather: {results:?} (argument order) after {}",
            since(start)
        );

        // 3. wait_for with a timeout that expires: the inner task is cancelled.
        let start = Instant::now();
        let forever = create_task(eternity());
        match wait_for(&forever, s.secs(1.0)).await {
            Ok(v) => println!("wait_for: got {v}?!"),
            Err(e) if e.is_timeout() => println!(
                "wait_for: timeout! after {} (inner task cancelled: {})",
                since(start),
                forever.cancelled()
            ),
            Err(e) => return Err(e),
        }
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("lets_wait failed");
}
