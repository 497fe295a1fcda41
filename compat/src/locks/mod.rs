//! asyncio's synchronisation primitives: [`Lock`], [`Event`], [`Condition`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Barrier`].
//!
//! Like asyncio's, waiters are served strictly FIFO, with no barging: what a release frees
//! goes to the first waiter, not to whoever asks next. Unlike asyncio's, every primitive is
//! `Send + Sync` and correct when its users run on different threads at once.
//!
//! # Cancellation is drop
//!
//! A waiting future (`acquire()`, `wait()`) that is dropped leaves the queue. If it had
//! already been woken (handed the lock, a permit, a notification) and is dropped before
//! using it, the wake-up passes to the next waiter: nothing is lost, as in asyncio when a
//! woken waiter is cancelled.
//!
//! What is held is held by a guard ([`LockGuard`], [`SemaphorePermit`]) that releases on
//! drop, so cancelling the task that holds it releases it. asyncio's explicit
//! `acquire()` / `release()` pairing is also available (`guard.detach()`, then
//! `release()`).
//!
//! # Examples
//!
//! ```
//! use taskio::Lock;
//! # taskio::run(async {
//! let lock = Lock::new();
//! {
//!     let _guard = lock.acquire().await.unwrap(); // `async with lock:`
//!     assert!(lock.locked());
//! }
//! assert!(!lock.locked());
//! # Ok(())
//! # }).unwrap();
//! ```

mod barrier;
mod condition;
mod event;
mod lock;
mod semaphore;

pub use self::barrier::{Barrier, BarrierWait};
pub use self::condition::{Condition, ConditionWait};
pub use self::event::{Event, EventWait};
pub use self::lock::{Lock, LockAcquire, LockGuard, OwnedLockGuard};
pub use self::semaphore::{
    BoundedSemaphore, OwnedSemaphorePermit, Semaphore, SemaphoreAcquire, SemaphorePermit,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn _assert_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Lock>();
        check::<LockGuard<'_>>();
        check::<LockAcquire<'_>>();
        check::<Event>();
        check::<EventWait<'_>>();
        check::<Condition>();
        check::<ConditionWait<'_>>();
        check::<Semaphore>();
        check::<BoundedSemaphore>();
        check::<SemaphorePermit<'_>>();
        check::<SemaphoreAcquire<'_>>();
        check::<OwnedLockGuard>();
        check::<OwnedSemaphorePermit>();
        check::<Barrier>();
        check::<BarrierWait<'_>>();
    }

    fn _owned_futures_are_send(lock: std::sync::Arc<Lock>, sem: std::sync::Arc<Semaphore>) {
        fn check<T: Send>(_: T) {}
        check(lock.acquire_owned());
        check(sem.acquire_owned());
    }
}
