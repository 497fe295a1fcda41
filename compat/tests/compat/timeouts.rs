//! ASYNCIO.md "Timeouts" (wait_for, timeout/timeout_at, wait), on the paused clock.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use taskio::timeouts::{timeout, timeout_at, Instant};
use taskio::wait::{wait, ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION};
use taskio::{create_task, sleep, wait_for, Error, ErrorKind};

const S: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// wait_for
// ---------------------------------------------------------------------------------------

both!(wait_for_without_timeout_is_a_plain_await, || async {
    assert_eq!(
        wait_for(
            async {
                sleep(1000).await?;
                Ok(1)
            },
            None
        )
        .await?,
        1
    );
    Ok(())
});

both!(wait_for_result_in_time, || async {
    let start = Instant::now();
    assert_eq!(
        wait_for(
            async {
                sleep(1).await?;
                Ok(2)
            },
            Some(5 * S)
        )
        .await?,
        2
    );
    assert_eq!(start.elapsed(), S);
    Ok(())
});

both!(wait_for_expiry_cancels_the_inner_before_timeout, || async {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let inner = create_task(async move {
        let _f = Flag(d);
        sleep(10).await?;
        Ok(())
    });
    let start = Instant::now();
    let err = wait_for(inner.clone(), Some(S)).await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(start.elapsed(), S);
    assert!(
        inner.done() && inner.cancelled(),
        "its cancellation finished first"
    );
    assert!(dropped.load(Ordering::SeqCst));
    Ok(())
});

both!(wait_for_caller_cancelled_cancels_the_inner, || async {
    let inner = create_task(async {
        sleep(100).await?;
        Ok(())
    });
    let i = inner.clone();
    let outer = create_task(async move { wait_for(i, Some(50 * S)).await });
    sleep(1).await?;
    outer.cancel(None);
    assert!(outer.clone().await.unwrap_err().is_cancelled());
    assert!(inner.clone().await.unwrap_err().is_cancelled());
    Ok(())
});

