//! Running the asyncio layer's (`taskio`'s) test bodies: a [`Runner`] per [`Flavor`], the
//! [`flavours!`](crate::flavours), [`both!`](crate::both) and [`ct_only!`](crate::ct_only)
//! macros over them, and the runtimes the stream tests loop over.

use std::future::Future;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use taskio::{Runner, RunnerBuilder};
use taskio_runtime::{Builder, Runtime};

use crate::Flavor;

/// A runner builder for `flavor`, its clock paused if `paused` (callers may add options).
pub fn runner(flavor: Flavor, paused: bool) -> RunnerBuilder {
    let mut b = Runner::builder();
    match flavor {
        Flavor::CurrentThread => b.current_thread(),
        Flavor::MultiThread(n) => b.worker_threads(n),
    };
    b.start_paused(paused);
    b
}

/// Runs `body` to completion on a new runner of `flavor` (its clock paused if `paused`),
/// panics on its error, and closes the runner: nothing may be left that had to be dropped.
pub fn run_on<F, Fut, T>(flavor: Flavor, paused: bool, body: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = taskio::Result<T>> + Send,
    T: Send + 'static,
{
    let r = runner(flavor, paused).build().unwrap();
    let out = r.run(body()).unwrap();
    assert!(
        r.shutdown().is_empty(),
        "a test left a task that had to be dropped"
    );
    out
}

/// The deterministic runner: current thread, paused clock.
pub fn ct<F, Fut, T>(body: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = taskio::Result<T>> + Send,
    T: Send + 'static,
{
    run_on(Flavor::CurrentThread, true, body)
}

/// The multi-thread runner (4 workers), paused clock.
pub fn mt<F, Fut, T>(body: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = taskio::Result<T>> + Send,
    T: Send + 'static,
{
    run_on(Flavor::MultiThread(4), true, body)
}

/// `flavours!(name, || async { ...; Ok(()) })`: one test per runtime flavour,
/// `name::{current_thread, threaded_1, threaded_4}`, on the paused clock;
/// `flavours!(name, paused, body)` chooses the clock.
#[macro_export]
macro_rules! flavours {
    ($name:ident, $body:expr) => {
        $crate::flavours!($name, true, $body);
    };
    ($name:ident, $paused:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn current_thread() {
                $crate::run_on($crate::Flavor::CurrentThread, $paused, $body)
            }
            #[test]
            fn threaded_1() {
                $crate::run_on($crate::Flavor::MultiThread(1), $paused, $body)
            }
            #[test]
            fn threaded_4() {
                $crate::run_on($crate::Flavor::MultiThread(4), $paused, $body)
            }
        }
    };
}

/// `both!(name, || async { ...; Ok(()) })`: `name::current_thread` on [`ct`] and
/// `name::multi_thread` on [`mt`].
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn current_thread() {
                $crate::ct($body)
            }
            #[test]
            fn multi_thread() {
                $crate::mt($body)
            }
        }
    };
}

/// `ct_only!(name, || async { ...; Ok(()) })`: FIFO-order rules, deterministic runner only.
#[macro_export]
macro_rules! ct_only {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            $crate::ct($body)
        }
    };
}

/// The runtimes a test loops over itself: current thread and 2 workers, each built by
/// `configure` from the flavour's [`Builder`].
pub fn runtimes_with(configure: impl Fn(&mut Builder)) -> Vec<(&'static str, Runtime)> {
    [
        ("current_thread", Flavor::CurrentThread),
        ("multi_thread(2)", Flavor::MultiThread(2)),
    ]
    .into_iter()
    .map(|(name, flavor)| {
        let mut b = flavor.builder();
        configure(&mut b);
        (name, b.build().expect("runtime builds"))
    })
    .collect()
}

/// [`runtimes_with`] default options.
pub fn runtimes() -> Vec<(&'static str, Runtime)> {
    runtimes_with(|_| {})
}

/// Runs the body on each of [`runtimes`], bounded (60 s) so that a hang fails the test.
pub fn on_each_runtime<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for (name, rt) in runtimes() {
        eprintln!("-- {name}");
        rt.block_on(async {
            taskio_runtime::time::timeout(Duration::from_secs(60), body())
                .await
                .expect("bounded: the test hung");
        });
    }
}

/// The port of a server's first (TCP) socket.
pub fn port(server: &taskio::Server) -> u16 {
    server.sockets()[0].as_inet().unwrap().port()
}

/// Yields `n` times (`sleep(0)` each).
pub async fn yields(n: usize) -> taskio::Result<()> {
    for _ in 0..n {
        taskio::sleep(0).await?;
    }
    Ok(())
}

/// A shared, ordered log of events.
#[derive(Clone, Debug, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    /// Appends `s`.
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }

    /// The events so far, emptying the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The events so far.
    pub fn get(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

// ===== the process's error hook =====

static HOOK_TURN: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// The turn to set the process's error hook (`taskio::set_error_hook`), which every test
/// of the binary shares: tests that set it take turns, holding this until they have put
/// the previous hook back. `Send`, so an async body may hold it across awaits; it blocks
/// its thread until the turn is free.
#[derive(Debug)]
pub struct ErrorHookTurn(());

impl ErrorHookTurn {
    /// Waits for the turn.
    pub fn take() -> ErrorHookTurn {
        let (taken, cv) = &HOOK_TURN;
        let mut taken = taken.lock().unwrap_or_else(|e| e.into_inner());
        while *taken {
            taken = cv.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        *taken = true;
        ErrorHookTurn(())
    }
}

impl Drop for ErrorHookTurn {
    fn drop(&mut self) {
        let (taken, cv) = &HOOK_TURN;
        *taken.lock().unwrap_or_else(|e| e.into_inner()) = false;
        cv.notify_one();
    }
}
