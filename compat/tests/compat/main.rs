//! taskio's integration tests, one binary (one link) for all: each module is one part of the
//! asyncio API, its bodies run on the deterministic runner and on 1 and 4 workers (see
//! `taskio_tests::{flavours, both}`).
//!
//! The tests of every module share this process and run in parallel. What needs the
//! process to itself is a binary of its own: signal handlers (`compat_signals`), the main
//! thread (`compat_signals_main`); so is what needs a feature (`compat_hyper`) or `cfg(loom)`
//! (`loom_primitives`). Process-wide settings the tests here change are taken in turns
//! (`taskio_tests::ErrorHookTurn` for the error hook) or only raised (`server_burst`'s
//! descriptor limit).
#![cfg(not(loom))]

#[macro_use]
extern crate taskio_tests;

mod as_completed;
mod asyncio_properties;
mod cancel_scopes;
mod cancellation;
mod events;
mod exceptions;
mod gather;
mod locks;
mod macros;
mod observe;
mod properties;
mod queues;
mod runners;
mod server_burst;
mod shield;
mod shutdown;
mod streams;
mod taskgroup;
mod tasks;
mod threads;
mod timeouts;
mod waker_panics;
