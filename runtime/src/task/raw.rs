//! `RawTask`: a type-erased pointer to a task, and the vtable behind it.

use crate::task::cell::{Cell, Header, Stage};
use crate::task::harness::Harness;
use crate::task::meta::TaskInit;
use crate::task::state::{State, TransitionToNotifiedByRef, TransitionToNotifiedByVal};
use crate::task::{Schedule, TaskData, TaskRef};
use std::any::TypeId;
use std::future::Future;
use std::mem;
use std::ptr::{self, NonNull};
use std::task::Waker;

/// A copyable pointer to a task. Copying it takes no reference: the code that holds one
/// says which reference it stands for. The methods that consume that reference (`poll`,
/// `schedule`, `shutdown`, `drop_reference`, `wake_by_val`, `drop_join_handle_slow`) are
/// `unsafe`: a copy must not consume it twice, and only the caller can know it does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

/// The functions that need the future's and the scheduler's types.
pub(crate) struct Vtable {
    /// Runs a `Notified`: consumes its reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Submits the task to its scheduler: consumes one reference (it becomes a `Notified`).
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell. Only after the last reference is gone.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (a `Poll<Result<T, JoinError>>`) if the task is done,
    /// else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The slow path of dropping the `JoinHandle`: consumes its reference.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancels the task if idle; consumes the owned-list reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// If the task's data has the view type with the given `TypeId`, writes a pointer to
    /// the view into `*dst` (a `NonNull<V>` for that `V`) and returns true.
    pub(crate) view: unsafe fn(NonNull<Header>, TypeId, *mut ()) -> bool,
    /// The runtime handle of the task's scheduler.
    pub(crate) runtime_handle: unsafe fn(NonNull<Header>) -> Option<crate::Handle>,
    /// The name its data gives the task (`TaskData::name`); `None` for a task without data.
    pub(crate) name: Option<unsafe fn(NonNull<Header>) -> Option<String>>,
}

/// The vtable of a task without data.
fn vtable<T: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<T, S, ()>,
        schedule: schedule::<T, S, ()>,
        dealloc: dealloc::<T, S, ()>,
        try_read_output: try_read_output::<T, S, ()>,
        drop_join_handle_slow: drop_join_handle_slow::<T, S, ()>,
        shutdown: shutdown::<T, S, ()>,
        view: no_view,
        runtime_handle: runtime_handle::<T, S, ()>,
        name: None,
    }
}

/// The vtable of a task with data `D`.
fn vtable_with_data<T: Future, S: Schedule, D: TaskData>() -> &'static Vtable {
    &Vtable {
        poll: poll::<T, S, D>,
        schedule: schedule::<T, S, D>,
        dealloc: dealloc::<T, S, D>,
        try_read_output: try_read_output::<T, S, D>,
        drop_join_handle_slow: drop_join_handle_slow::<T, S, D>,
        shutdown: shutdown::<T, S, D>,
        view: view::<T, S, D>,
        runtime_handle: runtime_handle::<T, S, D>,
        name: Some(name::<T, S, D>),
    }
}

impl RawTask {
    /// Allocates a task holding three references (owned list, `Notified`, `JoinHandle`).
    pub(crate) fn new<T, S>(future: T, scheduler: S, init: TaskInit) -> RawTask
    where
        T: Future,
        S: Schedule,
    {
        let cell = Cell::<T, S, ()>::new(
            State::new(),
            Stage::Running(future),
            scheduler,
            (),
            init,
            vtable::<T, S>(),
        );
        let ptr = Box::into_raw(cell);
        // SAFETY: `Box::into_raw` never returns null; `Cell` is `repr(C)` with the header
        // first, so the cell pointer is a header pointer.
        let ptr = unsafe { NonNull::new_unchecked(ptr.cast::<Header>()) };
        RawTask { ptr }
    }

