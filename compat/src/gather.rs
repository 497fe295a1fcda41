//! asyncio's `gather`: [`gather()`] over an iterator of children of one type, the
//! [`gather!`](crate::gather!) macro for children of different types (a tuple result), and the
//! `return_exceptions` forms.
//!
//! The rules (ASYNCIO.md): results come in argument order; the same task given twice is one
//! child whose result appears twice; the first child to fail (or be cancelled) fails the
//! gather at once with that error, and the other children are *not* cancelled: they keep
//! running and their later errors are dropped. Dropping the gather future while it is awaited
//! and not finished (which is how the task awaiting it is cancelled) cancels every unfinished
//! child; a gather that was never awaited cancels nothing. With
//! `return_exceptions`, errors (Cancelled included) take their slot in the result.
//!
//! Results are read from shared [`Task`]s, so the values are cloned: `T: Clone`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::exceptions::Result;
use crate::tasks::core::AnyCoreRef;
use crate::tasks::{AnyTask, Awaitable, Task};
use crate::watch::{Wake, Watch};

/// The type-erased engine of every gather form.
pub(crate) struct GatherCore {
    watch: Watch,
    return_exceptions: bool,
    finished: bool,
    /// Only a gather that was awaited cancels its children when dropped (one never awaited
    /// was never "the gather" of anyone; its children run on, as in asyncio).
    polled: bool,
}

impl GatherCore {
    pub(crate) fn new(children: Vec<AnyCoreRef>, return_exceptions: bool) -> GatherCore {
        GatherCore {
            watch: Watch::new(children, Wake::FailureOrLast),
            return_exceptions,
            finished: false,
            polled: false,
        }
    }

    /// `Ready(Ok(()))` once every child is done; `Ready(Err(e))` at the first failure unless
    /// `return_exceptions`.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.polled = true;
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        while !self.watch.all_done() {
            let first_failure = std::task::ready!(self.watch.poll_first_failure(cx));
            if let (false, Some(index)) = (self.return_exceptions, first_failure) {
                // A child reported as failed holds its error for good.
                if let Some(Some(e)) = self.watch.children[index].failure() {
                    self.finished = true;
                    return Poll::Ready(Err(e));
                }
            }
        }
        self.finished = true;
        Poll::Ready(Ok(()))
    }
}

impl Drop for GatherCore {
    fn drop(&mut self) {
        if self.polled && !self.finished {
            self.watch.cancel_pending();
        }
    }
}

impl fmt::Debug for GatherCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherCore")
            .field("children", &self.watch.len())
            .field("done", &self.watch.n_done)
            .field("return_exceptions", &self.return_exceptions)
            .finish()
    }
}

/// Runs the children concurrently and returns their results in argument order
/// (`asyncio.gather(*aws)`). Coroutines are wrapped in tasks at once.
///
/// # Examples
///
/// ```
/// use taskio::{create_task, gather, sleep};
///
/// let out = taskio::run(async {
///     let slow = create_task(async { sleep(0).await?; sleep(0).await?; Ok(1) });
///     let fast = create_task(async { Ok(2) });
///     gather([slow, fast.clone(), fast]).await
/// })
/// .unwrap();
/// assert_eq!(out, [1, 2, 2]);
/// ```
pub fn gather<I, A, T>(aws: I) -> Gather<T>
where
    I: IntoIterator<Item = A>,
    A: Awaitable<T>,
    T: Clone + Send + 'static,
{
    let tasks: Vec<Task<T>> = aws.into_iter().map(Awaitable::into_task).collect();
    let core = GatherCore::new(tasks.iter().map(Task::any_core).collect(), false);
    Gather { tasks, core }
}

/// The future of [`gather()`].
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let g: taskio::gather::Gather<i32> = taskio::gather(Vec::<taskio::Task<i32>>::new());
///     assert!(g.await?.is_empty());
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct Gather<T: Send + 'static> {
    tasks: Vec<Task<T>>,
    core: GatherCore,
}

impl<T: Clone + Send + 'static> Gather<T> {
    /// asyncio's `return_exceptions=True`: wait for every child; each slot holds its
    /// child's result or error (Cancelled included).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let ok = taskio::create_task(async { Ok(1) });
    ///     let bad = taskio::create_task(async { Err(taskio::Error::runtime("x")) });
    ///     let out = taskio::gather([ok, bad]).return_exceptions().await;
    ///     assert_eq!(*out[0].as_ref().unwrap(), 1);
    ///     assert_eq!(out[1].as_ref().unwrap_err().to_string(), "x");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn return_exceptions(mut self) -> GatherAll<T> {
        self.core.return_exceptions = true;
        GatherAll { inner: self }
    }
}

impl<T: Clone + Send + 'static> Future for Gather<T> {
    type Output = Result<Vec<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>>> {
        let this = self.get_mut();
        std::task::ready!(this.core.poll(cx))?;
        Poll::Ready(this.tasks.iter().map(Task::result).collect())
    }
}

