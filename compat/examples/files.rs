//! "files": reading and writing files concurrently with `to_thread` (file I/O blocks, so
//! it runs on the blocking pool while the workers stay free), in a temporary directory that
//! is removed at the end.
//!
//! Run it with `cargo run --example files`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::since;
use taskio::{gather, to_thread, Result};

const NAMES: [&str; 4] = ["alpha.txt", "beta.txt", "gamma.txt", "delta.txt"];

/// asyncio: `await asyncio.to_thread(path.write_text, text)`
async fn write_file(path: PathBuf, lines: usize) -> Result<usize> {
    let text: String = (1..=lines).map(|i| format!("line {i}\n")).collect();
    let len = text.len();
    to_thread(move || std::fs::write(&path, text)).await??;
    Ok(len)
}

/// asyncio: `text = await asyncio.to_thread(path.read_text)`
async fn read_file(path: PathBuf) -> Result<(String, usize)> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let text = to_thread(move || std::fs::read_to_string(&path)).await??;
    Ok((name, text.lines().count()))
}

/// Runs the program (it has no sleeps to scale).
pub fn demo(_scale: f64) -> Result<()> {
    println!("files (no sleeps: the blocking file calls run on the thread pool)");
    let dir = std::env::temp_dir().join(format!("taskio-files-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let d = dir.clone();
    let outcome = taskio::run(async move {
        let start = Instant::now();
        let sizes = gather(
            NAMES
                .iter()
                .enumerate()
                .map(|(i, n)| write_file(d.join(n), 1000 * (i + 1))),
        )
        .await?;
        println!(
            "  wrote {} files concurrently ({} bytes) in {}",
            sizes.len(),
            sizes.iter().sum::<usize>(),
            since(start)
        );
        let start = Instant::now();
        let counts = gather(NAMES.iter().map(|n| read_file(d.join(n)))).await?;
        for (name, lines) in &counts {
            println!("  {name}: {lines} lines");
        }
        println!("  read them back concurrently in {}", since(start));
        Ok(())
    });
    std::fs::remove_dir_all(&dir)?;
    println!("  removed {}", dir.display());
    outcome
}

#[allow(dead_code)]
fn main() {
    demo(1.0).expect("files failed");
}
