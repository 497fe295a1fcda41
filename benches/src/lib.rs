//! Shared helpers for taskio's benchmarks (see `benches/benches/`).
//!
//! Every workload is written once, generic over [`Rt`], a small trait over the runtimes
//! ([`Taskio`], [`Tokio`], and [`Smol`], a second peer in some benches). The synchronization
//! around a workload (std `mpsc` channels, `AtomicUsize` counters, `tokio::sync::oneshot` —
//! which is runtime-neutral) is therefore literally the same code on every side; only
//! `spawn`, `block_on` and `yield_now` differ.
//!
//! The workloads are ports of tokio's `benches/rt_multi_threaded.rs` and
//! `benches/rt_current_thread.rs` with tokio's constants. Each is a struct: `new` builds
//! the runtime and the channels (not measured), `run` is one measured iteration, `Drop`
//! stops any background load. The criterion benches and the `profile` binary share them.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

pub mod asyncio;
pub mod blocking;
pub mod current;
pub mod echo;
pub mod multi;
pub mod smol_rt;
pub mod time;

/// Which of the runtime's optional observers the [`Taskio`] runtimes of the next workloads
/// are built with (`benches/observe_cost.rs` measures what each costs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    /// The defaults: task dumps and counters only (always on).
    Default,
    /// `Builder::task_poll_times(true)`.
    PollTimes,
    /// `Builder::on_slow_poll` with a 100 ms threshold (the watchdog thread runs).
    Watchdog,
}

static OBSERVE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sets the observers of the [`Taskio`] runtimes built from now on.
pub fn set_observe(o: Observe) {
    OBSERVE.store(o as u8, std::sync::atomic::Ordering::Relaxed);
}

fn observed(b: &mut taskio_runtime::Builder) -> &mut taskio_runtime::Builder {
    match OBSERVE.load(std::sync::atomic::Ordering::Relaxed) {
        1 => b.task_poll_times(true),
        2 => b.on_slow_poll(Duration::from_millis(100), |_| {}),
        _ => b,
    }
}