    /// Allocates a task that carries `data` (see [`TaskRef`]), its future made by `make`
    /// from a reference to the task. Returns the task, holding the owned list's and the
    /// first `Notified`'s references, and the spawner's `TaskRef`; the fourth reference is
    /// the one `make` was given (see `INITIAL_STATE_WITH_DATA`).
    ///
    /// If `make` panics, the panic propagates and the cell is freed (with `data`) once the
    /// `TaskRef`s are gone.
    pub(crate) fn new_with_data<T, S, D, M>(
        data: D,
        make: M,
        scheduler: S,
        init: TaskInit,
    ) -> (RawTask, TaskRef<D>)
    where
        T: Future,
        S: Schedule,
        D: TaskData,
        M: FnOnce(TaskRef<D>) -> T,
    {
        // The stage starts `Consumed` so that the cell is complete (and may be freed) while
        // `make` runs; the future is written in after.
        let cell = Cell::<T, S, D>::new(
            State::new_with_data(),
            Stage::Consumed,
            scheduler,
            data,
            init,
            vtable_with_data::<T, S, D>(),
        );
        let cell = Box::into_raw(cell);
        // SAFETY: `Box::into_raw` never returns null; `Cell` is `repr(C)` with the header
        // first, so the cell pointer is a header pointer.
        let header = unsafe { NonNull::new_unchecked(cell.cast::<Header>()) };
        let raw = RawTask { ptr: header };
        // SAFETY: `cell` is a live allocation; taking the field's address creates no
        // reference. The pointer is non-null as a field of a non-null allocation.
        let data = unsafe { NonNull::new_unchecked(ptr::addr_of_mut!((*cell).data)) };

        /// Drops the list's and the `Notified`'s references if `make` unwinds.
        struct Unwind(RawTask);
        impl Drop for Unwind {
            fn drop(&mut self) {
                // SAFETY: the list's and the `Notified`'s references, which nobody else
                // holds yet: `make` unwound before they were handed out.
                unsafe {
                    self.0.drop_reference();
                    self.0.drop_reference();
                }
            }
        }

        // SAFETY: the new cell holds four references; these two `TaskRef`s take two of them,
        // and `data` points to the cell's data.
        let (mine, theirs) =
            unsafe { (TaskRef::from_raw(raw, data), TaskRef::from_raw(raw, data)) };
        let unwind = Unwind(raw);
        let future = make(theirs);
        mem::forget(unwind);
        // SAFETY: the task is in no list and no queue yet, so nobody else can reach the
        // stage (a `TaskRef` only touches the state word and the data). The old stage is
        // `Consumed`: overwriting it drops nothing.
        unsafe {
            (*cell)
                .stage
                .with_mut(|stage| ptr::write(stage, Stage::Running(future)))
        };
        (raw, mine)
    }

