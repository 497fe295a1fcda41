//! The event loop (issue 16): callbacks, timers, `stop`, `run_until_complete`, Futures.
//!
//! FIFO rules run on the deterministic runner (current thread, paused clock) and are
//! checked against the order CPython's asyncio gives for the same program (quoted beside
//! each); thread-safety rules run on the multi-thread runner too.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use taskio::events::{ExceptionContext, ExceptionHandler};
use taskio::{
    create_task, ensure_future, get_event_loop, get_running_loop, sleep, ErrorKind, Future, Runner,
};
use taskio_tests::Log;

/// A paused deterministic runner.
fn ct_runner() -> Runner {
    taskio_tests::runner(taskio_tests::Flavor::CurrentThread, true)
        .build()
        .unwrap()
}

fn logger(log: &Log, s: &'static str) -> impl FnOnce() + Send + 'static {
    let log = log.clone();
    move || log.push(s)
}

// asyncio:
//   loop.call_soon(A)            # A calls loop.call_soon(A2)
//   t = asyncio.create_task(T)   # T: "t1", sleep(0), "t2"
//   loop.call_soon(B)
//   "main1"; await sleep(0); "main2"; await t; "main3"
// prints main1 A t1 B main2 A2 t2 main3
ct_only!(call_soon_runs_fifo_with_task_steps, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    lp.call_soon(move || {
        l.push("A");
        let l2 = l.clone();
        lp2.call_soon(move || l2.push("A2")).unwrap();
    })?;
    let l = log.clone();
    let t = create_task(async move {
        l.push("t1");
        sleep(0).await?;
        l.push("t2");
        Ok(())
    });
    lp.call_soon(logger(&log, "B"))?;
    log.push("main1");
    sleep(0).await?;
    log.push("main2");
    t.await?;
    log.push("main3");
    assert_eq!(
        log.take(),
        ["main1", "A", "t1", "B", "main2", "A2", "t2", "main3"]
    );
    Ok(())
});

// asyncio: loop.call_later(0, X); loop.call_soon(Y); await sleep(0) -> "main"; await sleep(0)
// prints Y main X: due timers go behind what is ready (here main's wake-up too).
ct_only!(due_timers_run_behind_ready_callbacks, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    lp.call_later(0, logger(&log, "X"))?;
    lp.call_soon(logger(&log, "Y"))?;
    sleep(0).await?;
    log.push("main");
    sleep(0).await?;
    sleep(0).await?;
    assert_eq!(log.take(), ["Y", "main", "X"]);
    Ok(())
});

ct_only!(call_later_equal_deadlines_run_in_call_order, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    let at = lp.time() + 1.0;
    lp.call_later(1, logger(&log, "a"))?;
    lp.call_at(at, logger(&log, "b"))?;
    lp.call_later(0.5, logger(&log, "first"))?;
    lp.call_later(1.0, logger(&log, "c"))?;
    let cancelled = lp.call_at(at, logger(&log, "never"))?;
    lp.call_at(at, logger(&log, "d"))?;
    cancelled.cancel();
    assert!(cancelled.cancelled());
    sleep(0.75).await?;
    assert_eq!(log.take(), ["first"]);
    sleep(0.5).await?;
    assert_eq!(log.take(), ["a", "b", "c", "d"]);
    // The paused clock moved exactly to the deadlines.
    assert_eq!(lp.time(), at + 0.25);
    Ok(())
});

// A deadline in the past is due at once (before a later one); infinity never comes; NaN is
// refused, as a NaN delay is.
ct_only!(past_infinite_and_nan_deadlines, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    let never = lp.call_at(f64::INFINITY, || panic!("infinity came"))?;
    lp.call_at(lp.time() + 0.5, logger(&log, "later"))?;
    lp.call_at(-100.0, logger(&log, "long ago"))?;
    lp.call_at(-200.0, logger(&log, "longer ago"))?;
    assert!(lp.call_at(f64::NAN, || ()).is_err());
    assert!(lp.call_later(f64::NAN, || ()).is_err());
    sleep(1).await?;
    assert_eq!(log.take(), ["longer ago", "long ago", "later"]);
    assert!(!never.cancelled());
    never.cancel();
    Ok(())
});

