//! # Cancellation: asyncio's idiom beside taskio's
//!
//! This page is the one place where taskio's cancellation model is compared with asyncio's.
//!
//! ## The difference
//!
//! In asyncio, `task.cancel()` *raises* `CancelledError` at the task's current `await`. The
//! coroutine can catch it, run async clean-up in `finally:`, even swallow it.
//!
//! In taskio, [`Task::cancel`](crate::Task::cancel) marks the task and the runtime *drops*
//! its future at its current await point. Destructors run (synchronously, before the task is
//! marked done), but no more `.await` runs in that future, and nothing can swallow the
//! cancellation. The same happens to every future the dropped one owned: a
//! [`gather`](crate::gather()) being awaited cancels its children, a
//! [`TaskGroup::run`](crate::TaskGroup::run) scope cancels its body and children, a
//! `task.await` cancels the awaited task (asyncio's rule for `await task`).
//!
//! ## Side by side
//!
//! | asyncio | taskio |
//! |---|---|
//! | `task.cancel("why")` | `task.cancel(Some("why"))` |
//! | `except asyncio.CancelledError: ...; raise` | a `Drop` guard, or match `Err(e) if e.is_cancelled()` on the *awaiter's* side |
//! | `try: ... finally: cleanup()` (sync clean-up) | a `Drop` guard holding what to clean up |
//! | `finally: await async_cleanup()` | [`shield`](crate::shield()) the clean-up as its own task, started from a `Drop` guard or before the risky await |
//! | `await asyncio.shield(work())` | `shield(work()).await` |
//! | `async with asyncio.TaskGroup() as tg:` | `TaskGroup::run(\|tg\| async move { .. }).await` |
//! | `async with lock:` | `let _g = lock.acquire().await;` (released on drop, also when cancelled) |
//! | swallowing `CancelledError` | impossible; cancel a *child* task and await it instead |
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//! use taskio::{create_task, sleep};
//!
//! struct Cleanup(Arc<AtomicBool>);
//! impl Drop for Cleanup {
//!     // asyncio's `finally:` — runs when the task is cancelled at its await.
//!     fn drop(&mut self) {
//!         self.0.store(true, Ordering::SeqCst);
//!     }
//! }
//!
//! taskio::run(async {
//!     let cleaned = Arc::new(AtomicBool::new(false));
//!     let c = cleaned.clone();
//!     let t = create_task(async move {
//!         let _cleanup = Cleanup(c);
//!         sleep(3600).await
//!     });
//!     sleep(0).await?;
//!     t.cancel(Some("shutting down"));
//!     let err = t.await.unwrap_err();
//!     assert_eq!(err.cancel_message(), Some("shutting down"));
//!     assert!(cleaned.load(Ordering::SeqCst));
//!     Ok(())
//! })
//! .unwrap();
//! ```
//!
//! ## Where the asyncio rule could not be kept
//!
//! - **A task cannot catch its own cancellation.** Everything that relies on it (retrying
//!   after `CancelledError`, `uncancel()`, `cancelling()`) has no equivalent.
//! - **Dropping is instantaneous, waiting is not possible in `Drop`.** Cancelling the task
//!   that awaits a `gather` or a `TaskGroup` cancels their children, but the awaiting task
//!   ends at once; on the multi-thread runtime the children end shortly after (asyncio's
//!   gather would end Cancelled only once they all are). A TaskGroup that *returns* has
//!   always waited for every child.
//! - **A cancellation from outside a TaskGroup** always wins, even when children failed
//!   (asyncio lets the Group error win): the scope's future is gone, there is nobody to
//!   return the Group error to.
//! - **A coroutine that returns `Err(Cancelled)` ends cancelled** (as one that raises
//!   `CancelledError` does in asyncio). So a task awaiting a gather whose child was cancelled
//!   and propagating the error with `?` also ends cancelled.
//! - **Cancel racing completion on several workers.** Once `cancel` returned true, the task
//!   ends cancelled even if its body had just returned a value in a poll running on another
//!   worker (the value is dropped).
