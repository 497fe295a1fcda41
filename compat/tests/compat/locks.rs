//! ASYNCIO.md "Synchronisation", rule by rule. Waiters are polled by hand (`Polled`) so that
//! FIFO order and drop-cancellation are checked exactly; threads check real concurrency.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use taskio::{Barrier, BoundedSemaphore, Condition, ErrorKind, Event, Lock, Semaphore};
use taskio_tests::{block_on, spawn_thread as spawn, Polled};

// ---------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------

#[test]
fn lock_is_fifo_without_barging() {
    let lock = Lock::new();
    let g = lock.try_acquire().unwrap();
    let mut a = Polled::new(lock.acquire());
    let mut b = Polled::new(lock.acquire());
    a.pending();
    b.pending();
    drop(g);
    assert!(
        a.woken() && !b.woken(),
        "the release goes to the first waiter"
    );
    // A newcomer that runs before the woken waiter does not get the lock.
    assert!(lock.try_acquire().is_none());
    let mut c = Polled::new(lock.acquire());
    c.pending();
    let ga = a.ready();
    assert!(lock.locked());
    b.pending();
    drop(ga);
    assert!(b.woken() && !c.woken());
    let gb = b.ready();
    c.pending();
    drop(gb);
    let gc = c.ready();
    drop(gc);
    assert!(!lock.locked());
}

#[test]
fn lock_woken_then_cancelled_passes_the_lock_on() {
    let lock = Lock::new();
    let g = lock.try_acquire().unwrap();
    let mut a = Polled::new(lock.acquire());
    let mut b = Polled::new(lock.acquire());
    a.pending();
    b.pending();
    drop(g);
    assert!(a.woken());
    assert!(!b.woken());
    drop(a); // cancelled after being handed the lock
    assert!(b.woken(), "the wake-up passed to the next waiter");
    let gb = b.ready();
    assert!(lock.locked());
    drop(gb);
    assert!(!lock.locked());
}

