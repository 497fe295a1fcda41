//! ASYNCIO.md "shield", rule by rule.
#![cfg(not(loom))]

use std::sync::Arc;

use taskio::{create_task, shield, Error, Event};
use taskio_tests::yields;

both!(a_done_inner_is_returned_as_is, || async {
    let t = create_task(async { Ok(4) });
    t.clone().await?;
    let s = shield(t.clone());
    assert_eq!(s.inner(), &t);
    assert_eq!(s.await?, 4);
    Ok(())
});

both!(cancelling_the_outer_leaves_the_inner_running, || async {
    // Ordered by events, not yields: on several workers the inner task could otherwise
    // finish (and the outer with it) before the cancel.
    let (go, started) = (Arc::new(Event::new()), Arc::new(Event::new()));
    let (g, s) = (go.clone(), started.clone());
    let inner = create_task(async move {
        g.wait().await?;
        Ok("inner result")
    });
    let i = inner.clone();
    let outer = create_task(async move {
        s.set();
        shield(i).await
    });
    started.wait().await?;
    assert!(outer.cancel(None));
    assert!(outer.clone().await.unwrap_err().is_cancelled());
    assert!(!inner.done());
    go.set();
    assert_eq!(inner.clone().await?, "inner result");
    assert!(!inner.cancelled());
    Ok(())
});

both!(a_cancelled_inner_cancels_the_outer, || async {
    let inner = create_task(std::future::pending::<taskio::Result<()>>());
    let i = inner.clone();
    let outer = create_task(async move { shield(i).await });
    yields(1).await?;
    inner.cancel(Some("inner"));
    let err = outer.clone().await.unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.cancel_message(), Some("inner"));
    Ok(())
});

both!(the_inner_result_or_error_reaches_the_outer, || async {
    assert_eq!(shield(async { Ok(1) }).await?, 1);
    let err = shield(async { Err::<(), _>(Error::runtime("inner failed")) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "inner failed");
    Ok(())
});
