//! taskio-runtime: a multi-threaded, work-stealing async runtime.
//!
//! - [`Runtime`] / [`Builder`]: the multi-thread scheduler (one worker per core, local
//!   queues with a LIFO slot, a global injector, work stealing) or the current-thread one
//!   (one FIFO queue: asyncio's order).
//! - [`spawn`], [`JoinHandle`] (await the output, [`abort`](JoinHandle::abort)),
//!   [`JoinError`], [`yield_now`], [`Handle`].
//! - [`net`] (TCP, UDP, Unix sockets), [`time`] and, on Unix,
//!   [`signal`] (`ctrl_c()`, a stream of any signal), all on the runtime's reactor.
//! - Seeing inside, on stable and on every flavour: [`Handle::dump`] (every live task with
//!   its parent, name, spawn site, state and what it awaits: [`dump`]), [`Handle::metrics`]
//!   (per-worker counters, queues, I/O, timers: [`RuntimeMetrics`]), per-task poll times
//!   ([`Builder::task_poll_times`]) and a slow-poll watchdog ([`Builder::on_slow_poll`]).
//! - Feature `hyper` (off by default): the net streams are hyper 1.x's I/O, and `hyper_rt`
//!   has its `Executor` and `Timer`, so hyper runs here with no glue. Feature `tracing`: a
//!   span per task and events for spawn, cancellation, completion and slow polls.
//!
//! Cancellation is delivered: [`JoinHandle::cancel`] records a request that the task's next
//! checkpoint returns as an error, so its clean-up can await; [`abort`](JoinHandle::abort)
//! drops the future at its current `.await` on a runtime thread. Panics in tasks are caught and reported through the `JoinHandle`; they
//! never take a worker down. Dropping the runtime cancels every task still alive and joins
//! its threads.
//!
//! # Examples
//!
//! ```
//! use taskio_runtime::{Runtime, spawn, yield_now};
//!
//! let rt = Runtime::new().unwrap();
//! let total = rt.block_on(async {
//!     let tasks: Vec<_> = (0..100u64)
//!         .map(|i| spawn(async move {
//!             yield_now().await;
//!             i
//!         }))
//!         .collect();
//!     let mut total = 0;
//!     for t in tasks {
//!         total += t.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 4950);
//! ```
#![warn(missing_docs)]
// Under loom only the concurrent core is modelled; the rest compiles but goes unused.
#![cfg_attr(loom, allow(unused_imports, dead_code))]

pub(crate) mod loom;

mod blocking;
#[allow(dead_code)]
pub(crate) mod driver;
pub mod dump;
#[cfg(feature = "hyper")]
pub mod hyper_rt;
pub mod net;
mod runtime;
mod scheduler;
#[cfg(unix)]
pub mod signal;
pub mod task;
pub mod time;

pub use runtime::{
    spawn, spawn_blocking, Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, SlowPoll,
    TryCurrentError, WorkerMetrics,
};
pub use task::{yield_now, JoinError, JoinHandle};
