use super::*;
use crate::time::{self, Instant, Interval, MissedTickBehavior, Sleep};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// Enters a fresh paused runtime driver for the test's duration.
fn paused() -> (Arc<driver::Handle>, driver::EnterGuard) {
    let (_d, h) = driver_handle(true);
    let g = driver::enter(h.clone());
    (h, g)
}

fn th(h: &driver::Handle) -> &super::super::Handle {
    h.time.as_ref().unwrap()
}

/// Advances the paused clock and fires what is due.
fn advance(h: &driver::Handle, d: Duration) -> usize {
    th(h).clock().advance(d);
    th(h).process()
}

#[test]
fn hundred_thousand_timers_fire_once_in_deadline_order() {
    let (h, _g) = paused();
    let t = th(&h);
    let start = t.clock().now();
    let order = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    struct Rec(usize, std::sync::Arc<parking_lot::Mutex<Vec<usize>>>);
    impl Wake for Rec {
        fn wake(self: std::sync::Arc<Self>) {
            self.1.lock().push(self.0);
        }
    }
    // Pseudo-random deadlines over ~2 hours (all levels), ns precision, with duplicates.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut deadlines = Vec::new();
    let mut entries = Vec::new();
    for i in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ns = if i % 10 == 0 {
            5_000_000
        } else {
            x % 7_200_000_000_000
        };
        let d = start + Duration::from_nanos(ns);
        deadlines.push(ns);
        let waker = Waker::from(std::sync::Arc::new(Rec(i, order.clone())));
        entries.push(t.register(d, &waker).0);
    }
    assert_eq!(t.len(), 100_000);
    // First a few small steps (cascades through lower levels), then the rest at once.
    let mut fired = 0;
    for _ in 0..50 {
        fired += advance(&h, Duration::from_millis(7));
    }
    fired += advance(&h, Duration::from_secs(7200));
    assert_eq!(fired, 100_000);
    assert_eq!(t.len(), 0);
    let order = order.lock();
    assert_eq!(order.len(), 100_000, "each fired exactly once");
    for w in order.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(
            (deadlines[a], a) < (deadlines[b], b),
            "{a} ({}) fired before {b} ({})",
            deadlines[a],
            deadlines[b]
        );
    }
    assert!(entries.iter().all(|e| e.is_fired()));
}

#[test]
fn dropped_sleep_never_fires_and_leaves_wheel_empty() {
    let (h, _g) = paused();
    let (w, c) = counting_waker();
    let mut sleeps: Vec<Sleep> = (1..=100).map(|i| time::sleep(MS * i)).collect();
    for s in &mut sleeps {
        assert!(poll_once(s, &w).is_pending());
    }
    assert_eq!(th(&h).len(), 100);
    drop(sleeps);
    assert_eq!(th(&h).len(), 0);
    assert_eq!(th(&h).next_deadline(), None);
    assert_eq!(advance(&h, Duration::from_secs(1)), 0);
    assert_eq!(c.get(), 0);
}

#[test]
fn sleep_fires_at_its_exact_deadline_not_before() {
    let (h, _g) = paused();
    let (w, c) = counting_waker();
    let d = Duration::from_micros(10_250);
    let mut s = time::sleep(d);
    assert!(poll_once(&mut s, &w).is_pending());
    assert_eq!(th(&h).next_deadline(), Some(s.deadline().into_std()));
    advance(&h, d - Duration::from_nanos(1));
    assert_eq!(c.get(), 0);
    assert!(!s.is_elapsed());
    assert!(poll_once(&mut s, &w).is_pending());
    advance(&h, Duration::from_nanos(1));
    assert_eq!(c.get(), 1);
    assert!(s.is_elapsed());
    assert!(poll_once(&mut s, &w).is_ready());
}

#[test]
fn sleep_zero_and_past_deadlines_complete_without_registering() {
    let (h, _g) = paused();
    let (w, _c) = counting_waker();
    let mut s = time::sleep(Duration::ZERO);
    assert!(s.is_elapsed());
    assert!(poll_once(&mut s, &w).is_ready());
    let mut s = time::sleep_until(Instant::now() - Duration::from_secs(1));
    assert!(poll_once(&mut s, &w).is_ready());
    assert_eq!(th(&h).len(), 0);
    // Far beyond the wheel's span: parked in the top level, no overflow.
    let mut s = time::sleep(Duration::MAX);
    assert!(poll_once(&mut s, &w).is_pending());
    assert_eq!(th(&h).len(), 1);
    advance(&h, Duration::from_secs(86400 * 365 * 5));
    assert!(poll_once(&mut s, &w).is_pending());
    drop(s);
    assert_eq!(th(&h).len(), 0);
}

