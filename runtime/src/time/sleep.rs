//! [`Sleep`], [`sleep`] and [`sleep_until`].

use crate::driver;
use crate::driver::time::TimerShared;
use crate::loom::sync::Arc;
use crate::time::Instant;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed, by the runtime's clock.
///
/// The timer fires when the clock reaches the deadline exactly (no rounding up to the next
/// millisecond). `sleep(Duration::ZERO)` completes on its first poll.
///
/// # Panics
///
/// If called outside a taskio runtime, or in one built without time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{sleep, Duration};
///
/// async fn example() {
///     sleep(Duration::from_millis(100)).await;
///     println!("100 ms have elapsed");
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let driver = super::current_driver();
    let now = Instant::from_std(driver.time.as_ref().expect("checked").clock().now());
    let deadline = now
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    Sleep::new(driver, deadline)
}

/// Waits until `deadline` is reached, by the runtime's clock.
///
/// # Panics
///
/// If called outside a taskio runtime, or in one built without time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{sleep_until, Duration, Instant};
///
/// async fn example() {
///     sleep_until(Instant::now() + Duration::from_millis(100)).await;
///     println!("100 ms have elapsed");
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(super::current_driver(), deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It registers with the runtime's timer wheel on its first poll before its deadline, and
/// leaves the wheel when dropped (in O(1)). It is `Unpin`.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{sleep, Duration, Instant};
/// use std::pin::Pin;
///
/// async fn example() {
///     let mut s = sleep(Duration::from_secs(10));
///     // Changed our mind: wake sooner.
///     Pin::new(&mut s).reset(Instant::now() + Duration::from_millis(10));
///     s.await;
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    driver: Arc<driver::Handle>,
    /// The wheel entry, once registered.
    entry: Option<Arc<TimerShared>>,
    /// Set when `poll` returned `Ready` (until the next `reset`).
    completed: bool,
}

impl Sleep {
    pub(crate) fn new(driver: Arc<driver::Handle>, deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            driver,
            entry: None,
            completed: false,
        }
    }

    fn time(&self) -> &driver::time::Handle {
        self.driver.time.as_ref().expect("checked at creation")
    }

    /// The instant at which this sleep completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{sleep_until, Duration, Instant};
    ///
    /// async fn example() {
    ///     let when = Instant::now() + Duration::from_millis(10);
    ///     let s = sleep_until(when);
    ///     assert_eq!(s.deadline(), when);
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{sleep, Duration};
    ///
    /// async fn example() {
    ///     let s = sleep(Duration::from_secs(10));
    ///     assert!(!s.is_elapsed());
    ///     let s = sleep(Duration::ZERO);
    ///     assert!(s.is_elapsed());
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        if self.completed {
            return true;
        }
        match &self.entry {
            Some(entry) => entry.is_fired(),
            None => self.time().clock().now() >= self.deadline.into_std(),
        }
    }

    /// Moves the deadline to `deadline` (earlier or later), even if the sleep has completed;
    /// it completes again when the new deadline is reached.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{sleep, Duration, Instant};
    /// use std::pin::Pin;
    ///
    /// async fn example() {
    ///     let mut s = sleep(Duration::from_millis(10));
    ///     (&mut s).await;
    ///     Pin::new(&mut s).reset(Instant::now() + Duration::from_millis(10));
    ///     s.await; // sleeps another 10 ms
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.completed = false;
        if let Some(entry) = &this.entry {
            let time = this.driver.time.as_ref().expect("checked at creation");
            if time.reregister(entry, deadline.into_std()) {
                this.driver.unpark();
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.completed {
            return Poll::Ready(());
        }
        // Cooperative budget: a loop of already-elapsed sleeps still yields now and then.
        let coop = std::task::ready!(crate::runtime::coop::poll_proceed(cx));
        let res = this.poll_inner(cx);
        if res.is_ready() {
            coop.made_progress();
        }
        res
    }
}

impl Sleep {
    /// Marks the polling task as waiting for this timer (`Handle::dump`).
    fn record_awaiting(&self) {
        crate::task::set_awaiting(crate::task::Awaiting::Sleep {
            until: self.deadline.into_std(),
        });
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        match &this.entry {
            Some(entry) => {
                // Protocol step 3 (driver/time/mod.rs): check, register, check.
                if entry.is_fired() {
                    this.completed = true;
                    return Poll::Ready(());
                }
                entry.waker.register(cx.waker());
                if entry.is_fired() {
                    this.completed = true;
                    return Poll::Ready(());
                }
                this.record_awaiting();
                Poll::Pending
            }
            None => {
                let time = this.time();
                if time.clock().now() >= this.deadline.into_std() {
                    this.completed = true;
                    return Poll::Ready(());
                }
                let (entry, earliest) = time.register(this.deadline.into_std(), cx.waker());
                if entry.is_fired() {
                    // The runtime shut down.
                    this.completed = true;
                    return Poll::Ready(());
                }
                this.entry = Some(entry);
                if earliest {
                    this.driver.unpark();
                }
                this.record_awaiting();
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = &self.entry {
            if !entry.is_fired() {
                self.time().deregister(entry);
            }
        }
    }
}
