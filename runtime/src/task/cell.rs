//! The task's one allocation: `Cell<T, S, D>` = `Header` | scheduler | stage | data.
//!
//! `Header` holds everything that does not depend on the future's type, so that type-erased
//! code (wakers, `JoinHandle`, the owned-task list, run queues) works on a `NonNull<Header>`;
//! `Cell` is `#[repr(C)]` with the header first, so a header pointer is a cell pointer.

use crate::loom::cell::UnsafeCell;
use crate::task::raw::Vtable;
use crate::task::state::State;
use crate::task::{Id, JoinError};
use std::future::Future;
use std::ptr::NonNull;
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
}

/// Intrusive links of the owned-task list.
#[derive(Debug, Default)]
pub(crate) struct Links {
    pub(crate) prev: Option<NonNull<Header>>,
    pub(crate) next: Option<NonNull<Header>>,
    /// True while the task is in a list.
    pub(crate) linked: bool,
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
    pub(crate) fn new(
        state: State,
        stage: Stage<T>,
        scheduler: S,
        data: D,
        id: Id,
        vtable: &'static Vtable,
    ) -> Box<Self> {
        Box::new(Cell {
            header: Header {
                state,
                vtable,
                owned: UnsafeCell::new(Links::default()),
                join_waker: UnsafeCell::new(None),
                id,
            },
            scheduler,
            stage: UnsafeCell::new(stage),
            data,
        })
    }
}

// SAFETY: the header's cells are only touched under the protocols documented on each field
// (list mutex, JOIN_WAKER bit); the state is atomic.
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}