#[test]
fn reset_moves_the_deadline_earlier_and_later() {
    let (h, _g) = paused();
    let (w, c) = counting_waker();
    let start = Instant::now();

    // Earlier.
    let mut s = time::sleep(MS * 100);
    assert!(poll_once(&mut s, &w).is_pending());
    Pin::new(&mut s).reset(start + MS * 50);
    assert_eq!(s.deadline(), start + MS * 50);
    assert_eq!(th(&h).len(), 1);
    advance(&h, MS * 50);
    assert_eq!(c.get(), 1);
    assert!(poll_once(&mut s, &w).is_ready());

    // Later, after it completed.
    Pin::new(&mut s).reset(start + MS * 80);
    assert!(!s.is_elapsed());
    assert!(poll_once(&mut s, &w).is_pending());
    advance(&h, MS * 29);
    assert!(poll_once(&mut s, &w).is_pending());
    advance(&h, MS);
    assert_eq!(c.get(), 2);
    assert!(poll_once(&mut s, &w).is_ready());

    // Later, while armed.
    let mut s = time::sleep(MS * 10);
    assert!(poll_once(&mut s, &w).is_pending());
    Pin::new(&mut s).reset(Instant::now() + MS * 200);
    advance(&h, MS * 10);
    assert!(poll_once(&mut s, &w).is_pending());
    assert_eq!(c.get(), 2);
    advance(&h, MS * 190);
    assert_eq!(c.get(), 3);
    assert!(poll_once(&mut s, &w).is_ready());
    assert_eq!(th(&h).len(), 0);
}

#[test]
fn earlier_insert_reports_new_earliest_deadline() {
    let (h, _g) = paused();
    let t = th(&h);
    let (w, _c) = counting_waker();
    let now = t.clock().now();
    let (_a, first) = t.register(now + MS * 100, &w);
    let (_b, later) = t.register(now + MS * 200, &w);
    let (_c2, earlier) = t.register(now + MS * 50, &w);
    assert!(first);
    assert!(!later);
    assert!(earlier);
}

#[test]
fn auto_advance_jumps_to_each_deadline_in_turn() {
    let (h, _g) = paused();
    let t = th(&h);
    let (w, c) = counting_waker();
    let start = Instant::now();
    let mut a = time::sleep(Duration::from_secs(3600));
    let mut b = time::sleep(Duration::from_secs(7200));
    assert!(poll_once(&mut a, &w).is_pending());
    assert!(poll_once(&mut b, &w).is_pending());
    assert!(t.auto_advance());
    assert_eq!(Instant::now(), start + Duration::from_secs(3600));
    assert_eq!(c.get(), 1);
    assert!(poll_once(&mut a, &w).is_ready());
    assert!(poll_once(&mut b, &w).is_pending());
    assert!(t.auto_advance());
    assert_eq!(Instant::now(), start + Duration::from_secs(7200));
    assert_eq!(c.get(), 2);
    assert!(poll_once(&mut b, &w).is_ready());
    assert!(!t.auto_advance(), "nothing left");
    time::resume();
    assert!(!t.auto_advance(), "not paused");
}

#[test]
fn public_advance_fires_timers_then_yields_once() {
    let (_h, _g) = paused();
    let (w, c) = counting_waker();
    let mut s = time::sleep(MS * 10);
    assert!(poll_once(&mut s, &w).is_pending());
    let mut adv = Box::pin(time::advance(MS * 10));
    assert!(poll_once(&mut adv, &w).is_pending());
    assert_eq!(c.get(), 2, "sleep woken, advance yielded");
    assert!(poll_once(&mut adv, &w).is_ready());
    assert!(poll_once(&mut s, &w).is_ready());
}

#[test]
fn shutdown_completes_every_sleep() {
    let (h, _g) = paused();
    let (w, c) = counting_waker();
    let mut a = time::sleep(Duration::from_secs(10));
    assert!(poll_once(&mut a, &w).is_pending());
    h.shutdown();
    assert_eq!(c.get(), 1);
    assert!(poll_once(&mut a, &w).is_ready());
    let mut b = time::sleep(Duration::from_secs(10));
    assert!(
        poll_once(&mut b, &w).is_ready(),
        "registration after shutdown fires at once"
    );
}

#[test]
#[should_panic(expected = "there is no reactor running")]
fn sleep_outside_runtime_panics() {
    drop(time::sleep(MS));
}

