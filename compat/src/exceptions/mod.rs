//! asyncio's exceptions as one Rust error type: [`Error`], with its [`ErrorKind`].
//!
//! Python code raises and catches exception *objects*; taskio code returns
//! `taskio::Result<T>` and matches on [`Error::kind`]. One type covers every kind
//! asyncio raises (Cancelled, Timeout, an exception group, the queue, lock and stream errors),
//! panics caught in a task, I/O errors, and any user error, which `?` converts.
//!
//! # The trade-off: `Error` does not implement `std::error::Error`
//!
//! This follows `anyhow::Error`. For `?` to convert *any* user error into `Error`, the crate
//! needs a blanket `impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error`.
//! If `Error` implemented `std::error::Error` itself, that blanket impl would overlap with the
//! standard `impl<T> From<T> for T`, so the two cannot coexist. The blanket conversion is what
//! users touch all day, so it wins. Where a `&dyn std::error::Error` is needed, `Error`
//! derefs to one (`&*err`, or [`Error::as_std_error`]), and `Box<dyn std::error::Error + Send +
//! Sync>` converts from it.
//!
//! # Kinds and payloads
//!
//! As with `std::io::Error`: match on [`Error::kind`]; read what an error carries by
//! downcasting to its payload type, [`IncompleteRead`], [`LimitOverrun`] or
//! [`ExceptionGroup`] (and a user's own error, or an `std::io::Error`, the same way). A
//! caught panic gives its payload back with [`Error::into_panic`].
//!
//! ```
//! use taskio::{Error, ErrorKind, IncompleteRead};
//!
//! fn describe(err: &Error) -> String {
//!     match err.kind() {
//!         ErrorKind::IncompleteRead => {
//!             let p = err.downcast_ref::<IncompleteRead>().unwrap();
//!             format!("EOF after {} bytes", p.partial.len())
//!         }
//!         ErrorKind::Timeout => "too slow".to_owned(),
//!         _ => err.to_string(),
//!     }
//! }
//! assert_eq!(describe(&Error::incomplete_read(b"abc".to_vec(), Some(8))), "EOF after 3 bytes");
//! ```
//!
//! # Sharing
//!
//! An error may be reported to several awaiters at once (a task's result is seen by its
//! `gather` and by whoever awaits the task), so `Error` is one `Arc`: `Clone` is cheap and
//! the user's error is shared, not copied. The price is [`Error::downcast`], which can only
//! move the user's error out when no clone is alive; [`Error::downcast_ref`] always works.
//!
//! # Examples
//!
//! ```
//! use taskio::{Error, ErrorKind, Result};
//!
//! fn parse(s: &str) -> Result<i32> {
//!     Ok(s.parse::<i32>()?) // any std error converts through `?`
//! }
//!
//! let err = parse("x").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Other);
//! assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
//! assert!(Error::timeout().is_timeout());
//! ```

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

mod convert;
mod deprecated;
mod err_into;
mod group;
mod payloads;

pub use err_into::{ErrInto, ErrIntoFuture};
pub use payloads::{ExceptionGroup, IncompleteRead, LimitOverrun};

