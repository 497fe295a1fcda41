//! ASYNCIO.md "Threads and run": `run` and `Runner`.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use taskio::{create_task, sleep, ErrorKind, Runner};
use taskio_tests::runner::runner;
use taskio_tests::Flavor;

#[test]
fn run_returns_main_result() {
    assert_eq!(taskio::run(async { Ok(3) }).unwrap(), 3);
    let err = taskio::run(async { Err::<(), _>(taskio::Error::runtime("main")) }).unwrap_err();
    assert_eq!(err.to_string(), "main");
}

#[test]
fn run_inside_a_running_runtime_is_an_error() {
    taskio::run(async {
        let err = taskio::run(async { Ok(()) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Runtime);
        assert!(err.to_string().contains("running event loop"));
        Ok(())
    })
    .unwrap();
    let r = Runner::builder().current_thread().build().unwrap();
    r.run(async {
        let inner = Runner::builder().current_thread().build()?;
        assert_eq!(
            inner.run(async { Ok(()) }).unwrap_err().kind(),
            ErrorKind::Runtime
        );
        // Dropping a runner inside a runtime must not block on it.
        std::mem::forget(inner);
        Ok(())
    })
    .unwrap();
}

#[test]
#[should_panic(expected = "main panicked")]
fn a_panic_in_main_is_re_raised() {
    let _ = taskio::run(async {
        if true {
            panic!("main panicked");
        }
        Ok(())
    });
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn leaves_a_task_running(runner: &Runner) -> Arc<AtomicBool> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let c = cancelled.clone();
    runner
        .run(async move {
            create_task(async move {
                let _g = SetOnDrop(c);
                // Not a timer: a paused clock would jump to it while the runner is idle.
                std::future::pending::<()>().await;
                Ok(())
            });
            sleep(0).await?;
            Ok(())
        })
        .unwrap();
    cancelled
}

#[test]
fn close_cancels_the_tasks_still_running_and_waits_for_them() {
    for current in [true, false] {
        let mut b = Runner::builder();
        if current {
            b.current_thread();
        }
        let runner = b.start_paused(true).build().unwrap();
        let cancelled = leaves_a_task_running(&runner);
        assert!(
            !cancelled.load(Ordering::SeqCst),
            "still running between runs"
        );
        runner.close();
        assert!(cancelled.load(Ordering::SeqCst));
    }
}

#[test]
fn dropping_the_runner_closes_it() {
    let runner = Runner::builder().current_thread().build().unwrap();
    let cancelled = leaves_a_task_running(&runner);
    drop(runner);
    assert!(cancelled.load(Ordering::SeqCst));
}

#[test]
fn a_runner_runs_several_mains_and_keeps_tasks_between_them() {
    let runner = Runner::builder().current_thread().build().unwrap();
    let t = runner
        .run(async { Ok(create_task(async { Ok(5) })) })
        .unwrap();
    assert_eq!(runner.run(async move { t.await }).unwrap(), 5);
    runner.close();
}

#[test]
fn run_shuts_the_blocking_pool_down() {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    taskio::run(async move {
        taskio::runtime::spawn_blocking(move || r.store(true, Ordering::SeqCst))
            .await
            .unwrap();
        Ok(())
    })
    .unwrap();
    assert!(ran.load(Ordering::SeqCst));
}

/// Borrowed state a main future writes into, and a value that records its drop.
struct Borrowed<'a> {
    log: &'a std::sync::Mutex<Vec<String>>,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        self.log.lock().unwrap().push("dropped".into());
    }
}

#[test]
fn main_may_borrow_from_the_caller() {
    for flavor in Flavor::ALL {
        let r = runner(flavor, true).build().unwrap();
        let mut words = vec![String::from("a"), String::from("bb")];
        let total = r
            .run(async {
                // Children stay 'static; main itself borrows `words` mutably across awaits.
                let child = create_task(async { Ok(3) });
                words.push("c".repeat(child.await?));
                sleep(1).await?;
                Ok(words.iter().map(String::len).sum::<usize>())
            })
            .unwrap();
        assert_eq!(total, 6, "{flavor:?}");
        assert_eq!(words, ["a", "bb", "ccc"], "{flavor:?}");
        assert!(r.shutdown().is_empty());
    }
}

// On the real clock: a paused clock would let main's sleep end while nobody runs the loop.
#[test]
fn a_borrowed_main_whose_loop_stops_is_cancelled_before_run_returns() {
    for flavor in Flavor::ALL {
        let r = runner(flavor, false).build().unwrap();
        let log = std::sync::Mutex::new(Vec::new());
        let err = r
            .run(async {
                let guard = Borrowed { log: &log };
                taskio::get_running_loop()?.stop();
                let slept = sleep(3600).await;
                // Clean-up that awaits, after the cancellation was delivered.
                let again = sleep(0).await;
                guard.log.lock().unwrap().push(format!(
                    "clean-up: {:?} then {:?}",
                    slept.as_ref().map_err(|e| e.kind()),
                    again.map_err(|e| e.kind())
                ));
                slept
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Event loop stopped before Future completed.",
            "{flavor:?}"
        );
        // Both happened before `run` returned: the borrow of `log` has ended.
        assert_eq!(
            log.into_inner().unwrap(),
            ["clean-up: Err(Cancelled) then Ok(())", "dropped"],
            "{flavor:?}"
        );
        assert!(r.shutdown().is_empty());
    }
}

// The real clock, as above; the grace period is short.
#[test]
fn a_borrowed_main_that_swallows_cancellation_is_dropped_after_the_grace_period() {
    for flavor in Flavor::ALL {
        let r = runner(flavor, false).shutdown_grace(0.05).build().unwrap();
        let log = std::sync::Mutex::new(Vec::new());
        let err = r
            .run::<_, ()>(async {
                let _guard = Borrowed { log: &log };
                taskio::get_running_loop()?.stop();
                loop {
                    if sleep(3600).await.is_err() {
                        log.lock().unwrap().push("swallowed".into());
                    }
                }
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Runtime, "{flavor:?}");
        assert_eq!(
            log.into_inner().unwrap(),
            ["swallowed", "dropped"],
            "{flavor:?}"
        );
        assert!(r.shutdown().is_empty());
    }
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a destructor of main panicked");
    }
}

// A borrowed main whose destructor panics while the runner finishes it: the flag that ends
// the wait is raised all the same (it is dropped after the future, even on unwinding), and
// the borrowed state was released first.
#[test]
fn a_borrowed_main_whose_destructor_panics_still_lets_run_return() {
    for flavor in Flavor::ALL {
        let r = runner(flavor, false).build().unwrap();
        let log = std::sync::Mutex::new(Vec::new());
        let err = r
            .run::<_, ()>(async {
                let _guard = Borrowed { log: &log };
                let _boom = PanicOnDrop;
                taskio::get_running_loop()?.stop();
                sleep(3600).await?;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Event loop stopped before Future completed.",
            "{flavor:?}"
        );
        // `_boom` drops first (fields drop in reverse order of declaration here: locals),
        // and its panic does not stop `_guard` from dropping.
        assert_eq!(log.into_inner().unwrap(), ["dropped"], "{flavor:?}");
        assert!(r.shutdown().is_empty());
    }
}
