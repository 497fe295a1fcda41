//! The getters the payload types replace, kept (deprecated) as thin wrappers so that
//! code written against them still builds.

use std::any::Any;

use super::{Error, Repr};

impl Error {
    /// Takes the payload of a caught panic (once: later calls, also on clones, return
    /// `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::panic(Box::new(7_u32));
    /// #[allow(deprecated)]
    /// let (first, second) = (err.clone().take_panic_payload(), err.take_panic_payload());
    /// assert_eq!(first.unwrap().downcast_ref::<u32>(), Some(&7));
    /// assert!(second.is_none()); // the first clone took it
    /// ```
    #[deprecated(
        note = "the first caller takes the payload from every clone; use `into_panic(self)`"
    )]
    pub fn take_panic_payload(&self) -> Option<Box<dyn Any + Send>> {
        match &self.inner.repr {
            Repr::Panic { payload, .. } => payload.lock().take(),
            _ => None,
        }
    }

    /// The errors of a group (`None` if this is not a group). Groups nest.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = taskio::Error::group("g", vec![taskio::Error::timeout()]);
    /// #[allow(deprecated)]
    /// let errors = g.group_errors().unwrap();
    /// assert!(errors[0].is_timeout());
    /// ```
    #[deprecated(note = "use `err.downcast_ref::<ExceptionGroup>()` and its `errors`")]
    pub fn group_errors(&self) -> Option<&[Error]> {
        self.as_group().map(|g| &g.errors[..])
    }

    /// The bytes read before EOF, for
    /// [`ErrorKind::IncompleteRead`](crate::ErrorKind::IncompleteRead).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::incomplete_read(vec![1, 2], None);
    /// #[allow(deprecated)]
    /// let partial = err.partial();
    /// assert_eq!(partial, Some(&[1u8, 2][..]));
    /// ```
    #[deprecated(note = "use `err.downcast_ref::<IncompleteRead>()` and its `partial`")]
    pub fn partial(&self) -> Option<&[u8]> {
        match &self.inner.repr {
            Repr::IncompleteRead(p) => Some(&p.partial),
            _ => None,
        }
    }

    /// The number of bytes that were expected, for
    /// [`ErrorKind::IncompleteRead`](crate::ErrorKind::IncompleteRead) (`None`
    /// also when a separator, not a count, was expected).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = taskio::Error::incomplete_read(vec![], Some(4));
    /// #[allow(deprecated)]
    /// let expected = err.expected();
    /// assert_eq!(expected, Some(4));
    /// ```
    #[deprecated(note = "use `err.downcast_ref::<IncompleteRead>()` and its `expected`")]
    pub fn expected(&self) -> Option<usize> {
        match &self.inner.repr {
            Repr::IncompleteRead(p) => p.expected,
            _ => None,
        }
    }

    /// The number of bytes to consume, for
    /// [`ErrorKind::LimitOverrun`](crate::ErrorKind::LimitOverrun).
    ///
    /// # Examples
    ///
    /// ```
    /// #[allow(deprecated)]
    /// let consumed = taskio::Error::limit_overrun("limit", 3).consumed();
    /// assert_eq!(consumed, Some(3));
    /// ```
    #[deprecated(note = "use `err.downcast_ref::<LimitOverrun>()` and its `consumed`")]
    pub fn consumed(&self) -> Option<usize> {
        match &self.inner.repr {
            Repr::LimitOverrun(p) => Some(p.consumed),
            _ => None,
        }
    }
}
