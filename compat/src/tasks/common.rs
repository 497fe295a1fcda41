//! What [`Task`](super::Task) and [`AnyTask`](super::AnyTask) share: asyncio's `Task`
//! methods that need no `T`, written once over a task reference of any view (a typed
//! `Core<T>` or the erased `dyn AnyCore`). Each public type keeps its own methods, with its
//! own docs, and calls these.

use std::fmt;

use taskio_runtime::task::TaskRef;

use crate::exceptions::{Error, Result};
use crate::kernel::task::{AnyCore, Cancel};

/// `Task.cancel(msg)`: false if the task is done.
pub(super) fn cancel<C: AnyCore + ?Sized>(task: &TaskRef<C>, msg: Option<&str>) -> bool {
    task.cancel(msg.map(str::to_owned))
}

/// `Task.cancelling()`.
pub(super) fn cancelling<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> u32 {
    TaskRef::cancelling(task)
}

/// `Task.uncancel()`.
pub(super) fn uncancel<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> u32 {
    TaskRef::uncancel(task)
}

/// `Task.cancelled()`: ended cancelled.
pub(super) fn cancelled<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> bool {
    matches!(task.failure(), Some(Some(e)) if e.is_cancelled())
}

/// `Task.done()`.
pub(super) fn done<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> bool {
    task.seq().is_some()
}

/// `Task.exception()`: `InvalidState` while pending, the Cancelled error raised.
pub(super) fn exception<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> Result<Option<Error>> {
    match task.failure() {
        None => Err(Error::invalid_state("Exception is not set.")),
        Some(Some(e)) if e.is_cancelled() => Err(e),
        Some(f) => Ok(f),
    }
}

/// `Task.get_name()`.
pub(super) fn get_name<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> String {
    AnyCore::name(&**task)
}

/// `Task.set_name(name)`.
pub(super) fn set_name<C: AnyCore + ?Sized>(task: &TaskRef<C>, name: String) {
    AnyCore::set_name(&**task, name);
}

/// The process-unique id.
pub(super) fn id<C: AnyCore + ?Sized>(task: &TaskRef<C>) -> u64 {
    TaskRef::id(task).as_u64()
}

/// `Debug` of every handle type (`ty`): name, id, state.
pub(super) fn debug<C: AnyCore + ?Sized>(
    task: &TaskRef<C>,
    ty: &str,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let state = match task.failure() {
        None => "pending",
        Some(None) => "finished",
        Some(Some(e)) if e.is_cancelled() => "cancelled",
        Some(Some(_)) => "failed",
    };
    f.debug_struct(ty)
        .field("name", &get_name(task))
        .field("id", &id(task))
        .field("state", &state)
        .finish()
}
