//! asyncio's cancellation, delivered at checkpoints: every rule of the model, each body on
//! the deterministic runner (current thread) and on 1 and 4 workers (paused clock).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskio::timeouts::timeout;
use taskio::{
    create_task, current_task, gather, sleep, wait_for, Barrier, Condition, Error, ErrorKind,
    Event, Lock, Queue, Semaphore, Task, TaskGroup,
};

/// A child that sleeps "forever", and when cancelled runs clean-up that awaits, counts
/// itself in `ended`, and propagates the cancellation.
async fn sleeper_with_cleanup(
    started: Arc<AtomicUsize>,
    ended: Arc<AtomicUsize>,
) -> taskio::Result<()> {
    started.fetch_add(1, SeqCst);
    let r = sleep(3600).await;
    assert!(r.as_ref().unwrap_err().is_cancelled());
    sleep(0.01).await?; // async clean-up: the request was delivered once
    sleep(0).await?;
    ended.fetch_add(1, SeqCst);
    r
}

/// Waits until `n` children have started (a child cancelled before it starts never runs).
async fn all_started(started: &AtomicUsize, n: usize) -> taskio::Result<()> {
    while started.load(SeqCst) < n {
        sleep(0).await?;
    }
    Ok(())
}

/// Waits until `event` is set (the child reached its first checkpoint).
async fn started(event: &Event) -> taskio::Result<()> {
    event.wait().await.map(drop)
}

flavours!(
    a_cancelled_task_in_a_taskgroup_ends_after_its_children,
    || async {
        let (begun, ended) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let children: Arc<Mutex<Vec<Task<()>>>> = Arc::default();
        let ready = Arc::new(Event::new());
        let (b, e, c, r) = (
            begun.clone(),
            ended.clone(),
            children.clone(),
            ready.clone(),
        );
        let t = create_task(async move {
            TaskGroup::run(|tg| async move {
                for _ in 0..5 {
                    let child = tg.create_task(sleeper_with_cleanup(b.clone(), e.clone()))?;
                    c.lock().unwrap().push(child);
                }
                r.set();
                sleep(3600).await?;
                Ok(())
            })
            .await
        });
        started(&ready).await?;
        all_started(&begun, 5).await?;
        assert!(t.cancel(Some("stop")));
        let err = t.clone().await.unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(err.cancel_message(), Some("stop"));
        // Done only after every child, clean-up included.
        assert_eq!(ended.load(SeqCst), 5);
        assert!(children.lock().unwrap().iter().all(|c| c.cancelled()));
        assert!(t.cancelled());
        Ok(())
    }
);

flavours!(
    a_cancelled_task_awaiting_a_gather_ends_after_its_children,
    || async {
        let (begun, ended) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let children: Vec<Task<()>> = (0..8)
            .map(|_| create_task(sleeper_with_cleanup(begun.clone(), ended.clone())))
            .collect();
        all_started(&begun, 8).await?;
        let kids = children.clone();
        let ready = Arc::new(Event::new());
        let r = ready.clone();
        let t = create_task(async move {
            r.set(); // (cancelled before it starts, the task would never await the gather)
            gather(kids).await
        });
        started(&ready).await?;
        t.cancel(None);
        assert!(t.clone().await.unwrap_err().is_cancelled());
        assert_eq!(ended.load(SeqCst), 8);
        assert!(children.iter().all(|c| c.done() && c.cancelled()));
        Ok(())
    }
);

flavours!(
    a_child_catches_its_cancellation_and_returns_a_value,
    || async {
        let ready = Arc::new(Event::new());
        let r = ready.clone();
        let t = create_task(async move {
            r.set();
            match sleep(3600).await {
                Err(e) if e.is_cancelled() => {
                    sleep(1).await?; // clean-up that awaits
                    Ok(7)
                }
                other => other.map(|()| 0),
            }
        });
        started(&ready).await?;
        t.cancel(None);
        assert_eq!(t.clone().await?, 7);
        assert!(
            !t.cancelled(),
            "a swallowed cancellation leaves the task not cancelled"
        );
        assert_eq!(t.cancelling(), 1);
        Ok(())
    }
);

