//! "cleanup": trio's cancel scopes on asyncio's delivered cancellation. `move_on_after`
//! gives up on slow work and goes on; `fail_after` turns the same into a Timeout error; a
//! cancelled task runs clean-up that awaits, inside a shielded scope with a deadline of its
//! own, so a second cancellation cannot cut the clean-up short.
//!
//! Run it with `cargo run --example cleanup`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{create_task, fail_after, move_on_after, sleep, CancelScope, ErrorKind, Result};

/// A slow fetch: `secs` seconds.
async fn fetch(secs: f64) -> Result<&'static str> {
    sleep(secs).await?;
    Ok("page")
}

/// Runs the program with its sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("cleanup ({})", s.note());
    taskio::run(async move {
        // trio: with move_on_after(1): await fetch(10)
        let start = Instant::now();
        match move_on_after(s.secs(1.0), fetch(s.secs(10.0))).await? {
            Some(page) => println!("  move_on_after: got {page}?!"),
            None => println!(
                "  move_on_after: gave up after {}, and went on",
                since(start)
            ),
        }
        // The same with a fast fetch: its value.
        let page = move_on_after(s.secs(1.0), fetch(s.secs(0.1))).await?;
        println!("  move_on_after: a fast fetch returned {page:?}");

        // trio: with fail_after(1): await fetch(10)
        let err = fail_after(s.secs(1.0), fetch(s.secs(10.0)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        println!("  fail_after: {err}");

        // A worker cancelled twice while it cleans up: the shielded clean-up finishes.
        let start = Instant::now();
        let worker = create_task(async move {
            let r = sleep(3600.0).await; // the work, cancelled here
            let why = r.as_ref().unwrap_err().to_string();
            println!(
                "  worker: cancelled ({why}) after {}; saving state...",
                since(start)
            );
            // Clean-up that awaits, shielded, with 2 s of its own at most.
            let saved = CancelScope::shielded()
                .with_timeout(s.secs(2.0))?
                .run(async {
                    sleep(s.secs(0.5)).await?; // e.g. flush a file, say goodbye to a peer
                    Ok("state saved")
                })
                .await?;
            println!("  worker: {saved:?} after {}", since(start));
            r.map(|_| ())
        });
        sleep(s.secs(0.2)).await?;
        worker.cancel(Some("shutdown"));
        sleep(s.secs(0.2)).await?;
        worker.cancel(Some("impatient")); // held back by the shield
        let r = worker.clone().await;
        println!(
            "  worker: ended cancelled = {} after {} (the second request waited for the clean-up)",
            r.as_ref().is_err_and(|e| e.is_cancelled()),
            since(start)
        );
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("cleanup failed");
}
