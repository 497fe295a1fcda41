//! [`PutError`]: a failed put, with its item given back.

use std::fmt;

use crate::exceptions::Error;

/// A failed put: the error (QueueFull or QueueShutDown) and the item, given back.
///
/// `?` turns it into a taskio [`Error`], dropping the item.
///
/// # Examples
///
/// ```
/// fn fill(q: &taskio::Queue<u8>) -> taskio::Result<()> {
///     q.put_nowait(1)?;
///     q.put_nowait(2)?; // QueueFull
///     Ok(())
/// }
/// let q = taskio::Queue::new(1);
/// assert_eq!(fill(&q).unwrap_err().kind(), taskio::ErrorKind::QueueFull);
/// ```
pub struct PutError<T> {
    error: Error,
    item: T,
}

impl<T> PutError<T> {
    pub(super) fn new(error: Error, item: T) -> Self {
        PutError { error, item }
    }

    /// The error.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// let err = q.put_nowait(1).unwrap_err();
    /// assert_eq!(err.error().kind(), taskio::ErrorKind::QueueShutDown);
    /// ```
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// assert_eq!(q.put_nowait(5).unwrap_err().into_item(), 5);
    /// ```
    pub fn into_item(self) -> T {
        self.item
    }

    /// The error and the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = taskio::Queue::new(0);
    /// q.shutdown(false);
    /// let (err, item) = q.put_nowait('x').unwrap_err().into_parts();
    /// assert_eq!((err.kind(), item), (taskio::ErrorKind::QueueShutDown, 'x'));
    /// ```
    pub fn into_parts(self) -> (Error, T) {
        (self.error, self.item)
    }
}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Error {
        e.error
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}
