//! The kernel: the protocols the asyncio facade is built on. Nothing here is public; each
//! file holds one protocol, written out in its module docs, and its loom model.
//!
//! - [`sync`]: the loom shim. Every mutex, atomic and thread of the kernel comes from here,
//!   so the code a model checks is the code that runs.
//! - [`waiters`]: the FIFO waiter list under one mutex that every primitive (locks, queues)
//!   is built on; "a woken, then cancelled, waiter passes the wake-up on".
//! - [`task`]: a task's shared state and its completion protocol: the outcome is stored
//!   once, then waiters are woken, listeners told and done callbacks scheduled, all with no
//!   lock held.
//! - [`watch`]: a set of tasks and the order in which they complete (`wait`,
//!   `as_completed`).

pub(crate) mod sync;
pub(crate) mod task;
pub(crate) mod waiters;
pub(crate) mod watch;
