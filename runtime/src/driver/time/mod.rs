//! Timers: a hierarchical wheel, the (pausable) clock, and the [`Handle`] the driver and the
//! public `time` module use.
//!
//! # Pieces
//!
//! - `clock.rs`: [`Clock`], real or paused time.
//! - `wheel.rs`: [`wheel::Wheel`], the 6 × 64-slot wheel (1 ms level-0 slots, exact
//!   nanosecond deadlines), unsynchronised.
//! - `entry.rs`: [`TimerShared`], one registered timer (`Arc`-shared by its `Sleep` and the
//!   wheel), and its [`AtomicWaker`](entry::AtomicWaker).
//! - this file: [`Handle`] = clock + `Mutex<wheel>`: registration, firing, shutdown.
//!
//! # Protocol
//!
//! A `Sleep` creates no entry until it is first polled before its deadline. It then allocates
//! a `TimerShared`, registers its waker in it, and inserts it into the wheel under the lock.
//!
//! 1. **Who writes what.** The entry's `state` (deadline or `FIRED`) and `pos` (where the
//!    wheel holds it) are written only under the wheel lock. The owning `Sleep` reads `state`
//!    without the lock (Acquire, pairing with the Release store in `set_fired`).
//! 2. **Firing.** [`Handle::process`] takes the lock, removes every due entry, marks it
//!    `FIRED` and sets `pos` to `NOT_IN_WHEEL`, releases the lock, and only then takes and
//!    wakes each waker (a waker may run arbitrary code, including dropping another `Sleep`,
//!    which needs the lock). A waker that panics loses its own wake-up only: each wake is
//!    contained (`task::wake_contained`), so the rest of the batch is still woken.
//! 3. **Sleep/wake race.** `Sleep::poll` checks `FIRED`, registers its waker, checks `FIRED`
//!    again. The firer sets `FIRED` before taking the waker. [`AtomicWaker`](entry::AtomicWaker) guarantees that a
//!    `take` racing a `register` either gets the new waker or makes the registrant wake it, so
//!    a wake-up is never lost; at worst it is spurious.
//! 4. **Cancel.** Dropping a `Sleep` whose entry has not fired takes the lock and removes the
//!    entry if `pos` says it is still there (O(1) `swap_remove`); if the firer got there first,
//!    `pos` is `NOT_IN_WHEEL` and there is nothing to do. The wheel's `Arc` and the firer's
//!    batch keep the entry alive while they use it, so no path touches freed memory.
//! 5. **Reset** removes and re-inserts under one lock acquisition; a wake from an earlier
//!    firing that is still in flight is spurious and harmless.
//! 6. **Shutdown** sets `is_shutdown` and fires every entry; later registrations are fired
//!    at once, so every `Sleep` completes.
//! 7. **Waking the driver.** An insert reports whether its deadline is earlier than the
//!    wheel's previous next deadline; the caller then calls `driver::Handle::unpark` so the
//!    parked owner re-computes its timeout.

mod clock;
mod entry;
mod wheel;

pub(crate) use clock::Clock;
pub(crate) use entry::TimerShared;

use crate::loom::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

/// The shared timer state of one runtime. `Send + Sync`.
#[derive(Debug)]
pub(crate) struct Handle {
    clock: Clock,
    /// Deadlines are stored as nanoseconds since this instant.
    origin: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    wheel: wheel::Wheel,
    is_shutdown: bool,
}

impl Handle {
    /// Creates the timer state; the clock starts paused if `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Handle {
        let clock = Clock::new(start_paused);
        let origin = clock.now();
        let wheel = wheel::Wheel::new();
        Handle {
            clock,
            origin,
            inner: Mutex::new(Inner {
                wheel,
                is_shutdown: false,
            }),
        }
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Nanoseconds since `origin`, saturating (instants before it map to 0).
    fn ns_at(&self, t: Instant) -> u64 {
        let ns = t.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(ns)
            .unwrap_or(u64::MAX)
            .min(entry::MAX_DEADLINE)
    }

    fn instant_at(&self, ns: u64) -> Instant {
        self.origin + Duration::from_nanos(ns)
    }

