//! [`Timeout`], [`timeout`] and [`timeout_at`].

use crate::time::error::Elapsed;
use crate::time::{sleep, sleep_until, Instant, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future` with a time limit: `Ok(output)` if it completes within `duration`,
/// `Err(Elapsed)` otherwise (and `future` is dropped with the `Timeout`).
///
/// The future is polled before the timer, so a future that is ready at once wins even with a
/// zero duration. The timer is only registered if the future is pending.
///
/// # Panics
///
/// If called outside a taskio runtime, or in one built without time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{timeout, Duration};
///
/// async fn example() {
///     let fast = async { 7 };
///     assert_eq!(timeout(Duration::from_secs(1), fast).await, Ok(7));
///
///     let slow = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep(duration),
    }
}

/// Runs `future` until `deadline`: `Ok(output)` if it completes first, `Err(Elapsed)`
/// otherwise.
///
/// # Panics
///
/// If called outside a taskio runtime, or in one built without time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{timeout_at, Duration, Instant};
///
/// async fn example() {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     let slow = std::future::pending::<()>();
///     assert!(timeout_at(deadline, slow).await.is_err());
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep_until(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{timeout, Duration, Timeout};
///
/// async fn example() {
///     let t: Timeout<_> = timeout(Duration::from_secs(1), async { 1 });
///     assert_eq!(t.await, Ok(1));
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Timeout<T> {
    value: T,
    delay: Sleep,
}

impl<T> Timeout<T> {
    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{timeout, Duration};
    ///
    /// async fn example() {
    ///     let t = timeout(Duration::from_secs(1), std::future::ready(5));
    ///     let _inner: &std::future::Ready<i32> = t.get_ref();
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// The wrapped future, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{timeout, Duration};
    ///
    /// async fn example() {
    ///     let mut t = timeout(Duration::from_secs(1), std::future::ready(5));
    ///     let _inner: &mut std::future::Ready<i32> = t.get_mut();
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Unwraps the future, dropping the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{timeout, Duration};
    ///
    /// async fn example() {
    ///     let t = timeout(Duration::from_secs(1), std::future::ready(5));
    ///     assert_eq!(t.into_inner().await, 5);
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `value` only: we never move `value` out of a pinned
        // `Timeout` (no `Unpin`-based or `Drop` access moves it), and `delay` is `Unpin`, so
        // handing out `&mut delay` is fine.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `value` is structurally pinned (see above): `self` is pinned, so it is.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(v) = value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
