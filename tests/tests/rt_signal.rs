//! Signals raised to the test process itself, through the real runtimes' reactors.
//!
//! Every signal raised here has a listener registered while it is raised, so no default
//! action (most of them end the process) ever runs. Tests run in parallel, so each test body
//! on each flavour has a realtime signal of its own ([`rt_signal`]); SIGINT and SIGTERM are
//! used by one test only. This file is its own test binary, so its handlers disturb no other
//! test.
#![cfg(unix)]

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::Stream;
use taskio_runtime::signal::{self, Signal, SignalKind};
use taskio_runtime::{spawn, time, Builder};
use taskio_tests::{raise, rt_tests, Flavor, PanickingWaker};

rt_tests!(
    delivered_to_a_listener_once_per_awaited_raise,
    every_listener_sees_each_delivery,
    delivery_while_nobody_polls_is_not_lost,
    listener_dropped_mid_wait_leaks_nothing,
    previous_action_is_restored_by_the_last_listener,
    stream_yields_an_item_per_delivery,
    listener_moved_to_another_runtime_still_receives,
    stress_listener_churn_under_a_signal_storm,
    a_listener_whose_waker_panics_costs_no_one_else,
);

/// The signal of test number `n` on `flavor`: a realtime signal no other test uses.
fn rt_signal(flavor: Flavor, n: i32) -> SignalKind {
    let index = match flavor {
        Flavor::CurrentThread => 0,
        Flavor::MultiThread(1) => 1,
        Flavor::MultiThread(_) => 2,
    };
    let signum = libc::SIGRTMIN() + 3 * n + index;
    assert!(signum <= libc::SIGRTMAX(), "out of realtime signals");
    SignalKind::from_raw(signum)
}

/// `s.recv()`, failing instead of hanging if the delivery never comes.
async fn recv(s: &mut Signal) {
    time::timeout(Duration::from_secs(20), s.recv())
        .await
        .expect("the signal was not received");
}

/// A waker that counts its wakes; its `Arc`'s strong count shows who still holds it.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn delivered_to_a_listener_once_per_awaited_raise(flavor: Flavor) {
    let kind = rt_signal(flavor, 0);
    flavor.rt().block_on(async move {
        let mut s = signal::signal(kind).unwrap();
        let mut received = 0;
        for _ in 0..50 {
            raise(kind);
            recv(&mut s).await;
            received += 1;
        }
        assert_eq!(received, 50);
        // Nothing left over: every delivery was consumed by its own recv.
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(s.poll_recv(&mut cx), Poll::Pending);
    });
}