    /// The earliest deadline in the wheel. Exact when it is near (within the current 64 ms
    /// block); otherwise possibly earlier than the real one (the start of the coarse slot
    /// holding it), never later. Park until then, then [`Handle::process`].
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let ns = self.inner.lock().wheel.next_deadline()?;
        Some(self.instant_at(ns))
    }

    /// The timeout for a driver park: `min(timeout, next_deadline - now)`. A paused clock does
    /// not flow while parked, so it does not shorten `timeout` (the scheduler calls
    /// [`Handle::auto_advance`] when every worker is idle instead).
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) -> Option<Duration> {
        if self.clock.is_paused() {
            return timeout;
        }
        let Some(deadline) = self.next_deadline() else {
            return timeout;
        };
        let until = deadline.saturating_duration_since(self.clock.now());
        Some(timeout.map_or(until, |t| t.min(until)))
    }

    /// Fires every timer due at `clock.now()`, waking their tasks outside the lock in
    /// deadline order. Returns how many fired.
    pub(crate) fn process(&self) -> usize {
        self.process_at(self.clock.now())
    }

    /// Fires every timer with `deadline <= now`.
    pub(crate) fn process_at(&self, now: Instant) -> usize {
        let now = self.ns_at(now);
        let mut fired = Vec::new();
        self.inner.lock().wheel.poll(now, &mut fired);
        wake_all(fired)
    }

    /// If the clock is paused and a timer is registered, jumps the clock to the earliest
    /// deadline and fires what is due then. Returns whether it did. The scheduler calls this
    /// when every worker is idle, instead of sleeping.
    pub(crate) fn auto_advance(&self) -> bool {
        if !self.clock.is_paused() {
            return false;
        }
        // The answer of `next_deadline` may be the start of a coarse slot, before the real
        // deadline: processing there cascades the slot, and the next answer is closer.
        while let Some(next) = self.next_deadline() {
            if !self.clock.advance_to(next) {
                return false;
            }
            if self.process() > 0 {
                return true;
            }
        }
        false
    }

    /// Fires every timer, now and for any later registration: their `Sleep`s complete.
    pub(crate) fn shutdown(&self) {
        let mut fired = Vec::new();
        {
            let mut inner = self.inner.lock();
            inner.is_shutdown = true;
            inner.wheel.drain(&mut fired);
        }
        wake_all(fired);
    }

    /// Whether [`Handle::shutdown`] has run.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.inner.lock().is_shutdown
    }

    /// Registers a new timer for `deadline`, to wake `waker`. Returns the entry and whether
    /// its deadline is the new earliest one (then call `driver::Handle::unpark`).
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> (Arc<TimerShared>, bool) {
        let ns = self.ns_at(deadline);
        let entry = Arc::new(TimerShared::new(ns));
        // Registered before the entry is visible to the firer: no race on the first waker.
        entry.waker.register(waker);
        let earliest = self.insert(ns, &entry);
        (entry, earliest)
    }

    /// Moves `entry` (fired or not) to `deadline`. Returns whether it is the new earliest.
    /// A deadline already reached fires the entry at once (without waking: the owner is the
    /// caller, and polls it next).
    pub(crate) fn reregister(&self, entry: &Arc<TimerShared>, deadline: Instant) -> bool {
        let due = deadline <= self.clock.now();
        self.insert_or_fire(self.ns_at(deadline), entry, due)
    }

    fn insert(&self, ns: u64, entry: &Arc<TimerShared>) -> bool {
        self.insert_or_fire(ns, entry, false)
    }

    fn insert_or_fire(&self, ns: u64, entry: &Arc<TimerShared>, fire: bool) -> bool {
        let mut inner = self.inner.lock();
        inner.wheel.remove(entry);
        if fire || inner.is_shutdown {
            entry.set_fired();
            return false;
        }
        entry.set_deadline(ns);
        inner.wheel.insert(ns, entry.clone())
    }

    /// Removes `entry` from the wheel if it is still there (a dropped `Sleep`).
    pub(crate) fn deregister(&self, entry: &TimerShared) {
        self.inner.lock().wheel.remove(entry);
    }

    /// Number of registered timers.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().wheel.len()
    }
}

/// Wakes the fired timers' tasks. One whose waker panics costs only its own wake-up.
fn wake_all(fired: Vec<wheel::Item>) -> usize {
    let n = fired.len();
    for item in fired {
        if let Some(waker) = item.entry.waker.take() {
            crate::task::wake_contained(waker);
        }
    }
    n
}

#[cfg(test)]
mod tests;