flavours!(a_child_raises_another_error_from_its_cleanup, || async {
    let ready = Arc::new(Event::new());
    let r = ready.clone();
    let t = create_task(async move {
        r.set();
        let _ = sleep(3600).await;
        sleep(0).await?;
        Err::<(), _>(Error::runtime("cleanup failed"))
    });
    started(&ready).await?;
    t.cancel(None);
    let err = t.clone().await.unwrap_err();
    assert_eq!(err.to_string(), "cleanup failed");
    assert!(!t.cancelled());
    Ok(())
});

flavours!(
    wait_for_lets_the_inner_cleanup_finish_before_the_timeout,
    || async {
        let cleaned = Arc::new(AtomicBool::new(false));
        let c = cleaned.clone();
        let err = wait_for(
            async move {
                let r = sleep(3600).await;
                sleep(2).await?; // longer than the timeout itself
                c.store(true, SeqCst);
                r
            },
            Some(Duration::from_millis(500)),
        )
        .await
        .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(
            cleaned.load(SeqCst),
            "Timeout came before the clean-up ended"
        );
        // The scope withdrew its own request: this task is not being cancelled.
        assert_eq!(current_task().unwrap().cancelling(), 0);
        sleep(0).await?;
        Ok(())
    }
);

flavours!(wait_for_returns_what_a_swallowing_inner_returns, || async {
    let v = wait_for(
        async {
            let _ = sleep(3600).await;
            Ok("swallowed")
        },
        Some(Duration::from_secs(1)),
    )
    .await?;
    assert_eq!(v, "swallowed");
    Ok(())
});

flavours!(a_foreign_cancel_passes_through_wait_for, || async {
    let ready = Arc::new(Event::new());
    let r = ready.clone();
    let t = create_task(async move {
        r.set();
        wait_for(sleep(3600), Some(Duration::from_secs(100))).await
    });
    started(&ready).await?;
    sleep(0).await?;
    t.cancel(Some("foreign"));
    let err = t.clone().await.unwrap_err();
    assert!(err.is_cancelled() && !err.is_timeout(), "{err:?}");
    Ok(())
});

flavours!(
    an_outside_cancel_of_a_taskgroup_loses_to_the_group_error,
    || async {
        let ready = Arc::new(Event::new());
        let r = ready.clone();
        let t = create_task(async move {
            TaskGroup::run(|tg| async move {
                tg.create_task(async {
                    let _ = sleep(3600).await; // cancelled by the group's abort
                    Err::<(), _>(Error::runtime("failed in clean-up"))
                })?;
                r.set();
                sleep(3600).await?;
                Ok(())
            })
            .await
        });
        started(&ready).await?;
        sleep(0).await?;
        t.cancel(None);
        let err = t.clone().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Group, "{err:?}");
        assert_eq!(
            err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors[0].to_string(),
            "failed in clean-up"
        );
        Ok(())
    }
);

