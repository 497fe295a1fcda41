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

/// `thread_local!` that loom can model: under loom each modelled thread gets its own value
/// (std's thread-locals would be shared, since loom runs its threads on one OS thread).
macro_rules! rt_thread_local {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        #[cfg(not(loom))]
        std::thread_local! { $(#[$attr])* static $name: $t = const { $init }; }
        #[cfg(loom)]
        loom::thread_local! { $(#[$attr])* static $name: $t = $init; }
    };
}
pub(crate) use rt_thread_local;