#[test]
fn lock_cancelled_waiter_leaves_the_queue() {
    let lock = Lock::new();
    let g = lock.try_acquire().unwrap();
    let mut a = Polled::new(lock.acquire());
    a.pending();
    drop(a);
    drop(g);
    // Nobody is left: the lock is free, not in transit to a dead waiter.
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

#[test]
fn lock_release_unlocked_is_an_error() {
    let lock = Lock::new();
    let err = lock.release().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert_eq!(err.to_string(), "Lock is not acquired");
}

#[test]
fn lock_explicit_release_then_guard_drop_is_a_no_op() {
    let lock = Lock::new();
    let g = lock.try_acquire().unwrap();
    lock.release().unwrap();
    let h = lock.try_acquire().unwrap(); // someone else holds it now
    drop(g); // must not release `h`'s acquisition
    assert!(lock.locked());
    drop(h);
    assert!(!lock.locked());
}

#[test]
fn lock_detach_and_release_is_asyncio_manual_style() {
    block_on(async {
        let lock = Lock::new();
        lock.acquire().await.unwrap().detach();
        assert!(lock.locked());
        let mut waiter = Polled::new(lock.acquire());
        waiter.pending();
        lock.release().unwrap();
        assert!(waiter.woken());
        // In transit: not locked, and a second release is an error, as in asyncio.
        assert!(!lock.locked());
        assert_eq!(lock.release().unwrap_err().kind(), ErrorKind::Runtime);
        let g = waiter.ready();
        assert!(lock.locked());
        drop(g);
    });
}

#[test]
fn lock_excludes_across_threads() {
    let lock = Arc::new(Lock::new());
    let inside = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (lock, inside, total) = (lock.clone(), inside.clone(), total.clone());
            spawn(async move {
                for _ in 0..500 {
                    let _g = lock.acquire().await;
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    total.fetch_add(1, Ordering::SeqCst);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(total.load(Ordering::SeqCst), 2000);
    assert!(!lock.locked());
}

// ---------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------

#[test]
fn event_set_wakes_every_waiter_with_true() {
    let event = Event::new();
    let mut waiters: Vec<_> = (0..3).map(|_| Polled::new(event.wait())).collect();
    waiters.iter_mut().for_each(|w| w.pending());
    event.set();
    for w in &mut waiters {
        assert!(w.woken());
        assert!(w.ready().unwrap());
    }
}

#[test]
fn event_clear_just_after_set_does_not_unwake() {
    let event = Event::new();
    let mut a = Polled::new(event.wait());
    let mut b = Polled::new(event.wait());
    a.pending();
    b.pending();
    event.set();
    event.clear();
    assert!(a.ready().unwrap());
    assert!(b.ready().unwrap());
    // A new waiter after the clear waits.
    let mut c = Polled::new(event.wait());
    c.pending();
    assert!(!c.woken());
}

#[test]
fn event_wait_when_set_returns_at_once() {
    let event = Event::new();
    event.set();
    assert!(Polled::new(event.wait()).ready().unwrap());
    assert!(event.is_set());
}

#[test]
fn event_cancelled_waiter_does_not_disturb_others() {
    let event = Event::new();
    let mut a = Polled::new(event.wait());
    let mut b = Polled::new(event.wait());
    a.pending();
    b.pending();
    drop(a);
    event.set();
    assert!(b.ready().unwrap());
}

#[test]
fn event_wakes_waiters_on_other_threads() {
    let event = Arc::new(Event::new());
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let e = event.clone();
            spawn(async move { e.wait().await })
        })
        .collect();
    event.set();
    for w in waiters {
        assert!(w.join().unwrap().unwrap());
    }
}

// ---------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------

#[test]
fn condition_wait_needs_the_lock_held() {
    block_on(async {
        let cond = Condition::new();
        // A guard of another lock.
        let other = Lock::new();
        let foreign = other.acquire().await.unwrap();
        let err = cond.wait(foreign).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Runtime);
        // A guard whose acquisition was released explicitly.
        let stale = cond.acquire().await.unwrap();
        cond.lock().release().unwrap();
        assert_eq!(
            cond.wait(stale).await.unwrap_err().kind(),
            ErrorKind::Runtime
        );
    });
}

#[test]
fn condition_notify_needs_the_lock_held() {
    let cond = Condition::new();
    assert_eq!(cond.notify(1).unwrap_err().kind(), ErrorKind::Runtime);
    assert_eq!(cond.notify_all().unwrap_err().kind(), ErrorKind::Runtime);
    let _g = cond.lock().try_acquire().unwrap();
    assert!(cond.notify(1).is_ok());
    assert!(cond.notify_all().is_ok());
}

#[test]
fn condition_wait_releases_then_reacquires_the_lock() {
    let cond = Condition::new();
    let g = cond.lock().try_acquire().unwrap();
    let mut w = Polled::new(cond.wait(g));
    w.pending();
    assert!(!cond.locked(), "wait released the lock");
    let notifier = cond.lock().try_acquire().unwrap();
    cond.notify(1).unwrap();
    assert!(w.woken());
    w.pending(); // notified, but the notifier still holds the lock
    drop(notifier);
    let g = w.ready().unwrap();
    assert!(cond.locked(), "wait returns with the lock held");
    drop(g);
    assert!(!cond.locked());
}

#[test]
fn condition_notify_n_wakes_fifo() {
    let cond = Condition::new();
    let mut ws: Vec<_> = (0..3)
        .map(|_| {
            let mut w = Polled::new(cond.wait(cond.lock().try_acquire().unwrap()));
            w.pending();
            w
        })
        .collect();
    {
        let _g = cond.lock().try_acquire().unwrap();
        cond.notify(2).unwrap();
    }
    assert!(ws[0].woken() && ws[1].woken() && !ws[2].woken());
    let g0 = ws[0].ready().unwrap();
    ws[1].pending(); // waits for the lock behind ws[0]
    drop(g0);
    drop(ws[1].ready().unwrap());
    ws[2].pending();
    let _g = cond.lock().try_acquire().unwrap();
    cond.notify_all().unwrap();
    assert!(ws[2].woken());
}

#[test]
fn condition_notification_of_a_cancelled_waiter_passes_on() {
    let cond = Condition::new();
    let mut a = Polled::new(cond.wait(cond.lock().try_acquire().unwrap()));
    a.pending();
    let mut b = Polled::new(cond.wait(cond.lock().try_acquire().unwrap()));
    b.pending();
    {
        let _g = cond.lock().try_acquire().unwrap();
        cond.notify(1).unwrap();
    }
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken(), "the notification went to the next waiter");
    drop(b.ready().unwrap());
}

