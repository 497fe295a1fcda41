//! Shared by the `compat_*` tests: run one body on the deterministic runner and on the
//! multi-thread runtime.
#![allow(dead_code, unused_macros)]

use std::future::Future;

/// The deterministic runner: current-thread, paused clock.
pub fn ct<F, Fut, T>(body: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = taskio::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let r = taskio::Runner::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let out = r.run(body()).unwrap();
    r.close();
    out
}

/// The multi-thread runtime (4 workers), paused clock.
pub fn mt<F, Fut, T>(body: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = taskio::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let r = taskio::Runner::builder()
        .worker_threads(4)
        .start_paused(true)
        .build()
        .unwrap();
    let out = r.run(body()).unwrap();
    r.close();
    out
}

/// `both!(name, || async { ...; Ok(()) })`: a test on each runner.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn current_thread() {
                crate::support::ct($body)
            }
            #[test]
            fn multi_thread() {
                crate::support::mt($body)
            }
        }
    };
}

/// `ct_only!(name, || async { ...; Ok(()) })`: FIFO-order rules, deterministic runner only.
macro_rules! ct_only {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            crate::support::ct($body)
        }
    };
}

/// A shared, ordered log of events.
#[derive(Clone, Default)]
pub struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    pub fn get(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Yields `n` times (`sleep(0)` each).
pub async fn yields(n: usize) -> taskio::Result<()> {
    for _ in 0..n {
        taskio::sleep(0).await?;
    }
    Ok(())
}