    /// # Safety
    ///
    /// `ptr` must point to a live task header.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `RawTask` is only used while the reference it stands for keeps the cell
        // alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn state(&self) -> &State {
        &self.header().state
    }

    /// Runs the task (consumes a `Notified` reference).
    ///
    /// # Safety
    ///
    /// The caller owns the `Notified` reference this `RawTask` stands for, and hands it
    /// over: neither it nor a copy of this `RawTask` is used for that reference again.
    pub(crate) unsafe fn poll(self) {
        // SAFETY: the vtable matches the cell it was created with; the caller hands over
        // the reference the vtable function consumes.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Submits the task (consumes one reference, which becomes a `Notified`).
    ///
    /// # Safety
    ///
    /// As for [`poll`](Self::poll): the caller owns one reference and hands it over.
    pub(crate) unsafe fn schedule(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Frees the task.
    ///
    /// # Safety
    ///
    /// No reference may remain.
    pub(crate) unsafe fn dealloc(self) {
        // SAFETY: the vtable matches the cell; the caller owns the last reference.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    ///
    /// `dst` must be a valid `*mut Poll<Result<T, JoinError>>` for the task's output type
    /// `T`, and the caller must be the `JoinHandle`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the `JoinHandle`'s reference.
    ///
    /// # Safety
    ///
    /// The caller is the `JoinHandle` and hands its reference over.
    pub(crate) unsafe fn drop_join_handle_slow(self) {
        // SAFETY: the vtable matches the cell; the caller hands over the reference.
        unsafe { (self.header().vtable.drop_join_handle_slow)(self.ptr) }
    }

    /// A pointer to the task's data as a `V`, if it has data whose view type is `V`.
    pub(crate) fn view<V: ?Sized + 'static>(self) -> Option<NonNull<V>> {
        let mut dst = mem::MaybeUninit::<NonNull<V>>::uninit();
        // SAFETY: the vtable matches the cell; `dst` is a `NonNull<V>` slot, which the
        // function writes only when the data's view type is `V` (same `TypeId`).
        let found = unsafe {
            (self.header().vtable.view)(self.ptr, TypeId::of::<V>(), dst.as_mut_ptr().cast())
        };
        // SAFETY: written when `found`.
        found.then(|| unsafe { dst.assume_init() })
    }

    /// The name the task's data gives it, if it has data (the caller holds a reference).
    pub(crate) fn data_name(self) -> Option<String> {
        // SAFETY: the vtable matches the cell; the caller's reference keeps it alive.
        self.header()
            .vtable
            .name
            .and_then(|f| unsafe { f(self.ptr) })
    }

    /// True if the task carries data (`Handle::spawn_with`).
    pub(crate) fn has_data(self) -> bool {
        self.header().vtable.name.is_some()
    }

    /// The runtime handle of the task's scheduler.
    pub(crate) fn runtime_handle(self) -> Option<crate::Handle> {
        // SAFETY: the vtable matches the cell.
        unsafe { (self.header().vtable.runtime_handle)(self.ptr) }
    }

    /// Shuts the task down (consumes the owned-list reference).
    ///
    /// # Safety
    ///
    /// The caller owns the owned-list reference and hands it over.
    pub(crate) unsafe fn shutdown(self) {
        // SAFETY: the vtable matches the cell; the caller hands over the reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Drops one reference, freeing the task if it was the last.
    ///
    /// # Safety
    ///
    /// The caller owns the reference and hands it over.
    pub(crate) unsafe fn drop_reference(self) {
        if self.state().ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() }
        }
    }

    /// `Waker::wake`: consumes the waker's reference.
    ///
    /// # Safety
    ///
    /// The caller owns the waker's reference and hands it over.
    pub(crate) unsafe fn wake_by_val(self) {
        match self.state().transition_to_notified_by_val() {
            // SAFETY: the transition turned the waker's reference into the one `schedule`
            // consumes.
            TransitionToNotifiedByVal::Submit => unsafe { self.schedule() },
            // SAFETY: the state says the waker held the last reference.
            TransitionToNotifiedByVal::Dealloc => unsafe { self.dealloc() },
            TransitionToNotifiedByVal::DoNothing => {}
        }
    }

    /// `Waker::wake_by_ref`.
    pub(crate) fn wake_by_ref(self) {
        match self.state().transition_to_notified_by_ref() {
            // SAFETY: the transition added the reference `schedule` consumes.
            TransitionToNotifiedByRef::Submit => unsafe { self.schedule() },
            TransitionToNotifiedByRef::DoNothing => {}
        }
    }

    /// A cancellation request (step 1 of `cancel.rs`); false if the task is complete.
    pub(crate) fn request_cancel(self) -> bool {
        if self.state().load().is_complete() {
            return false;
        }
        #[cfg(feature = "tracing")]
        tracing::trace!(target: "taskio::task", parent: &self.header().meta.span, "cancel requested");
        self.header().cancel.request();
        crate::task::cancel::note_request(self.ptr);
        match self.state().transition_to_notified_for_cancel() {
            // SAFETY: the transition added the reference `schedule` consumes.
            TransitionToNotifiedByRef::Submit => unsafe { self.schedule() },
            TransitionToNotifiedByRef::DoNothing => {}
        }
        true
    }

    /// Requests not withdrawn (asyncio's `cancelling()`).
    pub(crate) fn cancelling(self) -> u32 {
        self.header().cancel.load().count()
    }

    /// Withdraws one request (asyncio's `uncancel()`); returns the requests left.
    pub(crate) fn uncancel(self) -> u32 {
        self.header().cancel.uncancel()
    }

    /// `abort`: mark cancelled and, if idle, submit it so the scheduler drops the future.
    pub(crate) fn remote_abort(self) {
        #[cfg(feature = "tracing")]
        tracing::trace!(target: "taskio::task", parent: &self.header().meta.span, "aborted");
        if self.state().transition_to_notified_and_cancel() {
            // SAFETY: the transition added the reference `schedule` consumes.
            unsafe { self.schedule() };
        }
    }
}

