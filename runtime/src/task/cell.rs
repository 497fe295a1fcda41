//! The task's one allocation: `Cell<T, S, D>` = `Header` | scheduler | stage | data.
//!
//! `Header` holds everything that does not depend on the future's type, so that type-erased
//! code (wakers, `JoinHandle`, the owned-task list, run queues) works on a `NonNull<Header>`;
//! `Cell` is `#[repr(C)]` with the header first, so a header pointer is a cell pointer.

use crate::loom::cell::UnsafeCell;
use crate::task::cancel::CancelWord;
use crate::task::meta::{Meta, TaskInit};
use crate::task::raw::Vtable;
use crate::task::state::State;
use crate::task::{Id, JoinError};
use std::future::Future;
use std::ptr::{self, NonNull};
use std::task::Waker;

/// The type-independent part of a task.
#[repr(C)]
pub(crate) struct Header {
    /// The state word (see `state.rs`).
    pub(crate) state: State,
    /// Type-specific functions.
    pub(crate) vtable: &'static Vtable,
    /// Links of the owned-task list. Guarded by the list shard's mutex.
    pub(crate) owned: UnsafeCell<Links>,
    /// The `JoinHandle`'s waker. Access governed by JOIN_WAKER (see `state.rs`).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's id.
    pub(crate) id: Id,
    /// Cancellation requests: how many, and whether one waits to be delivered (see
    /// `cancel.rs`).
    pub(crate) cancel: CancelWord,
    /// How many times the task was polled (wrapping); written only by the poller (see
    /// `meta.rs`). A `u32` beside `cancel`'s, so the two share one word.
    pub(crate) polls: std::sync::atomic::AtomicU32,
    /// The task tree's records (see `meta.rs`); after the hot fields.
    pub(crate) meta: Meta,
}

/// Intrusive links of the owned-task list.
#[derive(Debug, Default)]
pub(crate) struct Links {
    pub(crate) prev: Option<NonNull<Header>>,
    pub(crate) next: Option<NonNull<Header>>,
}

/// The whole task. Fields drop in declaration order, so when the cell is freed the stage
/// goes before `data`.
#[repr(C)]
pub(crate) struct Cell<T: Future, S, D> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    /// The future, then its output. Access: whoever holds RUNNING; after COMPLETE, the
    /// `JoinHandle` if JOIN_INTEREST was set at completion, else the runtime.
    pub(crate) stage: UnsafeCell<Stage<T>>,
    /// The data of a task spawned with `Handle::spawn_with` (`()` for every other task):
    /// immutable, shared by every `TaskRef` for the cell's whole life, dropped only when the
    /// cell is freed.
    pub(crate) data: D,
}

/// Where the task is in its life.
pub(crate) enum Stage<T: Future> {
    Running(T),
    Finished(Result<T::Output, JoinError>),
    Consumed,
}

impl<T: Future, S, D> Cell<T, S, D> {
    /// Allocates a new task in `state` and `stage` (`Running`, or `Consumed` for a task
    /// whose future is written in just after, see `RawTask::new_with_data`).
    #[inline]
    pub(crate) fn new(
        state: State,
        stage: Stage<T>,
        scheduler: S,
        data: D,
        init: TaskInit,
        vtable: &'static Vtable,
    ) -> Box<Self> {
        // Built in place, field by field: `Box::new(Cell { .. })` assembles the cell on the
        // stack and then copies all of it to the heap (measured: a few hundred bytes per
        // spawn with `taskio`'s data, the largest `memcpy` of `create_task`).
        let mut cell = Box::<Self>::new_uninit();
        let p = cell.as_mut_ptr();
        // SAFETY: `p` points to an allocation sized and aligned for a `Cell`. Each field is
        // written exactly once, through a raw place (no reference to uninitialised memory is
        // made), so every field is initialised when `assume_init` runs; the padding needs no
        // value.
        unsafe {
            ptr::addr_of_mut!((*p).header).write(Header {
                state,
                vtable,
                owned: UnsafeCell::new(Links::default()),
                join_waker: UnsafeCell::new(None),
                id: init.id,
                cancel: CancelWord::new(),
                polls: std::sync::atomic::AtomicU32::new(0),
                meta: Meta::new(&init),
            });
            ptr::addr_of_mut!((*p).scheduler).write(scheduler);
            ptr::addr_of_mut!((*p).stage).write(UnsafeCell::new(stage));
            ptr::addr_of_mut!((*p).data).write(data);
            cell.assume_init()
        }
    }
}

// SAFETY: the header's cells are only touched under the protocols documented on each field
// (list mutex, JOIN_WAKER bit); the state is atomic.
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}
