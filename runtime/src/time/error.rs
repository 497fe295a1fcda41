//! Time errors.

use std::fmt;

/// The error of a [`Timeout`](crate::time::Timeout) whose deadline passed first.
///
/// # Examples
///
/// ```
/// use taskio_runtime::time::error::Elapsed;
/// use taskio_runtime::time::{timeout, Duration};
///
/// async fn example() {
///     let never = std::future::pending::<()>();
///     let err: Elapsed = timeout(Duration::from_millis(10), never).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
/// }
/// # taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(example());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}
