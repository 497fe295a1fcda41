//! The task's one allocation: `Cell<T, S>` = `Header` | scheduler | stage.
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

/// The whole task.
#[repr(C)]
pub(crate) struct Cell<T: Future, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    /// The future, then its output. Access: whoever holds RUNNING; after COMPLETE, the
    /// `JoinHandle` if JOIN_INTEREST was set at completion, else the runtime.
    pub(crate) stage: UnsafeCell<Stage<T>>,
}

/// Where the task is in its life.
pub(crate) enum Stage<T: Future> {
    Running(T),
    Finished(Result<T::Output, JoinError>),
    Consumed,
}

impl<T: Future, S> Cell<T, S> {
    /// Allocates a new task.
    pub(crate) fn new(future: T, scheduler: S, id: Id, vtable: &'static Vtable) -> Box<Self> {
        Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable,
                owned: UnsafeCell::new(Links::default()),
                join_waker: UnsafeCell::new(None),
                id,
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        })
    }
}

// SAFETY: the header's cells are only touched under the protocols documented on each field
// (list mutex, JOIN_WAKER bit); the state is atomic.
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}