/// `Result` with taskio's [`Error`] as the default error type.
///
/// # Examples
///
/// ```
/// fn half(n: u32) -> taskio::Result<u32> {
///     if n % 2 == 1 {
///         return Err(taskio::Error::runtime("odd"));
///     }
///     Ok(n / 2)
/// }
/// assert_eq!(half(4).unwrap(), 2);
/// assert!(half(3).is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of error an [`Error`] is: the asyncio exception class it stands for.
///
/// # Examples
///
/// ```
/// use taskio::{Error, ErrorKind};
/// assert_eq!(Error::cancelled(None).kind(), ErrorKind::Cancelled);
/// assert_eq!(ErrorKind::QueueFull.to_string(), "QueueFull");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `asyncio.CancelledError`: the task was cancelled (optionally with a message).
    Cancelled,
    /// `TimeoutError`: a deadline passed.
    Timeout,
    /// A task panicked; the error carries the panic's message (and payload).
    Panic,
    /// An exception group: several errors, each of which may be a group itself.
    Group,
    /// `asyncio.InvalidStateError`: e.g. the result of a task that is not done.
    InvalidState,
    /// `asyncio.QueueEmpty`: `get_nowait` on an empty queue.
    QueueEmpty,
    /// `asyncio.QueueFull`: `put_nowait` on a full queue.
    QueueFull,
    /// `asyncio.QueueShutDown`: the queue was shut down.
    QueueShutDown,
    /// `asyncio.BrokenBarrierError`: the barrier was reset or aborted.
    BrokenBarrier,
    /// `asyncio.LimitOverrunError`: a stream's buffer limit was reached.
    LimitOverrun,
    /// `asyncio.IncompleteReadError`: EOF came before the expected bytes.
    IncompleteRead,
    /// asyncio's `RuntimeError`: an operation the object's state refuses ("Lock is not
    /// acquired", "TaskGroup is finished", "Event loop is closed", ...).
    Runtime,
    /// asyncio's `ValueError`: a bad argument ("parties must be >= 1", a NaN delay, an
    /// empty separator, an empty set to `wait`), or a count gone past its bound
    /// ("task_done() called too many times", "BoundedSemaphore released too many times").
    Value,
    /// An I/O error.
    Io,
    /// `KeyboardInterrupt`: [`run`](crate::run) or [`Runner::run`](crate::Runner::run) was
    /// interrupted by SIGINT (Ctrl-C), which cancelled the main task (see
    /// [`runners`](crate::runners)). Not an asyncio exception but Python's, which
    /// `asyncio.run` raises in that case.
    KeyboardInterrupt,
    /// Any other (user) error, converted with `?` or [`Error::new`].
    Other,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// taskio's one error type: an asyncio exception object.
///
/// See the [module docs](self) for why it does not implement `std::error::Error` (it derefs to
/// one instead), and why it is cheap to clone.
///
/// # Examples
///
/// ```
/// use taskio::{Error, ErrorKind};
///
/// let group = Error::group(
///     "unhandled errors in a TaskGroup",
///     vec![Error::timeout(), Error::runtime("boom")],
/// );
/// assert_eq!(group.kind(), ErrorKind::Group);
/// assert_eq!(group.to_string(), "unhandled errors in a TaskGroup (2 sub-exceptions)");
/// assert_eq!(group.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors.len(), 2);
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

/// The shared body of an [`Error`]. It implements `std::error::Error`, which is what an
/// `Error` derefs to.
struct Inner {
    repr: Repr,
}

enum Repr {
    Cancelled(Option<String>),
    Timeout,
    Panic {
        message: String,
        /// The payload itself, when it was a `&'static str` (what [`Error::into_panic`]
        /// gives a shared error).
        static_message: Option<&'static str>,
        /// Behind a mutex so that `Inner` is `Sync` (a payload is only `Send`). Moved out by
        /// [`Error::into_panic`] on the last clone; the deprecated `take_panic_payload` is
        /// the only one to lock it.
        payload: parking_lot::Mutex<Option<Box<dyn Any + Send>>>,
    },
    Group(ExceptionGroup),
    Simple {
        kind: ErrorKind,
        message: String,
    },
    IncompleteRead(IncompleteRead),
    LimitOverrun(LimitOverrun),
    Io(std::io::Error),
    Other(Box<dyn StdError + Send + Sync + 'static>),
}

/// A plain message used as the user error of [`Error::msg`].
struct Message(String);

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

impl Error {
    fn from_repr(repr: Repr) -> Error {
        Error {
            inner: Arc::new(Inner { repr }),
        }
    }

    fn simple(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::from_repr(Repr::Simple {
            kind,
            message: message.into(),
        })
    }