#[test]
fn condition_cancelled_while_reacquiring_leaves_the_lock_free() {
    let cond = Condition::new();
    let mut a = Polled::new(cond.wait(cond.lock().try_acquire().unwrap()));
    a.pending();
    let notifier = cond.lock().try_acquire().unwrap();
    cond.notify(1).unwrap();
    a.pending(); // now re-acquiring, queued behind the notifier
    let mut other = Polled::new(cond.lock().acquire());
    other.pending();
    drop(notifier); // lock handed to `a`
    drop(a); // cancelled: the handed lock goes on to `other`
    assert!(other.woken());
    drop(other.ready());
    assert!(!cond.locked());
}

#[test]
fn condition_cancelled_before_first_poll_releases_the_guard() {
    let cond = Condition::new();
    let w = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(cond.locked());
    drop(w);
    assert!(!cond.locked());
}

#[test]
fn condition_wait_for_checks_the_predicate_after_each_notification() {
    let cond = Arc::new(Condition::new());
    let value = Arc::new(AtomicUsize::new(0));
    let checks = Arc::new(AtomicUsize::new(0));
    let (c, v, k) = (cond.clone(), value.clone(), checks.clone());
    let waiter = spawn(async move {
        let g = c.acquire().await.unwrap();
        let g = c
            .wait_for(g, || {
                k.fetch_add(1, Ordering::SeqCst);
                v.load(Ordering::SeqCst) == 3
            })
            .await
            .unwrap();
        assert!(c.locked());
        drop(g);
    });
    for i in 1..=3 {
        // Wait until the waiter is parked in `wait` (it has checked the predicate i times).
        while checks.load(Ordering::SeqCst) < i {
            std::thread::yield_now();
        }
        block_on(async {
            let _g = cond.acquire().await; // the waiter released the lock: it is registered
            value.store(i, Ordering::SeqCst);
            cond.notify(1).unwrap();
        });
    }
    waiter.join().unwrap();
    assert_eq!(checks.load(Ordering::SeqCst), 4);
}

// ---------------------------------------------------------------------------------------
// Semaphore / BoundedSemaphore
// ---------------------------------------------------------------------------------------

#[test]
fn semaphore_is_fifo() {
    let sem = Semaphore::new(1);
    let p = sem.try_acquire().unwrap();
    let mut a = Polled::new(sem.acquire());
    let mut b = Polled::new(sem.acquire());
    a.pending();
    b.pending();
    drop(p);
    assert!(a.woken() && !b.woken());
    assert!(
        sem.try_acquire().is_none(),
        "no barging past the woken waiter"
    );
    let pa = a.ready();
    b.pending();
    sem.release(); // a manual release goes to b
    assert!(b.woken());
    let pb = b.ready();
    drop((pa, pb));
    assert_eq!(sem.value(), 2);
}

#[test]
fn semaphore_woken_then_cancelled_passes_the_permit_on() {
    let sem = Semaphore::new(0);
    let mut a = Polled::new(sem.acquire());
    let mut b = Polled::new(sem.acquire());
    a.pending();
    b.pending();
    sem.release();
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken());
    let pb = b.ready();
    assert_eq!(sem.value(), 0);
    drop(pb);
    assert_eq!(sem.value(), 1);
}

#[test]
fn semaphore_cancelled_waiter_leaves_no_trace() {
    let sem = Semaphore::new(0);
    let mut a = Polled::new(sem.acquire());
    a.pending();
    assert!(sem.locked());
    drop(a);
    sem.release();
    assert_eq!(sem.value(), 1);
    assert!(!sem.locked());
}

#[test]
fn semaphore_locked_when_zero_or_a_live_waiter_exists() {
    let sem = Semaphore::new(0);
    assert!(sem.locked());
    let mut a = Polled::new(sem.acquire());
    a.pending();
    sem.release(); // handed to a
    sem.release(); // counted
    assert_eq!(sem.value(), 1);
    assert!(sem.locked(), "a woken waiter is still a live waiter");
    let pa = a.ready();
    assert!(!sem.locked());
    drop(pa);
}

