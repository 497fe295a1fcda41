//! The thread-local runtime context: which runtime this thread is inside, and whether it is
//! running one (a worker thread or a `block_on` call).

use crate::scheduler;
use std::cell::{Cell, RefCell};

crate::loom::rt_thread_local! {
    static CONTEXT: Context = Context {
            handle: RefCell::new(None),
            depth: Cell::new(0),
            entered: Cell::new(false),
        };
}

struct Context {
    /// The runtime `Handle::current` returns and `spawn` spawns onto.
    handle: RefCell<Option<scheduler::Handle>>,
    /// How many `SetCurrentGuard`s are alive on this thread (they must drop in reverse).
    depth: Cell<usize>,
    /// True on a thread that is running a runtime (worker, or inside `block_on`): a nested
    /// `block_on` there would deadlock, so it is refused.
    entered: Cell<bool>,
}

/// Runs `f` with the current runtime handle, or returns `None` outside any runtime (also
/// while the thread is being torn down).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&scheduler::Handle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|ctx| ctx.handle.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// True if `handle`'s runtime is the current one (on its workers, and inside its
/// `block_on` or `enter`).
#[cfg(feature = "hyper")]
#[inline]
pub(crate) fn is_current(handle: &scheduler::Handle) -> bool {
    with_current(|h| h.ptr_eq(handle)).unwrap_or(false)
}

/// Makes `handle` the current runtime (and its driver the current driver) until the guard
/// drops.
pub(crate) fn set_current(handle: &scheduler::Handle) -> SetCurrentGuard {
    let (prev, depth) = CONTEXT.with(|ctx| {
        let depth = ctx.depth.get() + 1;
        ctx.depth.set(depth);
        (ctx.handle.borrow_mut().replace(handle.clone()), depth)
    });
    let driver = crate::driver::enter(handle.driver().clone());
    SetCurrentGuard {
        prev,
        depth,
        _driver: driver,
    }
}

/// Restores the previous current runtime on drop.
pub(crate) struct SetCurrentGuard {
    prev: Option<scheduler::Handle>,
    depth: usize,
    _driver: crate::driver::EnterGuard,
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let in_order = CONTEXT
            .try_with(|ctx| {
                let in_order = ctx.depth.get() == self.depth;
                ctx.depth.set(self.depth - 1);
                *ctx.handle.borrow_mut() = prev;
                in_order
            })
            .unwrap_or(true);
        if !in_order && !std::thread::panicking() {
            panic!(
                "`EnterGuard`s dropped out of order: guards returned by `enter()` must be \
                 dropped in the reverse order of their creation"
            );
        }
    }
}

/// Marks this thread as running a runtime until the guard drops.
///
/// # Panics
///
/// If it already is: starting a runtime from within a runtime would block the thread that
/// has to drive the first one.
#[track_caller]
pub(crate) fn enter_runtime(handle: &scheduler::Handle) -> EnterRuntimeGuard {
    let already = CONTEXT.with(|ctx| ctx.entered.replace(true));
    if already {
        panic!(
            "Cannot start a runtime from within a runtime. This happens because a function \
             (like `block_on`) attempted to block the current thread while the thread is \
             being used to drive asynchronous tasks. Spawn the work with `spawn` and await \
             its JoinHandle instead."
        );
    }
    EnterRuntimeGuard {
        _current: set_current(handle),
    }
}

/// Leaves the runtime on drop.
pub(crate) struct EnterRuntimeGuard {
    _current: SetCurrentGuard,
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|ctx| ctx.entered.set(false));
    }
}
