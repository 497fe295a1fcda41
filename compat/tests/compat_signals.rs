//! asyncio's `loop.add_signal_handler` / `remove_signal_handler` as
//! `taskio::add_signal_handler` / `remove_signal_handler`, with signals raised to the test
//! process itself. Each test has signals of its own (tests run in parallel) and holds a
//! handler while it raises one, so no default action runs. Its own test binary: its
//! handlers disturb no other test. (`run`'s SIGINT handling, which needs the main thread,
//! is in `compat_signals_main.rs`.)
#![cfg(all(unix, not(loom)))]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use taskio::signals::has_default_handler;
use taskio::{
    add_signal_handler, remove_signal_handler, wait_for, ErrorKind, Event, Runner, SignalKind,
};
use taskio_tests::raise;

fn rt_signal(n: i32) -> SignalKind {
    SignalKind::from_raw(libc::SIGRTMIN() + n)
}

/// Waits (on the runtime) until `count` reaches `n`, failing after 20 s.
async fn reaches(count: &AtomicUsize, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while count.load(SeqCst) < n {
        assert!(std::time::Instant::now() < deadline, "callback not called");
        taskio::sleep(0.001).await.unwrap();
    }
}

#[test]
fn callback_runs_on_the_runtime_once_per_awaited_delivery() {
    let kind = rt_signal(0);
    taskio::run(async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let runtime_thread = Arc::new(parking_lot::Mutex::new(None));
        let t = runtime_thread.clone();
        add_signal_handler(kind, move || {
            c.fetch_add(1, SeqCst);
            *t.lock() = Some(taskio::runtime::Handle::try_current().is_ok());
        })?;
        for i in 1..=20 {
            raise(kind);
            reaches(&calls, i).await;
        }
        assert_eq!(calls.load(SeqCst), 20);
        assert_eq!(
            *runtime_thread.lock(),
            Some(true),
            "called inside the runtime"
        );
        assert!(remove_signal_handler(kind));
        assert!(!remove_signal_handler(kind), "removed already");
        assert!(has_default_handler(kind)?, "the default is back");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_second_add_replaces_the_first() {
    let kind = rt_signal(1);
    Runner::builder()
        .current_thread()
        .build()
        .unwrap()
        .run(async move {
            let first = Arc::new(AtomicUsize::new(0));
            let second = Arc::new(AtomicUsize::new(0));
            let f = first.clone();
            add_signal_handler(kind, move || {
                f.fetch_add(1, SeqCst);
            })?;
            let s = second.clone();
            add_signal_handler(kind, move || {
                s.fetch_add(1, SeqCst);
            })?;
            raise(kind);
            reaches(&second, 1).await;
            taskio::sleep(0.05).await?;
            assert_eq!(first.load(SeqCst), 0, "the replaced handler is not called");
            assert!(remove_signal_handler(kind));
            assert!(has_default_handler(kind)?);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_panicking_callback_is_reported_and_the_handler_stays() {
    let kind = rt_signal(2);
    taskio::run(async move {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        add_signal_handler(kind, move || {
            if c.fetch_add(1, SeqCst) == 0 {
                panic!("a callback that panics");
            }
        })?;
        raise(kind);
        reaches(&calls, 1).await;
        raise(kind);
        reaches(&calls, 2).await;
        assert!(remove_signal_handler(kind));
        Ok(())
    })
    .unwrap();
}

#[test]
fn handlers_go_with_their_runtime() {
    let kind = rt_signal(3);
    let runner = Runner::builder().current_thread().build().unwrap();
    runner
        .run(async move {
            add_signal_handler(kind, || {})?;
            assert!(!has_default_handler(kind)?);
            Ok(())
        })
        .unwrap();
    runner.close();
    assert!(has_default_handler(kind).unwrap(), "restored at shutdown");
    // A stale handler of a closed runtime is not "removed".
    taskio::run(async move {
        assert!(!remove_signal_handler(kind));
        Ok(())
    })
    .unwrap();
}

#[test]
fn errors_not_panics() {
    let err = add_signal_handler(SignalKind::user_defined1(), || {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime, "no running loop");
    taskio::run(async {
        for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 999] {
            let err = add_signal_handler(SignalKind::from_raw(sig), || {}).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Runtime, "signal {sig}");
            assert!(!remove_signal_handler(SignalKind::from_raw(sig)));
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn wait_for_sigterm_with_the_reexported_listener() {
    // SIGTERM: used by this test only, and listened to while raised.
    taskio::run(async {
        let mut term = taskio::signals::signal(SignalKind::terminate())?;
        let done = Arc::new(Event::new());
        let d = done.clone();
        let waiter = taskio::create_task(async move {
            term.recv().await;
            d.set();
            Ok(())
        });
        taskio::sleep(0.01).await?;
        raise(SignalKind::terminate());
        wait_for(waiter, Some(Duration::from_secs(20))).await?;
        assert!(done.is_set());
        Ok(())
    })
    .unwrap();
    assert!(has_default_handler(SignalKind::terminate()).unwrap());
}
