//! Shared code of taskio's fuzz targets: each target is a thin shim over a function here that
//! checks the real thing against a model and panics on the first difference.
//!
//! - [`stream_reader`]: `taskio::StreamReader` (over a scripted source) against a `VecDeque`
//!   model of asyncio's rules (the model lives in `taskio::streams::model`, shared with the
//!   proptest in `compat/tests/compat/streams.rs`).
//! - [`scheduler`]: spawn / wake / abort / yield / join on a current-thread runtime against a
//!   model of what each task must end as.

pub mod scheduler;
pub mod stream_reader;
