//! ASYNCIO.md "Scheduling" and "Task", rule by rule, on the deterministic runner and (where
//! the rule does not depend on FIFO order) on the multi-thread runtime.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use taskio::tasks::{create_task_named, DoneCallback};
use taskio::{all_tasks, create_task, current_task, sleep, Error, ErrorKind, Task};
use taskio_tests::{yields, Log};

// ---------------------------------------------------------------------------------------
// Scheduling
// ---------------------------------------------------------------------------------------

ct_only!(ready_tasks_run_fifo_one_iteration_at_a_time, || async {
    let log = Log::default();
    let mut tasks = Vec::new();
    for name in ["a", "b", "c"] {
        let log = log.clone();
        tasks.push(create_task(async move {
            log.push(format!("{name}1"));
            sleep(0).await?;
            log.push(format!("{name}2"));
            Ok(())
        }));
    }
    taskio::gather(tasks).await?;
    assert_eq!(log.get(), ["a1", "b1", "c1", "a2", "b2", "c2"]);
    Ok(())
});

ct_only!(sleep_zero_is_one_yield_to_the_back, || async {
    let log = Log::default();
    let l = log.clone();
    let a = create_task(async move {
        l.push("a1");
        sleep(0).await?;
        l.push("a2");
        sleep(-1.0).await?; // any delay <= 0 is a yield too
        l.push("a3");
        Ok(())
    });
    let l = log.clone();
    let b = create_task(async move {
        l.push("b1");
        sleep(0).await?;
        l.push("b2");
        sleep(std::time::Duration::ZERO).await?;
        l.push("b3");
        Ok(())
    });
    taskio::gather([a, b]).await?;
    assert_eq!(log.get(), ["a1", "b1", "a2", "b2", "a3", "b3"]);
    Ok(())
});

both!(sleep_nan_is_an_error, || async {
    let err = sleep(f64::NAN).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    Ok(())
});

ct_only!(done_callbacks_are_scheduled_never_inline, || async {
    let log = Log::default();
    let t = create_task(async { Ok(1) });
    let l = log.clone();
    t.add_done_callback(move |_: &Task<i32>| l.push("cb"));
    t.clone().await?;
    // The task is done, the callback scheduled but not run yet.
    log.push("after await");
    sleep(0).await?;
    assert_eq!(log.get(), ["after await", "cb"]);
    Ok(())
});

both!(done_callbacks_run_in_registration_order, || async {
    let log = Log::default();
    let t = create_task(async {
        sleep(0).await?;
        Ok(7)
    });
    for i in 0..5 {
        let l = log.clone();
        t.add_done_callback(move |t: &Task<i32>| l.push(format!("{i}:{}", t.result().unwrap())));
    }
    t.clone().await?;
    while log.get().len() < 5 {
        sleep(0).await?;
    }
    assert_eq!(log.get(), ["0:7", "1:7", "2:7", "3:7", "4:7"]);
    Ok(())
});

ct_only!(done_callback_on_a_done_task_is_still_scheduled, || async {
    let log = Log::default();
    let t = create_task(async { Ok(()) });
    t.clone().await?;
    let l = log.clone();
    t.add_done_callback(move |_: &Task<()>| l.push("first"));
    let l = log.clone();
    t.add_done_callback(move |_: &Task<()>| l.push("second"));
    assert!(log.get().is_empty(), "never inline");
    sleep(0).await?;
    assert_eq!(log.get(), ["first", "second"]);
    Ok(())
});

both!(remove_done_callback_removes_every_copy, || async {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let cb = DoneCallback::new(move |_: &Task<()>| {
        h.fetch_add(1, Ordering::SeqCst);
    });
    let other_hits = Arc::new(AtomicUsize::new(0));
    let h2 = other_hits.clone();
    let t = create_task(async {
        sleep(0).await?;
        Ok(())
    });
    t.add_done_callback(cb.clone());
    t.add_done_callback(move |_: &Task<()>| {
        h2.fetch_add(1, Ordering::SeqCst);
    });
    t.add_done_callback(cb.clone());
    assert_eq!(t.remove_done_callback(&cb), 2);
    assert_eq!(t.remove_done_callback(&cb), 0);
    t.clone().await?;
    while other_hits.load(Ordering::SeqCst) == 0 {
        sleep(0).await?;
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    Ok(())
});

// ---------------------------------------------------------------------------------------
// Task
// ---------------------------------------------------------------------------------------

both!(cancel_returns_true_until_done_then_false, || async {
    let t = create_task(std::future::pending::<taskio::Result<()>>());
    assert!(t.cancel(None));
    assert!(t.cancel(Some("again")), "repeatable");
    let err = t.clone().await.unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.cancel_message(), Some("again"), "the last message wins");
    assert!(!t.cancel(None));
    let done = create_task(async { Ok(()) });
    done.clone().await?;
    assert!(!done.cancel(Some("late")));
    assert!(!done.cancelled());
    Ok(())
});

