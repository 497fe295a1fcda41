//! Conversions: any `std::error::Error` into [`Error`] (what `?` uses), and [`Error`] back
//! into the std error types (`&dyn Error` through `Deref`, `Box<dyn Error>`, `io::Error`).

use std::error::Error as StdError;
use std::fmt;

use super::{Error, ErrorKind, Repr};

impl<E> From<E> for Error
where
    E: StdError + Send + Sync + 'static,
{
    fn from(error: E) -> Error {
        Error::new(error)
    }
}

impl std::ops::Deref for Error {
    type Target = dyn StdError + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        self.as_std_error()
    }
}

impl AsRef<dyn StdError + Send + Sync + 'static> for Error {
    fn as_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.as_std_error()
    }
}

/// A `std::error::Error` that holds a taskio [`Error`], for APIs that want a boxed std error.
struct Boxed(Error);

impl fmt::Debug for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Boxed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.inner.source()
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(error: Error) -> Self {
        Box::new(Boxed(error))
    }
}

/// For `futures_io` traits and other `io::Result` APIs: an [`ErrorKind::Io`] error gives its
/// `io::Error` back (moved out when no clone is alive; else a copy of its kind and message);
/// a timeout becomes `TimedOut`, a cancellation `Interrupted`, an incomplete read
/// `UnexpectedEof`; anything else is wrapped with kind `Other` (its `get_ref()` displays the
/// taskio error).
///
/// # Examples
///
/// ```
/// let io: std::io::Error = taskio::Error::timeout().into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// let original = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
/// let back: std::io::Error = taskio::Error::from(original).into();
/// assert_eq!(back.kind(), std::io::ErrorKind::BrokenPipe);
/// ```
impl From<Error> for std::io::Error {
    fn from(error: Error) -> std::io::Error {
        use std::io::ErrorKind as Io;
        let kind = match error.kind() {
            ErrorKind::Io => match error.downcast::<std::io::Error>() {
                Ok(io) => return io,
                Err(shared) => {
                    let Repr::Io(io) = &shared.inner.repr else {
                        unreachable!("kind is Io")
                    };
                    return std::io::Error::new(io.kind(), io.to_string());
                }
            },
            ErrorKind::Timeout => Io::TimedOut,
            ErrorKind::Cancelled => Io::Interrupted,
            ErrorKind::IncompleteRead => Io::UnexpectedEof,
            _ => Io::Other,
        };
        std::io::Error::new(kind, Boxed(error))
    }
}