    /// Wraps a user error (kind [`ErrorKind::Other`], or [`ErrorKind::Io`] for an
    /// `std::io::Error`; an `io::Error` made from the runtime's
    /// [`Cancelled`](crate::runtime::task::Cancelled), a cancellation delivered at an I/O
    /// checkpoint, becomes the current task's Cancelled). A payload type ([`IncompleteRead`],
    /// [`LimitOverrun`], [`ExceptionGroup`]) gives the error of its kind. `?` does the same
    /// through `From`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::new(std::fmt::Error);
    /// assert_eq!(err.kind(), taskio::ErrorKind::Other);
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn new<E>(error: E) -> Error
    where
        E: StdError + Send + Sync + 'static,
    {
        // Route `io::Error` to the Io kind without specialisation: look at it as `Any`.
        let mut slot = Some(error);
        if let Some(io) = (&mut slot as &mut dyn Any).downcast_mut::<Option<std::io::Error>>() {
            if let Some(io) = io.take() {
                // A cancellation the runtime delivered at an I/O checkpoint is the task's
                // Cancelled, with its message.
                if taskio_runtime::task::Cancelled::is_cancelled_io(&io) {
                    return crate::checkpoint::delivered_error();
                }
                return Error::from_repr(Repr::Io(io));
            }
        }
        let any = &mut slot as &mut dyn Any;
        let repr = if let Some(p) = any.downcast_mut::<Option<IncompleteRead>>() {
            p.take().map(Repr::IncompleteRead)
        } else if let Some(p) = any.downcast_mut::<Option<LimitOverrun>>() {
            p.take().map(Repr::LimitOverrun)
        } else if let Some(p) = any.downcast_mut::<Option<ExceptionGroup>>() {
            p.take().map(Repr::Group)
        } else {
            None
        };
        match (repr, slot) {
            (Some(repr), _) => Error::from_repr(repr),
            (None, Some(error)) => Error::from_repr(Repr::Other(Box::new(error))),
            (None, None) => unreachable!("the error is only taken for a payload type"),
        }
    }

    /// A user error made of a message (kind [`ErrorKind::Other`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::msg("no such user");
    /// assert_eq!(err.to_string(), "no such user");
    /// assert_eq!(err.kind(), taskio::ErrorKind::Other);
    /// ```
    pub fn msg(message: impl fmt::Display) -> Error {
        Error::from_repr(Repr::Other(Box::new(Message(message.to_string()))))
    }

    /// `CancelledError(msg)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::cancelled(Some("shutting down".into()));
    /// assert_eq!(err.cancel_message(), Some("shutting down"));
    /// assert_eq!(err.to_string(), "Cancelled: shutting down");
    /// assert_eq!(taskio::Error::cancelled(None).to_string(), "Cancelled");
    /// ```
    pub fn cancelled(message: Option<String>) -> Error {
        Error::from_repr(Repr::Cancelled(message))
    }

    /// `TimeoutError`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Error::timeout().to_string(), "Timeout");
    /// ```
    pub fn timeout() -> Error {
        Error::from_repr(Repr::Timeout)
    }

    /// A caught panic. The message is taken from a `&str` or `String` payload; the payload
    /// itself is kept and given back by [`Error::into_panic`] (to resume the panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("oh no")).unwrap_err();
    /// let err = taskio::Error::panic(payload);
    /// assert!(err.is_panic());
    /// assert_eq!(err.panic_message(), Some("oh no"));
    /// assert_eq!(err.to_string(), "task panicked: oh no");
    /// ```
    pub fn panic(payload: Box<dyn Any + Send>) -> Error {
        let static_message = payload.downcast_ref::<&'static str>().copied();
        let message = if let Some(s) = static_message {
            s.to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        Error::from_repr(Repr::Panic {
            message,
            static_message,
            payload: parking_lot::Mutex::new(Some(payload)),
        })
    }

    /// An exception group: `message` and the errors it holds (which may be groups); its
    /// payload is an [`ExceptionGroup`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{Error, ExceptionGroup};
    ///
    /// let inner = Error::group("inner", vec![Error::timeout()]);
    /// let outer = Error::group("outer", vec![inner]);
    /// assert_eq!(outer.to_string(), "outer (1 sub-exception)");
    /// let errors = &outer.downcast_ref::<ExceptionGroup>().unwrap().errors;
    /// assert!(errors[0].downcast_ref::<ExceptionGroup>().is_some());
    /// ```
    pub fn group(message: impl Into<String>, errors: Vec<Error>) -> Error {
        Error::from_repr(Repr::Group(ExceptionGroup {
            message: message.into(),
            errors,
        }))
    }

    /// `InvalidStateError(msg)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::invalid_state("Result is not set.");
    /// assert_eq!(err.kind(), taskio::ErrorKind::InvalidState);
    /// ```
    pub fn invalid_state(message: impl Into<String>) -> Error {
        Error::simple(ErrorKind::InvalidState, message)
    }

    /// A misuse error, asyncio's `RuntimeError`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::runtime("Lock is not acquired");
    /// assert_eq!(err.to_string(), "Lock is not acquired");
    /// assert_eq!(err.kind(), taskio::ErrorKind::Runtime);
    /// ```
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::simple(ErrorKind::Runtime, message)
    }