#[test]
fn semaphore_value_is_unsigned() {
    // asyncio's "negative value is an error" is unrepresentable: `new` takes a usize
    // (a compile_fail doctest on `Semaphore` shows `Semaphore::new(-1)` does not build).
    let sem = Semaphore::new(0);
    assert_eq!(sem.value(), 0);
}

#[test]
#[should_panic(expected = "at most")]
fn semaphore_value_above_the_word_limit_panics() {
    let _ = Semaphore::new(usize::MAX);
}

#[test]
fn semaphore_largest_value_still_counts() {
    let sem = Semaphore::new(usize::MAX / 2 - 1);
    sem.release();
    assert_eq!(sem.value(), usize::MAX / 2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.value(), usize::MAX / 2 - 1);
}

#[test]
fn semaphore_last_waiter_leaving_lets_releases_count_again() {
    let sem = Semaphore::new(0);
    let mut a = Polled::new(sem.acquire());
    let mut b = Polled::new(sem.acquire());
    a.pending();
    b.pending();
    drop(b); // a waits still
    drop(a); // nobody waits now
    sem.release();
    assert_eq!(sem.value(), 1);
    assert!(!sem.locked());
    let p = sem.try_acquire().unwrap();
    let mut c = Polled::new(sem.acquire());
    c.pending();
    drop(p); // handed to c, not counted
    assert_eq!(sem.value(), 0);
    assert!(c.woken());
    drop(c.ready());
    assert_eq!(sem.value(), 1);
}

/// The lock-free permit word under real concurrency: waits, `try_acquire`s and acquisitions
/// dropped after one poll (registered, maybe notified) on six threads; never more than two
/// holders, and every permit back at the end.
#[test]
fn semaphore_stress_never_over_admits_and_loses_no_permit() {
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (sem, inside, total) = (sem.clone(), inside.clone(), total.clone());
            spawn(async move {
                for i in 0..500 {
                    if (i + t) % 7 == 0 {
                        // Cancelled at its first await: passes any permit it was handed on.
                        let mut cancelled = Polled::new(sem.acquire());
                        let _ = cancelled.poll();
                        continue;
                    }
                    let permit = match (i % 3 == 0).then(|| sem.try_acquire()).flatten() {
                        Some(p) => p,
                        None => sem.acquire().await.unwrap(),
                    };
                    assert!(inside.fetch_add(1, Ordering::SeqCst) < 2, "over-admitted");
                    for _ in 0..3 {
                        std::thread::yield_now();
                    }
                    total.fetch_add(1, Ordering::SeqCst);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(total.load(Ordering::SeqCst) > 0);
    assert_eq!(sem.value(), 2);
    assert!(!sem.locked());
}

#[test]
fn bounded_semaphore_release_above_initial_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release().unwrap_err().kind(), ErrorKind::Value);
    let p = sem.try_acquire().unwrap();
    p.forget();
    assert!(sem.release().is_ok());
    assert!(sem.release().is_err());
    assert_eq!(sem.value(), 2);
    // A permit dropped after a manual over-release does not push the value above the bound.
    let p = sem.try_acquire().unwrap();
    sem.release().unwrap();
    drop(p);
    assert_eq!(sem.value(), 2);
}

#[test]
fn bounded_semaphore_is_fifo_too() {
    let sem = BoundedSemaphore::new(1);
    let p = sem.try_acquire().unwrap();
    let mut a = Polled::new(sem.acquire());
    a.pending();
    drop(p);
    assert!(a.woken());
    drop(a.ready());
    assert_eq!(sem.value(), 1);
}

// ---------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------

#[test]
fn barrier_needs_at_least_one_party() {
    assert_eq!(Barrier::new(0).unwrap_err().kind(), ErrorKind::Value);
    assert!(Barrier::new(1).is_ok());
}

#[test]
fn barrier_returns_arrival_indices_and_last_releases() {
    let b = Barrier::new(3).unwrap();
    let mut w0 = Polled::new(b.wait());
    let mut w1 = Polled::new(b.wait());
    w0.pending();
    w1.pending();
    assert_eq!(b.n_waiting(), 2);
    assert!(!w0.woken());
    let last = Polled::new(b.wait()).ready().unwrap();
    assert_eq!(last, 2);
    assert_eq!(w0.ready().unwrap(), 0);
    assert_eq!(w1.ready().unwrap(), 1);
    assert_eq!(b.n_waiting(), 0);
    // It starts over.
    let mut again = Polled::new(b.wait());
    again.pending();
    assert_eq!(b.n_waiting(), 1);
}

#[test]
fn barrier_reset_breaks_waiters_and_stays_usable() {
    let b = Barrier::new(2).unwrap();
    let mut w = Polled::new(b.wait());
    w.pending();
    b.reset();
    assert_eq!(w.ready().unwrap_err().kind(), ErrorKind::BrokenBarrier);
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    let mut x = Polled::new(b.wait());
    x.pending();
    assert_eq!(Polled::new(b.wait()).ready().unwrap(), 1);
    assert_eq!(x.ready().unwrap(), 0);
}

#[test]
fn barrier_abort_breaks_it_for_good() {
    let b = Barrier::new(2).unwrap();
    let mut w = Polled::new(b.wait());
    w.pending();
    b.abort();
    assert!(b.broken());
    assert_eq!(w.ready().unwrap_err().kind(), ErrorKind::BrokenBarrier);
    let err = Polled::new(b.wait()).ready().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenBarrier);
}

