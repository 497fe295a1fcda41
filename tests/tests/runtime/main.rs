//! The runtime's integration tests, one binary (one link) for all: each module is a subsystem
//! (`rt_*`, `task_*`, `net_*`), each body run on the current-thread, 1-worker and 4-worker
//! runtimes (see `taskio_tests::rt_tests!`).
//!
//! The tests of every module share this process and run in parallel: a module that needs
//! process-wide state of its own (signal handlers: `rt_signal`) is a binary of its own.

mod net_echo;
mod net_read_uninit;
mod net_ready;
mod net_unix_datagram;
mod rt_common;
mod rt_observe;
mod rt_shutdown;
mod rt_stress;
mod rt_time;
mod rt_waker_panics;
mod task_cancel;
mod task_data;