ct_only!(a_timer_sees_the_clock_at_its_deadline, || async {
    let lp = get_running_loop()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    for d in [3.0, 1.0, 2.0] {
        let (s, l) = (seen.clone(), lp.clone());
        lp.call_later(d, move || s.lock().unwrap().push(l.time()))?;
    }
    let start = lp.time();
    sleep(4).await?;
    let got: Vec<f64> = seen.lock().unwrap().iter().map(|t| t - start).collect();
    assert_eq!(got, [1.0, 2.0, 3.0]);
    Ok(())
});

// A cancelled earliest timer does not hold the paused clock's next jump.
ct_only!(a_cancelled_timer_does_not_move_the_paused_clock, || async {
    let lp = get_running_loop()?;
    let start = lp.time();
    let h = lp.call_later(100, || panic!("cancelled"))?;
    let fut = lp.create_future::<f64>();
    let (f, l) = (fut.clone(), lp.clone());
    lp.call_later(200, move || f.set_result(l.time()).unwrap())?;
    h.cancel();
    assert_eq!(fut.await? - start, 200.0);
    Ok(())
});

ct_only!(
    a_panicking_callback_is_reported_and_the_loop_goes_on,
    || async {
        let lp = get_running_loop()?;
        let log = Log::default();
        let l = log.clone();
        lp.set_exception_handler(Some(ExceptionHandler::new(move |_, ctx| {
            let e = ctx.exception().unwrap();
            assert!(ctx.message().starts_with("Exception in callback"));
            l.push(format!("handler: {}", e.panic_message().unwrap()));
        })));
        lp.call_soon(logger(&log, "before"))?;
        lp.call_soon(|| panic!("boom"))?;
        lp.call_later(0, || panic!("timer boom"))?;
        lp.call_soon(logger(&log, "after"))?;
        sleep(0).await?;
        sleep(0).await?;
        assert_eq!(
            log.take(),
            ["before", "handler: boom", "after", "handler: timer boom"]
        );
        // A handler that panics is reported to the default handler; the loop goes on.
        lp.set_exception_handler(Some(ExceptionHandler::new(|_, _| panic!("in handler"))));
        lp.call_exception_handler(&ExceptionContext::new("test"));
        lp.set_exception_handler(None);
        Ok(())
    }
);

