//! ASYNCIO.md "gather", rule by rule.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use taskio::{create_task, current_task, gather, Error, ErrorKind, Task};
use taskio_tests::yields;

both!(
    results_in_argument_order_whatever_the_completion_order,
    || async {
        let tasks: Vec<Task<usize>> = (0..8)
            .map(|i| {
                create_task(async move {
                    yields(8 - i).await?;
                    Ok(i)
                })
            })
            .collect();
        assert_eq!(gather(tasks).await?, (0..8).collect::<Vec<_>>());
        Ok(())
    }
);

both!(coroutines_are_wrapped_in_tasks, || async {
    let out = gather((0..4).map(|i| async move {
        yields(4 - i).await?;
        Ok(i * 10)
    }))
    .await?;
    assert_eq!(out, [0, 10, 20, 30]);
    Ok(())
});

both!(
    the_same_task_twice_is_one_child_with_its_result_twice,
    || async {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = runs.clone();
        let t = create_task(async move {
            r.fetch_add(1, Ordering::SeqCst);
            Ok("x")
        });
        let other = create_task(async { Ok("y") });
        let out = gather([t.clone(), other, t.clone()]).await?;
        assert_eq!(out, ["x", "y", "x"]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        Ok(())
    }
);

both!(gather_of_nothing_is_an_empty_list_at_once, || async {
    let out: Vec<u8> = gather(Vec::<Task<u8>>::new()).await?;
    assert!(out.is_empty());
    Ok(())
});

both!(
    first_failure_fails_the_gather_and_siblings_keep_running,
    || async {
        let finished = Arc::new(AtomicBool::new(false));
        let go = Arc::new(taskio::Event::new());
        let (f, g) = (finished.clone(), go.clone());
        let slow = create_task(async move {
            g.wait().await.unwrap();
            f.store(true, Ordering::SeqCst);
            Ok(1)
        });
        let bad = create_task(async { Err::<i32, _>(Error::runtime("first")) });
        // Fails only once the gather has failed (on several workers, a few yields would
        // not order it after `bad`).
        let g2 = go.clone();
        let later_bad = create_task(async move {
            g2.wait().await.unwrap();
            Err::<i32, _>(Error::runtime("second"))
        });
        let err = gather([slow.clone(), bad, later_bad.clone()])
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "first");
        assert!(!slow.done(), "the gather failed at once");
        go.set();
        // Not cancelled: the sibling runs to completion; the later error is dropped.
        assert_eq!(slow.clone().await?, 1);
        assert!(finished.load(Ordering::SeqCst));
        assert!(!slow.cancelled());
        assert_eq!(later_bad.clone().await.unwrap_err().to_string(), "second");
        Ok(())
    }
);

both!(
    a_cancelled_child_fails_the_gather_with_cancelled,
    || async {
        let victim = create_task(std::future::pending::<taskio::Result<u8>>());
        let other = create_task(async {
            yields(3).await?;
            Ok(2u8)
        });
        let g = create_task(gather([victim.clone(), other.clone()]));
        yields(1).await?;
        victim.cancel(Some("child"));
        let err = g.clone().await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.cancel_message(), Some("child"));
        // The gather's own task is not "cancelled": it failed with the child's Cancelled.
        // (In taskio a task that returns Err(Cancelled) ends cancelled, see the crate docs.)
        assert_eq!(other.clone().await?, 2, "the other child was not cancelled");
        Ok(())
    }
);

both!(
    cancelling_the_gather_cancels_unfinished_children,
    || async {
        let a = create_task(std::future::pending::<taskio::Result<u8>>());
        let b = create_task(async { Ok(1u8) });
        b.clone().await?;
        let (a2, b2) = (a.clone(), b.clone());
        let g = create_task(async move { gather([a2, b2]).await });
        yields(2).await?;
        assert!(g.cancel(None));
        assert!(g.clone().await.unwrap_err().is_cancelled());
        assert!(a.clone().await.unwrap_err().is_cancelled());
        assert!(a.cancelled());
        assert!(!b.cancelled(), "finished children stay finished");
        assert!(!g.cancel(None), "cancelling after it is done returns false");
        Ok(())
    }
);

both!(a_finished_gather_no_longer_cancels_anything, || async {
    let slow = create_task(async {
        yields(3).await?;
        Ok(1)
    });
    let bad = create_task(async { Err::<i32, _>(Error::runtime("x")) });
    let g = gather([slow.clone(), bad]);
    assert!(g.await.is_err());
    // The gather future was dropped after it finished: the slow child runs on.
    assert_eq!(slow.await?, 1);
    Ok(())
});

both!(return_exceptions_puts_errors_in_their_slots, || async {
    let cancelled = create_task(std::future::pending::<taskio::Result<i32>>());
    cancelled.cancel(Some("c"));
    let ok = create_task(async {
        yields(2).await?;
        Ok(1)
    });
    let bad = create_task(async { Err::<i32, _>(Error::runtime("bad")) });
    let out = gather([ok, bad, cancelled]).return_exceptions().await;
    assert_eq!(*out[0].as_ref().unwrap(), 1);
    assert_eq!(out[1].as_ref().unwrap_err().to_string(), "bad");
    assert_eq!(out[2].as_ref().unwrap_err().cancel_message(), Some("c"));
    Ok(())
});

both!(gather_macro_gives_a_tuple_in_argument_order, || async {
    let s = create_task(async {
        yields(3).await?;
        Ok(String::from("s"))
    });
    let (a, b, c) = taskio::gather!(async { Ok(1u8) }, s.clone(), async { Ok(vec![3]) }).await?;
    assert_eq!((a, b.as_str(), c), (1, "s", vec![3]));
    let (x, y) = taskio::gather!(s.clone(), s).await?;
    assert_eq!(x, y);
    Ok(())
});

both!(gather_macro_fails_at_the_first_failure, || async {
    let slow = create_task(async {
        yields(3).await?;
        Ok(1)
    });
    let err = taskio::gather!(slow.clone(), async { Err::<u8, _>(Error::timeout()) })
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(slow.await?, 1);
    let (a, b) = taskio::gather!(async { Ok(1) }, async { Err::<u8, _>(Error::timeout()) })
        .return_exceptions()
        .await;
    assert_eq!(a?, 1);
    assert_eq!(b.unwrap_err().kind(), ErrorKind::Timeout);
    Ok(())
});

both!(panicking_child_fails_the_gather_with_panic, || async {
    let t: Task<u8> = create_task(async { panic!("oops") });
    let err = gather([t]).await.unwrap_err();
    assert_eq!(err.panic_message(), Some("oops"));
    let _ = current_task();
    Ok(())
});

both!(a_gather_never_awaited_cancels_nothing, || async {
    let t = create_task(async {
        yields(2).await?;
        Ok(1)
    });
    drop(gather([t.clone()]));
    assert_eq!(t.await?, 1);
    Ok(())
});
