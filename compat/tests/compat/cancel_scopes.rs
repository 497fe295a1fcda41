//! trio's cancel scopes on asyncio's delivered cancellation: every rule of
//! `taskio::cancel_scope`, each body on the deterministic runner (current thread) and on 1
//! and 4 workers, with the paused clock.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use taskio::timeouts::{timeout, Instant};
use taskio::{
    create_task, current_task, fail_after, move_on_after, sleep, CancelScope, Error, ErrorKind,
    Event, TaskGroup,
};

fn secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

/// A body that sleeps `s` seconds; when cancelled, runs clean-up that awaits (counted in
/// `cleaned`) and propagates the cancellation.
async fn work_with_cleanup(s: u64, cleaned: Arc<AtomicUsize>) -> taskio::Result<&'static str> {
    let r = sleep(s).await;
    if let Err(e) = r {
        assert!(e.is_cancelled());
        sleep(0.5).await?; // async clean-up after the delivery
        cleaned.fetch_add(1, SeqCst);
        return Err(e);
    }
    Ok("finished")
}

flavours!(move_on_after_returns_none_after_the_cleanup, || async {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let out = move_on_after(1, work_with_cleanup(10, cleaned.clone())).await?;
    assert_eq!(out, None);
    assert_eq!(cleaned.load(SeqCst), 1);
    // At the deadline, plus the clean-up's half second (paused clock: exact).
    assert_eq!(Instant::now() - t0, Duration::from_millis(1500));
    let out = move_on_after(10, work_with_cleanup(1, cleaned.clone())).await?;
    assert_eq!(out, Some("finished"));
    // The task is not left cancelled.
    assert_eq!(current_task().unwrap().cancelling(), 0);
    sleep(0).await?;
    Ok(())
});