ct_only!(cancelled_before_first_poll_body_never_runs, || async {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let t = create_task(async move {
        r.store(true, Ordering::SeqCst);
        Ok(())
    });
    assert!(t.cancel(Some("early")));
    let err = t.clone().await.unwrap_err();
    assert_eq!(err.cancel_message(), Some("early"));
    assert!(!ran.load(Ordering::SeqCst));
    assert!(t.cancelled());
    Ok(())
});

both!(
    task_that_cancels_itself_then_returns_ends_cancelled,
    || async {
        let t = create_task(async {
            current_task().unwrap().cancel(Some("self"));
            Ok(5)
        });
        let err = t.clone().await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.cancel_message(), Some("self"));
        assert!(t.cancelled());
        Ok(())
    }
);

both!(
    task_that_cancels_itself_then_awaits_ends_cancelled,
    || async {
        let reached = Arc::new(AtomicBool::new(false));
        let r = reached.clone();
        let t = create_task(async move {
            current_task().unwrap().cancel(None);
            sleep(0).await?;
            r.store(true, Ordering::SeqCst);
            Ok(())
        });
        assert!(t.clone().await.unwrap_err().is_cancelled());
        assert!(!reached.load(Ordering::SeqCst));
        Ok(())
    }
);

both!(cancelled_and_done_only_once_ended, || async {
    let t = create_task(async {
        yields(2).await?;
        Ok(())
    });
    assert!(!t.done() && !t.cancelled());
    t.cancel(None);
    assert!(!t.done() && !t.cancelled(), "requested, not ended");
    let _ = t.clone().await;
    assert!(t.done() && t.cancelled());

    let ok = create_task(async { Ok(()) });
    ok.clone().await?;
    assert!(ok.done() && !ok.cancelled());
    let failed = create_task(async { Err::<(), _>(Error::runtime("x")) });
    let _ = failed.clone().await;
    assert!(failed.done() && !failed.cancelled());
    Ok(())
});