#[test]
fn stop_inside_run_until_complete_leaves_the_task_pending() {
    let r = ct_runner();
    let lp = r.get_loop();
    let log = Log::default();
    let l = log.clone();
    let t = lp
        .create_task(async move {
            get_running_loop()?.stop();
            l.push("stopped");
            sleep(1).await?;
            l.push("resumed");
            Ok(5)
        })
        .unwrap();
    let err = lp.run_until_complete(t.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert_eq!(
        err.to_string(),
        "Event loop stopped before Future completed."
    );
    assert!(!lp.is_running());
    assert!(!t.done());
    assert_eq!(log.take(), ["stopped"]);
    // The loop runs again: the task goes on from where it was.
    assert_eq!(lp.run_until_complete(t.clone()).unwrap(), 5);
    assert_eq!(log.take(), ["resumed"]);
    r.close();
    assert!(lp.is_closed());
}

// asyncio: A: "a", loop.stop(), loop.call_soon(C); B: "b" (both scheduled before the run).
// run_forever() prints a b; then stop(); run_forever() prints c.
#[test]
fn callbacks_scheduled_after_stop_wait_for_the_next_run() {
    let r = ct_runner();
    let lp = r.get_loop();
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    lp.call_soon(move || {
        l.push("a");
        lp2.stop();
        let l2 = l.clone();
        lp2.call_soon(move || l2.push("c")).unwrap();
    })
    .unwrap();
    lp.call_soon(logger(&log, "b")).unwrap();
    lp.run_forever().unwrap();
    assert_eq!(log.take(), ["a", "b"]);
    lp.stop(); // not running: the next run does one round
    lp.run_forever().unwrap();
    assert_eq!(log.take(), ["c"]);
    r.close();
}

#[test]
fn timers_only_fire_while_the_loop_runs() {
    let r = ct_runner();
    let lp = r.get_loop();
    let log = Log::default();
    lp.call_later(1, logger(&log, "timer")).unwrap();
    let l = lp.clone();
    lp.call_later(2, move || l.stop()).unwrap();
    assert!(log.get().is_empty());
    lp.run_forever().unwrap();
    assert_eq!(log.take(), ["timer"]);
    r.close();
}

#[test]
fn run_and_close_refuse_what_asyncio_refuses() {
    let r = ct_runner();
    let lp = r.get_loop();
    let l = lp.clone();
    lp.run_until_complete(async move {
        assert!(l.is_running());
        let msg = |e: taskio::Error| e.to_string();
        assert_eq!(
            msg(l.run_forever().unwrap_err()),
            "This event loop is already running"
        );
        assert_eq!(
            msg(l.run_until_complete(async { Ok(()) }).unwrap_err()),
            "This event loop is already running"
        );
        assert_eq!(
            msg(l.close().unwrap_err()),
            "Cannot close a running event loop"
        );
        Ok(())
    })
    .unwrap();
    assert!(get_running_loop().is_err());
    lp.close().unwrap();
    for err in [
        lp.call_soon(|| ()).map(drop).unwrap_err(),
        lp.call_later(1, || ()).map(drop).unwrap_err(),
        lp.create_task(async { Ok(()) }).map(drop).unwrap_err(),
        lp.run_forever().unwrap_err(),
    ] {
        assert_eq!(err.to_string(), "Event loop is closed");
    }
    drop(r);
}

// asyncio.run(foo()) where nested() stops the loop: RuntimeError, and "42" is never printed
// (the pending tasks are cancelled when asyncio.run closes its loop).
#[test]
fn run_ends_with_stopped_before_future_completed() {
    let log = Log::default();
    let l = log.clone();
    let err = std::thread::spawn(move || {
        let err = taskio::run(async move {
            let l2 = l.clone();
            let _nested = ensure_future(async move {
                get_running_loop()?.stop();
                sleep(1).await?;
                l2.push("42");
                Ok(())
            });
            sleep(3).await?;
            l.push("foo done");
            Ok(())
        })
        .unwrap_err();
        // asyncio.run set the thread's loop and unset it: no implicit loop any more.
        let no_loop = get_event_loop().unwrap_err().to_string();
        assert!(
            no_loop.starts_with("There is no current event loop in thread"),
            "{no_loop}"
        );
        err
    })
    .join()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "Event loop stopped before Future completed."
    );
    assert!(log.get().is_empty());
}

#[test]
fn get_event_loop_makes_one_loop_per_thread() {
    std::thread::spawn(|| {
        let lp = get_event_loop().unwrap();
        assert!(get_event_loop().unwrap() == lp);
        let inner = lp
            .run_until_complete(async { Ok(get_event_loop()? == get_running_loop()?) })
            .unwrap();
        assert!(inner);
        lp.close().unwrap();
        // Still this thread's loop (asyncio keeps a closed one current too).
        assert!(get_event_loop().unwrap().is_closed());
    })
    .join()
    .unwrap();
}

both!(loop_time_follows_the_paused_clock, || async {
    let lp = get_running_loop()?;
    let t0 = lp.time();
    sleep(2.5).await?;
    assert_eq!(lp.time() - t0, 2.5);
    // From another thread, the same clock.
    let l = lp.clone();
    let there = std::thread::spawn(move || l.time()).join().unwrap();
    assert_eq!(there, lp.time());
    Ok(())
});