/// The future of [`Gather::return_exceptions`].
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let all: taskio::gather::GatherAll<u8> =
///         taskio::gather([async { Ok(1u8) }]).return_exceptions();
///     assert_eq!(all.await.len(), 1);
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherAll<T: Send + 'static> {
    inner: Gather<T>,
}

impl<T: Clone + Send + 'static> Future for GatherAll<T> {
    type Output = Vec<Result<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<Result<T>>> {
        let this = &mut self.get_mut().inner;
        let _ = std::task::ready!(this.core.poll(cx));
        Poll::Ready(this.tasks.iter().map(Task::result).collect())
    }
}

/// Tuples of tasks that [`gather!`](crate::gather!) can wait for. Implemented for tuples of
/// one to eight [`Task`]s.
pub trait TaskTuple {
    /// The tuple of values.
    type Output;
    /// The tuple of results (`return_exceptions`).
    type Results;
    #[doc(hidden)]
    fn __children(&self) -> Vec<AnyTask>;
    #[doc(hidden)]
    fn __output(&self) -> Result<Self::Output>;
    #[doc(hidden)]
    fn __results(&self) -> Self::Results;
}

macro_rules! tuple_impl {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Clone + Send + 'static),+> TaskTuple for ($(Task<$t>,)+) {
            type Output = ($($t,)+);
            type Results = ($(Result<$t>,)+);
            fn __children(&self) -> Vec<AnyTask> {
                vec![$(self.$i.as_any()),+]
            }
            fn __output(&self) -> Result<Self::Output> {
                Ok(($(self.$i.result()?,)+))
            }
            fn __results(&self) -> Self::Results {
                ($(self.$i.result(),)+)
            }
        }
    };
}
tuple_impl!(A 0);
tuple_impl!(A 0, B 1);
tuple_impl!(A 0, B 1, C 2);
tuple_impl!(A 0, B 1, C 2, D 3);
tuple_impl!(A 0, B 1, C 2, D 3, E 4);
tuple_impl!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_impl!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_impl!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The future of [`gather!`](crate::gather!): a tuple of values in argument order.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let g = taskio::gather!(async { Ok(1u8) }, async { Ok("two") });
///     assert_eq!(g.await?, (1, "two"));
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherTuple<Tup> {
    tasks: Tup,
    core: GatherCore,
}

impl<Tup: TaskTuple> GatherTuple<Tup> {
    #[doc(hidden)]
    pub fn __new(tasks: Tup) -> Self {
        let core = GatherCore::new(
            tasks.__children().into_iter().map(|t| t.core).collect(),
            false,
        );
        GatherTuple { tasks, core }
    }

    /// `return_exceptions=True`: a tuple of results.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let (a, b) = taskio::gather!(async { Ok(1) }, async { Err::<(), _>(taskio::Error::timeout()) })
    ///         .return_exceptions()
    ///         .await;
    ///     assert_eq!(a?, 1);
    ///     assert!(b.unwrap_err().is_timeout());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn return_exceptions(mut self) -> GatherTupleAll<Tup> {
        self.core.return_exceptions = true;
        GatherTupleAll { inner: self }
    }
}

impl<Tup: TaskTuple + Unpin> Future for GatherTuple<Tup> {
    type Output = Result<Tup::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        std::task::ready!(this.core.poll(cx))?;
        Poll::Ready(this.tasks.__output())
    }
}

/// The future of [`GatherTuple::return_exceptions`].
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let all: taskio::gather::GatherTupleAll<_> = taskio::gather!(async { Ok(1) }).return_exceptions();
///     assert_eq!(all.await.0?, 1);
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherTupleAll<Tup> {
    inner: GatherTuple<Tup>,
}

impl<Tup: TaskTuple + Unpin> Future for GatherTupleAll<Tup> {
    type Output = Tup::Results;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.get_mut().inner;
        let _ = std::task::ready!(this.core.poll(cx));
        Poll::Ready(this.tasks.__results())
    }
}

/// `gather` for children of different types: `gather!(a, b, c).await` gives
/// `Result<(A, B, C)>` (up to eight children). Each child is a [`Task`](crate::Task) or a
/// coroutine returning `taskio::Result<_>`; coroutines are wrapped in tasks at once. Same
/// rules as [`gather()`](crate::gather()); `.return_exceptions()` gives a tuple of results.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let name = taskio::create_task(async { Ok(String::from("ada")) });
///     let (n, age) = taskio::gather!(name, async { Ok(36u32) }).await?;
///     assert_eq!((n.as_str(), age), ("ada", 36));
///     Ok(())
/// })
/// .unwrap();
/// ```
#[macro_export]
macro_rules! gather {
    ($($aw:expr),+ $(,)?) => {
        $crate::gather::GatherTuple::__new(($($crate::tasks::Awaitable::into_task($aw),)+))
    };
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Gather<u8>>();
    is::<GatherAll<u8>>();
    is::<GatherTuple<(Task<u8>, Task<String>)>>();
}
