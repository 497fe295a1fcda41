//! The loom shim: the one place where compat's synchronisation types come from.
//!
//! Normally these are parking_lot's; under `cfg(loom)` they are loom's, wrapped to keep
//! parking_lot's (non-poisoning) shape, so that the primitives' code is identical in both
//! builds and loom models check the real thing. The primitives' state mutex is all the
//! waiter protocol (see `waiters.rs` beside this file) needs; `atomic` serves TaskGroup's live-children
//! count (see `taskgroup/scope.rs`) and the Semaphore's permit word (see
//! `locks/semaphore.rs`); `thread` serves the test executor
//! (`__testing::block_on` parks and unparks through it, so loom sees those too).

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use self::mocked::{Mutex, MutexGuard};

/// The atomics of lock-free counters (TaskGroup's live-children word, the Semaphore's
/// permit word).
pub(crate) mod atomic {
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
}

/// Park/unpark/spawn for the test executor.
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, spawn, JoinHandle, Thread};

    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, spawn, JoinHandle, Thread};
}

#[cfg(loom)]
mod mocked {
    /// parking_lot-shaped wrapper over loom's mutex.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(t: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(t))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }
}
