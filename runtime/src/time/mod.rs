//! Time: sleeping, intervals, timeouts, and the runtime's (pausable) clock.
//!
//! Every timer runs on the current runtime's timer wheel (see the driver), with exact
//! deadlines: a timer fires when the clock reaches its deadline, not at the next millisecond.
//! [`Instant`] is the runtime's own time type; inside a runtime whose clock is [`pause`]d it
//! reads the virtual time.
//!
//! # Examples
//!
//! ```
//! use taskio_runtime::time::{sleep, timeout, Duration};
//!
//! async fn example() {
//!     sleep(Duration::from_millis(10)).await;
//!     let r = timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
//!     assert!(r.is_err());
//! }
//! # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
//! ```

pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};

use crate::driver;
use crate::loom::sync::Arc;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The current runtime's driver handle, checked to have time enabled.
#[track_caller]
pub(crate) fn current_driver() -> Arc<driver::Handle> {
    let handle = driver::with_current(|h| h.cloned())
        .expect("there is no reactor running, must be called from the context of a taskio runtime");
    assert!(
        handle.time.is_some(),
        "a taskio runtime was found, but its timers are disabled; enable time on the runtime's \
         Builder"
    );
    handle
}

/// Stops the current runtime's clock. Time then moves only by [`advance`], or, when every
/// task is idle waiting on a timer, by jumping straight to the next timer's deadline. Tests
/// of long timeouts thus run in no real time and in a repeatable order.
///
/// # Panics
///
/// If called outside a taskio runtime with time enabled, or if the clock is already paused.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{self, Duration, Instant};
///
/// async fn example() {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once, in real time
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// # taskio_runtime::Builder::new_current_thread().build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn pause() {
    current_driver()
        .time
        .as_ref()
        .expect("checked")
        .clock()
        .pause();
}

/// Lets the current runtime's paused clock flow again, from where it stood.
///
/// # Panics
///
/// If called outside a taskio runtime with time enabled, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time;
///
/// async fn example() {
///     time::pause();
///     time::resume();
/// }
/// # taskio_runtime::Builder::new_current_thread().build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn resume() {
    current_driver()
        .time
        .as_ref()
        .expect("checked")
        .clock()
        .resume();
}

/// Moves the current runtime's paused clock forward by `duration`, fires the timers that
/// became due (in deadline order), and yields once so the tasks they woke run. Like every
/// `async fn`, it does nothing until awaited.
///
/// # Panics
///
/// If called outside a taskio runtime with time enabled, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{self, Duration, Instant};
///
/// async fn example() {
///     time::pause();
///     let start = Instant::now();
///     time::advance(Duration::from_secs(5)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(5));
/// }
/// # taskio_runtime::Builder::new_current_thread().build().unwrap().block_on(example());
/// ```
pub async fn advance(duration: Duration) {
    let driver = current_driver();
    let time = driver.time.as_ref().expect("checked");
    time.clock().advance(duration);
    time.process();
    YieldOnce(false).await;
}

/// The public time types are `Send + Sync` (a `Sleep` may be polled on one worker and fired
/// on another).
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sleep>();
    send_sync::<Interval>();
    send_sync::<Timeout<std::future::Ready<()>>>();
    send_sync::<Instant>();
    send_sync::<error::Elapsed>();
    send_sync::<driver::time::Handle>();
}

/// Returns `Pending` once (waking itself), then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
