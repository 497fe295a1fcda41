//! Start handshakes, supervised groups and graceful two-phase shutdown (of a group, a server
//! and a runner), each on the deterministic runner (current thread) and on 1 and 4 workers.
//! Group tests run on the paused clock; server tests on the real one (their I/O is real).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
use taskio::{
    move_on_after, sleep, CancelScope, Error, ErrorKind, Event, Runner, TaskGroup, TaskStatus,
};
use taskio_tests::{port, runner, DropCount, Flavor};

/// A child that swallows every cancellation (it never ends on its own).
async fn stubborn(guard: DropCount) -> taskio::Result<()> {
    let _guard = guard;
    loop {
        let _ = sleep(3600).await;
    }
}

// ---- TaskGroup::start ----

flavours!(
    start_returns_the_value_and_the_child_runs_on,
    true,
    || async {
        let ran_on = Arc::new(AtomicUsize::new(0));
        let r = ran_on.clone();
        let out = TaskGroup::run(|tg| async move {
            let v = tg
                .start(|status: TaskStatus<&'static str>| async move {
                    sleep(1).await?;
                    status.started("ready");
                    sleep(1).await?;
                    r.fetch_add(1, SeqCst); // after `started`: still running, in the group
                    Ok(())
                })
                .await?;
            assert_eq!(
                ran_on.load(SeqCst),
                0,
                "start returned at `started`, not at the end"
            );
            Ok((v, ran_on))
        })
        .await?;
        assert_eq!(out.0, "ready");
        // The group waited for the child.
        assert_eq!(out.1.load(SeqCst), 1);
        Ok(())
    }
);

flavours!(
    start_failing_before_started_is_starts_error_only,
    true,
    || async {
        let sibling_done = Arc::new(AtomicBool::new(false));
        let s = sibling_done.clone();
        let out = TaskGroup::run(|tg| async move {
            tg.create_task(async move {
                sleep(2).await?;
                s.store(true, SeqCst); // not cancelled by the failed start
                Ok(())
            })?;
            let err = tg
                .start(|_status: TaskStatus<u16>| async move {
                    sleep(1).await?;
                    Err::<(), _>(Error::runtime("bind failed"))
                })
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "bind failed");
            // Returning without `started` is an error too.
            let err = tg
                .start(|_status: TaskStatus<u16>| async move { Ok(()) })
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Runtime);
            assert!(err.to_string().contains("started"), "{err}");
            Ok("group not aborted")
        })
        .await?;
        assert_eq!(out, "group not aborted");
        assert!(sibling_done.load(SeqCst));
        Ok(())
    }
);

flavours!(
    start_failing_after_started_fails_the_group,
    true,
    || async {
        let err = TaskGroup::run(|tg| async move {
            let port = tg
                .start(|status| async move {
                    status.started(8080u16);
                    sleep(1).await?;
                    Err::<(), _>(Error::runtime("crashed later"))
                })
                .await?;
            assert_eq!(port, 8080);
            sleep(3600).await?; // cancelled by the child's failure
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Group);
        let errors = &err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "crashed later");
        Ok(())
    }
);

flavours!(a_cancelled_start_cancels_the_child, true, || async {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let c = cleaned.clone();
    TaskGroup::run(|tg| async move {
        let out = move_on_after(
            1,
            tg.start(|_status: TaskStatus<()>| async move {
                let r = sleep(3600).await; // never ready
                sleep(0.5).await.ok(); // awaiting clean-up after the delivery
                c.fetch_add(1, SeqCst);
                r
            }),
        )
        .await?;
        assert!(out.is_none());
        Ok(())
    })
    .await?;
    assert_eq!(cleaned.load(SeqCst), 1);
    Ok(())
});

// ---- supervised groups ----

flavours!(
    supervised_group_reports_failures_and_cancels_nobody,
    true,
    || async {
        let failures = Arc::new(Mutex::new(Vec::new()));
        let seen = failures.clone();
        let finished = Arc::new(AtomicUsize::new(0));
        let hung_dropped = Arc::new(AtomicUsize::new(0));
        let (f, h) = (finished.clone(), hung_dropped.clone());
        let out = TaskGroup::run_supervised(
            move |e| seen.lock().unwrap().push((e.kind(), e.to_string())),
            |tg| async move {
                for i in 0..3u64 {
                    tg.create_task(async move {
                        sleep(i).await?;
                        Err::<(), _>(Error::runtime(format!("handler {i} failed")))
                    })?;
                }
                tg.create_task(async { panic!("handler panicked") as taskio::Result<()> })?;
                for i in 0..3u64 {
                    let f = f.clone();
                    tg.create_task(async move {
                        sleep(5 + i).await?; // after every failure: not cancelled by them
                        f.fetch_add(1, SeqCst);
                        Ok(())
                    })?;
                }
                let hung = tg.create_task(stubborn(DropCount(h)))?;
                hung.set_name("hung handler");
                sleep(10).await?;
                // The hanging child is still there; a shutdown ends it.
                assert!(!hung.done());
                assert_eq!(tg.shutdown(1).await?, ["hung handler"]);
                Ok("served")
            },
        )
        .await?;
        assert_eq!(out, "served");
        assert_eq!(finished.load(SeqCst), 3);
        assert_eq!(hung_dropped.load(SeqCst), 1);
        let mut failures = failures.lock().unwrap().clone();
        failures.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(failures.len(), 4, "{failures:?}");
        assert!(failures.iter().any(|(k, _)| *k == ErrorKind::Panic));
        for i in 0..3 {
            assert!(failures
                .iter()
                .any(|(k, m)| *k == ErrorKind::Runtime && *m == format!("handler {i} failed")));
        }
        Ok(())
    }
);

