//! Delivered cancellation in the runtime (`JoinHandle::cancel`, `task::take_cancel`): a
//! request is delivered once, at a checkpoint, as an error the task may propagate, handle
//! with more awaits, or swallow; a task parked on no checkpoint is dropped instead; a task
//! cancelled before its first poll never runs; shutdown ends every task.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use taskio_runtime::net::{TcpListener, TcpStream};
use taskio_runtime::task::{self, Cancelled};
use taskio_runtime::{spawn, yield_now, JoinHandle};
use taskio_tests::{chan, rt_tests, Counts, Flavor};

rt_tests! {
    delivered_at_a_checkpoint_and_propagated,
    clean_up_awaits_after_the_delivery,
    swallowed_cancellation_returns_a_value,
    delivered_once_for_requests_made_together,
    a_future_parked_on_no_checkpoint_is_dropped,
    cancelled_before_its_first_poll_never_runs,
    cancel_of_a_finished_task_is_false,
    cancelling_counts_and_uncancel_withdraws,
    a_task_that_cancels_itself_and_returns_ends_cancelled,
    awaiting_a_join_handle_forwards_the_cancellation,
    io_readiness_is_a_checkpoint,
    shutdown_ends_a_task_that_swallows_every_cancellation,
    stress_cancel_storm_from_other_tasks,
}

/// A wait that never ends on its own but is a checkpoint (as every taskio awaitable is).
async fn checkpoint_forever() -> Result<(), Cancelled> {
    poll_fn(|_| match task::take_cancel() {
        Some(c) => Poll::Ready(Err(c)),
        None => Poll::Pending,
    })
    .await
}

/// Spawns `f` and waits until the task has reached its first await (it sends on `started`).
async fn spawn_started<T: Send + 'static>(
    f: impl FnOnce(
        taskio_tests::Sender<()>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>,
) -> JoinHandle<T> {
    let (tx, mut rx) = chan::<()>();
    let h = spawn(f(tx));
    rx.recv().await;
    h
}

fn delivered_at_a_checkpoint_and_propagated(flavor: Flavor) {
    flavor.rt().block_on(async {
        let h = spawn_started(|started| {
            Box::pin(async move {
                started.send(());
                checkpoint_forever().await
            })
        })
        .await;
        assert!(h.cancel());
        assert_eq!(h.await.unwrap(), Err(Cancelled));
    });
}

fn clean_up_awaits_after_the_delivery(flavor: Flavor) {
    flavor.rt().block_on(async {
        let cleaned = Arc::new(AtomicBool::new(false));
        let c = cleaned.clone();
        let h = spawn_started(move |started| {
            Box::pin(async move {
                started.send(());
                let err = checkpoint_forever().await.unwrap_err();
                // Async clean-up: awaits that are checkpoints do not see the request again.
                for _ in 0..3 {
                    yield_now().await;
                }
                spawn(async { 1 }).await.unwrap();
                c.store(true, SeqCst);
                Err::<(), _>(err)
            })
        })
        .await;
        h.cancel();
        assert_eq!(h.await.unwrap(), Err(Cancelled));
        assert!(cleaned.load(SeqCst));
    });
}

fn swallowed_cancellation_returns_a_value(flavor: Flavor) {
    flavor.rt().block_on(async {
        let h = spawn_started(|started| {
            Box::pin(async move {
                started.send(());
                match checkpoint_forever().await {
                    Err(Cancelled) => "swallowed",
                    Ok(()) => "not cancelled",
                }
            })
        })
        .await;
        h.cancel();
        assert_eq!(h.await.unwrap(), "swallowed");
    });
}

fn delivered_once_for_requests_made_together(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (go_tx, mut go_rx) = chan::<()>();
        let h = spawn_started(move |started| {
            Box::pin(async move {
                started.send(());
                assert_eq!(checkpoint_forever().await, Err(Cancelled));
                // The second request was made before the first delivery: nothing more to
                // deliver, so this wait ends by the channel, not by a cancellation.
                let second = poll_fn(|cx| {
                    if task::take_cancel().is_some() {
                        return Poll::Ready(false);
                    }
                    std::pin::Pin::new(&mut go_rx.recv()).poll(cx).map(|_| true)
                })
                .await;
                second
            })
        })
        .await;
        // Both requests land before the task can run again only on one thread; on the
        // multi-thread runtime the second may be delivered separately (then `second` would
        // be false), so that flavour checks the count only.
        h.cancel();
        h.cancel();
        assert_eq!(h.cancelling(), 2);
        go_tx.send(());
        let delivered_by_channel = h.await.unwrap();
        if !flavor.is_multi_thread() {
            assert!(delivered_by_channel);
        }
    });
}

