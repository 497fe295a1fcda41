//! "graceful_server": a line server that shuts down in two phases. A `TaskGroup` starts the
//! server with `start` (the server task reports its port once it listens); clients connect,
//! one of them never closes; then the shutdown: every handler is cancelled and says goodbye
//! in its clean-up, one handler's clean-up is too slow for the grace period and is dropped,
//! and the shutdown names it.
//!
//! With `--wait-for-signal` the server waits for Ctrl-C (SIGINT) or SIGTERM before it shuts
//! down, as a real server does: `cargo run --example graceful_server -- --wait-for-signal`.
//!
//! Run it with `cargo run --example graceful_server`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::{since, Scale};
use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
use taskio::{sleep, CancelScope, Result, TaskGroup};

/// A connection's handler: greets, echoes lines in upper case until EOF; when cancelled by
/// the shutdown, says goodbye. A client that asked for "slow goodbye" gets a clean-up that
/// outlasts any grace period.
async fn handle(mut r: StreamReader, w: StreamWriter, scale: Scale) -> Result<()> {
    w.write(b"hello\n")?;
    let mut slow = false;
    let ended = loop {
        match r.readline().await {
            Ok(line) if line.is_empty() => break Ok(()), // EOF: the client left
            Ok(line) => {
                slow |= line.starts_with(b"slow goodbye");
                w.write(&line.to_ascii_uppercase())?;
            }
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = &ended {
        if e.is_cancelled() {
            // Clean-up that awaits: runs after the cancellation was delivered.
            if slow {
                // Shielded (the cancellation cannot end it): only the drop ends it.
                let _ = CancelScope::shielded().run(sleep(scale.secs(3600.0))).await;
            }
            w.write(b"server shutting down, goodbye\n")?;
            w.drain().await.ok();
        }
    }
    ended
}

/// Runs the program with its sleeps multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    run(Scale(scale), false)
}

fn run(s: Scale, wait_for_signal: bool) -> Result<()> {
    println!("graceful_server ({})", s.note());
    taskio::run(async move {
        let start = Instant::now();
        TaskGroup::run(|tg| async move {
            // The server task: reports its port once it listens, then serves until the
            // shutdown signal, then shuts down gracefully.
            let stop_tx = std::sync::Arc::new(taskio::Event::new());
            let stop_server = stop_tx.clone();
            let port = tg
                .start(move |status| async move {
                    let server = start_server(move |r, w| handle(r, w, s), "127.0.0.1", 0).await?;
                    status.started(server.sockets()[0].as_inet().unwrap().port());
                    stop_server.wait().await?;
                    let dropped = server.shutdown(s.secs(1.0)).await?;
                    println!(
                        "  server: shut down after {}; dropped {dropped:?}",
                        since(start)
                    );
                    Ok(())
                })
                .await?;
            println!("  server: listening on 127.0.0.1:{port}");

            // Three clients: two talk, one never closes, one asks for a slow goodbye.
            let mut clients = Vec::new();
            for (i, line) in ["hi there\n", "I never close\n", "slow goodbye\n"]
                .iter()
                .enumerate()
            {
                let (mut r, w) = open_connection("127.0.0.1", port).await?;
                assert_eq!(r.readline().await?, b"hello\n");
                w.write(line.as_bytes())?;
                let echoed = r.readline().await?;
                println!(
                    "  client {i}: sent {:?}, got {:?}",
                    line.trim(),
                    String::from_utf8_lossy(&echoed).trim()
                );
                clients.push((r, w));
            }

            if wait_for_signal {
                wait_for_a_signal().await?;
            } else {
                sleep(s.secs(0.2)).await?;
            }
            println!("  shutdown requested after {}", since(start));
            stop_tx.set();

            for (i, (mut r, _w)) in clients.into_iter().enumerate() {
                let last = r.read_to_end().await?;
                println!(
                    "  client {i}: then {:?}",
                    String::from_utf8_lossy(&last).trim()
                );
            }
            Ok(())
        })
        .await
    })
}

#[cfg(unix)]
async fn wait_for_a_signal() -> Result<()> {
    use taskio::runtime::signal::{signal, SignalKind};
    println!(
        "  waiting for Ctrl-C or SIGTERM (pid {})",
        std::process::id()
    );
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    taskio::wait(
        [
            taskio::create_task(async move {
                term.recv().await;
                Ok(())
            }),
            taskio::create_task(async move {
                int.recv().await;
                Ok(())
            }),
        ],
        None,
        taskio::wait::FIRST_COMPLETED,
    )
    .await?;
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_a_signal() -> Result<()> {
    taskio::runtime::signal::ctrl_c().await?;
    Ok(())
}

#[allow(dead_code)]
fn main() {
    let wait = std::env::args().any(|a| a == "--wait-for-signal");
    run(Scale(1.0), wait).expect("graceful_server failed");
}
