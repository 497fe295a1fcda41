//! taskio: asyncio's semantics for Rust, on a multi-threaded work-stealing runtime.
//!
//! This crate is being built. Today it holds the runtime-independent core of the asyncio
//! layer: the error type ([`exceptions`]), the synchronisation primitives ([`locks`]) and
//! the queues ([`queues`]), all `Send + Sync` and served FIFO.
//!
//! # Cancellation is drop
//!
//! In asyncio, `task.cancel()` raises `CancelledError` at the task's current `await`, and
//! the task may catch it. In taskio, cancelling a task drops its future at its current await
//! point: destructors run, nothing can swallow the cancellation. For the primitives this
//! means: a waiting future that is dropped leaves the queue, and if it had already been
//! handed what it waited for (the lock, a permit, an item, a notification), that passes to
//! the next waiter, exactly as asyncio does for a cancelled waiter. Guards release on drop,
//! so `async with lock:` becomes `let _guard = lock.acquire().await;`.
//!
//! | asyncio | taskio |
//! |---|---|
//! | `async with lock: ...` | `let _g = lock.acquire().await; ...` |
//! | `await lock.acquire(); ...; lock.release()` | `lock.acquire().await.detach(); ...; lock.release()?` |
//! | `await cond.wait()` | `guard = cond.wait(guard).await?` |
//! | `except asyncio.QueueEmpty:` | `Err(e) if e.kind() == ErrorKind::QueueEmpty =>` |
//!
//! # Examples
//!
//! ```
//! use taskio::{Queue, Semaphore};
//! # taskio::__testing::block_on(async {
//! let q = Queue::new(0);
//! let sem = Semaphore::new(1);
//! let _permit = sem.acquire().await;
//! q.put(1).await.unwrap();
//! assert_eq!(q.get().await.unwrap(), 1);
//! # });
//! ```

pub mod exceptions;
#[cfg(not(loom))]
pub mod gather;
pub mod locks;
pub(crate) mod loom;
pub mod queues;
pub mod streams;
pub mod threads;
#[cfg(not(loom))]
mod rt_time;
#[cfg(not(loom))]
pub mod runners;
#[cfg(not(loom))]
pub mod shield;
#[cfg(not(loom))]
pub mod taskgroup;
#[cfg(not(loom))]
pub mod tasks;
#[cfg(not(loom))]
pub mod wait;
mod waiters;
#[cfg(not(loom))]
mod watch;

#[doc(hidden)]
#[path = "testing.rs"]
pub mod __testing;

pub use taskio_runtime as runtime;

pub use crate::exceptions::{Error, ErrorKind, Result};
pub use crate::locks::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, LockGuard, OwnedLockGuard,
    OwnedSemaphorePermit, Semaphore, SemaphorePermit,
};
pub use crate::queues::{LifoQueue, PriorityQueue, PutError, Queue};
pub use crate::streams::{
    open_connection, open_unix_connection, start_server, start_unix_server, Server, StreamReader,
    StreamWriter,
};
pub use crate::threads::{run_in_executor, to_thread};
#[cfg(not(loom))]
pub use crate::{
    gather::gather,
    runners::{run, Runner, RunnerBuilder},
    shield::shield,
    taskgroup::TaskGroup,
    tasks::{all_tasks, create_task, current_task, sleep, AnyTask, Task},
    wait::wait,
};
