//! loom: the listener/generation protocol (module docs, steps 1-5), with the handler, the
//! driver and the listeners on different threads. The self-pipe is an atomic count of
//! pending bytes: the handler's `write` is a release increment after its generation bump,
//! the driver's drain an acquire swap before its dispatch (the kernel orders a `write` and
//! the `read` that returns its byte at least that strongly).

use std::future::poll_fn;
use std::sync::Arc as StdArc;
use std::task::{Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

use super::registry::Registry;

const SIG: usize = 1;

/// The registry and the pipe.
struct World {
    registry: Registry,
    pipe: AtomicUsize,
}

fn world() -> Arc<World> {
    Arc::new(World {
        registry: Registry::new(),
        pipe: AtomicUsize::new(0),
    })
}

impl World {
    /// The handler: step 2.
    fn deliver(&self) {
        self.registry.record(SIG);
        self.pipe.fetch_add(1, Ordering::Release);
    }

    /// The driver: waits for the pipe to report, drains it, dispatches (step 3); `turns`
    /// times.
    fn drive(&self, turns: usize) {
        for _ in 0..turns {
            while self.pipe.swap(0, Ordering::Acquire) == 0 {
                loom::thread::yield_now();
            }
            self.registry.dispatch();
        }
    }
}

struct Unparker(loom::thread::Thread);

impl Wake for Unparker {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this loom thread, parking while it is pending: a wake-up that never
/// comes leaves every thread blocked, which loom reports as a deadlock.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let waker = Waker::from(StdArc::new(Unparker(loom::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        loom::thread::park();
    }
}

/// A delivery racing a listener's first poll (before it, between its load and its park,
/// after it) is seen: the poll returns ready or is woken.
#[test]
fn delivery_racing_the_first_poll_is_seen() {
    loom::model(|| {
        let w = world();
        let mut l = w.registry.add_listener(SIG, || Ok(())).unwrap();
        let handler = {
            let w = w.clone();
            loom::thread::spawn(move || w.deliver())
        };
        let driver = {
            let w = w.clone();
            loom::thread::spawn(move || w.drive(1))
        };
        block_on(poll_fn(|cx| w.registry.poll(&mut l, cx)));
        handler.join().unwrap();
        driver.join().unwrap();
        w.registry.remove_listener(&l, || {});
        assert_eq!(w.registry.counts(SIG), (0, 0));
    });
}

/// Two listeners on two threads both see one delivery.
#[test]
fn every_listener_sees_a_delivery() {
    loom::model(|| {
        let w = world();
        let a = w.registry.add_listener(SIG, || Ok(())).unwrap();
        let mut b = w.registry.add_listener(SIG, || Ok(())).unwrap();
        let other = {
            let w = w.clone();
            loom::thread::spawn(move || {
                let mut a = a;
                block_on(poll_fn(|cx| w.registry.poll(&mut a, cx)));
                w.registry.remove_listener(&a, || {});
            })
        };
        let handler = {
            let w = w.clone();
            loom::thread::spawn(move || {
                w.deliver();
                w.drive(1);
            })
        };
        block_on(poll_fn(|cx| w.registry.poll(&mut b, cx)));
        other.join().unwrap();
        handler.join().unwrap();
        w.registry.remove_listener(&b, || {});
        assert_eq!(w.registry.counts(SIG), (0, 0));
    });
}

/// A listener dropped while parked, racing a delivery and its dispatch, leaves nothing
/// behind; the last listener's restore runs exactly once.
#[test]
fn listener_dropped_mid_wait_leaks_nothing() {
    loom::model(|| {
        let w = world();
        let restores = Arc::new(AtomicUsize::new(0));
        let mut l = w.registry.add_listener(SIG, || Ok(())).unwrap();
        let waker = Waker::from(StdArc::new(Unparker(loom::thread::current())));
        let parked = w
            .registry
            .poll(&mut l, &mut std::task::Context::from_waker(&waker));
        assert!(parked.is_pending());
        let handler = {
            let w = w.clone();
            loom::thread::spawn(move || {
                w.deliver();
                w.drive(1);
            })
        };
        let r = restores.clone();
        w.registry.remove_listener(&l, move || {
            r.fetch_add(1, Ordering::Relaxed);
        });
        handler.join().unwrap();
        assert_eq!(w.registry.counts(SIG), (0, 0));
        assert_eq!(restores.load(Ordering::Relaxed), 1);
    });
}
