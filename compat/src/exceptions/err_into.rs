//! [`ErrInto::err_into`]: a coroutine whose error converts into taskio's [`Error`], made a
//! coroutine returning [`taskio::Result<T>`](crate::Result): what a task's coroutine returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::exceptions::{Error, Result};

/// Turns a `Future<Output = Result<T, E>>` whose `E` converts into [`Error`] (an
/// `std::io::Error`, any `std::error::Error + Send + Sync`, a payload type) into a
/// coroutine returning `taskio::Result<T>`, accepted by
/// [`create_task`](crate::create_task), [`TaskGroup::create_task`](crate::TaskGroup::create_task),
/// [`gather`](crate::gather()) and the other combinators.
///
/// # Examples
///
/// ```
/// use taskio::{create_task, ErrInto, TaskGroup};
///
/// async fn read_len(path: &'static str) -> std::io::Result<usize> {
///     Ok(taskio::to_thread(move || std::fs::read(path)).await??.len())
/// }
///
/// taskio::run(async {
///     let t = create_task(read_len("Cargo.toml").err_into());
///     assert!(t.await? > 0);
///     let err = TaskGroup::run(|tg| async move {
///         tg.create_task(read_len("/no/such/file").err_into())?;
///         Ok(())
///     })
///     .await
///     .unwrap_err();
///     let group = err.downcast_ref::<taskio::ExceptionGroup>().unwrap();
///     let io = group.errors[0].downcast_ref::<std::io::Error>().unwrap();
///     assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
///     Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Why `create_task` does not take every error type
///
/// `create_task`, `TaskGroup::create_task` and the combinators take
/// `F: Future<Output = taskio::Result<T>>`. That bound is what lets the common child
/// `async { Ok(v) }` compile: the compiler reads the async block's error type from it.
/// With `F: Future<Output = Result<T, E>>, E: Into<Error>` instead, `E` is no longer
/// known for `async { Ok(v) }` (nor for a `?` inside), and every such call site fails
/// with "type annotations needed"; with a trait implemented for a few error types the
/// same happens (more than one impl applies). Rust has no fallback to a default type
/// parameter here, so the conversion is asked for where it is needed: `fut.err_into()`,
/// or `async { Ok(fut.await?) }`.
pub trait ErrInto<T, E>: Future<Output = std::result::Result<T, E>> + Sized {
    /// This coroutine with its error converted into [`Error`] (`E::into`).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::ErrInto;
    ///
    /// // Result<u8, ParseIntError> -> taskio::Result<u8>
    /// let fut = async { "x".parse::<u8>() }.err_into();
    /// let err = taskio::run(fut).unwrap_err();
    /// assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
    /// ```
    fn err_into(self) -> ErrIntoFuture<Self> {
        ErrIntoFuture { fut: self }
    }
}

impl<F, T, E> ErrInto<T, E> for F
where
    F: Future<Output = std::result::Result<T, E>>,
    E: Into<Error>,
{
}

/// The coroutine [`ErrInto::err_into`] returns.
///
/// # Examples
///
/// ```
/// use taskio::exceptions::ErrIntoFuture;
/// use taskio::ErrInto;
///
/// let fut: ErrIntoFuture<_> = async { Ok::<_, std::fmt::Error>(1) }.err_into();
/// assert_eq!(taskio::run(fut).unwrap(), 1);
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ErrIntoFuture<F> {
    /// Pinned whenever the `ErrIntoFuture` is (structural pinning).
    fut: F,
}

impl<F, T, E> Future for ErrIntoFuture<F>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: Into<Error>,
{
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // SAFETY: `fut` is pinned structurally: (1) it is never moved out of `self` nor
        // handed out unpinned; (2) `ErrIntoFuture` has no `Drop` impl that could move it;
        // (3) `ErrIntoFuture<F>` is `Unpin` only when `F` is (the auto impl), so a pinned
        // `fut` is never moved through an `Unpin` wrapper.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.fut) };
        fut.poll(cx).map(|r| r.map_err(Into::into))
    }
}
