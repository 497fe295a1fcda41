//! "speech": the pre-3.7 style many codebases still use: `loop = get_event_loop()`,
//! `loop.run_until_complete(coro)`, then callbacks and `run_forever` until one of them calls
//! `loop.stop()`, then `loop.close()`.
//!
//! Run it with `cargo run --example speech`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::{get_event_loop, new_event_loop, set_event_loop, sleep, Loop, Result};

const WORDS: &str = "we shall go on to the end";

/// asyncio: `async def speak(words, delay): for w in words.split(): print(w); await asyncio.sleep(delay)`
async fn speak(words: &'static str, delay: f64) -> Result<usize> {
    let mut n = 0;
    for w in words.split_whitespace() {
        println!("  {w}");
        n += 1;
        sleep(delay).await?;
    }
    Ok(n)
}

/// asyncio: `def say(loop, words, i, delay)`: prints one word, then schedules the next with
/// `loop.call_later`, and stops the loop after the last.
fn say(lp: Loop, words: Vec<&'static str>, i: usize, delay: f64) {
    println!("  {}", words[i].to_uppercase());
    if i + 1 == words.len() {
        lp.stop();
        return;
    }
    let next = lp.clone();
    lp.call_later(delay, move || say(next, words, i + 1, delay))
        .expect("the loop is open");
}

/// Runs the program with the tutorial's sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("speech ({})", s.note());
    let start = Instant::now();
    // asyncio.run (or a Runner) earlier on this thread leaves no current loop, and 3.14's
    // get_event_loop() no longer makes one: set it, then get it as the tutorial does.
    set_event_loop(Some(&new_event_loop()?));
    let lp = get_event_loop()?;
    let n = lp.run_until_complete(speak(WORDS, s.secs(0.5)))?;
    println!("  ({n} words with run_until_complete)");
    let words: Vec<&'static str> = WORDS.split_whitespace().collect();
    let first = lp.clone();
    lp.call_soon(move || say(first, words, 0, s.secs(0.5)))?;
    lp.run_forever()?;
    println!("  (the same with callbacks and run_forever)");
    lp.close()?;
    set_event_loop(None);
    println!("speech: closed: {}, in {}", lp.is_closed(), since(start));
    Ok(())
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("speech failed");
}
