//! [`Interval`], [`interval`], [`interval_at`] and [`MissedTickBehavior`].

use crate::time::{sleep_until, Instant, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Creates an [`Interval`] that yields every `period`; the first tick completes at once.
///
/// # Panics
///
/// If `period` is zero, or outside a taskio runtime with time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{interval, Duration};
///
/// async fn example() {
///     let mut ticks = interval(Duration::from_millis(10));
///     ticks.tick().await; // at once
///     ticks.tick().await; // 10 ms later
///     ticks.tick().await; // 20 ms after the first
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    interval_at(Instant::now(), period)
}

/// Creates an [`Interval`] whose first tick completes at `start`, then every `period`.
///
/// # Panics
///
/// If `period` is zero, or outside a taskio runtime with time enabled.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{interval_at, Duration, Instant};
///
/// async fn example() {
///     let start = Instant::now() + Duration::from_millis(50);
///     let mut ticks = interval_at(start, Duration::from_millis(10));
///     assert_eq!(ticks.tick().await, start);
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when a tick is late by more than 5 ms (its task was busy, or the
/// ticks were not awaited). The same rules as tokio's.
///
/// With a 10 ms period, ticks due at 10, 20, 30, ..., and the tick due at 10 taken at 35:
///
/// - `Burst` (the default): the missed ticks complete at once, until caught up; then the
///   schedule goes on: 10 (taken at 35), 20, 30 (at once), 40, 50, ...
/// - `Delay`: the schedule restarts from when the late tick was taken: 10 (at 35), 45, 55, ...
/// - `Skip`: the missed ticks are skipped, the schedule is kept: 10 (at 35), 40, 50, ...
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{interval, Duration, MissedTickBehavior};
///
/// async fn example() {
///     let mut ticks = interval(Duration::from_millis(10));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Skip);
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks as fast as possible, then keep the original schedule.
    #[default]
    Burst,
    /// Restart the schedule `period` after the late tick was taken.
    Delay,
    /// Skip the missed ticks; the next is the next multiple of `period` on the original
    /// schedule after the late tick was taken.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline of the tick after the one due at `timeout`, taken late at `now`.
    fn next_timeout(self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => timeout + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = now.duration_since(timeout).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, which fits in a `Duration`'s nanoseconds.
                now + period - Duration::from_nanos(into_period as u64)
            }
        }
    }
}

/// A stream of ticks, `period` apart. Created by [`interval`] and [`interval_at`].
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::{interval, Duration};
///
/// async fn example() {
///     let mut ticks = interval(Duration::from_secs(1));
///     for _ in 0..3 {
///         let at = ticks.tick().await;
///         println!("tick at {at:?}");
///     }
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

/// A tick later than this counts as missed.
const LATE: Duration = Duration::from_millis(5);

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// Cancel safe: dropping the future loses no tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration, Instant};
    ///
    /// async fn example() {
    ///     let start = Instant::now();
    ///     let mut ticks = interval(Duration::from_millis(10));
    ///     ticks.tick().await;
    ///     let second = ticks.tick().await;
    ///     assert!(second >= start + Duration::from_millis(10));
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; on `Ready`, schedules the one after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration};
    /// use std::future::poll_fn;
    ///
    /// async fn example() {
    ///     let mut ticks = interval(Duration::from_millis(10));
    ///     let first = poll_fn(|cx| ticks.poll_tick(cx)).await;
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let timeout = self.delay.deadline();
        let now = Instant::now();
        let next = if now.duration_since(timeout) > LATE {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout
                .checked_add(self.period)
                .unwrap_or_else(Instant::far_future)
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(timeout)
    }

    /// Restarts the schedule: the next tick is `period` from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration};
    ///
    /// async fn example() {
    ///     let mut ticks = interval(Duration::from_millis(100));
    ///     ticks.tick().await;
    ///     ticks.reset(); // the next tick is 100 ms from here
    ///     ticks.tick().await;
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(Instant::now() + self.period);
    }

    /// Restarts the schedule with the next tick completing at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration};
    ///
    /// async fn example() {
    ///     let mut ticks = interval(Duration::from_secs(60));
    ///     ticks.tick().await;
    ///     ticks.reset_immediately();
    ///     ticks.tick().await; // at once
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration, Instant};
    ///
    /// async fn example() {
    ///     let mut ticks = interval(Duration::from_secs(60));
    ///     let soon = Instant::now() + Duration::from_millis(5);
    ///     ticks.reset_at(soon);
    ///     assert_eq!(ticks.tick().await, soon);
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The period between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration};
    ///
    /// async fn example() {
    ///     let ticks = interval(Duration::from_millis(10));
    ///     assert_eq!(ticks.period(), Duration::from_millis(10));
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What this interval does with missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration, MissedTickBehavior};
    ///
    /// async fn example() {
    ///     let ticks = interval(Duration::from_millis(10));
    ///     assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what this interval does with missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::time::{interval, Duration, MissedTickBehavior};
    ///
    /// async fn example() {
    ///     let mut ticks = interval(Duration::from_millis(10));
    ///     ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// }
    /// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}
