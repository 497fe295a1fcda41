//! A tiny executor for tests (not doctests: those run on the real runtime).
//!
//! The primitives are thread-safe and runtime-independent, so plain OS threads, each
//! driving its futures with [`block_on`], exercise real concurrency. Manual polling with a
//! [`CountingWaker`] (or [`noop_waker`]) checks FIFO order and cancellation exactly: poll A,
//! poll B, release, see who is ready, drop a woken one, see the next one woken.
//!
//! Everything here is `#[doc(hidden)]`: it is not part of taskio's API.
//!
//! Under `cfg(loom)`, [`block_on`] and [`spawn`] use loom's threads (through `crate::kernel::sync`),
//! so loom models can drive the primitives with them; a wake-up that never comes is then
//! reported by loom as a deadlock.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::kernel::sync::thread::{self, Thread};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` to completion on this thread, parking while it is pending.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Spawns an OS thread that drives `fut` with [`block_on`].
pub fn spawn<F>(fut: F) -> thread::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    thread::spawn(move || block_on(fut))
}

#[derive(Debug)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reads how many times the waker of a [`CountingWaker::new`] pair was woken.
#[derive(Clone, Debug)]
pub struct WakeCount(Arc<Counter>);

impl WakeCount {
    /// The number of wakes so far.
    pub fn count(&self) -> usize {
        self.0 .0.load(Ordering::SeqCst)
    }
}

/// A waker that counts its wakes.
#[derive(Debug)]
pub struct CountingWaker;

impl CountingWaker {
    /// A waker and the handle to read its wake count.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Waker, WakeCount) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (Waker::from(counter.clone()), WakeCount(counter))
    }
}

/// A waker that does nothing.
pub fn noop_waker() -> Waker {
    CountingWaker::new().0
}

/// A future polled by hand with its own counting waker.
#[allow(missing_debug_implementations)]
pub struct Polled<F> {
    fut: Pin<Box<F>>,
    waker: Waker,
    wakes: WakeCount,
    /// The wake count when it was last polled.
    seen: usize,
}

impl<F: Future> Polled<F> {
    /// Wraps `fut` (not polled yet).
    pub fn new(fut: F) -> Self {
        let (waker, wakes) = CountingWaker::new();
        Polled {
            fut: Box::pin(fut),
            waker,
            wakes,
            seen: 0,
        }
    }

    /// Polls once.
    pub fn poll(&mut self) -> Poll<F::Output> {
        self.seen = self.wakes.count();
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls once, expecting `Pending`.
    #[track_caller]
    pub fn pending(&mut self) {
        assert!(
            self.poll().is_pending(),
            "expected the future to be pending"
        );
    }

    /// Polls once, expecting `Ready`, and returns the output.
    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    /// Whether the waker given at the last poll has been woken (ever).
    pub fn woken(&self) -> bool {
        self.wakes.count() > 0
    }

    /// Whether it has been woken since it was last polled.
    pub fn woken_since_poll(&self) -> bool {
        self.wakes.count() > self.seen
    }

    /// How many times it has been woken.
    pub fn wakes(&self) -> usize {
        self.wakes.count()
    }
}