both!(call_soon_threadsafe_loses_no_callback, || async {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 500;
    let lp = get_running_loop()?;
    let done = lp.create_future::<()>();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(vec![Vec::new(); THREADS]));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (lp, done, count, seen) = (lp.clone(), done.clone(), count.clone(), seen.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let (done, count, seen) = (done.clone(), count.clone(), seen.clone());
                    lp.call_soon_threadsafe(move || {
                        seen.lock().unwrap()[t].push(i);
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == THREADS * PER_THREAD {
                            done.set_result(()).unwrap();
                        }
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    done.clone().await?;
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), THREADS * PER_THREAD);
    for mut s in seen.lock().unwrap().drain(..) {
        s.sort_unstable();
        assert_eq!(s, (0..PER_THREAD).collect::<Vec<_>>());
    }
    Ok(())
});

both!(
    a_future_set_from_another_thread_wakes_every_awaiter,
    || async {
        let lp = get_running_loop()?;
        let fut = lp.create_future::<String>();
        // The done callback reports through a second Future (a callback scheduled from the
        // setter's thread is not ordered against this task's own yields).
        let cb_ran = lp.create_future::<String>();
        let c = cb_ran.clone();
        fut.add_done_callback(move |f: &Future<String>| {
            c.set_result(f.result().unwrap()).unwrap(); // a second run would fail here
        })?;
        let awaiters: Vec<_> = (0..16)
            .map(|_| {
                let f = fut.clone();
                create_task(async move { f.await })
            })
            .collect();
        let f = fut.clone();
        let setter = std::thread::spawn(move || f.set_result("from a thread".to_owned()));
        let got = taskio::gather(awaiters).await?;
        assert!(got.iter().all(|s| s == "from a thread"));
        setter.join().unwrap()?;
        assert_eq!(
            fut.set_result(String::new()).unwrap_err().to_string(),
            "invalid state"
        );
        assert_eq!(cb_ran.await?, "from a thread");
        Ok(())
    }
);

// asyncio: T awaits fut; fut.add_done_callback(cb1); fut.set_result(1); "main"; then sleep(0)
// prints main T cb1 (one list: T's wake-up was registered first).
ct_only!(
    future_wakeups_and_done_callbacks_keep_registration_order,
    || async {
        let lp = get_running_loop()?;
        let log = Log::default();
        let fut = lp.create_future::<u8>();
        let (f, l) = (fut.clone(), log.clone());
        let t = create_task(async move {
            let v = f.await?;
            l.push(format!("T {v}"));
            Ok(())
        });
        sleep(0).await?; // T awaits
        let l = log.clone();
        fut.add_done_callback(move |f: &Future<u8>| {
            l.push(format!("cb1 {}", f.result().unwrap()))
        })?;
        fut.set_result(1)?;
        log.push("main");
        sleep(0).await?;
        assert_eq!(log.take(), ["main", "T 1", "cb1 1"]);
        t.await
    }
);