flavours!(
    supervised_body_error_cancels_the_children_and_is_returned_alone,
    true,
    || async {
        let cancelled = Arc::new(AtomicUsize::new(0));
        let c = cancelled.clone();
        let hook_calls = Arc::new(AtomicUsize::new(0));
        let hc = hook_calls.clone();
        let err = TaskGroup::run_supervised(
            move |_| {
                hc.fetch_add(1, SeqCst);
                panic!("a panicking hook is caught");
            },
            |tg| async move {
                tg.create_task(async { Err::<(), _>(Error::runtime("child")) })?;
                for _ in 0..2 {
                    let c = c.clone();
                    tg.create_task(async move {
                        let r = sleep(3600).await;
                        if r.is_err() {
                            c.fetch_add(1, SeqCst);
                        }
                        r
                    })?;
                }
                sleep(1).await?;
                Err::<(), _>(Error::runtime("body"))
            },
        )
        .await
        .unwrap_err();
        // As in `TaskGroup::run`, the body's error comes in a Group error: alone, as the
        // child's failure went to the hook.
        assert_eq!(err.kind(), ErrorKind::Group);
        let errors = &err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "body");
        assert_eq!(cancelled.load(SeqCst), 2);
        assert_eq!(hook_calls.load(SeqCst), 1);
        Ok(())
    }
);

// ---- TaskGroup::shutdown ----

flavours!(
    group_shutdown_lets_clean_up_run_then_drops_the_rest,
    true,
    || async {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (c, d) = (cleaned.clone(), dropped.clone());
        TaskGroup::run(|tg| async move {
            for _ in 0..3 {
                let c = c.clone();
                tg.create_task(async move {
                    let r = sleep(3600).await;
                    sleep(1).await.ok(); // clean-up that awaits, within the grace period
                    c.fetch_add(1, SeqCst);
                    r
                })?;
            }
            let s = tg.create_task(stubborn(DropCount(d.clone())))?;
            s.set_name("stubborn");
            sleep(0).await?;
            let t0 = taskio::timeouts::Instant::now();
            let names = tg.shutdown(5).await?;
            // The grace period ran to its end for the stubborn child (paused clock: exact).
            assert_eq!(
                taskio::timeouts::Instant::now() - t0,
                std::time::Duration::from_secs(5)
            );
            assert_eq!(names, ["stubborn"]);
            assert_eq!(c.load(SeqCst), 3);
            assert_eq!(
                d.load(SeqCst),
                1,
                "the dropped child's future was dropped once"
            );
            // The group stays open.
            assert_eq!(tg.create_task(async { Ok(7) })?.await?, 7);
            Ok(())
        })
        .await?;
        assert_eq!(dropped.load(SeqCst), 1);
        Ok(())
    }
);

flavours!(
    group_shutdown_is_shielded_from_the_callers_cancellation,
    true,
    || async {
        let names = Arc::new(Mutex::new(None));
        let n = names.clone();
        let scope = CancelScope::new().with_timeout(1)?;
        let out = scope
            .run(TaskGroup::run(|tg| async move {
                tg.create_task(stubborn(DropCount(Arc::new(AtomicUsize::new(0)))))?
                    .set_name("s");
                sleep(0).await?;
                // The scope's deadline (1 s) passes during the 3 s grace: the shutdown finishes.
                *n.lock().unwrap() = Some(tg.shutdown(3).await?);
                sleep(0).await?; // delivered here
                Ok(())
            }))
            .await?;
        assert_eq!(out, None);
        assert_eq!(names.lock().unwrap().take().unwrap(), ["s"]);
        Ok(())
    }
);

// ---- Server shutdown ----

