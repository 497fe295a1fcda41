//! taskio: asyncio's semantics for Rust, on a multi-threaded work-stealing runtime.
//!
//! This crate is being built; today it re-exports the runtime.

pub use taskio_runtime as runtime;