both!(result_and_exception_rules, || async {
    let t = create_task(std::future::pending::<taskio::Result<u8>>());
    assert_eq!(t.result().unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(t.exception().unwrap_err().kind(), ErrorKind::InvalidState);
    t.cancel(Some("why"));
    let _ = t.clone().await;
    let r = t.result().unwrap_err();
    assert!(r.is_cancelled());
    assert_eq!(r.cancel_message(), Some("why"));
    let e = t.exception().unwrap_err();
    assert_eq!(e.cancel_message(), Some("why"));

    let ok = create_task(async { Ok(3u8) });
    ok.clone().await?;
    assert_eq!(ok.result()?, 3);
    assert!(ok.exception()?.is_none());

    let bad = create_task(async { Err::<u8, _>(Error::runtime("bad")) });
    let _ = bad.clone().await;
    assert_eq!(bad.result().unwrap_err().to_string(), "bad");
    assert_eq!(bad.exception()?.unwrap().to_string(), "bad");
    Ok(())
});

both!(panics_are_errors_of_the_task, || async {
    let t: Task<()> = create_task(async { panic!("kaboom") });
    let err = t.clone().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(err.panic_message(), Some("kaboom"));
    assert!(t.done() && !t.cancelled());
    Ok(())
});

both!(default_names_come_from_one_counter, || async {
    let a = create_task(async { Ok(()) });
    let b = create_task(async { Ok(()) });
    let n = |t: &Task<()>| -> u64 { t.get_name().strip_prefix("Task-").unwrap().parse().unwrap() };
    assert!(n(&b) > n(&a));
    b.set_name("bee");
    assert_eq!(b.get_name(), "bee");
    let c = create_task_named("named", async { Ok(()) });
    assert_eq!(c.get_name(), "named");
    assert_eq!(c.as_any().get_name(), "named");
    Ok(())
});

both!(current_task_is_the_running_task, || async {
    let t = create_task(async { Ok(current_task().unwrap().id()) });
    assert_eq!(t.clone().await?, t.id());
    let main = current_task().unwrap();
    assert!(!main.done());
    Ok(())
});

#[test]
fn current_task_outside_is_none() {
    assert!(current_task().is_none());
}

both!(all_tasks_lists_the_tasks_not_done, || async {
    let pending = create_task(std::future::pending::<taskio::Result<()>>());
    let finished = create_task(async { Ok(()) });
    finished.clone().await?;
    let all = all_tasks();
    let me = current_task().unwrap();
    assert!(all.contains(&pending.as_any()));
    assert!(all.contains(&me));
    assert!(!all.contains(&finished.as_any()));
    pending.cancel(None);
    let _ = pending.clone().await;
    assert!(!all_tasks().contains(&pending.as_any()));
    Ok(())
});

#[test]
#[should_panic(expected = "`create_task` must be called from inside a taskio runtime")]
fn create_task_outside_a_runtime_panics_with_the_reason() {
    drop(create_task(async { Ok(()) }));
}

/// The loop is the runtime: each runner lists its own tasks only, a task left pending by one
/// `run` is still listed in the next, and outside a runtime the list is empty.
#[test]
fn all_tasks_lists_the_tasks_of_this_runtime_only() {
    let a = taskio::Runner::builder().current_thread().build().unwrap();
    let b = taskio::Runner::builder().worker_threads(2).build().unwrap();
    let left = a
        .run(async {
            let t = create_task(std::future::pending::<taskio::Result<()>>());
            Ok(t.id())
        })
        .unwrap();
    let in_b = b
        .run(async {
            let me = current_task().unwrap().id();
            Ok((me, all_tasks().iter().map(|t| t.id()).collect::<Vec<_>>()))
        })
        .unwrap();
    assert_eq!(in_b.1, [in_b.0], "b sees only its own main task");
    let in_a = a
        .run(async {
            let me = current_task().unwrap().id();
            Ok((me, all_tasks().iter().map(|t| t.id()).collect::<Vec<_>>()))
        })
        .unwrap();
    assert_eq!(
        in_a.1,
        [left, in_a.0],
        "a still has the task its first run left"
    );
    assert!(all_tasks().is_empty());
    a.close(); // cancels the pending task
}

both!(
    all_tasks_stays_exact_and_oldest_first_as_tasks_come_and_go,
    || async {
        let me = current_task().unwrap().id();
        let pending = || create_task(std::future::pending::<taskio::Result<()>>());
        let first: Vec<Task<()>> = (0..50).map(|_| pending()).collect();
        for t in first.iter().step_by(2) {
            t.cancel(None);
            let _ = t.clone().await;
        }
        // Created after half of the first ones ended (the registry reuses their places).
        let second: Vec<Task<()>> = (0..30).map(|_| pending()).collect();
        let expected: Vec<u64> = first
            .iter()
            .skip(1)
            .step_by(2)
            .chain(&second)
            .map(Task::id)
            .collect();
        let listed: Vec<u64> = all_tasks()
            .iter()
            .map(|t| t.id())
            .filter(|&id| id != me)
            .collect();
        assert_eq!(listed, expected);
        for t in first.iter().chain(&second) {
            t.cancel(None);
            let _ = t.clone().await;
        }
        assert!(all_tasks().iter().all(|t| t.id() == me));
        Ok(())
    }
);

both!(dropping_an_awaiting_future_cancels_the_task, || async {
    // asyncio: cancelling a coroutine blocked in `await task` cancels `task`.
    let inner = create_task(std::future::pending::<taskio::Result<()>>());
    let i = inner.clone();
    let outer = create_task(async move { i.await });
    yields(2).await?;
    outer.cancel(None);
    assert!(outer.clone().await.unwrap_err().is_cancelled());
    assert!(inner.clone().await.unwrap_err().is_cancelled());
    // Dropping an un-awaited handle detaches instead.
    let detached = create_task(async {
        yields(1).await?;
        Ok(1)
    });
    let keep = detached.clone();
    drop(detached);
    assert_eq!(keep.await?, 1);
    Ok(())
});

both!(join_moves_a_non_clone_value_out, || async {
    #[derive(Debug)]
    struct NotClone(u32);
    let t = create_task(async { Ok(NotClone(9)) });
    let other = t.clone();
    assert_eq!(t.join().await?.0, 9);
    assert_eq!(
        other.join().await.unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    Ok(())
});

both!(destructors_run_before_the_task_is_done, || async {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(taskio::Event::new());
    let (d, st) = (dropped.clone(), started.clone());
    let t = create_task(async move {
        let _f = Flag(d);
        st.set();
        std::future::pending::<()>().await;
        Ok(())
    });
    started.wait().await.unwrap();
    t.cancel(None);
    let _ = t.clone().await;
    assert!(dropped.load(Ordering::SeqCst));
    Ok(())
});