/// A server whose handlers greet, then wait for a line the client never sends.
async fn idle_server(
    swallow: bool,
    cleaned: Arc<AtomicUsize>,
    greeted: Arc<Event>,
) -> taskio::Result<taskio::Server> {
    start_server(
        move |mut r: StreamReader, w: StreamWriter| {
            let (cleaned, greeted) = (cleaned.clone(), greeted.clone());
            async move {
                w.write(b"hello\n")?;
                greeted.set();
                let line = r.readline().await;
                if swallow {
                    // Ignores its cancellation: keeps the connection forever.
                    loop {
                        let _ = sleep(3600).await;
                    }
                }
                w.write(b"bye\n")?;
                w.drain().await.ok();
                cleaned.fetch_add(1, SeqCst);
                line.map(drop)
            }
        },
        "127.0.0.1",
        0,
    )
    .await
}

flavours!(
    server_shutdown_ends_handlers_of_clients_that_never_close,
    false,
    || async {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let greeted = Arc::new(Event::new());
        let server = idle_server(false, cleaned.clone(), greeted.clone()).await?;
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (mut r, w) = open_connection("127.0.0.1", port(&server)).await?;
            assert_eq!(r.readline().await?, b"hello\n");
            clients.push((r, w));
        }
        assert_eq!(server.connections(), 3);
        let dropped = server.shutdown(30).await?;
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(cleaned.load(SeqCst), 3);
        assert_eq!(server.connections(), 0);
        server.wait_closed().await?;
        for (r, _w) in &mut clients {
            assert_eq!(r.readline().await?, b"bye\n");
        }
        Ok(())
    }
);

flavours!(
    server_shutdown_drops_a_handler_past_its_grace,
    false,
    || async {
        let greeted = Arc::new(Event::new());
        let server = idle_server(true, Arc::new(AtomicUsize::new(0)), greeted.clone()).await?;
        let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await?;
        assert_eq!(r.readline().await?, b"hello\n");
        let dropped = server.shutdown(0.05).await?;
        assert_eq!(dropped.len(), 1);
        assert!(
            dropped[0].starts_with("connection from 127.0.0.1:"),
            "{dropped:?}"
        );
        // Dropped: its connection is closed, and wait_closed returns.
        server.wait_closed().await?;
        assert_eq!(server.connections(), 0);
        assert_eq!(r.read_to_end().await?, b"");
        Ok(())
    }
);

flavours!(
    abort_clients_and_close_clients_end_handlers_blocked_on_reads,
    false,
    || async {
        for abort in [true, false] {
            let cleaned = Arc::new(AtomicUsize::new(0));
            let server = idle_server(false, cleaned.clone(), Arc::new(Event::new())).await?;
            let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await?;
            assert_eq!(r.readline().await?, b"hello\n");
            server.close();
            if abort {
                server.abort_clients();
            } else {
                server.close_clients();
            }
            // The handler's read sees EOF: it ends by itself, nobody cancels it.
            server.wait_closed().await?;
            assert_eq!(cleaned.load(SeqCst), 1);
            // The client sees EOF (after nothing more, for an abort: the writer was closed).
            let rest = r.read_to_end().await?;
            assert!(rest.is_empty() || rest == b"bye\n", "{rest:?}");
            if abort {
                assert!(rest.is_empty());
            }
        }
        Ok(())
    }
);

// ---- Runner shutdown ----

#[test]
fn runner_shutdown_grace_drops_what_ignores_its_cancellation() {
    for flavor in Flavor::ALL {
        let dropped = Arc::new(AtomicUsize::new(0));
        let cleaned = Arc::new(AtomicUsize::new(0));
        let r = runner(flavor, true).shutdown_grace(5).build().unwrap();
        let (d, c) = (dropped.clone(), cleaned.clone());
        r.run(async move {
            taskio::create_task(stubborn(DropCount(d))).set_name("stubborn");
            taskio::create_task(async move {
                let r = sleep(3600).await;
                sleep(1).await.ok();
                c.fetch_add(1, SeqCst);
                r
            });
            sleep(0).await?;
            Ok(())
        })
        .unwrap();
        assert_eq!(r.shutdown(), ["stubborn"]);
        assert_eq!(dropped.load(SeqCst), 1);
        assert_eq!(cleaned.load(SeqCst), 1);
    }
}

#[test]
fn runner_shutdown_timeout_bounds_the_wait_for_blocking_work() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (f, s) = (finished.clone(), started.clone());
    let r = Runner::builder()
        .worker_threads(1)
        .shutdown_timeout(0.05)
        .build()
        .unwrap();
    r.run(async move {
        let t = taskio::create_task(taskio::to_thread(move || {
            s.store(true, SeqCst);
            // Blocks until the test lets it go (or a minute passes).
            let _ = rx.recv_timeout(std::time::Duration::from_secs(60));
            f.store(true, SeqCst);
        }));
        while !started.load(SeqCst) {
            sleep(0.001).await?;
        }
        drop(t);
        Ok(())
    })
    .unwrap();
    r.close();
    // close returned while the blocking work was still blocked.
    assert!(!finished.load(SeqCst));
    tx.send(()).unwrap();
    let err = Runner::builder()
        .shutdown_grace(f64::NAN)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
}
