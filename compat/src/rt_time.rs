//! The runtime's timers, as compat uses them.
pub(crate) use taskio_runtime::time::{sleep, sleep_until, Sleep};