#[test]
fn barrier_cancelled_waiter_leaves_the_count() {
    let b = Barrier::new(2).unwrap();
    let mut w = Polled::new(b.wait());
    w.pending();
    assert_eq!(b.n_waiting(), 1);
    drop(w);
    assert_eq!(b.n_waiting(), 0);
    let mut x = Polled::new(b.wait());
    x.pending(); // one arrival is not enough any more
    assert_eq!(Polled::new(b.wait()).ready().unwrap(), 1);
    assert_eq!(x.ready().unwrap(), 0);
}

#[test]
fn barrier_synchronises_threads_over_many_cycles() {
    let b = Arc::new(Barrier::new(3).unwrap());
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            spawn(async move {
                let mut indices = Vec::new();
                for _ in 0..50 {
                    indices.push(b.wait().await.unwrap());
                }
                indices
            })
        })
        .collect();
    let all: Vec<Vec<usize>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for cycle in 0..50 {
        let mut idx: Vec<usize> = all.iter().map(|v| v[cycle]).collect();
        idx.sort();
        assert_eq!(idx, [0, 1, 2], "cycle {cycle}");
    }
}

#[test]
fn conditions_can_share_one_lock() {
    let lock = Arc::new(Lock::new());
    let a = Condition::with_lock(lock.clone());
    let b = Condition::with_lock(lock.clone());
    let mut wa = Polled::new(a.wait(lock.try_acquire().unwrap()));
    wa.pending();
    let mut wb = Polled::new(b.wait(lock.try_acquire().unwrap()));
    wb.pending();
    {
        let _g = lock.try_acquire().unwrap();
        b.notify(1).unwrap(); // only b's waiter
    }
    assert!(wb.woken() && !wa.woken());
    let g = wb.ready().unwrap();
    assert!(lock.locked());
    // A guard of the shared lock is a valid guard for either condition.
    let mut wa2 = Polled::new(a.wait(g));
    wa2.pending();
    assert!(!lock.locked());
}

#[test]
fn owned_guards_move_across_threads_and_keep_fifo() {
    let lock = Arc::new(Lock::new());
    let g = block_on(lock.clone().acquire_owned());
    let mut a = Polled::new(lock.clone().acquire_owned());
    let mut b = Polled::new(lock.clone().acquire_owned());
    a.pending();
    b.pending();
    std::thread::spawn(move || drop(g)).join().unwrap();
    assert!(a.woken() && !b.woken());
    drop(a); // woken, then cancelled: passes on
    assert!(b.woken());
    let gb = b.ready();
    assert!(lock.locked());
    drop(gb);
    assert!(!lock.locked());

    let sem = Arc::new(Semaphore::new(1));
    let p = block_on(sem.clone().acquire_owned());
    let mut w = Polled::new(sem.clone().acquire_owned());
    w.pending();
    std::thread::spawn(move || drop(p)).join().unwrap();
    assert!(w.woken());
    let p = w.ready();
    assert_eq!(sem.value(), 0);
    drop(p);
    assert_eq!(sem.value(), 1);
}
