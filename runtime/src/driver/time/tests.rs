//! Tests of the timer handle and entries, and of the public `time` futures, driven by hand:
//! counting wakers, the paused clock, and explicit `process` calls (no scheduler).

#[cfg(not(loom))]
mod std_tests;

#[cfg(loom)]
mod loom_models;

use crate::driver::{self, Cfg, Driver};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

/// A waker counting its wakes.
#[derive(Debug)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, std::sync::Arc<Counter>) {
    let c = std::sync::Arc::new(Counter(AtomicUsize::new(0)));
    (Waker::from(c.clone()), c)
}

impl Counter {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A driver handle with time enabled (paused if `paused`), not entered.
fn driver_handle(paused: bool) -> (Driver, Arc<driver::Handle>) {
    let (d, h) = Driver::new(Cfg {
        enable_io: false,
        enable_time: true,
        start_paused: paused,
    })
    .expect("driver");
    (d, Arc::new(h))
}

fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}