fn every_listener_sees_each_delivery(flavor: Flavor) {
    let kind = rt_signal(flavor, 1);
    flavor.rt().block_on(async move {
        let received = Arc::new(AtomicUsize::new(0));
        let mut listeners: Vec<Signal> = (0..4).map(|_| signal::signal(kind).unwrap()).collect();
        // One in this task, three in tasks of their own (on other workers, when there are).
        let mut mine = listeners.pop().unwrap();
        let tasks: Vec<_> = listeners
            .into_iter()
            .map(|mut s| {
                let received = received.clone();
                spawn(async move {
                    for _ in 0..3 {
                        recv(&mut s).await;
                        received.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        for _ in 0..3 {
            raise(kind);
            recv(&mut mine).await;
            received.fetch_add(1, SeqCst);
            // Let the others consume this one before the next raise (no coalescing).
            while received.load(SeqCst) % 4 != 0 {
                time::sleep(Duration::from_millis(1)).await;
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(received.load(SeqCst), 12);
    });
}

fn delivery_while_nobody_polls_is_not_lost(flavor: Flavor) {
    let kind = rt_signal(flavor, 2);
    flavor.rt().block_on(async move {
        let mut before = signal::signal(kind).unwrap();
        raise(kind);
        // The drivers dispatch it while nobody polls `before`.
        time::sleep(Duration::from_millis(100)).await;
        let mut after = signal::signal(kind).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(
            before.poll_recv(&mut cx),
            Poll::Ready(()),
            "seen at the first poll"
        );
        assert_eq!(
            after.poll_recv(&mut cx),
            Poll::Pending,
            "a listener made after a delivery does not see it"
        );
        // And one raised before the first poll of a listener that never polled yet.
        let mut fresh = signal::signal(kind).unwrap();
        raise(kind);
        recv(&mut fresh).await;
        recv(&mut after).await;
    });
}

fn listener_dropped_mid_wait_leaks_nothing(flavor: Flavor) {
    let kind = rt_signal(flavor, 3);
    flavor.rt().block_on(async move {
        assert!(signal::has_default_handler(kind).unwrap());
        // Parked by hand: the registry holds a clone of the waker until the drop.
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut s = signal::signal(kind).unwrap();
        assert!(!signal::has_default_handler(kind).unwrap());
        let w = Waker::from(waker.clone());
        assert_eq!(s.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
        drop(w);
        assert_eq!(
            Arc::strong_count(&waker),
            2,
            "parked: the registry holds it"
        );
        drop(s);
        assert_eq!(Arc::strong_count(&waker), 1, "dropped: nothing kept");
        assert!(signal::has_default_handler(kind).unwrap(), "restored");

        // Parked in a task that is aborted mid-wait.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let mut s = signal::signal(kind).unwrap();
                spawn(async move { s.recv().await })
            })
            .collect();
        time::sleep(Duration::from_millis(20)).await;
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            assert!(t.await.unwrap_err().is_cancelled());
        }
        assert!(signal::has_default_handler(kind).unwrap(), "restored");
        assert_eq!(waker.0.load(SeqCst), 0);
    });
}

fn previous_action_is_restored_by_the_last_listener(flavor: Flavor) {
    let kind = rt_signal(flavor, 4);
    let disposition = || {
        // SAFETY: all-zero is a valid `sigaction` to be overwritten; a null `act` queries.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            assert_eq!(
                libc::sigaction(kind.as_raw(), std::ptr::null(), &mut old),
                0
            );
            old.sa_sigaction
        }
    };
    // SAFETY: ignoring a signal nobody else in this process uses.
    unsafe { libc::signal(kind.as_raw(), libc::SIG_IGN) };
    flavor.rt().block_on(async move {
        let mut a = signal::signal(kind).unwrap();
        let b = signal::signal(kind).unwrap();
        assert_ne!(disposition(), libc::SIG_IGN);
        raise(kind);
        recv(&mut a).await;
        drop(a);
        assert_ne!(disposition(), libc::SIG_IGN, "b still listens");
        drop(b);
        assert_eq!(disposition(), libc::SIG_IGN, "the previous action is back");
        raise(kind); // ignored, as before taskio listened
    });
    // SAFETY: as above.
    unsafe { libc::signal(kind.as_raw(), libc::SIG_DFL) };
}

fn stream_yields_an_item_per_delivery(flavor: Flavor) {
    let kind = rt_signal(flavor, 5);
    flavor.rt().block_on(async move {
        let mut s = pin!(signal::signal(kind).unwrap());
        for _ in 0..5 {
            raise(kind);
            let item = time::timeout(
                Duration::from_secs(20),
                poll_fn(|cx| s.as_mut().poll_next(cx)),
            )
            .await
            .expect("an item");
            assert_eq!(item, Some(()));
        }
    });
}

fn listener_moved_to_another_runtime_still_receives(flavor: Flavor) {
    let kind = rt_signal(flavor, 6);
    let rt = flavor.rt();
    let s = rt.block_on(async move { signal::signal(kind).unwrap() });
    drop(rt); // its driver no longer watches the pipe
    let other = Builder::new_current_thread().enable_all().build().unwrap();
    other.block_on(async move {
        let mut s = s;
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(s.poll_recv(&mut cx), Poll::Pending); // watched by this driver now
        raise(kind);
        recv(&mut s).await;
    });
}

/// 8 tasks make and drop 50 short-lived listeners each while another thread raises the
/// signal every 200 µs: the first-listener install and last-listener restore race the
/// deliveries. The signal is ignored before (so a delivery between a restore and the next
/// install is harmless), and is ignored again after: every listener was removed, none hung.
fn stress_listener_churn_under_a_signal_storm(flavor: Flavor) {
    use std::sync::atomic::AtomicBool;
    const TASKS: usize = 8;
    const ROUNDS: usize = 50;
    let kind = rt_signal(flavor, 7);
    // SAFETY: ignoring a signal nobody else in this process uses.
    unsafe { libc::signal(kind.as_raw(), libc::SIG_IGN) };
    let lifetimes = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let (l, r) = (lifetimes.clone(), received.clone());
    let raised = flavor.rt().block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let raiser = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(SeqCst) {
                    raise(kind);
                    n += 1;
                    std::thread::sleep(Duration::from_micros(200));
                }
                n
            })
        };
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (l, r) = (l.clone(), r.clone());
                spawn(async move {
                    for _ in 0..ROUNDS {
                        let mut s = signal::signal(kind).unwrap();
                        if time::timeout(Duration::from_millis(1), s.recv())
                            .await
                            .is_ok()
                        {
                            r.fetch_add(1, SeqCst);
                        }
                        drop(s);
                        l.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        stop.store(true, SeqCst);
        raiser.join().unwrap()
    });
    assert_eq!(lifetimes.load(SeqCst), TASKS * ROUNDS);
    assert!(raised > 0 && received.load(SeqCst) <= TASKS * ROUNDS);
    // SAFETY: all-zero is a valid `sigaction` to be overwritten; a null `act` queries.
    let now = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(kind.as_raw(), std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    };
    assert_eq!(now, libc::SIG_IGN, "the last listener put SIG_IGN back");
    // SAFETY: as above.
    unsafe { libc::signal(kind.as_raw(), libc::SIG_DFL) };
}

/// SIGINT and SIGTERM, whose default action would end the test binary: received while
/// listened to, and their default put back after.
#[test]
fn sigint_sigterm_and_ctrl_c() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut int = signal::signal(SignalKind::interrupt()).unwrap();
        let mut term = signal::signal(SignalKind::terminate()).unwrap();
        raise(SignalKind::interrupt());
        recv(&mut int).await;
        raise(SignalKind::terminate());
        recv(&mut term).await;

        let mut ctrl_c = pin!(signal::ctrl_c());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(ctrl_c.as_mut().poll(&mut cx).is_pending()); // listening now
        raise(SignalKind::interrupt());
        time::timeout(Duration::from_secs(20), ctrl_c)
            .await
            .expect("ctrl_c resolved")
            .unwrap();
        recv(&mut int).await; // `int` saw the same SIGINT
    });
    assert!(signal::has_default_handler(SignalKind::interrupt()).unwrap());
    assert!(signal::has_default_handler(SignalKind::terminate()).unwrap());
}

