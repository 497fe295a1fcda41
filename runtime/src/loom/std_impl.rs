//! The ordinary build: std atomics and `Arc`, parking_lot locks.

pub(crate) mod sync {
    #[allow(unused_imports)]
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    #[allow(unused_imports)]
    pub(crate) use std::sync::Arc;

    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use std::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
    }
}

pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's access API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Gives `f` a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Gives `f` a mutable raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

pub(crate) mod thread {
    #[allow(unused_imports)]
    pub(crate) use std::thread::{
        current, panicking, spawn, yield_now, Builder, JoinHandle, ThreadId,
    };

    std::thread_local! {
        static ID: ThreadId = std::thread::current().id();
    }

    /// This thread's id, from a thread-local: `current().id()` clones and drops the thread's
    /// `Arc` handle (two atomic read-modify-writes) on every call, this reads a cached copy.
    #[allow(dead_code)]
    pub(crate) fn current_id() -> ThreadId {
        ID.with(|id| *id)
    }
}

/// A spin hint; under loom it yields to the model scheduler instead.
#[inline(always)]
pub(crate) fn spin_loop() {
    std::hint::spin_loop();
}
