//! The payloads of the errors that carry data, read with
//! [`Error::downcast_ref`](crate::Error::downcast_ref) as `std::io::Error`'s custom errors
//! are: [`IncompleteRead`], [`LimitOverrun`] and [`ExceptionGroup`]. Each is also a
//! `std::error::Error` of its own; converting one into an [`Error`] (with `?` or
//! [`Error::new`]) gives the error of its kind.

use std::error::Error as StdError;
use std::fmt;

use crate::exceptions::Error;

/// asyncio's `IncompleteReadError`: EOF came after `partial`, before `expected` bytes (or,
/// with `None`, before a separator). The payload of an [`ErrorKind::IncompleteRead`](
/// crate::ErrorKind::IncompleteRead) error.
///
/// # Examples
///
/// ```
/// use taskio::{Error, ErrorKind, IncompleteRead};
///
/// let err = Error::incomplete_read(b"ab".to_vec(), Some(5));
/// assert_eq!(err.kind(), ErrorKind::IncompleteRead);
/// let IncompleteRead { partial, expected } = err.downcast_ref::<IncompleteRead>().unwrap();
/// assert_eq!((&partial[..], *expected), (&b"ab"[..], Some(5)));
///
/// // The payload converts into the error of its kind.
/// let err = Error::from(IncompleteRead { partial: vec![], expected: None });
/// assert_eq!(err.kind(), ErrorKind::IncompleteRead);
/// assert_eq!(err.to_string(), "0 bytes read on a total of undefined expected bytes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteRead {
    /// The bytes read before EOF.
    pub partial: Vec<u8>,
    /// The number of bytes wanted (`None`: a separator was wanted, not a count).
    pub expected: Option<usize>,
}

impl fmt::Display for IncompleteRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes read on a total of ", self.partial.len())?;
        match self.expected {
            Some(n) => write!(f, "{n} expected bytes"),
            None => f.write_str("undefined expected bytes"),
        }
    }
}

impl StdError for IncompleteRead {}

/// asyncio's `LimitOverrunError`: a stream's buffer limit was reached. The payload of an
/// [`ErrorKind::LimitOverrun`](crate::ErrorKind::LimitOverrun) error.
///
/// # Examples
///
/// ```
/// use taskio::{Error, LimitOverrun};
///
/// let err = Error::limit_overrun("Separator is not found, and chunk exceed the limit", 70000);
/// let LimitOverrun { consumed, .. } = err.downcast_ref::<LimitOverrun>().unwrap();
/// assert_eq!(*consumed, 70000);
/// assert_eq!(err.to_string(), "Separator is not found, and chunk exceed the limit");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrun {
    /// What was overrun, asyncio's message.
    pub message: String,
    /// The number of bytes to consume (asyncio's `consumed`): up to the separator, or what
    /// is buffered when no separator was found.
    pub consumed: usize,
}

impl fmt::Display for LimitOverrun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for LimitOverrun {}

/// An exception group: a message and the errors it holds, each of which may be a group
/// itself. The payload of an [`ErrorKind::Group`](crate::ErrorKind::Group) error (a
/// [`TaskGroup`](crate::TaskGroup)'s failure, for one).
///
/// # Examples
///
/// ```
/// use taskio::{Error, ExceptionGroup};
///
/// let err = Error::group("unhandled errors", vec![Error::timeout(), Error::msg("x")]);
/// let ExceptionGroup { message, errors } = err.downcast_ref::<ExceptionGroup>().unwrap();
/// assert_eq!(message, "unhandled errors");
/// assert!(errors[0].is_timeout());
/// assert_eq!(errors[1].to_string(), "x");
/// assert!(Error::timeout().downcast_ref::<ExceptionGroup>().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ExceptionGroup {
    /// The group's message.
    pub message: String,
    /// The errors, in the order they were raised.
    pub errors: Vec<Error>,
}

impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "{} ({n} sub-exception{s})", self.message)
    }
}

impl StdError for ExceptionGroup {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.errors.first().map(|e| e.as_std_error() as _)
    }
}
