//! `#[taskio::main]` and `#[taskio::test]`: each option, the return types, and how panics
//! and the runner's own failures come out. (`#[taskio::main]` is put on functions other
//! than `main` here, called from tests: the harness owns this binary's `main`.)
#![cfg(not(loom))]

use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use taskio::{create_task, gather, sleep, ErrorKind};

/// The runtime's worker threads are named so (runtime `Builder::thread_name`'s default).
const WORKER: &str = "taskio-runtime-worker";

fn on_a_worker() -> bool {
    std::thread::current().name() == Some(WORKER)
}

/// Runs `n` tasks that each block their thread until all `n` are running at once (or 20 s
/// pass), and returns their threads: `n` distinct threads only if there are `n` workers.
async fn rendezvous(n: usize) -> taskio::Result<Vec<ThreadId>> {
    let arrived = Arc::new((Mutex::new(0), Condvar::new()));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let arrived = arrived.clone();
            create_task(async move {
                let (count, cv) = &*arrived;
                let mut c = count.lock().unwrap();
                *c += 1;
                cv.notify_all();
                let (c, timeout) = cv
                    .wait_timeout_while(c, Duration::from_secs(20), |c| *c < n)
                    .unwrap();
                assert!(!timeout.timed_out(), "only {} of {n} tasks ran at once", *c);
                Ok(std::thread::current().id())
            })
        })
        .collect();
    gather(tasks).await
}

fn distinct(mut ids: Vec<ThreadId>) -> usize {
    ids.sort_by_key(|id| format!("{id:?}"));
    ids.dedup();
    ids.len()
}

// --- #[taskio::test] ---

#[taskio::test]
async fn test_default_is_the_current_thread_runner() -> taskio::Result<()> {
    assert!(!on_a_worker());
    let here = std::thread::current().id();
    let child = create_task(async { Ok(std::thread::current().id()) }).await?;
    assert_eq!(child, here);
    Ok(())
}

#[taskio::test(flavor = "current_thread")]
async fn test_flavor_current_thread() {
    assert!(!on_a_worker());
}

#[taskio::test(flavor = "multi_thread")]
async fn test_flavor_multi_thread_runs_on_workers() {
    assert!(on_a_worker());
}

#[taskio::test(workers = 3)]
async fn test_workers_gives_that_many_workers() -> taskio::Result<()> {
    assert!(on_a_worker());
    let threads = rendezvous(3).await?;
    assert_eq!(distinct(threads), 3);
    Ok(())
}

#[taskio::test(start_paused = true)]
async fn test_start_paused_jumps_the_clock() -> taskio::Result<()> {
    let real = Instant::now();
    let lp = taskio::get_running_loop()?;
    let start = lp.time();
    sleep(3600).await?;
    assert!(lp.time() - start >= 3600.0);
    assert!(real.elapsed() < Duration::from_secs(600));
    Ok(())
}

#[taskio::test(start_paused = false)]
async fn test_start_paused_false_is_the_real_clock() -> taskio::Result<()> {
    let real = Instant::now();
    sleep(0.05).await?;
    assert!(real.elapsed() >= Duration::from_millis(50));
    Ok(())
}

#[taskio::test(workers = 2, start_paused = true)]
async fn test_paused_on_workers() -> taskio::Result<()> {
    let real = Instant::now();
    let slept = gather((1..=3).map(|h| async move {
        sleep(Duration::from_secs(3600 * h)).await?;
        Ok(h)
    }))
    .await?;
    assert_eq!(slept, [1, 2, 3]);
    assert!(real.elapsed() < Duration::from_secs(600));
    Ok(())
}

#[taskio::test]
#[should_panic(expected = "boom in the body")]
async fn test_a_panic_in_the_body_fails_the_test() {
    sleep(0).await.unwrap();
    panic!("boom in the body");
}

#[taskio::test]
#[ignore = "called by `test_an_err_is_returned`"]
async fn test_returning_err() -> taskio::Result<()> {
    Err(taskio::Error::runtime("the body failed"))
}

#[test]
fn test_an_err_is_returned() {
    let err = test_returning_err().unwrap_err();
    assert_eq!(err.to_string(), "the body failed");
}

#[taskio::test]
#[ignore = "called by `test_a_returned_panic_error_is_re_raised`"]
async fn test_child_panics() -> taskio::Result<()> {
    let child: taskio::Task<()> = create_task(async { panic!("boom in a child") });
    child.join().await?;
    Ok(())
}

#[test]
fn test_a_returned_panic_error_is_re_raised() {
    let payload = std::panic::catch_unwind(test_child_panics).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in a child"));
}

/// A `pub` test in a module: visibility and other attributes are kept.
mod nested {
    #[taskio::test]
    #[allow(unused_variables)]
    pub async fn test_in_a_module() {
        let unused = 1;
    }
}

// --- #[taskio::main] ---

#[taskio::main]
async fn main_default() -> taskio::Result<(bool, usize)> {
    let a = create_task(async { Ok(20) });
    Ok((on_a_worker(), a.await? + 1))
}

#[test]
fn main_default_is_multi_thread_and_returns_the_body_result() {
    assert_eq!(main_default().unwrap(), (true, 21));
}

#[taskio::main(flavor = "current_thread")]
async fn main_current_thread() -> taskio::Result<bool> {
    Ok(on_a_worker())
}

#[test]
fn main_flavor_current_thread_runs_on_the_caller() {
    assert!(!main_current_thread().unwrap());
}

#[taskio::main(workers = 2)]
async fn main_two_workers() -> taskio::Result<usize> {
    Ok(distinct(rendezvous(2).await?))
}

#[test]
fn main_workers() {
    assert_eq!(main_two_workers().unwrap(), 2);
}

#[taskio::main(flavor = "current_thread", start_paused = true)]
async fn main_paused() -> taskio::Result<f64> {
    let lp = taskio::get_running_loop()?;
    let start = lp.time();
    sleep(86_400).await?;
    Ok(lp.time() - start)
}

#[test]
fn main_start_paused() {
    let real = Instant::now();
    assert!(main_paused().unwrap() >= 86_400.0);
    assert!(real.elapsed() < Duration::from_secs(600));
}

#[taskio::main]
async fn main_io() -> std::io::Result<()> {
    let r: taskio::Result<()> = taskio::to_thread(|| {
        Err(std::io::Error::from(std::io::ErrorKind::NotFound))?;
        Ok(())
    })
    .await?;
    r?; // the taskio::Error converts back into the io::Error
    Ok(())
}

#[test]
fn main_returning_io_result() {
    assert_eq!(main_io().unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[taskio::main]
async fn main_unit() {}

#[taskio::main]
async fn main_exit_code() -> ExitCode {
    ExitCode::from(3)
}

#[test]
fn main_returning_unit_or_exit_code() {
    main_unit();
    assert_eq!(main_exit_code(), ExitCode::from(3));
}

#[taskio::main]
async fn main_boxed() -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    let n: u8 = "300".parse()?;
    Ok(n)
}

#[test]
fn main_returning_a_boxed_error() {
    let err = main_boxed().unwrap_err();
    assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
}

/// A failure of the runner (here: started inside a running runtime) is the function's `Err`.
#[test]
fn main_runner_failure_is_an_err() {
    let rt = taskio::runtime::Runtime::new().unwrap();
    let _inside = rt.enter();
    let err = main_default().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert!(err.to_string().contains("running event loop"));
}

#[test]
#[should_panic(expected = "running event loop")]
fn main_runner_failure_panics_for_unit() {
    let rt = taskio::runtime::Runtime::new().unwrap();
    let _inside = rt.enter();
    main_unit();
}