/// The operations a workload needs from a runtime.
pub trait Rt: Sized + 'static {
    /// Name used as criterion's function id (`taskio`, `tokio`, `smol`).
    const NAME: &'static str;
    /// The runtime itself.
    type Runtime: Send + Sync + 'static;
    /// A cloneable handle that can spawn from any thread.
    type Handle: Clone + Send + Sync + 'static;
    /// The error carried by a failed join.
    type JoinError: Debug + Send + 'static;
    /// A join handle.
    type JoinHandle<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>>
        + Send
        + Unpin
        + 'static;

    /// A multi-thread runtime with `workers` worker threads, drivers on (as `multi_thread_all`).
    fn multi_thread(workers: usize) -> Self::Runtime;
    /// A current-thread runtime, drivers on (as `current_thread_all`).
    fn current_thread() -> Self::Runtime;
    /// `Runtime::block_on`.
    fn block_on<F: Future>(rt: &Self::Runtime, f: F) -> F::Output;
    /// `Runtime::spawn`.
    fn rt_spawn<F>(rt: &Self::Runtime, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// `Runtime::handle().clone()`.
    fn handle(rt: &Self::Runtime) -> Self::Handle;
    /// `Handle::spawn`.
    fn handle_spawn<F>(h: &Self::Handle, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// The free `spawn` (from inside the runtime).
    fn spawn<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// `yield_now()`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// A multi-thread runtime with `workers` workers and the I/O and time drivers on
    /// (tokio's `enable_all()`; taskio's drivers are always on).
    fn multi_thread_all(workers: usize) -> Self::Runtime;
    /// A current-thread runtime with the I/O and time drivers on.
    fn current_thread_all() -> Self::Runtime;
    /// `time::sleep(d)`.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;
    /// `time::sleep_until(deadline)`, the deadline given as a std `Instant`.
    fn sleep_until(deadline: std::time::Instant) -> impl Future<Output = ()> + Send;
    /// `time::timeout(d, f)`, `None` when it elapsed.
    fn timeout<F>(d: Duration, f: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send;
    /// The free `spawn_blocking` (from inside the runtime).
    fn spawn_blocking<F, T>(f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

/// taskio's runtime.
#[derive(Debug, Clone, Copy)]
pub struct Taskio;

/// tokio's runtime.
#[derive(Debug, Clone, Copy)]
pub struct Tokio;

/// smol's runtime: async-executor's `Executor` run by worker threads (multi-thread) or by
/// `block_on` (current-thread), async-io's reactor and timers, blocking's thread pool
/// (see [`smol_rt`]).
#[derive(Debug, Clone, Copy)]
pub struct Smol;

impl Rt for Taskio {
    const NAME: &'static str = "taskio";
    type Runtime = taskio_runtime::Runtime;
    type Handle = taskio_runtime::Handle;
    type JoinError = taskio_runtime::JoinError;
    type JoinHandle<T: Send + 'static> = taskio_runtime::JoinHandle<T>;

    fn multi_thread(workers: usize) -> Self::Runtime {
        observed(taskio_runtime::Builder::new_multi_thread().worker_threads(workers))
            .build()
            .unwrap()
    }
    fn current_thread() -> Self::Runtime {
        observed(&mut taskio_runtime::Builder::new_current_thread())
            .build()
            .unwrap()
    }
    fn block_on<F: Future>(rt: &Self::Runtime, f: F) -> F::Output {
        rt.block_on(f)
    }
    fn rt_spawn<F>(rt: &Self::Runtime, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        rt.spawn(f)
    }
    fn handle(rt: &Self::Runtime) -> Self::Handle {
        rt.handle().clone()
    }
    fn handle_spawn<F>(h: &Self::Handle, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        h.spawn(f)
    }
    fn spawn<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        taskio_runtime::spawn(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        taskio_runtime::yield_now()
    }
    fn multi_thread_all(workers: usize) -> Self::Runtime {
        taskio_runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    }
    fn current_thread_all() -> Self::Runtime {
        taskio_runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        taskio_runtime::time::sleep(d)
    }
    fn sleep_until(deadline: std::time::Instant) -> impl Future<Output = ()> + Send {
        taskio_runtime::time::sleep_until(taskio_runtime::time::Instant::from_std(deadline))
    }
    fn timeout<F>(d: Duration, f: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        let t = taskio_runtime::time::timeout(d, f);
        async move { t.await.ok() }
    }
    fn spawn_blocking<F, T>(f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        taskio_runtime::spawn_blocking(f)
    }
}

impl Rt for Tokio {
    const NAME: &'static str = "tokio";
    type Runtime = tokio::runtime::Runtime;
    type Handle = tokio::runtime::Handle;
    type JoinError = tokio::task::JoinError;
    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;

    // The scheduler suites build tokio with its drivers on too (`enable_all()`), as taskio's
    // always are: a parked worker then waits in the I/O driver on both sides. (They were
    // ported when taskio had no drivers and built tokio without them.)
    fn multi_thread(workers: usize) -> Self::Runtime {
        Self::multi_thread_all(workers)
    }
    fn current_thread() -> Self::Runtime {
        Self::current_thread_all()
    }
    fn block_on<F: Future>(rt: &Self::Runtime, f: F) -> F::Output {
        rt.block_on(f)
    }
    fn rt_spawn<F>(rt: &Self::Runtime, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        rt.spawn(f)
    }
    fn handle(rt: &Self::Runtime) -> Self::Handle {
        rt.handle().clone()
    }
    fn handle_spawn<F>(h: &Self::Handle, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        h.spawn(f)
    }
    fn spawn<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
    fn multi_thread_all(workers: usize) -> Self::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    }
    fn current_thread_all() -> Self::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
    fn sleep_until(deadline: std::time::Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
    }
    fn timeout<F>(d: Duration, f: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        let t = tokio::time::timeout(d, f);
        async move { t.await.ok() }
    }
    fn spawn_blocking<F, T>(f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(f)
    }
}

impl Rt for Smol {
    const NAME: &'static str = "smol";
    type Runtime = smol_rt::Runtime;
    type Handle = std::sync::Arc<smol::Executor<'static>>;
    type JoinError = std::convert::Infallible;
    type JoinHandle<T: Send + 'static> = smol_rt::JoinHandle<T>;

    // async-io's reactor (I/O and timers) is always there: `_all` is the same runtime.
    fn multi_thread(workers: usize) -> Self::Runtime {
        smol_rt::Runtime::multi_thread(workers)
    }
    fn current_thread() -> Self::Runtime {
        smol_rt::Runtime::current_thread()
    }
    fn block_on<F: Future>(rt: &Self::Runtime, f: F) -> F::Output {
        rt.block_on(f)
    }
    fn rt_spawn<F>(rt: &Self::Runtime, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        smol_rt::JoinHandle::new(rt.handle().spawn(f))
    }
    fn handle(rt: &Self::Runtime) -> Self::Handle {
        rt.handle().clone()
    }
    fn handle_spawn<F>(h: &Self::Handle, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        smol_rt::JoinHandle::new(h.spawn(f))
    }
    fn spawn<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        smol_rt::spawn(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }
    fn multi_thread_all(workers: usize) -> Self::Runtime {
        Self::multi_thread(workers)
    }
    fn current_thread_all() -> Self::Runtime {
        Self::current_thread()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        let t = smol::Timer::after(d);
        async move {
            t.await;
        }
    }
    fn sleep_until(deadline: std::time::Instant) -> impl Future<Output = ()> + Send {
        let t = smol::Timer::at(deadline);
        async move {
            t.await;
        }
    }
    fn timeout<F>(d: Duration, f: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        // The deadline is taken now, as tokio's `timeout` takes it; `or` polls `f` first.
        let t = smol::Timer::after(d);
        smol::future::or(async move { Some(f.await) }, async move {
            t.await;
            None
        })
    }
    fn spawn_blocking<F, T>(f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // blocking's thread pool (smol's `unblock`); its task detaches on drop as well.
        smol_rt::JoinHandle::new(smol::unblock(f))
    }
}

/// One measured workload: `run` is one iteration.
pub trait Workload {
    /// Runs one iteration.
    fn run(&mut self);
}