flavours!(
    a_taskgroup_failure_cancels_the_body_and_its_cleanup_awaits,
    || async {
        let body_cleaned = Arc::new(AtomicBool::new(false));
        let b = body_cleaned.clone();
        let err = TaskGroup::run(|tg| async move {
            tg.create_task(async {
                sleep(0).await?;
                Err::<(), _>(Error::runtime("boom"))
            })?;
            let r = sleep(3600).await; // delivered here
            sleep(1).await?; // clean-up in the body
            b.store(true, SeqCst);
            r
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Group);
        assert_eq!(
            err.downcast_ref::<taskio::ExceptionGroup>()
                .unwrap()
                .errors
                .len(),
            1
        );
        assert!(body_cleaned.load(SeqCst));
        // The group withdrew its request on this task.
        assert_eq!(current_task().unwrap().cancelling(), 0);
        sleep(0).await?;
        Ok(())
    }
);

flavours!(nested_timeouts_with_one_deadline_both_expire, || async {
    let when = taskio::timeouts::Instant::now() + Duration::from_secs(1);
    let outer = taskio::timeouts::timeout_at(Some(when));
    let inner = taskio::timeouts::timeout_at(Some(when));
    let i = inner.clone();
    let err = outer
        .run(async move { i.run(sleep(10)).await })
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(outer.expired() && inner.expired());
    Ok(())
});

flavours!(
    a_zero_timeout_returns_a_body_that_never_suspends,
    || async {
        let cm = timeout(Some(Duration::ZERO));
        assert_eq!(cm.run(async { Ok(5) }).await?, 5);
        assert!(!cm.expired());
        let cm = timeout(Some(Duration::ZERO));
        assert!(cm.run(sleep(0)).await.unwrap_err().is_timeout());
        Ok(())
    }
);

flavours!(
    cancelled_before_its_first_step_the_body_never_runs,
    || async {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let t = create_task(async move {
            r.store(true, SeqCst);
            Ok(())
        });
        t.cancel(None); // no await in between: the task has not started
        assert!(t.clone().await.unwrap_err().is_cancelled());
        assert!(!ran.load(SeqCst));
        Ok(())
    }
);

flavours!(
    a_task_that_cancels_itself_and_returns_ends_cancelled,
    || async {
        let t = create_task(async {
            assert!(current_task().unwrap().cancel(Some("myself")));
            Ok(1)
        });
        let err = t.clone().await.unwrap_err();
        assert_eq!(err.cancel_message(), Some("myself"));
        assert!(t.cancelled());
        Ok(())
    }
);

flavours!(a_task_on_no_checkpoint_is_cancelled_by_drop, || async {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    let (dropped, ready) = (Arc::new(AtomicBool::new(false)), Arc::new(Event::new()));
    let (d, r) = (dropped.clone(), ready.clone());
    let t = create_task(async move {
        let _flag = Flag(d);
        r.set();
        std::future::pending::<()>().await; // not a taskio awaitable
        Ok(())
    });
    started(&ready).await?;
    t.cancel(Some("dropped"));
    let err = t.clone().await.unwrap_err();
    assert_eq!(err.cancel_message(), Some("dropped"));
    assert!(dropped.load(SeqCst));
    Ok(())
});

flavours!(cancelling_counts_and_uncancel_withdraws, || async {
    let ready = Arc::new(Event::new());
    let r = ready.clone();
    let t = create_task(async move {
        r.set();
        let e = sleep(3600).await.unwrap_err();
        let me = current_task().unwrap();
        assert!(e.is_cancelled());
        assert_eq!(me.cancelling(), 2);
        assert_eq!(me.uncancel(), 1);
        assert_eq!(me.uncancel(), 0);
        sleep(0.5).await?; // nothing more to deliver
        Ok("went on")
    });
    started(&ready).await?;
    t.cancel(None);
    t.cancel(None);
    assert_eq!(t.clone().await?, "went on");
    Ok(())
});

flavours!(
    every_primitive_wait_is_a_checkpoint_and_passes_its_wake_up_on,
    || async {
        let lock = Arc::new(Lock::new());
        let sem = Arc::new(Semaphore::new(0));
        let event = Arc::new(Event::new());
        let cond = Arc::new(Condition::new());
        let barrier = Arc::new(Barrier::new(3)?);
        let queue = Arc::new(Queue::<u32>::new(1));
        let held = lock.acquire().await?;
        queue.put(0).await.map_err(Error::from)?; // full
        let go = Arc::new(Event::new());
        let mut waiters = Vec::new();
        {
            let (l, g) = (lock.clone(), go.clone());
            waiters.push(create_task(async move {
                g.set();
                l.acquire().await.map(drop)
            }));
            let s = sem.clone();
            waiters.push(create_task(async move { s.acquire().await.map(drop) }));
            let e = event.clone();
            waiters.push(create_task(async move { e.wait().await.map(drop) }));
            let c = cond.clone();
            waiters.push(create_task(async move {
                let g = c.acquire().await?;
                c.wait(g).await.map(drop)
            }));
            let b = barrier.clone();
            waiters.push(create_task(async move { b.wait().await.map(drop) }));
            let q = queue.clone();
            waiters.push(create_task(
                async move { q.put(1).await.map_err(Error::from) },
            ));
            let q2 = Arc::new(Queue::<u32>::new(0));
            waiters.push(create_task(async move { q2.get().await.map(drop) }));
            let q3 = queue.clone();
            waiters.push(create_task(async move { q3.join().await }));
        }
        started(&go).await?;
        for _ in 0..3 {
            sleep(0).await?;
        }
        for w in &waiters {
            assert!(w.cancel(Some("storm")));
        }
        for w in &waiters {
            let err = w.clone().await.unwrap_err();
            assert_eq!(err.cancel_message(), Some("storm"), "{err:?}");
        }
        // Nothing was taken or left behind by the cancelled waiters.
        drop(held);
        assert!(lock.try_acquire().is_some());
        assert!(sem.try_acquire().is_none());
        sem.release();
        assert!(sem.try_acquire().is_some());
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.get_nowait()?, 0);
        assert!(
            queue.get_nowait().is_err(),
            "the cancelled put enqueued its item"
        );
        Ok(())
    }
);

