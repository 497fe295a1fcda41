//! The test kit: the helpers every integration test binary of the workspace shares (the
//! runtime's, in `tests/tests/`, and taskio's, in `compat/tests/`); there are no others.
//!
//! - [`Flavor`] and [`rt_tests!`]: write a test body once as `fn name(flavor: Flavor)` and run
//!   it on the current-thread, 1-worker and 4-worker runtimes (tokio's `rt_common.rs` idea,
//!   but the bodies stay outside the macro so that rustfmt formats them).
//! - [`runner`](mod@runner): the same flavours for taskio's `Runner`: [`run_on`], [`flavours!`],
//!   [`both!`], [`ct_only!`], [`on_each_runtime`], [`Log`], [`yields`], [`ErrorHookTurn`].
//! - [`block_on`], [`spawn_thread`], [`Polled`]: drive a future on a plain thread
//!   (thread-park waker), or poll it by hand and count its wakes (taskio's own test
//!   executor, re-exported); [`poll_once`].
//! - [`chan`]: a hand-made waker-based unbounded channel, so that wake-ups in the tests come
//!   from code we can read, not from the runtime's own primitives.
//! - [`Counts`], [`DropCount`]: drop counters for futures and outputs (leaks and double
//!   drops).
//! - [`Latch`]: wait on a plain thread until a count is reached (no sleeps).
//! - [`watchdog`]: turns a hang into a test failure (generous limit; not a timing assertion).
//! - [`raise`] (Unix): a signal to this process.
//! - [`io`]: `write_all`, `read_exact`, ... over the `futures_io` traits.
//!
//! Under `cfg(loom)` the kit is empty: the loom models drive the primitives with taskio's
//! own loom-aware executor.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;
use taskio_runtime::{Builder, Runtime};

/// Which runtime a test body runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `Builder::new_current_thread()`.
    CurrentThread,
    /// `Builder::new_multi_thread().worker_threads(n)`.
    MultiThread(usize),
}

impl Flavor {
    /// Every flavour the tests run on: current thread, 1 worker, 4 workers.
    pub const ALL: [Flavor; 3] = [
        Flavor::CurrentThread,
        Flavor::MultiThread(1),
        Flavor::MultiThread(4),
    ];

    /// A builder for this flavour (callers may add options).
    pub fn builder(self) -> Builder {
        match self {
            Flavor::CurrentThread => Builder::new_current_thread(),
            Flavor::MultiThread(n) => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        }
    }

    /// A runtime of this flavour with default options.
    pub fn rt(self) -> Runtime {
        self.builder().build().expect("runtime builds")
    }

    /// True for the multi-thread flavours.
    pub fn is_multi_thread(self) -> bool {
        matches!(self, Flavor::MultiThread(_))
    }
}

/// Generates, for each listed `fn name(flavor: Flavor)` of the calling file, one `#[test]`
/// per runtime flavour: `current_thread::name`, `threaded_1::name`, `threaded_4::name`.
/// Attributes written before a name (e.g. `#[ignore = "bug: ..."]`) go on all three tests.
/// Each test runs under a [`watchdog`] so that a lost wake-up fails instead of hanging.
#[macro_export]
macro_rules! rt_tests {
    ($( $(#[$attr:meta])* $name:ident ),* $(,)?) => {
        mod current_thread {
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::watchdog(stringify!($name), || {
                        super::$name($crate::Flavor::CurrentThread)
                    });
                }
            )*
        }
        mod threaded_1 {
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::watchdog(stringify!($name), || super::$name($crate::Flavor::MultiThread(1)));
                }
            )*
        }
        mod threaded_4 {
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::watchdog(stringify!($name), || super::$name($crate::Flavor::MultiThread(4)));
                }
            )*
        }
    };
}

/// The limit after which [`watchdog`] reports a hang.
pub const WATCHDOG_LIMIT: Duration = Duration::from_secs(120);

/// Runs `f` on a new thread; re-raises its panic; panics with "hung" if it does not finish
/// within [`WATCHDOG_LIMIT`] (a deadlock or lost wake-up: no test comes close to the limit).
pub fn watchdog<R: Send + 'static>(name: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = thread::Builder::new()
        .name(format!("test-{name}"))
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("spawn test thread");
    match rx.recv_timeout(WATCHDOG_LIMIT) {
        Ok(Ok(r)) => {
            let _ = t.join();
            r
        }
        Ok(Err(payload)) => {
            let _ = t.join();
            std::panic::resume_unwind(payload)
        }
        Err(_) => panic!("test `{name}` hung (no result after {WATCHDOG_LIMIT:?})"),
    }
}

pub use taskio::__testing::{block_on, noop_waker, spawn as spawn_thread, Polled};

/// Sends `kind` to this process (any of its threads may run the handler). The caller must
/// hold a listener or handler of `kind`, so that no default action (most end the process)
/// runs; and, since the handlers are the process's, be in a test binary of its own.
#[cfg(unix)]
pub fn raise(kind: taskio_runtime::signal::SignalKind) {
    // SAFETY: `kill` has no memory-safety preconditions.
    let r = unsafe { libc::kill(libc::getpid(), kind.as_raw()) };
    assert_eq!(r, 0, "kill failed: {}", std::io::Error::last_os_error());
}