/// Listeners parked with a waker that panics, registered before the others: the dispatch
/// still wakes every other listener, and the driver (a worker, or `block_on` on the
/// current-thread runtime) goes on; the broken listeners see the delivery at their next poll.
fn a_listener_whose_waker_panics_costs_no_one_else(flavor: Flavor) {
    let kind = rt_signal(flavor, 8);
    flavor.rt().block_on(async move {
        let panicked = Arc::new(AtomicUsize::new(0));
        let counted = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut broken = Vec::new();
        let mut real = Vec::new();
        for _ in 0..3 {
            let mut s = signal::signal(kind).unwrap();
            let w = Waker::from(Arc::new(PanickingWaker(panicked.clone())));
            assert_eq!(s.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
            broken.push(s);
            let mut s = signal::signal(kind).unwrap();
            let w = Waker::from(counted.clone());
            assert_eq!(s.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
            real.push(s);
        }
        // And one in a task, which must complete.
        let mut last = signal::signal(kind).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(last.poll_recv(&mut cx), Poll::Pending);
        let task = spawn(async move { recv(&mut last).await });
        raise(kind);
        task.await.unwrap();
        while counted.0.load(SeqCst) < 3 || panicked.load(SeqCst) < 3 {
            time::sleep(Duration::from_millis(1)).await;
        }
        for s in broken.iter_mut().chain(real.iter_mut()) {
            assert_eq!(s.poll_recv(&mut cx), Poll::Ready(()));
        }
        // Deliveries go on after the faults.
        raise(kind);
        recv(&mut real[0]).await;
    });
}