flavours!(stress_cancel_storm_against_queue_users, || async {
    const PRODUCERS: usize = 16;
    const ITEMS: u32 = 50;
    let queue = Arc::new(Queue::<u32>::new(4));
    let (sent, got) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut tasks = Vec::new();
    for p in 0..PRODUCERS {
        let (q, s) = (queue.clone(), sent.clone());
        tasks.push(create_task(async move {
            for i in 0..ITEMS {
                match q.put(p as u32 * 1000 + i).await {
                    Ok(()) => {
                        s.fetch_add(1, SeqCst);
                    }
                    Err(e) => return Err(Error::from(e)),
                }
            }
            Ok(())
        }));
        let (q, g) = (queue.clone(), got.clone());
        tasks.push(create_task(async move {
            loop {
                q.get().await?;
                g.fetch_add(1, SeqCst);
            }
        }));
    }
    // Cancellers, on other tasks (other workers), cancel every other task while they run.
    let targets = Arc::new(tasks.clone());
    let cancellers: Vec<_> = (0..4)
        .map(|k| {
            let t = targets.clone();
            create_task(async move {
                for (i, task) in t.iter().enumerate() {
                    if i % 4 == k {
                        sleep(0).await?;
                        task.cancel(Some("storm"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    gather(cancellers).await?;
    for t in &tasks {
        let r = t.clone().await;
        assert!(r.is_ok() || r.as_ref().unwrap_err().is_cancelled(), "{r:?}");
    }
    // Every item sent was either got or is still in the queue: nothing lost, nothing twice.
    let left = queue.qsize();
    assert_eq!(sent.load(SeqCst), got.load(SeqCst) + left);
    Ok(())
});

flavours!(taskgroup_cancel_is_an_early_exit_without_error, || async {
    let ended = Arc::new(AtomicUsize::new(0));
    let begun = Arc::new(AtomicUsize::new(0));
    let (b, e) = (begun.clone(), ended.clone());
    // The body is interrupted: no value, an Err of kind Cancelled, and the task goes on.
    let kept: Arc<Mutex<Option<TaskGroup>>> = Arc::default();
    let k = kept.clone();
    let r = TaskGroup::run(|tg| async move {
        *k.lock().unwrap() = Some(tg.clone());
        for _ in 0..3 {
            tg.create_task(sleeper_with_cleanup(b.clone(), e.clone()))?;
        }
        all_started(&b, 3).await?;
        tg.cancel();
        tg.cancel(); // idempotent
        sleep(3600).await?; // delivered here, propagated
        Ok(())
    })
    .await;
    assert!(r.unwrap_err().is_cancelled());
    assert_eq!(
        ended.load(SeqCst),
        3,
        "every child ended, clean-up included"
    );
    let me = current_task().unwrap();
    assert_eq!(me.cancelling(), 0, "the group's request was withdrawn");
    sleep(0).await?; // this task is not being cancelled
    kept.lock().unwrap().as_ref().unwrap().cancel(); // after the exit: nothing
    sleep(0).await?;

    // A body that catches the group's cancellation returns its value.
    let v = TaskGroup::run(|tg| async move {
        tg.cancel();
        let _ = sleep(3600).await;
        Ok(5)
    })
    .await?;
    assert_eq!(v, 5);

    // Children's failures still make a Group error.
    let err = TaskGroup::run(|tg| async move {
        tg.create_task(async {
            let _ = sleep(3600).await;
            Err::<(), _>(Error::runtime("failed while cancelled"))
        })?;
        sleep(0).await?;
        tg.cancel();
        sleep(3600).await
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Group);

    // A foreign cancellation during a group cancelled by itself still passes through.
    let ready = Arc::new(Event::new());
    let rd = ready.clone();
    let t = create_task(async move {
        TaskGroup::run(|tg| async move {
            tg.cancel();
            let _ = sleep(3600).await; // the group's own: caught
            rd.set();
            sleep(3600).await // the foreign one
        })
        .await
    });
    started(&ready).await?;
    t.cancel(Some("foreign"));
    let err = t.clone().await.unwrap_err();
    assert_eq!(err.cancel_message(), Some("foreign"));
    assert!(t.cancelled());
    Ok(())
});
