//! The one door to synchronisation primitives.
//!
//! Every atomic, `Arc`, mutex, condvar, `UnsafeCell` and thread spawn in the runtime goes
//! through this module. In a normal build it is `std` and `parking_lot`; under `--cfg loom`
//! it is [loom](https://docs.rs/loom)'s model-checked replacements, so the same code is what
//! loom explores. `UnsafeCell` copies loom's `with` / `with_mut` API so hot code reads the
//! same in both builds.

#[cfg(not(loom))]
mod std_impl;
// The shim exports the whole family of each kind, used or not yet.
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std_impl::*;

#[cfg(loom)]
mod mocked;
#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use mocked::*;