fn a_future_parked_on_no_checkpoint_is_dropped(flavor: Flavor) {
    let counts = Counts::new();
    let c = counts.clone();
    flavor.rt().block_on(async move {
        let h = spawn_started(move |started| {
            Box::pin(async move {
                let _guard = c.fut_guard();
                started.send(());
                std::future::pending::<()>().await; // no checkpoint
            })
        })
        .await;
        h.cancel();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert_eq!(counts.futs_dropped(), 1);
}

fn cancelled_before_its_first_poll_never_runs(flavor: Flavor) {
    let rt = flavor.rt();
    let ran = Arc::new(AtomicBool::new(false));
    // Occupy every worker, so the new task cannot be polled before it is cancelled.
    let workers = match flavor {
        Flavor::CurrentThread => 0,
        Flavor::MultiThread(n) => n,
    };
    let (busy, release) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let blockers: Vec<_> = (0..workers)
        .map(|_| {
            let (busy, release) = (busy.clone(), release.clone());
            rt.spawn(async move {
                busy.fetch_add(1, SeqCst);
                while !release.load(SeqCst) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    while busy.load(SeqCst) < workers {
        std::thread::yield_now();
    }
    let r = ran.clone();
    let h = rt.spawn(async move {
        r.store(true, SeqCst);
        checkpoint_forever().await
    });
    assert!(h.cancel());
    release.store(true, SeqCst);
    rt.block_on(async {
        for b in blockers {
            b.await.unwrap();
        }
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert!(!ran.load(SeqCst), "the body ran");
}

fn cancel_of_a_finished_task_is_false(flavor: Flavor) {
    flavor.rt().block_on(async {
        let h = spawn(async { 5 });
        while !h.is_finished() {
            yield_now().await;
        }
        assert!(!h.cancel());
        assert_eq!(h.cancelling(), 0);
        assert_eq!(h.await.unwrap(), 5);
    });
}

fn cancelling_counts_and_uncancel_withdraws(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (go_tx, mut go_rx) = chan::<()>();
        let h = spawn_started(move |started| {
            Box::pin(async move {
                started.send(());
                // Ends by the channel only (so the requests below always find it running);
                // says whether a request was delivered meanwhile.
                let mut delivered = false;
                poll_fn(|cx| {
                    delivered |= task::take_cancel().is_some();
                    std::pin::Pin::new(&mut go_rx.recv()).poll(cx)
                })
                .await;
                if delivered {
                    "delivered"
                } else {
                    "by the channel"
                }
            })
        })
        .await;
        assert_eq!(h.cancelling(), 0);
        assert_eq!(h.uncancel(), 0);
        h.cancel();
        h.cancel();
        assert_eq!(h.cancelling(), 2);
        assert_eq!(h.uncancel(), 1);
        assert_eq!(h.uncancel(), 0);
        go_tx.send(());
        let how = h.await.unwrap();
        // On one thread the task cannot run between the requests and their withdrawal: the
        // withdrawn request is never delivered.
        if !flavor.is_multi_thread() {
            assert_eq!(how, "by the channel");
        }
    });
}

fn a_task_that_cancels_itself_and_returns_ends_cancelled(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (in_tx, mut in_rx) = chan::<JoinHandle<u32>>();
        let (out_tx, mut out_rx) = chan::<JoinHandle<u32>>();
        let h = spawn(async move {
            let me = in_rx.recv().await;
            assert!(me.cancel());
            assert!(task::cancelling_itself());
            out_tx.send(me);
            7 // returned with its own request pending: ends cancelled
        });
        in_tx.send(h);
        let h = out_rx.recv().await;
        assert!(h.await.unwrap_err().is_cancelled());

        // A request from elsewhere does not override a value (nor does one that was
        // delivered and swallowed).
        let h = spawn(async { 8 });
        h.cancel();
        let r = h.await;
        assert!(r.is_err() || r.unwrap() == 8);
    });
}

fn awaiting_a_join_handle_forwards_the_cancellation(flavor: Flavor) {
    flavor.rt().block_on(async {
        let inner_ended = Arc::new(AtomicBool::new(false));
        let e = inner_ended.clone();
        let outer = spawn_started(move |started| {
            Box::pin(async move {
                let (inner_started, mut inner_rx) = chan::<()>();
                let inner = spawn(async move {
                    inner_started.send(());
                    let r = checkpoint_forever().await;
                    e.store(true, SeqCst);
                    match r {
                        Err(Cancelled) => "inner cleaned up",
                        Ok(()) => "inner not cancelled",
                    }
                });
                inner_rx.recv().await; // (cancelled before its first poll, it would not run)
                started.send(());
                inner.await.unwrap()
            })
        })
        .await;
        outer.cancel();
        // The outer's await forwarded the request and waited for the inner's end.
        assert_eq!(outer.await.unwrap(), "inner cleaned up");
        assert!(inner_ended.load(SeqCst));
    });
}

fn io_readiness_is_a_checkpoint(flavor: Flavor) {
    flavor.rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (delivered_tx, mut delivered_rx) = chan::<()>();
        let h = spawn_started(move |started| {
            Box::pin(async move {
                started.send(());
                let err = listener.accept().await.unwrap_err();
                assert!(Cancelled::is_cancelled_io(&err), "{err:?}");
                delivered_tx.send(());
                // The listener still works after the delivery.
                let (_s, _) = listener.accept().await.unwrap();
                "accepted after the cancellation"
            })
        })
        .await;
        h.cancel();
        delivered_rx.recv().await;
        let _c = TcpStream::connect(addr).await.unwrap();
        assert_eq!(h.await.unwrap(), "accepted after the cancellation");
    });
}

fn shutdown_ends_a_task_that_swallows_every_cancellation(flavor: Flavor) {
    let counts = Counts::new();
    let c = counts.clone();
    let rt = flavor.rt();
    let mut kept = None;
    rt.block_on(async {
        let h = spawn_started(move |started| {
            Box::pin(async move {
                let _guard = c.fut_guard();
                started.send(());
                loop {
                    let _ = checkpoint_forever().await; // swallowed, every time
                }
            })
        })
        .await;
        h.cancel();
        yield_now().await;
        h.cancel();
        kept = Some(h);
    });
    let h = kept.unwrap();
    drop(rt);
    assert_eq!(counts.futs_dropped(), 1);
    assert!(taskio_tests::block_on(h).unwrap_err().is_cancelled());
}

fn stress_cancel_storm_from_other_tasks(flavor: Flavor) {
    const TASKS: usize = 200;
    let counts = Counts::new();
    let delivered = Arc::new(AtomicUsize::new(0));
    let mut swallowed = 0;
    let rt = flavor.rt();
    rt.block_on(async {
        let mut victims = Vec::new();
        for i in 0..TASKS {
            let (guard, d) = (counts.fut_guard(), delivered.clone());
            victims.push(spawn(async move {
                // Made outside: dropped with the future even if its body never runs.
                let _guard = guard;
                match i % 3 {
                    // Propagates.
                    0 => checkpoint_forever().await.map(|_| i),
                    // Swallows and returns.
                    1 => {
                        let _ = checkpoint_forever().await;
                        d.fetch_add(1, SeqCst);
                        Ok(i)
                    }
                    // Parked on no checkpoint: the drop fallback.
                    _ => {
                        std::future::pending::<()>().await;
                        Ok(i)
                    }
                }
            }));
        }
        let victims = Arc::new(victims);
        // Cancellers on other tasks (other workers), each requesting every victim.
        let cancellers: Vec<_> = (0..4)
            .map(|_| {
                let v = victims.clone();
                spawn(async move {
                    for h in v.iter() {
                        h.cancel();
                        yield_now().await;
                    }
                })
            })
            .collect();
        for c in cancellers {
            c.await.unwrap();
        }
        let victims = Arc::try_unwrap(victims).unwrap();
        for (i, h) in victims.into_iter().enumerate() {
            match (i % 3, h.await) {
                (0, Ok(Err(Cancelled))) => {}
                (1, Ok(Ok(v))) => {
                    assert_eq!(v, i);
                    swallowed += 1;
                }
                // The drop fallback, or a request made before the victim's first poll (its
                // body never ran), for any kind.
                (_, Err(e)) => assert!(e.is_cancelled()),
                (k, other) => panic!("victim {i} (kind {k}) ended with {other:?}"),
            }
        }
    });
    drop(rt);
    assert_eq!(counts.futs_dropped(), TASKS, "every victim dropped once");
    // Each swallowing victim that ran saw its cancellation delivered exactly once.
    assert_eq!(delivered.load(SeqCst), swallowed);
}
