//! "factorials_exercise": the factorials of 5, 7, 3 and 6, each multiplication step after a
//! `sleep(0.1)`, collected twice: with `as_completed` (in the order they finish: fewest
//! steps first) and with `gather` (in argument order).
//!
//! Run it with `cargo run --example factorials_exercise`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{as_completed, gather, sleep, Result};

const NUMBERS: [u64; 4] = [5, 7, 3, 6];

/// asyncio:
/// ```python
/// async def factorial(n):
///     f = 1
///     for i in range(2, n + 1):
///         await asyncio.sleep(0.1)
///         f *= i
///     return n, f
/// ```
async fn factorial(n: u64, step: f64) -> Result<(u64, u64)> {
    let mut f = 1;
    for i in 2..=n {
        sleep(step).await?;
        f *= i;
    }
    Ok((n, f))
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    let step = s.secs(0.1);
    println!("factorials_exercise (each step sleeps {step:.3} s)");
    taskio::run(async move {
        let start = Instant::now();
        let mut it = as_completed(NUMBERS.map(|n| factorial(n, step)), None);
        while let Some(r) = it.next().await {
            let (n, f) = r?;
            println!("  as_completed: {n}! = {f} after {}", since(start));
        }

        let start = Instant::now();
        let all = gather(NUMBERS.map(|n| factorial(n, step))).await?;
        println!("  gather: {all:?} after {}", since(start));
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(1.0).expect("factorials_exercise failed");
}