#[test]
#[should_panic(expected = "timers are disabled")]
fn sleep_without_time_panics() {
    let (_d, h) = Driver::new(Cfg {
        enable_io: false,
        enable_time: false,
        start_paused: false,
    })
    .unwrap();
    let _g = driver::enter(Arc::new(h));
    drop(time::sleep(MS));
}

#[test]
fn instant_now_reads_the_runtime_clock() {
    let outside = Instant::now();
    let (h, _g) = paused();
    let a = Instant::now();
    std::thread::sleep(MS);
    assert_eq!(Instant::now(), a);
    advance(&h, Duration::from_secs(10));
    assert_eq!(Instant::now() - a, Duration::from_secs(10));
    assert!(a >= outside);
}

#[test]
fn timeout_polls_the_future_first() {
    let (h, _g) = paused();
    let (w, _c) = counting_waker();
    let mut t = time::timeout(Duration::ZERO, std::future::ready(3));
    assert_eq!(poll_once(&mut t, &w), Poll::Ready(Ok(3)));
    assert_eq!(th(&h).len(), 0, "no timer registered for a ready future");

    let mut t = Box::pin(time::timeout(MS * 5, std::future::pending::<()>()));
    assert!(poll_once(&mut t, &w).is_pending());
    advance(&h, MS * 5);
    let err = poll_once(&mut t, &w);
    let Poll::Ready(Err(e)) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.to_string(), "deadline has elapsed");
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

    let t = time::timeout_at(Instant::now() + MS, std::future::ready(1));
    let _: &std::future::Ready<i32> = t.get_ref();
    let mut inner = t.into_inner();
    assert_eq!(poll_once(&mut inner, &w), Poll::Ready(1));
}

/// Polls the interval's tick without a runtime; returns the tick's scheduled instant.
fn tick_now(i: &mut Interval, w: &Waker) -> Option<Instant> {
    match i.poll_tick(&mut Context::from_waker(w)) {
        Poll::Ready(at) => Some(at),
        Poll::Pending => None,
    }
}

/// Period 10 ms, ticks due at 0, 10, 20, ...; the tick due at 10 is taken at 35.
fn missed_ticks(behavior: MissedTickBehavior) -> Vec<u64> {
    let (h, _g) = paused();
    let (w, _c) = counting_waker();
    let start = Instant::now();
    let mut i = time::interval(MS * 10);
    i.set_missed_tick_behavior(behavior);
    assert_eq!(i.missed_tick_behavior(), behavior);
    assert_eq!(i.period(), MS * 10);
    assert_eq!(tick_now(&mut i, &w), Some(start));
    assert_eq!(tick_now(&mut i, &w), None);
    advance(&h, MS * 35);
    let ms = |at: Instant| (at - start).as_millis() as u64;
    let mut got = Vec::new();
    // Take every tick until 60 ms, advancing 1 ms at a time when none is ready.
    while Instant::now() < start + MS * 60 {
        match tick_now(&mut i, &w) {
            Some(at) => got.push(ms(at) * 1000 + ms(Instant::now())),
            None => {
                advance(&h, MS);
            }
        }
    }
    got
}

/// Encodes (scheduled ms, taken ms) as scheduled * 1000 + taken.
fn st(pairs: &[(u64, u64)]) -> Vec<u64> {
    pairs.iter().map(|(s, t)| s * 1000 + t).collect()
}

#[test]
fn interval_burst_catches_up_then_keeps_schedule() {
    assert_eq!(
        missed_ticks(MissedTickBehavior::Burst),
        st(&[(10, 35), (20, 35), (30, 35), (40, 40), (50, 50)])
    );
}

#[test]
fn interval_delay_restarts_from_the_late_tick() {
    assert_eq!(
        missed_ticks(MissedTickBehavior::Delay),
        st(&[(10, 35), (45, 45), (55, 55)])
    );
}

#[test]
fn interval_skip_keeps_the_schedule_without_catching_up() {
    assert_eq!(
        missed_ticks(MissedTickBehavior::Skip),
        st(&[(10, 35), (40, 40), (50, 50)])
    );
}

