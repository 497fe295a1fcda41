//! The loom shim: the one place where compat's synchronisation types come from.
//!
//! Normally these are parking_lot's and std's; under `cfg(loom)` they are loom's, wrapped to
//! keep parking_lot's (non-poisoning) shape, so that the code is identical in both builds and
//! loom models check the real thing. The whole crate builds under `cfg(loom)` through this
//! module (only the OS-signal parts are left out: see `crate::signals`).
//!
//! What stays std in both builds, and why:
//! - `Arc`: the protocols share `Arc<dyn Trait>` (a done listener, a waker), an unsized
//!   coercion loom's `Arc` does not support. The protocols' order comes from the mutex or
//!   the atomic an `Arc` is shared through, which are loom's.
//! - `static` counters (`kernel::task`'s completion sequence and `Task-N` names): a static
//!   needs a `const` constructor, which loom's atomics lack. They give numbers, not order:
//!   the order a model checks is the mutex's.
//!
//! `thread` serves the crate's own test executor (its `block_on` parks and unparks through it,
//! so loom sees those too). Loom objects may only be touched inside `loom::model`: under
//! `cfg(loom)` only the models run, and they build only what they check.

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use self::mocked::{Mutex, MutexGuard};

/// Atomics (TaskGroup's live-children word, the Semaphore's permit word, flags).
pub(crate) mod atomic {
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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

        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap()
        }
    }
}
