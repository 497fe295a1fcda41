//! The loom build: model-checked atomics, cells, locks and threads.
//!
//! loom's `Mutex` and `Condvar` follow std's poisoning API; the wrappers here give them
//! parking_lot's shape so the runtime's code is the same in both builds.

pub(crate) mod sync {
    #[allow(unused_imports)]
    pub(crate) use loom::sync::Arc;

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

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    /// parking_lot-shaped wrapper over loom's condvar.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            // loom's condvar takes the guard by value; swap it through a raw read/write.
            // SAFETY: `guard` is a valid, initialised guard. We move it out, hand it to
            // `wait`, and write the returned guard back before anyone can observe the slot;
            // `wait` does not panic in a model run except by aborting the whole execution.
            unsafe {
                let g = std::ptr::read(guard);
                let g = self.0.wait(g).unwrap();
                std::ptr::write(guard, g);
            }
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }

    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
    }
}

pub(crate) mod cell {
    #[allow(unused_imports)]
    pub(crate) use loom::cell::UnsafeCell;
}

pub(crate) mod thread {
    #[allow(unused_imports)]
    pub(crate) use loom::thread::{current, spawn, yield_now, Builder, JoinHandle, ThreadId};
    #[allow(unused_imports)]
    pub(crate) use std::thread::panicking;

    /// This (model) thread's id.
    #[allow(dead_code)]
    pub(crate) fn current_id() -> ThreadId {
        loom::thread::current().id()
    }
}

/// Under loom a spin must yield, or the model never lets the other thread run.
pub(crate) fn spin_loop() {
    loom::thread::yield_now();
}