#[test]
fn interval_reset_and_interval_at() {
    let (h, _g) = paused();
    let (w, _c) = counting_waker();
    let start = Instant::now();
    let mut i = time::interval_at(start + MS * 5, MS * 10);
    assert_eq!(tick_now(&mut i, &w), None);
    advance(&h, MS * 5);
    assert_eq!(tick_now(&mut i, &w), Some(start + MS * 5));
    advance(&h, MS * 2);
    i.reset();
    advance(&h, MS * 8);
    assert_eq!(tick_now(&mut i, &w), None, "reset: next is 10 ms after 7");
    advance(&h, MS * 2);
    assert_eq!(tick_now(&mut i, &w), Some(start + MS * 17));
    i.reset_immediately();
    assert_eq!(tick_now(&mut i, &w), Some(start + MS * 17));
    i.reset_at(start + MS * 100);
    advance(&h, MS * 83);
    assert_eq!(tick_now(&mut i, &w), Some(start + MS * 100));
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn interval_zero_period_panics() {
    let (_h, _g) = paused();
    let _ = time::interval(Duration::ZERO);
}

/// With the real clock, a thread parked on the driver wakes for a 10 ms sleep close to its
/// deadline (the park timeout is the exact deadline; no rounding up to a millisecond tick).
/// The bound is loose because CI machines are noisy; the printed figures are the measurement.
#[test]
fn real_clock_sleep_fires_close_to_deadline() {
    let (mut driver, h) = driver_handle(false);
    let _g = driver::enter(h.clone());
    let (w, c) = counting_waker();
    let mut lateness = Vec::new();
    for _ in 0..10 {
        let mut s = time::sleep(MS * 10);
        assert!(poll_once(&mut s, &w).is_pending());
        let before = c.get();
        while c.get() == before {
            driver.park(&h, None);
        }
        let late = std::time::Instant::now() - s.deadline().into_std();
        assert!(poll_once(&mut s, &w).is_ready());
        lateness.push(late);
    }
    lateness.sort();
    eprintln!(
        "10 ms sleep lateness: min {:?} median {:?} max {:?}",
        lateness[0], lateness[5], lateness[9]
    );
    assert!(lateness[5] < MS * 5, "median lateness {:?}", lateness[5]);
}

/// A registration of an earlier deadline from another thread wakes the parked driver owner.
#[test]
fn earlier_timer_unparks_the_driver() {
    let (mut driver, h) = driver_handle(false);
    let (w, c) = counting_waker();
    let mut far = Sleep::new(h.clone(), Instant::now() + Duration::from_secs(60));
    assert!(poll_once(&mut far, &w).is_pending());
    let h2 = h.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(MS * 20);
        let (w, c) = counting_waker();
        let mut near = Sleep::new(h2, Instant::now() + MS * 5);
        assert!(poll_once(&mut near, &w).is_pending());
        (near, c)
    });
    let start = std::time::Instant::now();
    // First park returns when the other thread unparks; later ones until `near` fires.
    let (near, nc) = loop {
        driver.park(&h, Some(Duration::from_secs(10)));
        if t.is_finished() {
            break t.join().unwrap();
        }
    };
    while nc.get() == 0 {
        driver.park(&h, Some(Duration::from_secs(10)));
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(near.is_elapsed());
    assert_eq!(c.get(), 0);
}

/// Stress: four threads register, poll and drop sleeps while a fifth advances the paused
/// clock and fires. Every kept sleep completes; one pending at its first poll is woken exactly
/// once (one ready at once, at most once: see the loop at the end); dropped ones never
/// fire late into freed memory; the wheel ends empty.
#[test]
fn stress_register_cancel_fire_across_threads() {
    let (_d, h) = driver_handle(true);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let firer = {
        let (h, done) = (h.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                th(&h).clock().advance(Duration::from_micros(300));
                th(&h).process();
                std::thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let h = h.clone();
            std::thread::spawn(move || {
                let mut x = 0x2545_F491_4F6C_DD1D ^ (t + 1);
                let mut kept = Vec::new();
                for i in 0..5_000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let now = th(&h).clock().now();
                    let d = Duration::from_micros(x % 20_000);
                    let mut s = Sleep::new(h.clone(), Instant::from_std(now + d));
                    let (w, c) = counting_waker();
                    let ready = poll_once(&mut s, &w).is_ready();
                    if i % 3 == 0 {
                        drop(s);
                    } else {
                        kept.push((s, w, c, ready));
                    }
                }
                kept
            })
        })
        .collect();
    let mut kept: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    // Let everything come due, then stop the firer.
    th(&h).clock().advance(Duration::from_secs(1));
    th(&h).process();
    done.store(true, std::sync::atomic::Ordering::Release);
    firer.join().unwrap();
    assert_eq!(th(&h).len(), 0);
    for (s, w, c, ready) in &mut kept {
        if *ready {
            // Ready at the first poll: that poll stored its waker, then saw FIRED; the firer
            // may have taken and woken the waker in between (a harmless wake after Ready,
            // the usual register-then-check race). Never more than once.
            assert!(c.get() <= 1, "woken {} times after Ready", c.get());
        } else {
            assert_eq!(c.get(), 1, "a pending sleep is woken exactly once");
        }
        assert!(poll_once(s, w).is_ready());
    }
}
