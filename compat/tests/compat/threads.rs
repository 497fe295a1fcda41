//! `to_thread` and `run_in_executor` on both runtime flavours: results, panics, when the work
//! is submitted, and cancellation of work that has not started.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use taskio::runtime::Runtime;
use taskio::{run_in_executor, to_thread, ErrorKind};

/// Runtimes whose blocking pool has a single thread, so that queued work is observable.
fn runtimes() -> Vec<(&'static str, Runtime)> {
    taskio_tests::runtimes_with(|b| {
        b.max_blocking_threads(1);
    })
}

#[test]
fn to_thread_returns_the_result_smoke() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let main = std::thread::current().id();
            let (v, id) = to_thread(|| (6 * 7, std::thread::current().id()))
                .await
                .unwrap();
            assert_eq!(v, 42);
            assert_ne!(id, main, "ran on the blocking pool");
            let many: Vec<_> = (0..20u64).map(|i| run_in_executor(move || i * i)).collect();
            let mut total = 0;
            for t in many {
                total += t.await.unwrap();
            }
            assert_eq!(total, (0..20u64).map(|i| i * i).sum::<u64>());
        });
    }
}

#[test]
fn panic_in_the_closure_is_a_panic_error() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let err = to_thread(|| -> () { panic!("blocking boom") })
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Panic);
            assert_eq!(err.panic_message(), Some("blocking boom"));
            let err = run_in_executor(|| -> u8 { panic!("again") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            // The pool still works.
            assert_eq!(to_thread(|| 1).await.unwrap(), 1);
        });
    }
}

#[test]
fn to_thread_submits_when_awaited_run_in_executor_at_once() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let lazy = to_thread(move || r.store(true, Ordering::SeqCst));
            // Give the pool every chance: a later job finishing proves the lazy one is not
            // queued before it (the pool has one thread, FIFO).
            to_thread(|| ()).await.unwrap();
            assert!(
                !ran.load(Ordering::SeqCst),
                "to_thread ran before being awaited"
            );
            lazy.await.unwrap();
            assert!(ran.load(Ordering::SeqCst));

            let (tx, rx) = mpsc::channel();
            let eager = run_in_executor(move || tx.send(()).unwrap());
            // Received without awaiting `eager`: it was submitted at the call.
            to_thread(move || rx.recv().unwrap()).await.unwrap();
            eager.await.unwrap();
        });
    }
}

#[test]
fn dropping_cancels_only_work_not_started() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            // The one blocking thread is busy until `release` is sent to it.
            let (started_tx, started_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let finished = Arc::new(AtomicUsize::new(0));
            let f = finished.clone();
            let busy = run_in_executor(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                f.fetch_add(1, Ordering::SeqCst);
            });
            // Wait until it runs (blocking this thread briefly: the pool does not need it).
            started_rx.recv().unwrap();
            // Queued behind it, then dropped: never runs.
            let queued_ran = Arc::new(AtomicBool::new(false));
            let q = queued_ran.clone();
            let queued = run_in_executor(move || q.store(true, Ordering::SeqCst));
            drop(queued);
            // Dropping the running one does not stop it.
            drop(busy);
            release_tx.send(()).unwrap();
            // A later job runs after both (FIFO pool of one thread).
            run_in_executor(|| ()).await.unwrap();
            assert_eq!(
                finished.load(Ordering::SeqCst),
                1,
                "started work ran to its end"
            );
            assert!(
                !queued_ran.load(Ordering::SeqCst),
                "queued work was cancelled"
            );
        });
    }
}

#[test]
fn run_in_executor_outside_a_runtime_is_an_error() {
    let task = run_in_executor(|| 1);
    assert!(task.is_finished());
    let err = taskio_tests::block_on(task).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    let rt = Runtime::new().unwrap();
    let task = taskio::threads::run_in_executor_on(rt.handle(), || 2);
    assert_eq!(rt.block_on(task).unwrap(), 2);
}