/// Polls `f` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

// ===== drop counters =====

/// Counts of futures and outputs created and dropped.
#[derive(Debug, Default)]
pub struct Counts {
    /// `FutGuard`s created.
    pub fut_created: AtomicUsize,
    /// `FutGuard`s dropped.
    pub fut_dropped: AtomicUsize,
    /// `Out`s created.
    pub out_created: AtomicUsize,
    /// `Out`s dropped.
    pub out_dropped: AtomicUsize,
    /// Names of the threads that dropped `FutGuard`s (only if `record_threads`).
    pub drop_threads: Mutex<Vec<Option<String>>>,
    /// Whether to record thread names.
    pub record_threads: bool,
}

impl Counts {
    /// New counters.
    pub fn new() -> Arc<Counts> {
        Arc::new(Counts::default())
    }

    /// New counters that also record the thread each future guard is dropped on.
    pub fn recording() -> Arc<Counts> {
        Arc::new(Counts {
            record_threads: true,
            ..Counts::default()
        })
    }

    /// A guard to move into a future: dropped with it.
    pub fn fut_guard(self: &Arc<Self>) -> FutGuard {
        self.fut_created.fetch_add(1, SeqCst);
        FutGuard(self.clone())
    }

    /// An output value whose drop is counted.
    pub fn out(self: &Arc<Self>, value: u64) -> Out {
        self.out_created.fetch_add(1, SeqCst);
        Out {
            counts: self.clone(),
            value,
        }
    }

    /// Futures dropped so far.
    pub fn futs_dropped(&self) -> usize {
        self.fut_dropped.load(SeqCst)
    }

    /// Outputs dropped so far.
    pub fn outs_dropped(&self) -> usize {
        self.out_dropped.load(SeqCst)
    }
}

/// Lives inside a future; counts its drop.
#[derive(Debug)]
pub struct FutGuard(Arc<Counts>);

impl Drop for FutGuard {
    fn drop(&mut self) {
        if self.0.record_threads {
            let name = thread::current().name().map(str::to_owned);
            self.0.drop_threads.lock().unwrap().push(name);
        }
        self.0.fut_dropped.fetch_add(1, SeqCst);
    }
}

/// A task output whose drop is counted.
#[derive(Debug)]
pub struct Out {
    counts: Arc<Counts>,
    /// A payload, to check the right output came back.
    pub value: u64,
}

impl Drop for Out {
    fn drop(&mut self) {
        self.counts.out_dropped.fetch_add(1, SeqCst);
    }
}

/// Counts the drops of the value it is in (e.g. a child's future: dropped once, when it
/// returns or is cancelled).
#[derive(Debug)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

// ===== latch =====

/// A count that a plain thread can wait on.
#[derive(Debug, Default)]
pub struct Latch {
    count: Mutex<usize>,
    cv: Condvar,
}

impl Latch {
    /// A new latch at zero.
    pub fn new() -> Arc<Latch> {
        Arc::new(Latch::default())
    }

    /// Adds one.
    pub fn add(&self) {
        *self.count.lock().unwrap() += 1;
        self.cv.notify_all();
    }

    /// Blocks until the count is at least `n`.
    pub fn wait_for(&self, n: usize) {
        let mut c = self.count.lock().unwrap();
        while *c < n {
            c = self.cv.wait(c).unwrap();
        }
    }

    /// The count now.
    pub fn get(&self) -> usize {
        *self.count.lock().unwrap()
    }
}

// ===== a hand-made channel =====

struct ChanState<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
}

/// The sending half of [`chan`].
pub struct Sender<T> {
    inner: Arc<Mutex<ChanState<T>>>,
}

/// The receiving half of [`chan`] (one receiver task at a time).
pub struct Receiver<T> {
    inner: Arc<Mutex<ChanState<T>>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sender")
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver")
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

/// An unbounded channel: `send` pushes and wakes the stored receiver waker (outside the
/// lock); `recv` stores its waker when empty.
pub fn chan<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(ChanState {
        queue: VecDeque::new(),
        waker: None,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

impl<T> Sender<T> {
    /// Sends `v` and wakes the receiver.
    pub fn send(&self, v: T) {
        let waker = {
            let mut s = self.inner.lock().unwrap();
            s.queue.push_back(v);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Receives the next value.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: self }
    }
}

/// The future of [`Receiver::recv`].
#[derive(Debug)]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.rx.inner.lock().unwrap();
        if let Some(v) = s.queue.pop_front() {
            return Poll::Ready(v);
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// A future that stays pending forever but counts its polls; never wakes itself.
#[derive(Debug)]
pub struct CountPolls(pub Arc<AtomicUsize>);

impl Future for CountPolls {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.0.fetch_add(1, SeqCst);
        Poll::Pending
    }
}

/// A waker that counts its wakes in the shared counter, then panics: fault injection for
/// whoever calls wakers (a driver, a list of waiters).
#[derive(Debug)]
pub struct PanickingWaker(pub Arc<AtomicUsize>);

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("a waker that panics in wake()");
    }
}

pub mod io;
pub mod runner;

pub use runner::{
    ct, mt, on_each_runtime, port, run_on, runner, runtimes, runtimes_with, yields, ErrorHookTurn,
    Log,
};