    /// A bad value, asyncio's `ValueError`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::value("parties must be >= 1");
    /// assert_eq!(err.kind(), taskio::ErrorKind::Value);
    /// assert_eq!(taskio::Barrier::new(0).unwrap_err().kind(), taskio::ErrorKind::Value);
    /// ```
    pub fn value(message: impl Into<String>) -> Error {
        Error::simple(ErrorKind::Value, message)
    }

    /// `QueueEmpty`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Error::queue_empty().kind(), taskio::ErrorKind::QueueEmpty);
    /// ```
    pub fn queue_empty() -> Error {
        Error::simple(ErrorKind::QueueEmpty, "QueueEmpty")
    }

    /// `QueueFull`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Error::queue_full().kind(), taskio::ErrorKind::QueueFull);
    /// ```
    pub fn queue_full() -> Error {
        Error::simple(ErrorKind::QueueFull, "QueueFull")
    }

    /// `QueueShutDown`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::queue_shut_down();
    /// assert_eq!(err.kind(), taskio::ErrorKind::QueueShutDown);
    /// ```
    pub fn queue_shut_down() -> Error {
        Error::simple(ErrorKind::QueueShutDown, "QueueShutDown")
    }

    /// `KeyboardInterrupt`: what `run` returns when SIGINT cancelled its main task.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::keyboard_interrupt();
    /// assert_eq!(err.kind(), taskio::ErrorKind::KeyboardInterrupt);
    /// assert_eq!(err.to_string(), "KeyboardInterrupt");
    /// ```
    pub fn keyboard_interrupt() -> Error {
        Error::simple(ErrorKind::KeyboardInterrupt, "KeyboardInterrupt")
    }

    /// `BrokenBarrierError`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::broken_barrier();
    /// assert_eq!(err.kind(), taskio::ErrorKind::BrokenBarrier);
    /// ```
    pub fn broken_barrier() -> Error {
        Error::simple(ErrorKind::BrokenBarrier, "BrokenBarrierError")
    }

    /// `IncompleteReadError(partial, expected)`: EOF after `partial`, when `expected` bytes
    /// (or, with `None`, a separator) were wanted; its payload is an [`IncompleteRead`].
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::incomplete_read(b"ab".to_vec(), Some(5));
    /// let p = err.downcast_ref::<taskio::IncompleteRead>().unwrap();
    /// assert_eq!((&p.partial[..], p.expected), (&b"ab"[..], Some(5)));
    /// assert_eq!(err.to_string(), "2 bytes read on a total of 5 expected bytes");
    /// ```
    pub fn incomplete_read(partial: Vec<u8>, expected: Option<usize>) -> Error {
        Error::from_repr(Repr::IncompleteRead(IncompleteRead { partial, expected }))
    }

    /// `LimitOverrunError(msg, consumed)`: a stream's limit was reached after `consumed`
    /// bytes; its payload is a [`LimitOverrun`].
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::limit_overrun("Separator is not found, and chunk exceed the limit", 70000);
    /// assert_eq!(err.downcast_ref::<taskio::LimitOverrun>().unwrap().consumed, 70000);
    /// ```
    pub fn limit_overrun(message: impl Into<String>, consumed: usize) -> Error {
        Error::from_repr(Repr::LimitOverrun(LimitOverrun {
            message: message.into(),
            consumed,
        }))
    }

