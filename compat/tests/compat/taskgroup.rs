//! ASYNCIO.md "TaskGroup", rule by rule.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use taskio::{create_task, Error, ErrorKind, TaskGroup};
use taskio_tests::{yields, DropCount, Log};

both!(returns_the_body_value_after_every_child, || async {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let v = TaskGroup::run(|tg| async move {
        for i in 0..10 {
            let c = c.clone();
            tg.create_task(async move {
                yields(i).await?;
                c.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })?;
        }
        Ok("body")
    })
    .await?;
    assert_eq!(v, "body");
    assert_eq!(
        count.load(Ordering::SeqCst),
        10,
        "exit waited for every child"
    );
    Ok(())
});

both!(
    first_failure_cancels_the_other_children_and_the_body,
    || async {
        let body_reached_end = Arc::new(AtomicBool::new(false));
        let b = body_reached_end.clone();
        let slow_finished = Arc::new(AtomicBool::new(false));
        let s = slow_finished.clone();
        let mut tasks = None;
        let err = TaskGroup::run(|tg| {
            let tasks = &mut tasks;
            async move {
                let slow = tg.create_task(async move {
                    std::future::pending::<()>().await;
                    s.store(true, Ordering::SeqCst);
                    Ok(())
                })?;
                let bad = tg.create_task(async {
                    yields(1).await?;
                    Err::<(), _>(Error::runtime("boom"))
                })?;
                *tasks = Some((slow, bad));
                std::future::pending::<()>().await;
                b.store(true, Ordering::SeqCst);
                Ok(())
            }
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Group);
        assert_eq!(
            err.to_string(),
            "unhandled errors in a TaskGroup (1 sub-exception)"
        );
        let errors = &err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors;
        assert_eq!(errors.len(), 1, "the cancelled child is not an error");
        assert_eq!(errors[0].to_string(), "boom");
        let (slow, bad) = tasks.unwrap();
        assert!(slow.cancelled() && bad.done());
        assert!(!slow_finished.load(Ordering::SeqCst));
        assert!(
            !body_reached_end.load(Ordering::SeqCst),
            "the body was cancelled"
        );
        Ok(())
    }
);

async fn two_failing_children_then_body_error() -> taskio::Result<Vec<String>> {
    let err = TaskGroup::run(|tg| async move {
        tg.create_task(async { Err::<(), _>(Error::runtime("c1")) })?;
        tg.create_task(async { Err::<(), _>(Error::runtime("c2")) })?;
        yields(1).await?;
        Err::<(), _>(Error::runtime("body"))
    })
    .await
    .unwrap_err();
    Ok(err
        .downcast_ref::<taskio::ExceptionGroup>()
        .unwrap()
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect())
}

both!(the_body_error_goes_last, || async {
    let msgs = two_failing_children_then_body_error().await?;
    let (last, children) = msgs.split_last().unwrap();
    // On several workers the body may be cancelled before it returns its error.
    assert!(last == "body" || last.starts_with('c'));
    assert!(children.iter().all(|m| m.starts_with('c')));
    Ok(())
});

ct_only!(
    errors_in_completion_order_with_the_body_error_last,
    || async {
        assert_eq!(
            two_failing_children_then_body_error().await?,
            ["c1", "c2", "body"]
        );
        Ok(())
    }
);

both!(failures_are_collected_in_completion_order, || async {
    let order = Log::default();
    let o = order.clone();
    let err = TaskGroup::run(|tg| async move {
        // Children that cannot be cancelled in time: they fail in the same poll as they start.
        for i in 0..3 {
            let o = o.clone();
            tg.create_task(async move {
                o.push(format!("e{i}"));
                Err::<(), _>(Error::runtime(format!("e{i}")))
            })?;
        }
        Ok(())
    })
    .await
    .unwrap_err();
    let msgs: Vec<String> = err
        .downcast_ref::<taskio::ExceptionGroup>()
        .unwrap()
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    // Every child that failed (ran before the abort reached it) is reported, exactly once.
    // (On several workers the log push and the completion of two children can interleave,
    // so the order is checked by `failures_in_completion_order_deterministic`.)
    let (mut msgs, mut ran) = (msgs, order.get());
    msgs.sort();
    ran.sort();
    assert_eq!(msgs, ran);
    Ok(())
});

ct_only!(failures_in_completion_order_deterministic, || async {
    let err = TaskGroup::run(|tg| async move {
        for i in (0..3).rev() {
            tg.create_task(async move { Err::<(), _>(Error::runtime(format!("e{i}"))) })?;
        }
        Ok(())
    })
    .await
    .unwrap_err();
    let msgs: Vec<String> = err
        .downcast_ref::<taskio::ExceptionGroup>()
        .unwrap()
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    // As in asyncio, the group reacts to a failure in a scheduled callback: the children
    // already in the ready queue take their step first, and fail too, in FIFO order.
    assert_eq!(msgs, ["e2", "e1", "e0"]);
    Ok(())
});

both!(body_error_alone_is_wrapped_in_a_group, || async {
    let err = TaskGroup::run(|_tg| async move { Err::<(), _>(Error::runtime("body")) })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Group);
    assert_eq!(
        err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors[0].to_string(),
        "body"
    );
    Ok(())
});