flavours!(fail_after_reports_timeout_after_the_cleanup, || async {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let err = fail_after(1, work_with_cleanup(10, cleaned.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(cleaned.load(SeqCst), 1);
    assert_eq!(fail_after(10, async { Ok(3) }).await?, 3);
    // Other errors pass through.
    let err = fail_after(10, async { Err::<(), _>(Error::runtime("own")) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "own");
    Ok(())
});

flavours!(nested_deadlines_in_every_order, || async {
    // The inner deadline first: the inner scope catches, the outer goes on.
    let (outer, inner) = (
        CancelScope::new().with_deadline(secs(5)),
        CancelScope::new().with_deadline(secs(1)),
    );
    let out = outer
        .run(async {
            let r = inner.run(async { sleep(10).await }).await?;
            assert_eq!(r, None);
            sleep(1).await?; // the outer scope is still live
            Ok("after inner")
        })
        .await?;
    assert_eq!(out, Some("after inner"));
    assert!(inner.cancelled_caught() && !outer.cancel_called());

    // The outer deadline first: the inner scope lets it through, the outer catches.
    let (outer, inner) = (
        CancelScope::new().with_deadline(secs(1)),
        CancelScope::new().with_deadline(secs(5)),
    );
    let reached = Arc::new(AtomicUsize::new(0));
    let r2 = reached.clone();
    let out = outer
        .run(async {
            let r = inner.run(async { sleep(10).await }).await;
            assert!(r.as_ref().unwrap_err().is_cancelled());
            r2.fetch_add(1, SeqCst);
            r.map(drop) // propagated: the outer scope's to catch
        })
        .await?;
    assert_eq!(out, None);
    assert_eq!(reached.load(SeqCst), 1);
    assert!(outer.cancelled_caught() && !inner.cancel_called() && !inner.cancelled_caught());

    // Both at once: both are cancelled, the outer catches (asyncio's nested timeouts).
    let when = secs(1);
    let (outer, inner) = (
        CancelScope::new().with_deadline(when),
        CancelScope::new().with_deadline(when),
    );
    let out = outer
        .run(async { inner.run(async { sleep(10).await }).await })
        .await?;
    assert_eq!(out, None);
    assert!(outer.cancelled_caught() && inner.cancel_called() && !inner.cancelled_caught());
    assert_eq!(current_task().unwrap().cancelling(), 0);
    Ok(())
});

flavours!(
    an_outer_cancel_reaches_inner_scopes_and_passes_them,
    || async {
        let outer = CancelScope::new();
        let inner = CancelScope::new();
        let (o2, entered) = (outer.clone(), Arc::new(Event::new()));
        let e2 = entered.clone();
        let canceller = create_task(async move {
            e2.wait().await?;
            o2.cancel();
            Ok(())
        });
        let out = outer
            .run(async {
                inner
                    .run(async {
                        entered.set();
                        sleep(3600).await
                    })
                    .await
            })
            .await?;
        canceller.await?;
        assert_eq!(out, None);
        assert!(outer.cancelled_caught());
        assert!(!inner.cancel_called() && !inner.cancelled_caught());
        Ok(())
    }
);

flavours!(a_scope_catches_only_its_own_cancellation, || async {
    let scope = CancelScope::new().with_deadline(secs(100));
    let entered = Arc::new(Event::new());
    let (s2, e2) = (scope.clone(), entered.clone());
    let victim = create_task(async move {
        s2.run(async {
            e2.set();
            sleep(3600).await
        })
        .await
    });
    entered.wait().await?;
    victim.cancel(Some("from outside"));
    let err = victim.join().await.unwrap_err();
    assert!(err.is_cancelled());
    assert!(!scope.cancel_called() && !scope.cancelled_caught());
    Ok(())
});

flavours!(cancel_before_entry_and_deadline_moves, || async {
    let scope = CancelScope::new();
    scope.cancel();
    assert_eq!(scope.run(async { sleep(3600).await }).await?, None);
    // Entered twice: an error.
    let err = scope.run(async { Ok(()) }).await.unwrap_err();
    assert!(err.to_string().contains("already been entered"));

    // A deadline moved later while it runs.
    let scope = CancelScope::new().with_deadline(secs(1));
    let s = scope.clone();
    let out = scope
        .run(async move {
            s.set_deadline(Some(secs(10)));
            sleep(5).await?;
            Ok(5)
        })
        .await?;
    assert_eq!(out, Some(5));

    // A deadline moved into the past cancels at once.
    let scope = CancelScope::new();
    let s = scope.clone();
    let t0 = Instant::now();
    let out = scope
        .run(async move {
            s.set_deadline(Some(Instant::now()));
            sleep(3600).await
        })
        .await?;
    assert_eq!(out, None);
    assert_eq!(Instant::now(), t0);
    assert!(CancelScope::new().with_timeout(f64::NAN).is_err());
    Ok(())
});

flavours!(a_body_on_no_checkpoint_is_dropped_by_its_scope, || async {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let g = Guard(drops.clone());
    let out = move_on_after(1, async move {
        let _g = g;
        std::future::pending::<taskio::Result<()>>().await
    })
    .await?;
    assert_eq!(out, None);
    assert_eq!(drops.load(SeqCst), 1);
    // The task goes on, not cancelled.
    sleep(1).await?;
    Ok(())
});

flavours!(a_shielded_scope_holds_outer_cancellation_back, || async {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let c2 = cleaned.clone();
    // The outer deadline passes during the shielded clean-up: the clean-up finishes, and
    // the outer scope's cancellation is delivered at the first checkpoint after it.
    let t0 = Instant::now();
    let after = Arc::new(AtomicUsize::new(0));
    let a2 = after.clone();
    let out = move_on_after(1, async move {
        CancelScope::shielded()
            .run(async {
                sleep(5).await?; // past the outer deadline: not interrupted
                c2.fetch_add(1, SeqCst);
                Ok(())
            })
            .await?;
        a2.fetch_add(1, SeqCst);
        sleep(0).await?; // delivered here
        a2.fetch_add(1, SeqCst);
        Ok(())
    })
    .await?;
    assert_eq!(out, None);
    assert_eq!(cleaned.load(SeqCst), 1);
    assert_eq!(after.load(SeqCst), 1);
    assert_eq!(Instant::now() - t0, Duration::from_secs(5));

    // Its own deadline still applies.
    let out = CancelScope::shielded()
        .with_timeout(1)?
        .run(async { sleep(10).await })
        .await?;
    assert_eq!(out, None);

    // A task-level request waits for the shield too.
    let me = current_task().unwrap();
    let out = CancelScope::shielded()
        .run(async {
            me.cancel(None);
            sleep(1).await?;
            // A timeout inside the shield works as usual.
            let t = timeout(Some(Duration::from_secs(1)));
            let err = t.run(async { sleep(10).await }).await.unwrap_err();
            assert!(err.is_timeout());
            Ok("shielded")
        })
        .await?;
    assert_eq!(out, Some("shielded"));
    assert!(sleep(0).await.unwrap_err().is_cancelled());
    assert_eq!(me.uncancel(), 0);
    Ok(())
});

flavours!(shielded_cleanup_inside_a_cancelled_taskgroup, || async {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let in_cleanup = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    let (c2, i2, s2) = (cleaned.clone(), in_cleanup.clone(), started.clone());
    let err = TaskGroup::run(|tg| async move {
        let victim = tg.create_task(async move {
            s2.set();
            let r = sleep(3600).await; // cancelled by the group
            assert!(r.as_ref().unwrap_err().is_cancelled());
            CancelScope::shielded()
                .run(async {
                    i2.set();
                    sleep(2).await?; // a second cancellation comes meanwhile: held back
                    c2.fetch_add(1, SeqCst);
                    Ok(())
                })
                .await?;
            r
        })?;
        started.wait().await?;
        tg.create_task(async { Err::<(), _>(Error::runtime("boom")) })?;
        // The group's own failure cancels the body too; catch it, and cancel the victim
        // again while it cleans up.
        let r = sleep(3600).await;
        assert!(r.unwrap_err().is_cancelled());
        CancelScope::shielded()
            .run(async {
                in_cleanup.wait().await?;
                victim.cancel(Some("again"));
                Ok(())
            })
            .await?;
        Ok(())
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
    assert_eq!(cleaned.load(SeqCst), 1);
    Ok(())
});

flavours!(a_scope_around_a_taskgroup_cancels_its_children, || async {
    let started = Arc::new(AtomicUsize::new(0));
    let cleaned = Arc::new(AtomicUsize::new(0));
    let (s2, c2) = (started.clone(), cleaned.clone());
    let out = move_on_after(1, async move {
        TaskGroup::run(|tg| async move {
            for _ in 0..3 {
                let (s, c) = (s2.clone(), c2.clone());
                tg.create_task(async move {
                    s.fetch_add(1, SeqCst);
                    work_with_cleanup(3600, c).await
                })?;
            }
            sleep(3600).await
        })
        .await
    })
    .await?;
    assert_eq!(out, None);
    // Every child that ran did its clean-up before the scope returned.
    assert_eq!(cleaned.load(SeqCst), started.load(SeqCst));
    assert_eq!(current_task().unwrap().cancelling(), 0);
    Ok(())
});

flavours!(
    a_taskgroup_failure_inside_a_shield_cancels_its_body,
    || async {
        // The group's request goes to the shield it runs in, not to the held task.
        let out = CancelScope::shielded()
            .run(async {
                let err = TaskGroup::run(|tg| async move {
                    tg.create_task(async { Err::<(), _>(Error::runtime("child")) })?;
                    sleep(3600).await // cancelled by the group
                })
                .await
                .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Group);
                Ok(1)
            })
            .await?;
        assert_eq!(out, Some(1));
        assert_eq!(current_task().unwrap().cancelling(), 0);
        Ok(())
    }
);
