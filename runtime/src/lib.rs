//! taskio-runtime: a multi-threaded work-stealing async runtime.
//!
//! (Crate docs are written with the scheduler; see DESIGN.md for the picture.)
#![warn(missing_docs)]

pub(crate) mod loom;

#[allow(dead_code)]
pub(crate) mod driver;

pub mod time;
