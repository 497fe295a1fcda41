//! "factorial": the asyncio docs' `gather` example. Three factorial tasks A, B and C
//! interleave at each `sleep`, and `gather` returns their results in argument order.
//!
//! It runs on the deterministic runner (one thread, asyncio's FIFO ready queue), so the
//! lines come out in exactly the docs' order.
//!
//! Run it with `cargo run --example factorial`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{gather, sleep, Result, Runner};

/// asyncio's docs:
/// ```python
/// async def factorial(name, number):
///     f = 1
///     for i in range(2, number + 1):
///         print(f"Task {name}: Compute factorial({number}), currently i={i}...")
///         await asyncio.sleep(1)
///         f *= i
///     print(f"Task {name}: factorial({number}) = {f}")
///     return f
/// ```
async fn factorial(name: &'static str, number: u64, step: f64) -> Result<u64> {
    let mut f = 1;
    for i in 2..=number {
        println!("  Task {name}: Compute factorial({number}), currently i={i}...");
        sleep(step).await?;
        f *= i;
    }
    println!("  Task {name}: factorial({number}) = {f}");
    Ok(f)
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("factorial ({}; deterministic runner)", s.note());
    let runner = Runner::builder().current_thread().build()?;
    runner.run(async move {
        let start = Instant::now();
        let step = s.secs(1.0);
        // asyncio: L = await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
        let l = gather([
            factorial("A", 2, step),
            factorial("B", 3, step),
            factorial("C", 4, step),
        ])
        .await?;
        println!(
            "gather: {l:?} after {} (3 steps of 1 tutorial s)",
            since(start)
        );
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("factorial failed");
}
