//! Shared helpers for taskio's integration tests (see `tests/tests/`).

pub mod io;
