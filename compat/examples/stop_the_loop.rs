//! "stop_the_loop": a task stops the running loop, so `asyncio.run` ends with RuntimeError
//! "Event loop stopped before Future completed." and neither coroutine gets to print; the
//! tasks left pending are cancelled when `run` closes its loop.
//!
//! Run it with `cargo run --example stop_the_loop`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{ensure_future, get_running_loop, sleep, Result};

/// asyncio: `async def nested(): asyncio.get_running_loop().stop(); await asyncio.sleep(1); print(42)`
async fn nested() -> Result<()> {
    get_running_loop()?.stop();
    // Never resumes: the loop stops, and `run` cancels this task as it closes the loop.
    sleep(1.0).await?;
    println!("  42");
    Ok(())
}

/// asyncio: `async def foo(): asyncio.ensure_future(nested()); await asyncio.sleep(3); print("foo done")`
async fn foo(s: Scale) -> Result<()> {
    ensure_future(nested());
    sleep(s.secs(3.0)).await?;
    println!("  foo done");
    Ok(())
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("stop_the_loop ({})", s.note());
    let start = Instant::now();
    match taskio::run(foo(s)) {
        Ok(()) => println!("  run returned"),
        Err(e) => println!("  RuntimeError: {e}"),
    }
    println!("stop_the_loop: nothing printed 42, in {}", since(start));
    Ok(())
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("stop_the_loop failed");
}
