//! What `#[taskio::main]` and `#[taskio::test]` expand to call (not an API: hidden, and
//! free to change with the macros).
//!
//! The body runs as [`Runner::run`]'s main task, so it sees what a [`run`](crate::run)'s
//! main sees: a panic in it, or a [`Panic`](crate::ErrorKind::Panic) error it returns, is
//! re-raised as a panic. An error of the runner itself (it could not be built; the loop was
//! stopped; SIGINT gave `KeyboardInterrupt`) becomes the function's own failure
//! ([`Output::runner_failed`]).

use std::any::Any;
use std::future::Future;
use std::process::ExitCode;

use crate::{Error, Runner};

/// The runner an attribute asked for.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// `flavor = "current_thread"`.
    pub current_thread: bool,
    /// `workers = N` (`None`: one per core).
    pub workers: Option<usize>,
    /// `start_paused = true`.
    pub start_paused: bool,
}

/// A return type a `main` or test body may have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a `#[taskio::main]` or `#[taskio::test]` function",
    label = "this return type",
    note = "return `()`, `std::process::ExitCode`, or a `Result<T, E>` whose `E` converts from \
            `taskio::Error` (`taskio::Result<T>`, `std::io::Result<T>`, \
            `Result<T, Box<dyn std::error::Error + Send + Sync>>`); it must be `Send`"
)]
pub trait Output: Send + 'static {
    /// This output for a failure of the runner (not of the body).
    fn runner_failed(error: Error) -> Self;

    /// Re-raises the output if it is a taskio [`Panic`](crate::ErrorKind::Panic) error, as
    /// [`Runner::run`] does with its main's.
    fn resume_panic(self) -> Self;
}

impl<T, E> Output for Result<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    fn runner_failed(error: Error) -> Self {
        Err(E::from(error))
    }

    fn resume_panic(self) -> Self {
        let Err(e) = self else { return self };
        let mut slot = Some(e);
        if let Some(taskio) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Error>>() {
            match taskio.take().expect("just set").into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(not_a_panic) => *taskio = Some(not_a_panic),
            }
        }
        Err(slot.expect("put back"))
    }
}

impl Output for () {
    fn runner_failed(error: Error) -> Self {
        panic!("{error}")
    }

    fn resume_panic(self) -> Self {}
}

impl Output for ExitCode {
    fn runner_failed(error: Error) -> Self {
        eprintln!("Error: {error:?}");
        ExitCode::FAILURE
    }

    fn resume_panic(self) -> Self {
        self
    }
}

/// Runs `body` as the main task of a runner built from `config`, then closes the runner.
pub fn run<R, F>(config: Config, body: F) -> R
where
    R: Output,
    F: Future<Output = R> + Send + 'static,
{
    let mut b = Runner::builder();
    if config.current_thread {
        b.current_thread();
    }
    if let Some(n) = config.workers {
        b.worker_threads(n);
    }
    b.start_paused(config.start_paused);
    let runner = match b.build() {
        Ok(r) => r,
        Err(e) => return R::runner_failed(e),
    };
    let out = runner.run(async move { Ok(body.await) });
    runner.close();
    match out {
        Ok(r) => r.resume_panic(),
        Err(e) => R::runner_failed(e),
    }
}
