//! The kernel: the protocols the asyncio facade is built on. Nothing here is public. Each
//! protocol is written once, in the module docs of its file, and checked by the loom model
//! at the end of that file (`.ci/loom.sh` runs them all); the public modules point here
//! instead of restating them.
//!
//! - [`sync`]: the loom shim. Every mutex, atomic and thread of the crate comes from here,
//!   so the code a model checks is the code that runs.
//! - [`waiters`]: the FIFO waiter list under one mutex that every primitive (locks, queues)
//!   is built on; "a woken, then cancelled, waiter passes the wake-up on".
//! - [`completion`]: a task's result slot and everyone waiting for it: the outcome is
//!   stored once, then every waiter, listener and done callback is told exactly once, with
//!   no lock held.
//! - [`tally`]: a gather's count of children left and its first failure, told by their
//!   completions.
//! - [`watch`]: a set of tasks and the order in which they complete (`wait`,
//!   `as_completed`).
//! - [`task`]: a task itself: one runtime task carrying its `Core` (name and
//!   [`completion`]), the future the runtime runs, cancellation through the runtime. No model
//!   of its own: what it adds to [`completion`] is the runtime's, checked by the runtime's
//!   models.
//! - [`ids`]: task-id sets (a cheap hasher; the distinct tasks of a sequence); sequential.

pub(crate) mod completion;
pub(crate) mod ids;
pub(crate) mod sync;
pub(crate) mod tally;
pub(crate) mod task;
pub(crate) mod waiters;
pub(crate) mod watch;
