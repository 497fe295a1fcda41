//! "display_date": print the date every second for five seconds, on the loop's clock (the
//! asyncio docs' `loop.time()` example).
//!
//! Run it with `cargo run --example display_date`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{clock, since, Scale};
use taskio::{get_running_loop, sleep, Result};

/// asyncio:
/// ```text
/// async def display_date():
///     loop = asyncio.get_running_loop()
///     end_time = loop.time() + 5.0
///     while True:
///         print(datetime.datetime.now())
///         if (loop.time() + 1.0) >= end_time:
///             break
///         await asyncio.sleep(1)
/// ```
async fn display_date(s: Scale) -> Result<usize> {
    let lp = get_running_loop()?;
    let end_time = lp.time() + s.secs(5.0);
    let mut lines = 0;
    loop {
        println!("  {}", clock());
        lines += 1;
        if lp.time() + s.secs(1.0) >= end_time {
            break;
        }
        sleep(s.secs(1.0)).await?;
    }
    Ok(lines)
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("display_date ({})", s.note());
    let start = Instant::now();
    let lines = taskio::run(display_date(s))?;
    println!("display_date: {lines} dates in {}", since(start));
    Ok(())
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("display_date failed");
}
