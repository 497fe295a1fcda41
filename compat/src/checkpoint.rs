//! The one place where a taskio awaitable becomes a cancellation checkpoint.
//!
//! The runtime owns the request (`taskio_runtime::task::take_cancel` delivers it, once);
//! this turns a delivery into the task's `Err(Cancelled(message))`. Every waiting awaitable
//! of this crate calls [`take_cancel`] where it would wait, before registering.

use crate::exceptions::Error;

/// Delivers the current task's pending cancellation as `Err(Cancelled(message))`: the first
/// thing every taskio checkpoint does when it would wait. The cost when nothing is pending is
/// the runtime's (a thread-local read and one atomic load); the message is looked up only on
/// a delivery.
#[inline]
pub(crate) fn take_cancel() -> Option<Error> {
    taskio_runtime::task::take_cancel().map(|_| delivered_error())
}

/// The error of a cancellation the runtime just delivered to the current task: Cancelled
/// with the message of its last `cancel` (none when the current task is not a taskio task).
#[cold]
pub(crate) fn delivered_error() -> Error {
    if let Some(me) = crate::kernel::task::current() {
        return me.cancelled_error();
    }
    Error::cancelled(None)
}
