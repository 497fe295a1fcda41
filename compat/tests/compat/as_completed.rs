//! ASYNCIO.md "as_completed", on the paused clock.
#![cfg(not(loom))]

use std::time::Duration;

use taskio::{as_completed, create_task, sleep, Error};

both!(yields_in_completion_order, || async {
    let tasks: Vec<_> = [3u64, 1, 2]
        .into_iter()
        .map(|d| {
            create_task(async move {
                sleep(d).await?;
                Ok(d)
            })
        })
        .collect();
    let mut it = as_completed(tasks, None);
    let mut out = Vec::new();
    while let Some(r) = it.next().await {
        out.push(r?);
    }
    assert_eq!(out, [1, 2, 3]);
    Ok(())
});

both!(duplicates_collapse, || async {
    let t = create_task(async { Ok(1) });
    let mut it = as_completed([t.clone(), t.clone(), t], None);
    assert_eq!(it.next().await.unwrap()?, 1);
    assert!(it.next().await.is_none());
    Ok(())
});

both!(errors_are_yielded_in_their_turn, || async {
    let bad = create_task(async {
        sleep(1).await?;
        Err::<u8, _>(Error::runtime("bad"))
    });
    let ok = create_task(async {
        sleep(2).await?;
        Ok(2u8)
    });
    let mut it = as_completed([ok, bad], None);
    assert_eq!(it.next().await.unwrap().unwrap_err().to_string(), "bad");
    assert_eq!(it.next().await.unwrap()?, 2);
    Ok(())
});

both!(the_task_form_yields_the_original_tasks, || async {
    let a = create_task(async {
        sleep(2).await?;
        Ok(1)
    });
    let b = create_task(async {
        sleep(1).await?;
        Ok(2)
    });
    let mut it = as_completed([a.clone(), b.clone()], None).tasks();
    assert_eq!(it.next().await.unwrap()?, b);
    assert_eq!(it.next().await.unwrap()?, a);
    assert!(it.next().await.is_none());
    Ok(())
});

both!(
    timeout_makes_every_remaining_item_timeout_without_cancelling,
    || async {
        let fast = create_task(async {
            sleep(1).await?;
            Ok(1)
        });
        let slow1 = create_task(async {
            sleep(10).await?;
            Ok(2)
        });
        let slow2 = create_task(async {
            sleep(20).await?;
            Ok(3)
        });
        let mut it = as_completed(
            [fast, slow1.clone(), slow2.clone()],
            Some(Duration::from_secs(5)),
        );
        assert_eq!(it.next().await.unwrap()?, 1);
        assert!(it.next().await.unwrap().unwrap_err().is_timeout());
        assert!(it.next().await.unwrap().unwrap_err().is_timeout());
        assert!(it.next().await.is_none());
        assert!(!slow1.cancelled() && !slow2.cancelled());
        assert_eq!(slow2.await?, 3);
        Ok(())
    }
);

both!(the_iteration_can_be_resumed_after_a_break, || async {
    let tasks: Vec<_> = (1..=3u64)
        .map(|d| {
            create_task(async move {
                sleep(d).await?;
                Ok(d)
            })
        })
        .collect();
    let mut it = as_completed(tasks, None);
    #[allow(clippy::never_loop)]
    while let Some(r) = it.next().await {
        assert_eq!(r?, 1);
        break;
    }
    assert_eq!(it.next().await.unwrap()?, 2);
    assert_eq!(it.next().await.unwrap()?, 3);
    Ok(())
});

both!(is_a_futures_stream, || async {
    fn is_stream<S: futures_core::Stream>(_: &S) {}
    let it = as_completed([async { Ok(1) }], None);
    is_stream(&it);
    Ok(())
});