both!(wait_for_zero_timeout, || async {
    let done = create_task(async { Ok(7) });
    done.clone().await?;
    assert_eq!(wait_for(done, Some(Duration::ZERO)).await?, 7);
    let pending = create_task(async {
        sleep(1).await?;
        Ok(8)
    });
    let err = wait_for(pending.clone(), Some(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(pending.cancelled());
    Ok(())
});

both!(wait_for_passes_the_inner_error, || async {
    let err = wait_for(async { Err::<(), _>(Error::runtime("inner")) }, Some(S))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "inner");
    Ok(())
});

// ---------------------------------------------------------------------------------------
// timeout / timeout_at scopes
// ---------------------------------------------------------------------------------------

both!(
    timeout_scope_expiry_cancels_the_work_and_raises_timeout,
    || async {
        let reached = Arc::new(AtomicBool::new(false));
        let r = reached.clone();
        let cm = timeout(Some(S));
        let start = Instant::now();
        let err = cm
            .run(async move {
                sleep(10).await?;
                r.store(true, Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(cm.expired());
        assert_eq!(start.elapsed(), S);
        assert!(!reached.load(Ordering::SeqCst));
        Ok(())
    }
);

both!(timeout_scope_other_errors_pass_through, || async {
    let cm = timeout(Some(S));
    let err = cm
        .run(async { Err::<(), _>(Error::runtime("own")) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "own");
    assert!(!cm.expired());
    let cm = timeout(Some(S));
    let err = cm
        .run(async { Err::<(), _>(Error::cancelled(None)) })
        .await
        .unwrap_err();
    assert!(
        err.is_cancelled(),
        "a cancellation from elsewhere passes through"
    );
    Ok(())
});

both!(
    timeout_scope_cancelled_from_outside_passes_through,
    || async {
        let outer = create_task(async {
            timeout(Some(100 * S))
                .run(async { sleep(1000).await })
                .await
        });
        sleep(1).await?;
        outer.cancel(None);
        assert!(outer.clone().await.unwrap_err().is_cancelled());
        Ok(())
    }
);

both!(timeout_when_reschedule_expired, || async {
    let now = Instant::now();
    let cm = timeout_at(Some(now + S));
    assert_eq!(cm.when(), Some(now + S));
    assert!(cm.reschedule(None).is_err(), "not entered");
    let c = cm.clone();
    cm.run(async move {
        c.reschedule(Some(Instant::now() + 10 * S))?;
        sleep(5).await?;
        c.reschedule(None)?;
        sleep(100).await
    })
    .await?;
    assert!(!cm.expired());
    let err = cm.reschedule(Some(now)).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Runtime,
        "rescheduling an inactive scope"
    );
    let expired = timeout(Some(S));
    let _ = expired.run(async { sleep(5).await }).await;
    assert!(expired.reschedule(None).is_err());
    Ok(())
});

both!(timeout_none_never_expires, || async {
    let cm = timeout(None);
    assert_eq!(cm.when(), None);
    assert_eq!(
        cm.run(async {
            sleep(1000).await?;
            Ok(1)
        })
        .await?,
        1
    );
    Ok(())
});

both!(
    nested_scopes_with_one_deadline_the_outer_reports,
    || async {
        let when = Instant::now() + S;
        let outer = timeout_at(Some(when));
        let inner = timeout_at(Some(when));
        let i = inner.clone();
        let err = outer
            .run(async move { i.run(async { sleep(10).await }).await })
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        // asyncio: both scopes' deadlines passed, both expired; the inner passed the
        // Cancelled on (a request that was not its own was left), the outer turned it into
        // Timeout.
        assert!(outer.expired());
        assert!(inner.expired());
        Ok(())
    }
);

// ---------------------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------------------

both!(wait_first_completed, || async {
    let a = create_task(async {
        sleep(1).await?;
        Ok(1)
    });
    let b = create_task(async {
        sleep(5).await?;
        Ok(2)
    });
    let (done, pending) = wait([a.clone(), b.clone()], None, FIRST_COMPLETED).await?;
    assert_eq!(done, [a]);
    assert_eq!(pending, std::slice::from_ref(&b));
    assert!(!b.cancelled(), "wait never cancels");
    Ok(())
});

both!(wait_first_exception_ignores_cancelled, || async {
    let c = create_task(std::future::pending::<taskio::Result<u8>>());
    c.cancel(None);
    let bad = create_task(async {
        sleep(2).await?;
        Err::<u8, _>(Error::runtime("x"))
    });
    let slow = create_task(async {
        sleep(10).await?;
        Ok(1)
    });
    let (done, pending) = wait(
        [c.clone(), bad.clone(), slow.clone()],
        None,
        FIRST_EXCEPTION,
    )
    .await?;
    assert_eq!(done, [c, bad]);
    assert_eq!(pending, [slow]);
    Ok(())
});

both!(
    wait_first_exception_without_errors_waits_for_all,
    || async {
        let a = create_task(async {
            sleep(1).await?;
            Ok(1)
        });
        let b = create_task(async {
            sleep(2).await?;
            Ok(2)
        });
        let (done, pending) = wait([a, b], None, FIRST_EXCEPTION).await?;
        assert_eq!((done.len(), pending.len()), (2, 0));
        Ok(())
    }
);

both!(wait_all_completed_and_timeout_never_raises, || async {
    let a = create_task(async {
        sleep(1).await?;
        Ok(1)
    });
    let b = create_task(async {
        sleep(10).await?;
        Ok(2)
    });
    let start = Instant::now();
    let (done, pending) = wait([a.clone(), b.clone()], Some(2 * S), ALL_COMPLETED).await?;
    assert_eq!(start.elapsed(), 2 * S);
    assert_eq!((done, pending), (vec![a], vec![b.clone()]));
    assert!(!b.cancelled());
    assert_eq!(b.await?, 2);
    Ok(())
});

both!(wait_on_an_empty_set_is_an_error, || async {
    let err = wait(Vec::<taskio::Task<u8>>::new(), None, ALL_COMPLETED)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    Ok(())
});

ct_only!(wait_counts_tasks_finished_in_the_same_tick, || async {
    let a = create_task(async {
        sleep(1).await?;
        Ok(1)
    });
    let b = create_task(async {
        sleep(1).await?;
        Ok(2)
    });
    let (done, pending) = wait([a, b], None, FIRST_COMPLETED).await?;
    assert_eq!((done.len(), pending.len()), (2, 0));
    Ok(())
});

// ---------------------------------------------------------------------------------------
// One rule for time arguments: seconds or a `Duration`, `None` for no limit; borrowed
// awaitables
// ---------------------------------------------------------------------------------------

both!(time_limits_take_seconds_or_a_duration, || async {
    let forever = || async {
        sleep(3600).await?;
        Ok(())
    };
    // wait_for: a float, an integer, a Duration.
    for (limit, expect) in [(1.5, 1500), (2.0, 2000)] {
        let start = Instant::now();
        assert!(wait_for(forever(), limit).await.unwrap_err().is_timeout());
        assert_eq!(start.elapsed(), Duration::from_millis(expect));
    }
    let start = Instant::now();
    assert!(wait_for(forever(), 3).await.unwrap_err().is_timeout());
    assert!(wait_for(forever(), Duration::from_millis(250))
        .await
        .unwrap_err()
        .is_timeout());
    assert_eq!(start.elapsed(), Duration::from_millis(3250));
    // timeout(): seconds.
    let cm = timeout(0.5);
    let start = Instant::now();
    assert!(cm.run(forever()).await.unwrap_err().is_timeout());
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    // wait(): seconds; the unfinished task is pending, not cancelled.
    let slow = create_task(forever());
    let (done, pending) = wait([slow.clone()], 1, ALL_COMPLETED).await?;
    assert!(done.is_empty() && pending == [slow.clone()] && !slow.done());
    // as_completed(): seconds.
    let mut it = taskio::as_completed([slow.clone()], 0.25);
    assert!(it.next().await.unwrap().unwrap_err().is_timeout());
    assert!(it.next().await.is_none());
    slow.cancel(None);
    Ok(())
});

both!(nan_time_limits_are_value_errors, || async {
    let body = || async { Ok(1) };
    let err = wait_for(body(), f64::NAN).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    let err = timeout(f64::NAN).run(body()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    let t = create_task(body());
    let err = wait([t.clone()], f64::NAN, ALL_COMPLETED)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    let mut it = taskio::as_completed([t.clone()], f32::NAN);
    assert_eq!(
        it.next().await.unwrap().unwrap_err().kind(),
        ErrorKind::Value
    );
    assert!(it.next().await.is_none());
    // A negative limit has passed already: a finished task still gives its result.
    t.clone().await?;
    assert_eq!(wait_for(&t, -1.0).await?, 1);
    Ok(())
});

both!(wait_for_a_borrowed_future, || async {
    // The future borrows the caller's state: no 'static, no Clone.
    let mut log = Vec::new();
    let n = wait_for(
        async {
            log.push("ran");
            Ok(log.len())
        },
        1,
    )
    .await?;
    assert_eq!((n, log), (1, vec!["ran"]));
    // Clean-up of a borrowed future runs (and may await) before the Timeout.
    let mut cleaned = false;
    let err = wait_for(
        async {
            let r = sleep(10).await;
            sleep(0.5).await?;
            cleaned = true;
            r
        },
        1,
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout() && cleaned);
    Ok(())
});

both!(
    wait_for_a_readline_times_out_and_the_reader_reads_on,
    || async {
        // asyncio's read timeout: `await wait_for(reader.readline(), t)`.
        let go = Arc::new(taskio::Event::new());
        let server = {
            let go = go.clone();
            taskio::start_server(
                move |_r, w| {
                    let go = go.clone();
                    async move {
                        go.wait().await?;
                        w.write(b"late line\n")?;
                        w.drain().await?;
                        w.close();
                        w.wait_closed().await
                    }
                },
                "127.0.0.1",
                0,
            )
            .await?
        };
        let port = server.sockets()[0].as_inet().unwrap().port();
        let (mut reader, writer) = taskio::open_connection("127.0.0.1", port).await?;
        let err = wait_for(reader.readline(), 0.05).await.unwrap_err();
        assert!(err.is_timeout());
        go.set();
        assert_eq!(reader.readline().await?, b"late line\n");
        writer.close();
        server.close();
        Ok(())
    }
);
