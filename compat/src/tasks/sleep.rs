//! asyncio's `sleep`, and the one rule for time arguments: seconds (a float or an integer)
//! or a `Duration`. [`Delay`] is a delay (`sleep`, `call_later`, cancel scopes);
//! [`TimeLimit`] is a delay or no limit at all (`wait_for`, `timeout`, `wait`,
//! `as_completed`), where asyncio passes `None`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::exceptions::{Error, Result};

/// A delay [`sleep`] accepts: seconds as a float or an integer, or a `Duration`.
///
/// # Examples
///
/// ```
/// use taskio::tasks::Delay;
/// use std::time::Duration;
/// assert_eq!(0.5.into_delay().unwrap(), Some(Duration::from_millis(500)));
/// assert_eq!((-1).into_delay().unwrap(), None); // <= 0: just yield
/// assert!(f64::NAN.into_delay().is_err());
/// ```
pub trait Delay {
    /// `Ok(None)` for "just yield" (a delay <= 0), `Ok(Some(d))` to wait `d`, `Err` for NaN.
    fn into_delay(self) -> Result<Option<Duration>>;
}

impl Delay for f64 {
    fn into_delay(self) -> Result<Option<Duration>> {
        if self.is_nan() {
            return Err(Error::value("Invalid delay: NaN (not a number)"));
        }
        if self <= 0.0 {
            return Ok(None);
        }
        Ok(Some(
            Duration::try_from_secs_f64(self).unwrap_or(Duration::MAX),
        ))
    }
}

impl Delay for f32 {
    fn into_delay(self) -> Result<Option<Duration>> {
        f64::from(self).into_delay()
    }
}

impl Delay for Duration {
    fn into_delay(self) -> Result<Option<Duration>> {
        Ok((!self.is_zero()).then_some(self))
    }
}

macro_rules! int_delay {
    ($($t:ty),*) => {$(
        impl Delay for $t {
            #[allow(unused_comparisons)]
            fn into_delay(self) -> Result<Option<Duration>> {
                if self <= 0 {
                    return Ok(None);
                }
                Ok(Some(Duration::from_secs(self as u64)))
            }
        }
    )*};
}
int_delay!(i32, i64, u32, u64, usize);

/// A time limit: seconds (`f64`, `f32`, integers) or a `Duration`, as for [`Delay`], or an
/// `Option<Duration>` where `None` is no limit (asyncio's `timeout=None`). A limit `<= 0`
/// has already passed; NaN is an error (`ErrorKind::Value`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::tasks::TimeLimit;
/// assert_eq!(1.5.into_limit().unwrap(), Some(Duration::from_millis(1500)));
/// assert_eq!(2.into_limit().unwrap(), Some(Duration::from_secs(2)));
/// assert_eq!((-1.0).into_limit().unwrap(), Some(Duration::ZERO)); // already passed
/// assert_eq!(None.into_limit().unwrap(), None); // no limit
/// assert_eq!(Some(Duration::from_secs(3)).into_limit().unwrap(), Some(Duration::from_secs(3)));
/// assert!(f64::NAN.into_limit().is_err());
/// ```
pub trait TimeLimit {
    /// `Ok(None)` for no limit, `Ok(Some(d))` for a limit `d` from now (zero: already
    /// passed), `Err` for NaN.
    fn into_limit(self) -> Result<Option<Duration>>;
}

impl<D: Delay> TimeLimit for D {
    fn into_limit(self) -> Result<Option<Duration>> {
        Ok(Some(self.into_delay()?.unwrap_or(Duration::ZERO)))
    }
}

impl TimeLimit for Option<Duration> {
    fn into_limit(self) -> Result<Option<Duration>> {
        Ok(self)
    }
}

/// Suspends the current task for `delay` (seconds, or a `Duration`).
///
/// `sleep(0)` (any delay <= 0) is exactly one yield: the task goes to the back of the ready
/// queue. A NaN delay is an error. A cancellation checkpoint (also `sleep(0)`): a pending
/// cancellation of the task is delivered here as `Err(Cancelled)`.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     taskio::sleep(0).await?;
///     taskio::sleep(0.001).await?;
///     taskio::sleep(std::time::Duration::from_millis(1)).await?;
///     assert!(taskio::sleep(f64::NAN).await.is_err());
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn sleep(delay: impl Delay) -> Sleep {
    let state = match delay.into_delay() {
        Err(e) => State::Error(Some(e)),
        Ok(None) => State::Yield(false),
        Ok(Some(d)) => State::Timer(Box::pin(crate::rt_time::sleep(d))),
    };
    Sleep { state }
}

/// The future of [`sleep`].
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let s: taskio::tasks::Sleep = taskio::sleep(0);
///     s.await
/// })
/// .unwrap();
/// ```
pub struct Sleep {
    state: State,
}

enum State {
    Error(Option<Error>),
    Yield(bool),
    Timer(Pin<Box<crate::rt_time::Sleep>>),
}

impl Future for Sleep {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let state = &mut self.get_mut().state;
        if !matches!(state, State::Error(_)) {
            // A checkpoint, also `sleep(0)`.
            if let Some(e) = crate::kernel::task::take_cancel() {
                return Poll::Ready(Err(e));
            }
        }
        match state {
            State::Error(e) => Poll::Ready(Err(e.take().expect("Sleep polled after completion"))),
            State::Yield(yielded) => {
                if *yielded {
                    return Poll::Ready(Ok(()));
                }
                *yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            State::Timer(s) => s.as_mut().poll(cx).map(Ok),
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Error(_) => "error",
            State::Yield(_) => "yield",
            State::Timer(_) => "timer",
        };
        f.debug_struct("Sleep").field("state", &state).finish()
    }
}
