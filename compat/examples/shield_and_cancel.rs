//! "shield_and_cancel": `shield` keeps a piece of work alive while the task waiting for it
//! is cancelled; without the shield, the work is cancelled with its caller.
//!
//! Run it with `cargo run --example shield_and_cancel`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{create_task, shield, sleep, Result};

/// asyncio: `async def save_work(delay): await asyncio.sleep(delay); print("saved"); return "saved"`
async fn save_work(label: &'static str, delay: f64) -> Result<&'static str> {
    sleep(delay).await?;
    println!("  {label}: the work finished and was saved");
    Ok("saved")
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("shield_and_cancel ({})", s.note());
    taskio::run(async move {
        let start = Instant::now();

        // With a shield: the caller is cancelled, the work goes on.
        let work = create_task(save_work("shielded", s.secs(1.0)));
        let w = work.clone();
        // asyncio: async def caller(): return await asyncio.shield(work)
        let caller = create_task(async move { shield(w).await });
        sleep(s.secs(0.3)).await?;
        caller.cancel(Some("caller gave up"));
        match caller.clone().await {
            Err(e) if e.is_cancelled() => println!(
                "  shielded: caller cancelled after {} ({e}); work still running: {}",
                since(start),
                !work.done()
            ),
            other => println!("  shielded: caller ended with {other:?}?!"),
        }
        let v = work.await?;
        println!("  shielded: the work returned {v:?} after {}", since(start));

        // Without a shield: cancelling the caller cancels the work it awaits.
        let start = Instant::now();
        let work = create_task(save_work("unshielded", s.secs(1.0)));
        let w = work.clone();
        let caller = create_task(async move { w.await });
        sleep(s.secs(0.3)).await?;
        caller.cancel(None);
        let _ = caller.await;
        let _ = work.clone().await;
        println!(
            "  unshielded: caller cancelled after {}; the work was cancelled too: {}",
            since(start),
            work.cancelled()
        );
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("shield_and_cancel failed");
}
