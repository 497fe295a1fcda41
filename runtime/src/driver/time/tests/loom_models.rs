//! loom models of the timer protocol (driver/time/mod.rs, "Protocol"): registration, cancel,
//! reset and shutdown racing expiry on another thread.
//!
//! loom cannot model `std::time`, so every model runs on the paused clock and moves it by
//! hand (`Clock::advance`) before calling `process`. The wheel is shrunk under loom (see
//! `wheel.rs`).

use super::*;
use crate::time::{Instant, Sleep};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

fn time(h: &driver::Handle) -> &super::super::Handle {
    h.time.as_ref().unwrap()
}

/// A paused driver handle and a `Sleep` registered (polled once) for 1 ms from now.
fn registered_sleep(ms: u32) -> (Arc<driver::Handle>, Sleep, std::sync::Arc<Counter>) {
    let (_d, h) = driver_handle(true);
    let t0 = time(&h).clock().now();
    let mut sleep = Sleep::new(h.clone(), Instant::from_std(t0 + MS * ms));
    let (w, c) = counting_waker();
    assert!(poll_once(&mut sleep, &w).is_pending());
    (h, sleep, c)
}

/// The firer thread: 1 ms passes, due timers fire.
fn fire_after_1ms(h: &Arc<driver::Handle>) -> loom::thread::JoinHandle<()> {
    let h = h.clone();
    loom::thread::spawn(move || {
        let t = time(&h);
        t.clock().advance(MS);
        t.process();
    })
}

/// A re-poll with a new waker racing the firing: if the poll returns `Pending`, the new
/// waker is woken exactly once (no lost wake-up).
#[test]
fn loom_poll_racing_fire() {
    loom::model(|| {
        let (h, mut sleep, c1) = registered_sleep(1);
        let firer = fire_after_1ms(&h);
        let (w2, c2) = counting_waker();
        let r = poll_once(&mut sleep, &w2);
        firer.join().unwrap();
        if r.is_pending() {
            assert_eq!(c2.get(), 1, "lost wake-up");
        }
        assert!(c1.get() <= 1 && c2.get() <= 1);
        assert!(c1.get() + c2.get() >= 1);
        assert!(poll_once(&mut sleep, &w2).is_ready());
        assert_eq!(time(&h).len(), 0);
    });
}

/// Dropping a registered `Sleep` racing its firing: the entry leaves the wheel either way,
/// its waker is woken at most once, and (loom checks) no `Arc` leaks or is used after free.
#[test]
fn loom_drop_racing_fire() {
    loom::model(|| {
        let (h, sleep, c) = registered_sleep(1);
        let firer = fire_after_1ms(&h);
        drop(sleep);
        firer.join().unwrap();
        assert!(c.get() <= 1);
        assert_eq!(time(&h).len(), 0);
        assert_eq!(time(&h).next_deadline(), None);
    });
}

/// Moving a registered `Sleep` later racing the firing of its old deadline: afterwards it is
/// armed for the new deadline (not completed), and fires exactly then.
#[test]
fn loom_reset_racing_fire() {
    loom::model(|| {
        let (h, mut sleep, _c) = registered_sleep(1);
        let t0 = sleep.deadline() - MS;
        let firer = fire_after_1ms(&h);
        Pin::new(&mut sleep).reset(t0 + MS * 3);
        firer.join().unwrap();
        let (w, c) = counting_waker();
        assert!(poll_once(&mut sleep, &w).is_pending());
        assert_eq!(time(&h).len(), 1);
        time(&h).clock().advance(MS * 2);
        time(&h).process();
        assert_eq!(c.get(), 1);
        assert!(poll_once(&mut sleep, &w).is_ready());
        assert_eq!(time(&h).len(), 0);
    });
}

/// A first poll (registration) racing the driver's shutdown: the `Sleep` completes, and if
/// the poll returned `Pending` its waker is woken.
#[test]
fn loom_register_racing_shutdown() {
    loom::model(|| {
        let (_d, h) = driver_handle(true);
        let t0 = time(&h).clock().now();
        let mut sleep = Sleep::new(h.clone(), Instant::from_std(t0 + MS));
        let h2 = h.clone();
        let closer = loom::thread::spawn(move || h2.shutdown());
        let (w, c) = counting_waker();
        let r = poll_once(&mut sleep, &w);
        closer.join().unwrap();
        if r.is_pending() {
            assert_eq!(c.get(), 1, "lost wake-up");
        }
        assert!(poll_once(&mut sleep, &w).is_ready());
        assert_eq!(time(&h).len(), 0);
    });
}

/// Two timers on two threads (one due, one cancelled concurrently) while a third fires:
/// positions moved by cancel's `swap_remove` stay right.
#[test]
fn loom_cancel_one_while_other_fires() {
    loom::model(|| {
        let (_d, h) = driver_handle(true);
        let t0 = time(&h).clock().now();
        let (wa, ca) = counting_waker();
        let (wb, cb) = counting_waker();
        let mut a = Sleep::new(h.clone(), Instant::from_std(t0 + MS));
        let mut b = Sleep::new(h.clone(), Instant::from_std(t0 + MS));
        assert!(poll_once(&mut a, &wa).is_pending());
        assert!(poll_once(&mut b, &wb).is_pending());
        let firer = fire_after_1ms(&h);
        drop(a);
        firer.join().unwrap();
        assert!(ca.get() <= 1);
        assert_eq!(cb.get(), 1);
        assert!(poll_once(&mut b, &wb).is_ready());
        assert_eq!(time(&h).len(), 0);
    });
}