    /// The kind of this error.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = std::io::Error::new(std::io::ErrorKind::Other, "disk");
    /// assert_eq!(taskio::Error::from(io).kind(), taskio::ErrorKind::Io);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match &self.inner.repr {
            Repr::Cancelled(_) => ErrorKind::Cancelled,
            Repr::Timeout => ErrorKind::Timeout,
            Repr::Panic { .. } => ErrorKind::Panic,
            Repr::Group(_) => ErrorKind::Group,
            Repr::Simple { kind, .. } => *kind,
            Repr::IncompleteRead(_) => ErrorKind::IncompleteRead,
            Repr::LimitOverrun(_) => ErrorKind::LimitOverrun,
            Repr::Io(_) => ErrorKind::Io,
            Repr::Other(_) => ErrorKind::Other,
        }
    }

    /// Whether this is a cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Error::cancelled(None).is_cancelled());
    /// assert!(!taskio::Error::timeout().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.kind() == ErrorKind::Cancelled
    }

    /// Whether this is a timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Error::timeout().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Whether this is a caught panic.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Error::panic(Box::new("x")).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        self.kind() == ErrorKind::Panic
    }

    /// The message a cancellation carries (`None` if not a cancellation or no message).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Error::cancelled(Some("bye".into())).cancel_message(), Some("bye"));
    /// assert_eq!(taskio::Error::cancelled(None).cancel_message(), None);
    /// ```
    pub fn cancel_message(&self) -> Option<&str> {
        match &self.inner.repr {
            Repr::Cancelled(m) => m.as_deref(),
            _ => None,
        }
    }

    /// The message of a caught panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::panic(Box::new(String::from("bad")));
    /// assert_eq!(err.panic_message(), Some("bad"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.inner.repr {
            Repr::Panic { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The payload of a caught panic, to [`std::panic::resume_unwind`] it, or `Err(self)`
    /// if this is not a [`Panic`](ErrorKind::Panic).
    ///
    /// The rule, since an `Error` is shared: the last clone of the error moves the original
    /// payload out. While other clones are alive the payload stays with them (a payload is
    /// only `Send`: it cannot be shared) and this returns a new one holding the panic's
    /// message, of the type `panic!` raises: the same `&'static str`, or a `String` (for a
    /// payload that was not a string: `"Box<dyn Any>"`). No clone takes the payload from
    /// another, so every awaiter of a panicked task can re-raise the panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::panic(Box::new(7_u32));
    /// let shared = err.clone();
    /// // Another clone is alive: a payload with the message.
    /// let payload = shared.into_panic().unwrap();
    /// assert_eq!(payload.downcast_ref::<String>().unwrap(), "Box<dyn Any>");
    /// // The last clone: the original payload.
    /// let payload = err.into_panic().unwrap();
    /// assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
    ///
    /// let err = taskio::Error::timeout().into_panic().unwrap_err();
    /// assert!(err.is_timeout());
    /// ```
    ///
    /// Re-raising a task's panic:
    ///
    /// ```should_panic
    /// taskio::run(async {
    ///     let t: taskio::Task<()> = taskio::create_task(async { panic!("in the task") });
    ///     if let Err(e) = t.join().await {
    ///         std::panic::resume_unwind(e.into_panic()?); // panics with "in the task"
    ///     }
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_panic(self) -> Result<Box<dyn Any + Send>, Error> {
        let message_payload =
            |static_message: Option<&'static str>, message: &str| match static_message {
                Some(s) => Box::new(s) as Box<dyn Any + Send>,
                None => Box::new(message.to_owned()),
            };
        if !self.is_panic() {
            return Err(self);
        }
        match Arc::try_unwrap(self.inner) {
            Ok(Inner {
                repr:
                    Repr::Panic {
                        message,
                        static_message,
                        payload,
                    },
            }) => Ok(payload
                .into_inner()
                .unwrap_or_else(|| message_payload(static_message, &message))),
            Err(shared) => match &shared.repr {
                Repr::Panic {
                    message,
                    static_message,
                    ..
                } => Ok(message_payload(*static_message, message)),
                _ => unreachable!("checked by is_panic"),
            },
            Ok(_) => unreachable!("checked by is_panic"),
        }
    }

    fn as_group(&self) -> Option<&ExceptionGroup> {
        match &self.inner.repr {
            Repr::Group(g) => Some(g),
            _ => None,
        }
    }

    /// A reference to the error's payload if it is an `E`: the wrapped user error, the
    /// `std::io::Error`, or an [`IncompleteRead`], [`LimitOverrun`] or [`ExceptionGroup`].
    ///
    /// # Examples
    ///
    /// ```
    /// let err: taskio::Error = std::io::Error::from(std::io::ErrorKind::NotFound).into();
    /// let io = err.downcast_ref::<std::io::Error>().unwrap();
    /// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.downcast_ref::<taskio::IncompleteRead>().is_none());
    /// ```
    pub fn downcast_ref<E>(&self) -> Option<&E>
    where
        E: StdError + 'static,
    {
        match &self.inner.repr {
            Repr::Other(e) => e.downcast_ref::<E>(),
            Repr::Io(e) => (e as &dyn Any).downcast_ref::<E>(),
            Repr::IncompleteRead(p) => (p as &dyn Any).downcast_ref::<E>(),
            Repr::LimitOverrun(p) => (p as &dyn Any).downcast_ref::<E>(),
            Repr::Group(p) => (p as &dyn Any).downcast_ref::<E>(),
            _ => None,
        }
    }

    /// Moves the payload (as for [`downcast_ref`](Error::downcast_ref)) out if it is an `E`;
    /// otherwise gives `self` back.
    ///
    /// An `Error` is shared (see the module docs): when a clone of it is alive, the user
    /// error cannot be moved out and `self` comes back too. Use [`Error::downcast_ref`] then.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Debug)]
    /// struct NotFound;
    /// impl std::fmt::Display for NotFound {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("not found") }
    /// }
    /// impl std::error::Error for NotFound {}
    ///
    /// let err = taskio::Error::new(NotFound);
    /// let err = err.downcast::<std::fmt::Error>().unwrap_err(); // wrong type: back
    /// assert!(err.downcast::<NotFound>().is_ok());
    /// ```
    pub fn downcast<E>(self) -> Result<E, Error>
    where
        E: StdError + Send + Sync + 'static,
    {
        if self.downcast_ref::<E>().is_none() {
            return Err(self);
        }
        let inner = Arc::try_unwrap(self.inner).map_err(|inner| Error { inner })?;
        /// `payload` as the `E` it is (checked by `downcast_ref`).
        fn cast<P: 'static, E: 'static>(payload: P) -> E {
            let mut slot = Some(payload);
            let any = &mut slot as &mut dyn Any;
            let e = any
                .downcast_mut::<Option<E>>()
                .expect("checked by downcast_ref");
            e.take().expect("just set")
        }
        match inner.repr {
            Repr::Other(e) => Ok(*e.downcast::<E>().expect("checked by downcast_ref")),
            Repr::Io(e) => Ok(cast(e)),
            Repr::IncompleteRead(p) => Ok(cast(p)),
            Repr::LimitOverrun(p) => Ok(cast(p)),
            Repr::Group(p) => Ok(cast(p)),
            _ => unreachable!("downcast_ref only succeeds on payloads"),
        }
    }

    /// This error as a `&dyn std::error::Error` (also available through `Deref`).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::timeout();
    /// let std_err: &(dyn std::error::Error + Send + Sync) = err.as_std_error();
    /// assert_eq!(std_err.to_string(), "Timeout");
    /// ```
    pub fn as_std_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// Whether `self` and `other` are the same error object (clones of one another).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = taskio::Error::timeout();
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&taskio::Error::timeout()));
    /// ```
    pub fn ptr_eq(&self, other: &Error) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)?;
        if let Some(g) = self.as_group() {
            for (i, e) in g.errors.iter().enumerate() {
                write!(f, "\n{:indent$}{}: ", "", i + 1, indent = 2 * (depth + 1))?;
                e.fmt_tree(f, depth + 1)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled(None) => f.write_str("Cancelled"),
            Repr::Cancelled(Some(m)) => write!(f, "Cancelled: {m}"),
            Repr::Timeout => f.write_str("Timeout"),
            Repr::Panic { message, .. } => write!(f, "task panicked: {message}"),
            Repr::Group(p) => fmt::Display::fmt(p, f),
            Repr::Simple { message, .. } => f.write_str(message),
            Repr::IncompleteRead(p) => fmt::Display::fmt(p, f),
            Repr::LimitOverrun(p) => fmt::Display::fmt(p, f),
            Repr::Io(e) => fmt::Display::fmt(e, f),
            Repr::Other(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl StdError for Inner {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.repr {
            Repr::Io(e) => e.source(),
            Repr::Other(e) => e.source(),
            Repr::Group(p) => p.source(),
            _ => None,
        }
    }
}

/// `{}` prints one line; `{:#}` adds, for a group, its errors as an indented numbered tree.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            self.fmt_tree(f, 0)
        } else {
            fmt::Display::fmt(&*self.inner, f)
        }
    }
}

/// `Error(Kind): message`, then a group's errors as an indented tree and, for a user error,
/// its `Debug` and its chain of sources.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}): ", self.kind())?;
        self.fmt_tree(f, 0)?;
        if let Repr::Other(e) = &self.inner.repr {
            write!(f, " [{e:?}]")?;
            let mut source = e.source();
            while let Some(s) = source {
                write!(f, "\n  caused by: {s}")?;
                source = s.source();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn _assert_send_sync_static() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Error>();
        check::<ErrorKind>();
    }

    #[test]
    fn io_error_is_io_kind_through_question_mark() {
        fn f() -> Result<()> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
            Ok(())
        }
        let err = f().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        let io = err.downcast::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