both!(future_rules_match_asyncio, || async {
    let lp = get_running_loop()?;
    let fut = lp.create_future::<u8>();
    assert_eq!(fut.result().unwrap_err().to_string(), "Result is not set.");
    assert_eq!(
        fut.exception().unwrap_err().to_string(),
        "Exception is not set."
    );
    // Cancelling a task that awaits a Future cancels the Future (asyncio: the task's
    // cancellation is delivered at the await, which cancels what it awaits).
    let other = taskio::Future::<u32>::new();
    let waiter = create_task({
        let f = other.clone();
        async move { f.await }
    });
    sleep(0).await?;
    waiter.cancel(Some("stop"));
    assert!(waiter.clone().await.unwrap_err().is_cancelled());
    assert!(other.cancelled());
    // Dropping an await-future does not cancel the Future.
    {
        let mut once = std::pin::pin!(std::future::IntoFuture::into_future(fut.clone()));
        assert!(taskio_tests::poll_once(&mut once.as_mut()).is_pending());
    }
    assert!(!fut.done() && !fut.cancelled());
    let awaiter = create_task({
        let f = fut.clone();
        async move { f.await }
    });
    sleep(0).await?;
    assert!(fut.cancel(Some("bye")));
    assert!(!fut.cancel(None));
    let err = awaiter.await.unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.cancel_message(), Some("bye"));
    assert!(fut.cancelled());
    assert_eq!(fut.exception().unwrap_err().cancel_message(), Some("bye"));
    assert_eq!(
        fut.set_result(1).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // set_exception: an exception, not a cancellation.
    let f2 = lp.create_future::<u8>();
    f2.set_exception(taskio::Error::runtime("bad"))?;
    assert!(!f2.cancelled());
    assert_eq!(f2.exception()?.unwrap().to_string(), "bad");
    assert_eq!(f2.join().await.unwrap_err().to_string(), "bad");
    // join moves a non-Clone value out.
    struct NoClone(u8);
    let f3 = lp.create_future::<NoClone>();
    let f = f3.clone();
    lp.call_soon(move || f.set_result(NoClone(9)).unwrap())?;
    assert_eq!(f3.join().await?.0, 9);
    Ok(())
});

both!(run_in_executor_gives_a_future, || async {
    let lp = get_running_loop()?;
    let futs: Vec<_> = (0..4u64)
        .map(|i| lp.run_in_executor(move || i * i))
        .collect::<taskio::Result<_>>()?;
    let mut total = 0;
    for f in futs {
        total += f.await?;
    }
    assert_eq!(total, 14);
    // Not a loop thread: no running loop there.
    let err = lp.run_in_executor(|| get_running_loop().is_err())?.await?;
    assert!(err);
    Ok(())
});

both!(ensure_future_wraps_only_coroutines, || async {
    let t = ensure_future(async { Ok(1u8) });
    assert!(ensure_future(t.clone()) == t);
    let fut = Future::<u8>::new();
    assert!(ensure_future(fut.clone()) == fut);
    fut.set_result(t.await? + 1)?;
    assert_eq!(fut.await?, 2);
    Ok(())
});

// A callback added to a done Future is scheduled, not run inline; so is one added by a done
// callback, which runs after the callbacks already scheduled.
ct_only!(done_callbacks_of_a_done_future_are_scheduled, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    let fut = lp.create_future::<u8>();
    fut.set_result(7)?;
    let l = log.clone();
    fut.add_done_callback(move |f: &Future<u8>| {
        l.push("cb1");
        let l2 = l.clone();
        f.add_done_callback(move |_: &Future<u8>| l2.push("cb3"))
            .unwrap();
    })?;
    lp.call_soon(logger(&log, "soon"))?;
    let l = log.clone();
    fut.add_done_callback(move |_: &Future<u8>| l.push("cb2"))?;
    assert!(log.get().is_empty());
    sleep(0).await?;
    sleep(0).await?;
    assert_eq!(log.take(), ["cb1", "soon", "cb2", "cb3"]);
    Ok(())
});

// asyncio: at t=1, A schedules call_later(0, A0) and call_later(1, A1); B is at t=1.5.
// prints A A0 B A1.
ct_only!(timers_added_by_timers_keep_deadline_order, || async {
    let lp = get_running_loop()?;
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    lp.call_later(1, move || {
        l.push("A");
        lp2.call_later(0, logger(&l, "A0")).unwrap();
        lp2.call_later(1, logger(&l, "A1")).unwrap();
    })?;
    lp.call_later(1.5, logger(&log, "B"))?;
    sleep(3).await?;
    assert_eq!(log.take(), ["A", "A0", "B", "A1"]);
    Ok(())
});