both!(body_error_cancels_the_children, || async {
    let mut child = None;
    let err = TaskGroup::run(|tg| {
        let child = &mut child;
        async move {
            *child = Some(tg.create_task(std::future::pending::<taskio::Result<()>>())?);
            yields(1).await?;
            Err::<(), _>(Error::runtime("body"))
        }
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.downcast_ref::<taskio::ExceptionGroup>()
            .unwrap()
            .errors
            .len(),
        1
    );
    assert!(child.unwrap().cancelled());
    Ok(())
});

both!(panicking_child_is_an_error, || async {
    let err = TaskGroup::run(|tg| async move {
        tg.create_task(async { panic!("child panic") as taskio::Result<()> })?;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(
        err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors[0].panic_message(),
        Some("child panic")
    );
    Ok(())
});

both!(cancelled_children_are_not_errors, || async {
    let v = TaskGroup::run(|tg| async move {
        let t = tg.create_task(std::future::pending::<taskio::Result<()>>())?;
        yields(1).await?;
        t.cancel(None);
        Ok(5)
    })
    .await?;
    assert_eq!(v, 5);
    Ok(())
});

both!(create_task_after_finish_is_an_error, || async {
    let mut kept = None;
    TaskGroup::run(|tg| {
        kept = Some(tg.clone());
        async move { Ok(()) }
    })
    .await?;
    let err = kept.unwrap().create_task(async { Ok(()) }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert!(err.to_string().contains("is finished"));
    Ok(())
});

both!(create_task_while_shutting_down_is_an_error, || async {
    // asyncio: a cancelled child's `finally:` calling `tg.create_task`. Here: its destructor.
    struct OnCancel(TaskGroup, Arc<parking_lot::Mutex<Option<String>>>);
    impl Drop for OnCancel {
        fn drop(&mut self) {
            let r = self.0.create_task(async { Ok(()) });
            *self.1.lock() = Some(
                r.map(|_| "created".to_string())
                    .unwrap_or_else(|e| e.to_string()),
            );
        }
    }
    let seen = Arc::new(parking_lot::Mutex::new(None));
    let s = seen.clone();
    let r = TaskGroup::run(|tg| async move {
        let guard = OnCancel(tg.clone(), s);
        tg.create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok(())
        })?;
        tg.create_task(async {
            yields(1).await?;
            Err::<(), _>(Error::runtime("fail"))
        })?;
        Ok(())
    })
    .await;
    assert!(r.is_err());
    let seen = seen.lock().clone().unwrap();
    assert!(seen.contains("is shutting down"), "{seen}");
    Ok(())
});

both!(create_task_while_the_exit_waits_is_allowed, || async {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    TaskGroup::run(|tg| async move {
        let tg2 = tg.clone();
        tg.create_task(async move {
            yields(2).await?;
            let c2 = c.clone();
            tg2.create_task(async move {
                yields(2).await?;
                c2.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(()) // the body ends at once; the exit is waiting when the child adds a task
    })
    .await?;
    assert_eq!(count.load(Ordering::SeqCst), 1);
    Ok(())
});

both!(
    outside_cancellation_passes_through_and_cancels_children,
    || async {
        let child = Arc::new(parking_lot::Mutex::new(None));
        let c = child.clone();
        let outer = create_task(async move {
            TaskGroup::run(|tg| async move {
                *c.lock() = Some(tg.create_task(std::future::pending::<taskio::Result<()>>())?);
                std::future::pending::<()>().await;
                Ok(())
            })
            .await
        });
        yields(2).await?;
        outer.cancel(None);
        assert!(outer.clone().await.unwrap_err().is_cancelled());
        let child = child.lock().clone().unwrap();
        assert!(child.clone().await.unwrap_err().is_cancelled());
        Ok(())
    }
);

both!(body_cancelled_error_passes_through_as_cancelled, || async {
    let err = TaskGroup::run(|tg| async move {
        let t = tg.create_task(std::future::pending::<taskio::Result<()>>())?;
        let t2 = t.clone();
        t.cancel(Some("inner"));
        t2.await?; // the body propagates the child's Cancelled
        Ok(())
    })
    .await
    .unwrap_err();
    assert!(err.is_cancelled());
    Ok(())
});

both!(nested_groups_nest, || async {
    let err = TaskGroup::run(|outer| async move {
        outer.create_task(async {
            TaskGroup::run(|inner| async move {
                inner.create_task(async { Err::<(), _>(Error::runtime("deep")) })?;
                Ok(())
            })
            .await
        })?;
        Ok(())
    })
    .await
    .unwrap_err();
    let outer_errors = &err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors;
    assert_eq!(outer_errors.len(), 1);
    let inner_errors = &outer_errors[0]
        .downcast_ref::<taskio::ExceptionGroup>()
        .unwrap()
        .errors;
    assert_eq!(inner_errors[0].to_string(), "deep");
    Ok(())
});

/// xorshift64: deterministic "random" failure positions and yields.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// What a stress group counts: the handles of its children, the drops of their futures, and
/// the futures refused by `create_task` (dropped without becoming children).
#[derive(Clone, Default)]
struct Counts {
    tasks: Arc<std::sync::Mutex<Vec<taskio::Task<()>>>>,
    drops: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl Counts {
    /// Creates `child` in `tg`, recording the outcome; `false` when the group refused it
    /// (which it only may when shutting down).
    fn create(
        &self,
        tg: &TaskGroup,
        child: impl std::future::Future<Output = taskio::Result<()>> + Send + 'static,
    ) -> bool {
        match tg.create_task(child) {
            Ok(t) => {
                self.tasks.lock().unwrap().push(t);
                true
            }
            Err(e) => {
                assert!(e.to_string().contains("shutting down"), "{e}");
                self.refused.fetch_add(1, Ordering::SeqCst);
                false
            }
        }
    }
}

/// One child of the stress groups: yields a few times, then succeeds or fails (and
/// sometimes creates a sibling first); its future counts its drop.
fn stress_child(
    tg: TaskGroup,
    counts: Counts,
    name: String,
    mut rng: u64,
) -> impl std::future::Future<Output = taskio::Result<()>> + Send + 'static {
    // Outside the `async` block: a child cancelled before its first poll drops it too.
    let counted = DropCount(counts.drops.clone());
    async move {
        let _counted = counted;
        yields((next(&mut rng) % 4) as usize).await?;
        if next(&mut rng) % 8 == 0 {
            // A sibling created by a running child: the group cannot be finished (this child
            // is not done), only shutting down.
            let sibling = stress_child(
                tg.clone(),
                counts.clone(),
                format!("{name}.s"),
                next(&mut rng) | 1,
            );
            counts.create(&tg, sibling);
        }
        if next(&mut rng) % 40 == 0 {
            return Err(Error::runtime(name));
        }
        Ok(())
    }
}

// Many groups at once on the same workers, children failing at random positions: every
// child created is dropped exactly once before its scope returns, and the Group error holds
// exactly the failed children's errors, once each.
both!(stress_children_counted_once, || async {
    let groups: Vec<_> = (0..48u64)
        .map(|g| {
            create_task(async move {
                let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (g + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
                let n = 20 + (next(&mut rng) % 200) as usize;
                let counts = Counts::default();
                let c = counts.clone();
                let result = TaskGroup::run(|tg| async move {
                    for i in 0..n {
                        let child = stress_child(tg.clone(), c.clone(), format!("g{g}c{i}"), {
                            next(&mut rng) | 1
                        });
                        // The body is only cancelled at an await: between two, a failure shows
                        // as a refused create.
                        if !c.create(&tg, child) {
                            return Ok(());
                        }
                        if next(&mut rng) % 16 == 0 {
                            yields(1).await?;
                        }
                    }
                    Ok(())
                })
                .await;
                let tasks = std::mem::take(&mut *counts.tasks.lock().unwrap());
                assert_eq!(
                    counts.drops.load(Ordering::SeqCst),
                    tasks.len() + counts.refused.load(Ordering::SeqCst),
                    "every child ended exactly once before the scope returned"
                );
                let mut failed = Vec::new();
                for t in &tasks {
                    assert!(t.done());
                    match t.exception() {
                        Ok(Some(e)) => failed.push(e.to_string()),
                        Ok(None) => {}
                        Err(e) => assert!(e.is_cancelled(), "{e}"),
                    }
                }
                let group_failed = result.is_err();
                match result {
                    Ok(()) => assert!(failed.is_empty(), "unreported failures: {failed:?}"),
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::Group);
                        let mut got: Vec<_> = e
                            .downcast_ref::<taskio::ExceptionGroup>()
                            .unwrap()
                            .errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect();
                        got.sort();
                        failed.sort();
                        assert_eq!(got, failed, "each failure reported once");
                    }
                }
                Ok((tasks.len(), group_failed))
            })
        })
        .collect();
    let (mut children, mut failed_groups) = (0, 0);
    for g in groups {
        let (n, failed) = g.await?;
        children += n;
        failed_groups += usize::from(failed);
    }
    // Whether a group fails does not depend on timing (only which children it cancels).
    assert!(children > 48 * 20);
    assert!(
        (1..48).contains(&failed_groups),
        "both kinds of groups: {failed_groups} failed"
    );
    Ok(())
});
