//! The runtime's clock: real time, or a paused virtual time that only moves when told to.
//!
//! While the clock has never been paused, [`Clock::now`] is `std::time::Instant::now()` with
//! one relaxed atomic load in front. Once paused, readings go through a mutex:
//!
//! - paused: time stands still at `base`; [`Clock::advance`] moves `base` forward;
//! - resumed: time flows from `base` again, at the real rate (`base + unfrozen.elapsed()`).
//!
//! Virtual time never goes backwards: `resume` keeps the frozen reading as its starting point.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;
use std::time::{Duration, Instant};

/// A pausable clock. `Send + Sync`: every worker reads it.
#[derive(Debug)]
pub(crate) struct Clock {
    /// Set the first time the clock is paused; never unset. While it is clear, `now` is real
    /// time and does not touch `inner`.
    ever_paused: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The virtual reading at the moment `unfrozen` was taken (or the frozen reading).
    base: Instant,
    /// `None` while paused; otherwise the real instant at which time started flowing again.
    unfrozen: Option<Instant>,
}

impl Clock {
    /// A clock reading real time; paused from the start if `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Clock {
        let now = Instant::now();
        Clock {
            ever_paused: AtomicBool::new(start_paused),
            inner: Mutex::new(Inner {
                base: now,
                unfrozen: if start_paused { None } else { Some(now) },
            }),
        }
    }

    /// The current (possibly virtual) time.
    pub(crate) fn now(&self) -> Instant {
        if !self.ever_paused.load(Ordering::Relaxed) {
            return Instant::now();
        }
        let inner = self.inner.lock();
        match inner.unfrozen {
            None => inner.base,
            Some(unfrozen) => inner.base + unfrozen.elapsed(),
        }
    }

    /// Whether time is standing still.
    pub(crate) fn is_paused(&self) -> bool {
        self.ever_paused.load(Ordering::Relaxed) && self.inner.lock().unfrozen.is_none()
    }

    /// Stops time at its current reading.
    ///
    /// # Panics
    ///
    /// If the clock is already paused.
    pub(crate) fn pause(&self) {
        self.ever_paused.store(true, Ordering::Relaxed);
        let mut inner = self.inner.lock();
        let unfrozen = inner
            .unfrozen
            .take()
            .expect("time is already frozen (pause called twice)");
        inner.base += unfrozen.elapsed();
    }

    /// Lets time flow again from its frozen reading.
    ///
    /// # Panics
    ///
    /// If the clock is not paused.
    pub(crate) fn resume(&self) {
        let mut inner = self.inner.lock();
        assert!(
            inner.unfrozen.is_none(),
            "time is not frozen (resume without pause)"
        );
        inner.unfrozen = Some(Instant::now());
    }

    /// Moves paused time forward by `d`.
    ///
    /// # Panics
    ///
    /// If the clock is not paused.
    pub(crate) fn advance(&self, d: Duration) {
        let mut inner = self.inner.lock();
        assert!(
            inner.unfrozen.is_none(),
            "time is not frozen (advance without pause)"
        );
        inner.base += d;
    }

    /// Moves paused time forward to `to`, if `to` is later than its reading. Returns whether
    /// the clock was paused (and so could be moved).
    pub(crate) fn advance_to(&self, to: Instant) -> bool {
        if !self.ever_paused.load(Ordering::Relaxed) {
            return false;
        }
        let mut inner = self.inner.lock();
        if inner.unfrozen.is_some() {
            return false;
        }
        if to > inner.base {
            inner.base = to;
        }
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn real_clock_moves() {
        let c = Clock::new(false);
        let a = c.now();
        std::thread::sleep(Duration::from_millis(1));
        assert!(c.now() > a);
        assert!(!c.is_paused());
    }

    #[test]
    fn paused_clock_stands_still_and_advances() {
        let c = Clock::new(true);
        let a = c.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now(), a);
        c.advance(Duration::from_secs(3600));
        assert_eq!(c.now(), a + Duration::from_secs(3600));
        assert!(c.advance_to(a));
        assert_eq!(c.now(), a + Duration::from_secs(3600), "never goes back");
        c.resume();
        assert!(!c.is_paused());
        assert!(c.now() >= a + Duration::from_secs(3600));
        c.pause();
        assert!(c.is_paused());
    }

    #[test]
    #[should_panic(expected = "not frozen")]
    fn advance_needs_pause() {
        Clock::new(false).advance(Duration::from_secs(1));
    }
}