both!(
    a_panicking_future_callback_goes_to_the_exception_handler,
    || async {
        let lp = get_running_loop()?;
        let reported = lp.create_future::<String>();
        let r = reported.clone();
        lp.set_exception_handler(Some(ExceptionHandler::new(move |_, ctx| {
            let msg = ctx
                .exception()
                .and_then(|e| e.panic_message())
                .unwrap_or("?");
            let _ = r.set_result(msg.to_owned());
        })));
        let fut = lp.create_future::<()>();
        fut.add_done_callback(|_: &Future<()>| panic!("in a done callback"))?;
        fut.set_result(())?;
        assert_eq!(reported.await?, "in a done callback");
        lp.set_exception_handler(None);
        Ok(())
    }
);

both!(call_later_from_many_threads_loses_no_timer, || async {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 200;
    let lp = get_running_loop()?;
    let done = lp.create_future::<()>();
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (lp, done, count) = (lp.clone(), done.clone(), count.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let (done, count) = (done.clone(), count.clone());
                    let delay = ((t * 7 + i * 13) % 10) as f64 * 0.01;
                    lp.call_later(delay, move || {
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == THREADS * PER_THREAD {
                            done.set_result(()).unwrap();
                        }
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    done.clone().await?;
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), THREADS * PER_THREAD);
    Ok(())
});

#[test]
fn stop_from_another_thread_ends_run_forever() {
    let lp = taskio::new_event_loop().unwrap();
    let started = lp.create_future::<()>();
    let s = started.clone();
    lp.call_soon(move || s.set_result(()).unwrap()).unwrap();
    let (l, s) = (lp.clone(), started.clone());
    let stopper = std::thread::spawn(move || {
        // Waits (without sleeping) until the loop ran a callback, then stops it from here.
        while !s.done() {
            std::thread::yield_now();
        }
        l.call_soon_threadsafe({
            let l = l.clone();
            move || l.stop()
        })
        .unwrap();
    });
    lp.run_forever().unwrap();
    stopper.join().unwrap();
    assert!(started.done() && !lp.is_running());
    lp.close().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `call_at` callbacks run in deadline order, ties in call order, for any schedule on
    /// the paused clock (some cancelled), each at or after its deadline.
    #[test]
    fn call_at_runs_in_deadline_order_ties_in_call_order(
        schedule in prop::collection::vec((0u32..20, any::<bool>()), 1..40),
    ) {
        let r = ct_runner();
        let sched = schedule.clone();
        let (got, late) = r.run(async move {
            let lp = get_running_loop()?;
            let base = lp.time();
            let log = Arc::new(Mutex::new(Vec::new()));
            let early = Arc::new(AtomicUsize::new(0));
            for (i, &(at, cancel)) in sched.iter().enumerate() {
                let when = base + f64::from(at) * 0.25;
                let (log, early, l) = (log.clone(), early.clone(), lp.clone());
                let h = lp.call_at(when, move || {
                    if l.time() < when - 1e-9 {
                        early.fetch_add(1, Ordering::SeqCst);
                    }
                    log.lock().unwrap().push(i);
                })?;
                if cancel {
                    h.cancel();
                }
            }
            sleep(6).await?;
            let got = log.lock().unwrap().clone();
            Ok((got, early.load(Ordering::SeqCst)))
        }).unwrap();
        r.close();
        let mut want: Vec<usize> = (0..schedule.len()).filter(|&i| !schedule[i].1).collect();
        want.sort_by_key(|&i| schedule[i].0); // stable: ties stay in call order
        prop_assert_eq!(got, want);
        prop_assert_eq!(late, 0);
    }
}

// A loop closed from its own blocking pool (between runs) shuts down without joining the
// thread that closes it.
#[test]
fn close_from_the_loops_blocking_pool() {
    let lp = taskio::new_event_loop().unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let l = lp.clone();
    let job = lp
        .run_in_executor(move || {
            go_rx.recv().unwrap();
            done_tx.send(l.close().map_err(|e| e.to_string())).unwrap();
        })
        .unwrap();
    drop(job);
    lp.run_until_complete(async { Ok(()) }).unwrap();
    go_tx.send(()).unwrap();
    assert_eq!(done_rx.recv().unwrap(), Ok(()));
    assert!(lp.is_closed());
}
