//! "observe": seeing inside a running program. A small chat-like server with two live
//! clients and a TaskGroup of workers: the live task tree (`dump_tasks`, asyncio's
//! `pstree`), one task's call graph (asyncio 3.14's `print_call_graph`), the runtime's
//! counters, and a slow poll caught by the watchdog while the tasks queued behind it keep
//! running on the other workers.
//!
//! Run it with `cargo run --example observe`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::Scale;
use taskio::runtime::task::Awaiting;
use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
use taskio::{sleep, Event, Result, Runner, TaskGroup};

/// Runs the program with its waits multiplied by `scale`.
pub fn demo(scale: f64) -> Result<()> {
    let s = Scale(scale);
    println!("observe ({})", s.note());
    let runner = Runner::builder().worker_threads(2).build()?;
    runner.run(async move {
        let quit = Arc::new(Event::new());
        // A server whose handlers wait for a line from clients that say nothing.
        let server = start_server(
            |mut r: StreamReader, w: StreamWriter| async move {
                w.write(b"welcome\n")?;
                r.readline().await.map(drop)
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let port = server.sockets()[0].as_inet().unwrap().port();
        let mut clients = Vec::new();
        for _ in 0..2 {
            let (mut r, w) = open_connection("127.0.0.1", port).await?;
            r.readline().await?; // the welcome: the handler is running
            clients.push((r, w));
        }
        let workers = taskio::tasks::create_task_named("workers", {
            let quit = quit.clone();
            async move {
                TaskGroup::run(|tg| async move {
                    tg.create_task(async move { quit.wait().await.map(drop) })?;
                    tg.create_task(sleep(3600))?;
                    Ok(())
                })
                .await
            }
        });
        // Until every task is parked where the program put it.
        loop {
            let dump = taskio::dump_tasks();
            let parked = dump.iter().filter(|t| t.awaiting.is_some()).count();
            if parked >= 5 {
                break;
            }
            sleep(0.0).await?;
        }
        println!("  the live task tree (taskio::dump_tasks()):");
        for line in taskio::dump_tasks().to_string().lines() {
            println!("    {line}");
        }
        let leaf = taskio::all_tasks()
            .into_iter()
            .find(|t| {
                taskio::capture_call_graph(Some(t)).is_some_and(|g| {
                    matches!(g.task.awaiting, Some(Awaiting::Event(_))) && !g.awaited_by.is_empty()
                })
            })
            .expect("the event waiter");
        println!("  who awaits the event waiter (taskio::print_call_graph):");
        for line in taskio::format_call_graph(Some(&leaf)).lines() {
            println!("    {line}");
        }
        let m = taskio::runtime::Handle::current().metrics();
        println!(
            "  counters: {} tasks spawned, {} alive, {} polls, {} steals, {} I/O events, {} sockets, {} timers",
            m.spawned_tasks,
            m.alive_tasks,
            m.total_polls(),
            m.total_steals(),
            m.io_events,
            m.io_sources,
            m.timers
        );
        quit.set();
        workers.cancel(None);
        let _ = workers.await;
        drop(clients);
        server.close();
        server.wait_closed().await
    })?;
    runner.close();

    // The watchdog: a task that blocks its worker (a blocking call in async code).
    let threshold = Duration::from_secs_f64(s.secs(1.0).max(0.02));
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = taskio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_slow_poll(threshold, move |slow| {
            let _ = tx.lock().unwrap().send(slow.to_string());
        })
        .build()?;
    let start = Instant::now();
    let ran = rt.block_on(async move {
        let blocker = taskio::runtime::spawn(async move {
            let behind: Vec<_> = (0..8)
                .map(|i| taskio::runtime::spawn(async move { i }))
                .collect();
            std::thread::sleep(threshold * 3); // never do this in a task
                                               // Still inside the blocking poll: which of them ran on the other worker?
            let done = behind.iter().filter(|t| t.is_finished()).count();
            (done, behind)
        });
        let (done, behind) = blocker.await.unwrap();
        for t in behind {
            t.await.unwrap();
        }
        done
    });
    let report = rx.recv().expect("the watchdog's report");
    println!("  the watchdog (threshold {threshold:?}): {report}");
    println!(
        "  {ran} of the 8 tasks queued behind it ran on the other worker meanwhile; the blocking poll took {:.0?}",
        start.elapsed()
    );
    Ok(())
}

#[allow(dead_code)]
fn main() {
    demo(0.5).expect("observe failed");
}