unsafe fn poll<T: Future, S: Schedule, D>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S, D>`.
    let harness = unsafe { Harness::<T, S, D>::from_raw(ptr) };
    harness.poll();
}

unsafe fn schedule<T: Future, S: Schedule, D>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S, D>`; the caller hands over one reference,
    // which becomes the `Notified`.
    unsafe {
        let harness = Harness::<T, S, D>::from_raw(ptr);
        harness
            .scheduler()
            .schedule(crate::task::Notified::<S>::from_raw(ptr));
    }
}

unsafe fn dealloc<T: Future, S: Schedule, D>(ptr: NonNull<Header>) {
    // SAFETY: the cell was allocated by `Box::new` as a `Cell<T, S, D>` and this is its last
    // reference.
    drop(unsafe { Box::from_raw(ptr.as_ptr().cast::<Cell<T, S, D>>()) });
}

unsafe fn try_read_output<T: Future, S: Schedule, D>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the vtable was built for `Cell<T, S, D>`; the caller guarantees `dst`'s type.
    unsafe {
        let harness = Harness::<T, S, D>::from_raw(ptr);
        harness.try_read_output(dst.cast(), waker);
    }
}

unsafe fn drop_join_handle_slow<T: Future, S: Schedule, D>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S, D>`.
    let harness = unsafe { Harness::<T, S, D>::from_raw(ptr) };
    harness.drop_join_handle_slow();
}

unsafe fn shutdown<T: Future, S: Schedule, D>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S, D>`.
    let harness = unsafe { Harness::<T, S, D>::from_raw(ptr) };
    harness.shutdown();
}

unsafe fn no_view(_ptr: NonNull<Header>, _want: TypeId, _dst: *mut ()) -> bool {
    false
}

unsafe fn view<T: Future, S: Schedule, D: TaskData>(
    ptr: NonNull<Header>,
    want: TypeId,
    dst: *mut (),
) -> bool {
    if want != TypeId::of::<D::View>() {
        return false;
    }
    // SAFETY: the vtable was built for `Cell<T, S, D>` and the caller keeps the cell alive;
    // the data is never written after the cell is made, so a shared borrow of it is sound.
    // The caller passed a `NonNull<V>` slot for the `V` whose `TypeId` is `want`, which is
    // `D::View`.
    unsafe {
        let data = &(*ptr.as_ptr().cast::<Cell<T, S, D>>()).data;
        dst.cast::<NonNull<D::View>>()
            .write(NonNull::from(data.view()));
    }
    true
}

unsafe fn name<T: Future, S: Schedule, D: TaskData>(ptr: NonNull<Header>) -> Option<String> {
    // SAFETY: the vtable was built for `Cell<T, S, D>` and the caller keeps the cell alive;
    // the data is never written after the cell is made.
    let cell = unsafe { ptr.cast::<Cell<T, S, D>>().as_ref() };
    cell.data.name()
}

unsafe fn runtime_handle<T: Future, S: Schedule, D>(ptr: NonNull<Header>) -> Option<crate::Handle> {
    // SAFETY: the vtable was built for `Cell<T, S, D>`; the caller keeps the cell alive.
    let harness = unsafe { Harness::<T, S, D>::from_raw(ptr) };
    harness.scheduler().runtime_handle()
}
