//! # Cancellation: asyncio's model, delivered at checkpoints
//!
//! This page is the one place where taskio's cancellation is compared with asyncio's. In
//! short: it *is* asyncio's, and the few places where Rust still changes something are listed
//! at the end.
//!
//! ## The model
//!
//! [`Task::cancel(msg)`](crate::Task::cancel) does not stop the task. It records a request
//! (in the runtime task itself, so the runtime's own I/O and join handles see it too) and
//! wakes the task. The request is **delivered** as `Err(Cancelled(msg))` at the task's next
//! **checkpoint**: every taskio awaitable — [`sleep`](crate::sleep()) (also `sleep(0)`),
//! awaiting a [`Task`](crate::Task) or a [`Future`](crate::Future), [`gather`](crate::gather()),
//! [`as_completed`](crate::as_completed()), [`wait`](crate::wait()), the outer side of
//! [`shield`](crate::shield()), a [`TaskGroup`](crate::TaskGroup)'s exit, timeouts, every
//! lock / event / condition / semaphore / barrier / queue wait, stream reads, `drain` and
//! `wait_closed`, [`to_thread`](crate::to_thread()), and the runtime's I/O readiness and
//! `JoinHandle`s. A checkpoint delivers only where it would wait (a free lock is taken, a
//! buffered line is returned: asyncio delivers at suspensions too).
//!
//! A request is delivered once (requests made before a delivery are delivered together, as
//! in asyncio). After it, the coroutine decides, as in asyncio:
//!
//! - propagate it with `?`: the task ends cancelled;
//! - catch it and keep awaiting: async clean-up works (`finally: await conn.close()`);
//! - raise another error from the clean-up: that error is the task's;
//! - swallow it and return a value: the task ends with that value, not cancelled.
//!
//! [`cancelling()`](crate::Task::cancelling) counts the requests,
//! [`uncancel()`](crate::Task::uncancel) withdraws one. Structured code uses them as asyncio
//! does: a [`TaskGroup`](crate::TaskGroup) or a [`timeout`](crate::timeouts::timeout) scope
//! requests the cancellation of the task it runs in, catches the Cancelled, withdraws its own
//! request, and only if none is left turns it into its own result (the group's error,
//! Timeout). So a foreign cancellation passes through, clean-up finishes before a Timeout is
//! reported, and a cancelled task that was in a TaskGroup or awaiting a gather ends only after
//! those children have ended, their clean-up included.
//!
//! ## Side by side
//!
//! | asyncio | taskio |
//! |---|---|
//! | `task.cancel("why")` | `task.cancel(Some("why"))` |
//! | `except asyncio.CancelledError: ...; raise` | `match fut.await { Err(e) if e.is_cancelled() => { ...; Err(e) } .. }` |
//! | `finally: await conn.close()` | `let r = work().await; conn.close().await?; r` |
//! | swallowing `CancelledError` | `Err(e) if e.is_cancelled() => Ok(value)` |
//! | `task.cancelling()`, `task.uncancel()` | the same names |
//! | `await asyncio.shield(work())` | `shield(work()).await` |
//! | `async with asyncio.TaskGroup() as tg:` | `TaskGroup::run(\|tg\| async move { .. }).await` |
//! | `async with asyncio.timeout(5):` | `timeout(Some(Duration::from_secs(5))).run(async { .. }).await` |
//! | `async with lock:` | `let _g = lock.acquire().await?;` (released on drop, also when cancelled) |
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//! use taskio::{create_task, sleep, Event};
//!
//! taskio::run(async {
//!     let cleaned = Arc::new(AtomicBool::new(false));
//!     let started = Arc::new(Event::new());
//!     let (c, s) = (cleaned.clone(), started.clone());
//!     let t = create_task(async move {
//!         s.set();
//!         let r = sleep(3600).await; // Err(Cancelled("shutting down")) is delivered here
//!         sleep(0.01).await?; // async clean-up: the request is not delivered again
//!         c.store(true, Ordering::SeqCst);
//!         r // propagated: the task ends cancelled
//!     });
//!     started.wait().await?;
//!     t.cancel(Some("shutting down"));
//!     let err = t.clone().await.unwrap_err();
//!     assert_eq!(err.cancel_message(), Some("shutting down"));
//!     assert!(cleaned.load(Ordering::SeqCst) && t.cancelled());
//!     Ok(())
//! })
//! .unwrap();
//! ```
//!
//! ## What Rust still changes
//!
//! - **A future dropped by its owner is cancelled by the drop.** Dropping a `gather`, a
//!   `TaskGroup::run` or a `task.await` that was polled cancels their children (requests,
//!   delivered at the children's checkpoints), but the drop itself cannot wait for them.
//! - **A task parked on a future that is no checkpoint** (a future of another crate, a bare
//!   `std::future::pending()`) cannot be handed an error: at the first poll the request
//!   causes, if no checkpoint delivered it, the runtime drops the task's future instead (the
//!   drop fallback; the task ends Cancelled). A `TaskGroup` or timeout body parked that way
//!   is dropped by its scope instead of the whole task. Combinators that poll only their
//!   woken children (`FuturesUnordered`) do not pass a request to the checkpoints inside
//!   them, so the fallback applies to them too.
//! - **Runtime shutdown and `JoinHandle::abort` always drop.**
//! - **A cancelled `Condition::wait` returns without the lock**: in Rust the guard is the
//!   lock, so the caller holds nothing after an `Err` (asyncio re-acquires the lock and the
//!   `async with` releases it: the same end state).
//! - **A gather with `return_exceptions()` that is cancelled** returns its slots (the
//!   cancelled children's slots hold Cancelled) rather than raising: its output type has no
//!   room for an error. The plain gather ends Cancelled.
//! - **Cancel racing completion on several workers**: a request from another thread that
//!   lands while the body is returning comes too late to interrupt it; the body's result
//!   stands (a task that cancels *itself* and then returns ends cancelled, as in asyncio).
