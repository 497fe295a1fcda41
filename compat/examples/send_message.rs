//! "send_message": the same three awaits done one after the other, as tasks, and in a
//! TaskGroup, timed; then `as_completed` consuming results as they finish.
//!
//! Run it with `cargo run --example send_message`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{as_completed, create_task, sleep, Result, TaskGroup};

/// asyncio: `async def send_message(msg, delay): await asyncio.sleep(delay); print(msg); return msg`
async fn send_message(msg: &'static str, delay: f64) -> Result<&'static str> {
    sleep(delay).await?;
    println!("  sent {msg:?}");
    Ok(msg)
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("send_message ({})", s.note());
    taskio::run(async move {
        let (d1, d2) = (s.secs(1.0), s.secs(2.0));

        // 1. sequential: each await waits for the previous one (1 + 1 + 2 = 4 tutorial s)
        let start = Instant::now();
        send_message("hello", d1).await?;
        send_message("world", d1).await?;
        send_message("bye", d2).await?;
        println!("sequential awaits: {} (the tutorial's 4 s)", since(start));

        // 2. tasks: all three run at once (max(1, 1, 2) = 2 tutorial s)
        let start = Instant::now();
        let a = create_task(send_message("hello", d1));
        let b = create_task(send_message("world", d1));
        let c = create_task(send_message("bye", d2));
        a.await?;
        b.await?;
        c.await?;
        println!("tasks:             {} (the tutorial's 2 s)", since(start));

        // 3. TaskGroup: the same, and the scope waits for all of them
        let start = Instant::now();
        TaskGroup::run(|tg| async move {
            tg.create_task(send_message("hello", d1))?;
            tg.create_task(send_message("world", d1))?;
            tg.create_task(send_message("bye", d2))?;
            Ok(())
        })
        .await?;
        println!("TaskGroup:         {} (the tutorial's 2 s)", since(start));

        // 4. as_completed: take each result as soon as it is there
        let start = Instant::now();
        let tasks = [
            create_task(send_message("slow", s.secs(2.0))),
            create_task(send_message("fast", s.secs(0.5))),
            create_task(send_message("medium", s.secs(1.0))),
        ];
        let mut it = as_completed(tasks, None);
        while let Some(msg) = it.next().await {
            println!("as_completed: got {:?} after {}", msg?, since(start));
        }
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("send_message failed");
}
