//! The task waker: one static vtable for every task; the data pointer is the header.
//!
//! A `Waker` built here holds one reference (taken by `clone`, dropped by `drop` or by
//! `wake`). `waker_ref` lends a waker that holds none, for the duration of a poll.

use crate::task::cell::Header;
use crate::task::raw::RawTask;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// A waker borrowed for one poll: it holds no reference and is never dropped.
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _p: PhantomData<&'a ()>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// Lends a waker for `task` without taking a reference; the caller's reference keeps the
/// task alive while the `WakerRef` lives.
pub(crate) fn waker_ref<'a>(task: RawTask) -> WakerRef<'a> {
    let raw = RawWaker::new(task.header_ptr().as_ptr() as *const (), &WAKER_VTABLE);
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a header pointer;
    // ManuallyDrop keeps this borrowed waker from dropping a reference it does not own.
    let waker = unsafe { Waker::from_raw(raw) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
        _p: PhantomData,
    }
}

/// # Safety
///
/// `ptr` is the data pointer of one of our wakers: a live task header.
unsafe fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: by the caller's contract the pointer is a non-null live header.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task alive.
    let task = unsafe { raw(ptr) };
    task.state().ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker being dropped holds a reference, which it gives up.
    unsafe { raw(ptr).drop_reference() };
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: the waker being consumed holds a reference, which it hands over.
    unsafe { raw(ptr).wake_by_val() };
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the borrowed waker keeps the task alive.
    unsafe { raw(ptr) }.wake_by_ref();
}

/// Wakes `waker`, containing a panic in its `wake()`: for code that wakes a batch of
/// wakers it did not write (a list of waiters), so one that panics does not stop the others.
///
/// The runtime's own drivers (timers, I/O readiness, signals) wake through this function:
/// a waker that panics loses only its own wake-up. The panic hook has already reported the
/// panic by the time it is caught; the payload is then dropped, and a payload whose own drop
/// panics is leaked instead.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::task::{Wake, Waker};
/// use taskio_runtime::task::wake_contained;
///
/// struct Count(AtomicUsize);
/// impl Wake for Count {
///     fn wake(self: Arc<Self>) {
///         self.0.fetch_add(1, Ordering::SeqCst);
///     }
/// }
/// struct Broken;
/// impl Wake for Broken {
///     fn wake(self: Arc<Self>) {
///         panic!("a broken waker");
///     }
/// }
///
/// let count = Arc::new(Count(AtomicUsize::new(0)));
/// let batch = vec![
///     Waker::from(Arc::new(Broken)),
///     Waker::from(count.clone()),
///     Waker::from(count.clone()),
/// ];
/// batch.into_iter().for_each(wake_contained);
/// assert_eq!(count.0.load(Ordering::SeqCst), 2);
/// ```
pub fn wake_contained(waker: Waker) {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    // `AssertUnwindSafe`: nothing of ours is borrowed by the closure; the waker is consumed
    // by `wake` and is gone whether it returns or unwinds.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || waker.wake())) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}
