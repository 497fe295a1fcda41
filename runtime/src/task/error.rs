//! `JoinError`: why a task did not return its output.

use crate::task::Id;
use std::any::Any;
use std::fmt;

/// A task failed to complete: it was cancelled (aborted, or dropped at runtime shutdown) or
/// it panicked.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = taskio_runtime::spawn(async { panic!("boom") });
///     let err = handle.await.unwrap_err();
///     assert!(err.is_panic());
///     let payload = err.into_panic();
///     assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
/// });
/// ```
pub struct JoinError {
    /// `None`: cancelled. Boxed, so a `JoinError` is two words: it sits in every task's
    /// output slot (`Result<T, JoinError>`), whose size is the cell's for a small output.
    panic: Option<Box<Panic>>,
    id: Id,
}

/// The payload, and its message read once at creation (so `&JoinError` never needs to look
/// at the payload, which is only `Send`).
struct Panic(SyncWrapper, Option<String>);

/// Makes the `Send`-only panic payload `Sync`: it is only ever reached by value (moved out
/// by `into_panic`), never through a shared reference.
struct SyncWrapper(Box<dyn Any + Send + 'static>);

// SAFETY: `SyncWrapper` gives no access to its contents through `&self` (no method takes
// `&self`); the payload is only moved out by value, which needs `Send` only.
unsafe impl Sync for SyncWrapper {}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError { panic: None, id }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let msg = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            panic: Some(Box::new(Panic(SyncWrapper(payload), msg))),
            id,
        }
    }

    /// True if the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// True if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!() })).unwrap_err();
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// The panic payload.
    ///
    /// # Panics
    ///
    /// If the error is not a panic; see [`try_into_panic`](Self::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!("x") })).unwrap_err();
    /// // Re-raise the panic in this thread:
    /// let payload = err.into_panic();
    /// let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     std::panic::resume_unwind(payload)
    /// }));
    /// assert!(result.is_err());
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancellation, not a panic")
    }

    /// The panic payload, or the error back if it is not a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     let err = handle.await.unwrap_err();
    ///     assert!(err.try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.panic {
            Some(p) => Ok(p.0 .0),
            _ => Err(self),
        }
    }

    /// The id of the task that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = taskio_runtime::spawn(async { panic!() });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic message, when the task panicked with a `&str` or a `String` payload (as
    /// `panic!` with a message does).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!("no {}", "luck") })).unwrap_err();
    /// assert_eq!(err.panic_message(), Some("no luck"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.panic {
            Some(p) => p.1.as_deref(),
            None => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.panic {
            None => write!(fmt, "task {} was cancelled", self.id),
            Some(_) => match self.panic_message() {
                Some(msg) => write!(fmt, "task {} panicked with message {:?}", self.id, msg),
                None => write!(fmt, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.panic {
            None => write!(fmt, "JoinError::Cancelled({:?})", self.id),
            Some(_) => match self.panic_message() {
                Some(msg) => write!(fmt, "JoinError::Panic({:?}, {:?}, ...)", self.id, msg),
                None => write!(fmt, "JoinError::Panic({:?}, ...)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(src: JoinError) -> std::io::Error {
        std::io::Error::other(src.to_string())
    }
}
