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
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::exceptions::{Error, Result};
use crate::kernel::ids::FirstSeen;
use crate::kernel::tally::Tally;
use crate::kernel::task::{AnyCore, Cancel};
use crate::tasks::{AnyTask, Awaitable, Task};

/// Something a gather can watch: a typed or an erased task handle.
pub(crate) trait Child {
    fn core(&self) -> &dyn AnyCore;
    fn id(&self) -> u64;
    fn cancel_child(&self, msg: Option<&str>);
}

impl<T: Send + 'static> Child for Task<T> {
    fn core(&self) -> &dyn AnyCore {
        self.dyn_core()
    }

    fn id(&self) -> u64 {
        Task::id(self)
    }

    fn cancel_child(&self, msg: Option<&str>) {
        self.cancel(msg);
    }
}

impl Child for AnyTask {
    fn core(&self) -> &dyn AnyCore {
        &*self.core
    }

    fn id(&self) -> u64 {
        AnyTask::id(self)
    }

    fn cancel_child(&self, msg: Option<&str>) {
        self.core.cancel(msg.map(str::to_owned));
    }
}

/// The type-erased engine of every gather form. The children themselves live in the
/// wrapper (`Gather`, `GatherTuple`), which hands them to [`GatherCore::add`] as they are
/// made and to [`GatherCore::release`] when it is dropped: the engine holds no reference to
/// them, so a gather walks its children twice in all (made and listened to in one pass,
/// results read and handles dropped in the other), which is what a large gather's time is
/// made of once the children no longer fit in the cache.
pub(crate) struct GatherCore {
    tally: Arc<Tally>,
    /// Distinct children added.
    n: usize,
    /// Which children were added already (the same task given twice is one child).
    first: FirstSeen,
    return_exceptions: bool,
    finished: bool,
    /// Only a gather that was awaited cancels its children when dropped (one never awaited
    /// was never "the gather" of anyone; its children run on, as in asyncio).
    polled: bool,
    /// The awaiting task's cancellation, delivered here: the children were cancelled, and
    /// the gather ends with this once every one of them has ended.
    cancelled: Option<Error>,
}

impl GatherCore {
    pub(crate) fn new() -> GatherCore {
        GatherCore {
            tally: Tally::new(),
            n: 0,
            first: FirstSeen::default(),
            return_exceptions: false,
            finished: false,
            polled: false,
            cancelled: None,
        }
    }

    /// Watches `child`, unless it is one of `earlier` (the children added before it, in
    /// order): the same task given twice is one child.
    pub(crate) fn add<C: Child>(&mut self, earlier: &[C], child: &C) {
        if self
            .first
            .is_new(child.id(), || earlier.iter().map(Child::id))
        {
            let core = child.core();
            self.n += 1;
            // A child already done reports at once, from inside `listen`.
            core.listen(self.tally.clone(), 0);
        }
    }

    /// Every child has been added.
    pub(crate) fn seal(&mut self) {
        self.tally.seal(self.n);
    }

    fn set_return_exceptions(&mut self) {
        self.return_exceptions = true;
        self.tally.wait_for_all();
    }

    /// `Ready(Ok(()))` once every child is done; `Ready(Err(e))` at the first failure unless
    /// `return_exceptions`.
    ///
    /// A checkpoint that forwards: when the awaiting task's cancellation is delivered here,
    /// every child is cancelled (`cancel_children`, with the message) and the gather ends
    /// with that Cancelled once all of them have ended, clean-up included (asyncio's
    /// cancelled gather; asyncio itself ends it at the first cancelled child, which is the
    /// same when the children have no async clean-up).
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        cancel_children: impl FnOnce(Option<&str>),
    ) -> Poll<Result<()>> {
        self.polled = true;
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        if self.cancelled.is_none() {
            if let Some(e) = crate::checkpoint::take_cancel() {
                cancel_children(e.cancel_message());
                self.cancelled = Some(e);
            }
        }
        // A cancelled gather waits for every child to end; otherwise the first failure ends
        // it, unless it returns exceptions.
        let failures_end = self.cancelled.is_none() && !self.return_exceptions;
        let Poll::Ready(failure) = self.tally.poll(cx.waker(), failures_end) else {
            taskio_runtime::task::set_awaiting(taskio_runtime::task::Awaiting::Tasks);
            return Poll::Pending;
        };
        self.finished = true;
        match (failure, &self.cancelled) {
            (Some(e), _) => Poll::Ready(Err(e)),
            (None, Some(e)) => Poll::Ready(Err(e.clone())),
            (None, None) => Poll::Ready(Ok(())),
        }
    }

    /// Called by the wrapper's `Drop` with the children still held: a gather awaited and
    /// dropped before it finished cancels them; one with children still pending stops
    /// listening to them (a long-lived task does not keep every gather that watched it).
    fn release<C: Child>(&mut self, children: &[C]) {
        if self.finished && self.tally.remaining() == 0 {
            return;
        }
        let me = Arc::as_ptr(&self.tally).cast::<()>();
        for c in children {
            if self.polled && !self.finished {
                c.cancel_child(None);
            }
            c.core().unlisten_listener(me);
        }
    }
}

impl fmt::Debug for GatherCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let remaining = self.tally.remaining();
        f.debug_struct("GatherCore")
            .field("children", &self.n)
            .field("pending", &remaining)
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
    let aws = aws.into_iter();
    let mut tasks: Vec<Task<T>> = Vec::with_capacity(aws.size_hint().0);
    let mut core = GatherCore::new();
    for aw in aws {
        // Made (for a coroutine) and listened to while its cell is still in the cache.
        let t = aw.into_task();
        core.add(&tasks, &t);
        tasks.push(t);
    }
    core.seal();
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
        self.core.set_return_exceptions();
        GatherAll { inner: self }
    }

    /// Every child is done: their results, in order, the handles dropped as they are read.
    fn results(&mut self) -> Vec<Result<T>> {
        std::mem::take(&mut self.tasks)
            .into_iter()
            .map(|t| t.result())
            .collect()
    }
}

impl<T: Send + 'static> Drop for Gather<T> {
    fn drop(&mut self) {
        self.core.release(&self.tasks);
    }
}

impl<T: Clone + Send + 'static> Future for Gather<T> {
    type Output = Result<Vec<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>>> {
        let this = self.get_mut();
        let tasks = &this.tasks;
        std::task::ready!(this
            .core
            .poll(cx, |m| tasks.iter().for_each(|t| t.cancel_child(m))))?;
        Poll::Ready(this.results().into_iter().collect())
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
        let tasks = &this.tasks;
        let _ = std::task::ready!(this
            .core
            .poll(cx, |m| tasks.iter().for_each(|t| t.cancel_child(m))));
        Poll::Ready(this.results())
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
pub struct GatherTuple<Tup: TaskTuple> {
    tasks: Tup,
    /// The tasks again, erased (for the engine; at most eight).
    children: Vec<AnyTask>,
    core: GatherCore,
}

impl<Tup: TaskTuple> Drop for GatherTuple<Tup> {
    fn drop(&mut self) {
        self.core.release(&self.children);
    }
}

impl<Tup: TaskTuple> GatherTuple<Tup> {
    #[doc(hidden)]
    pub fn __new(tasks: Tup) -> Self {
        let children = tasks.__children();
        let mut core = GatherCore::new();
        for (i, c) in children.iter().enumerate() {
            core.add(&children[..i], c);
        }
        core.seal();
        GatherTuple {
            tasks,
            children,
            core,
        }
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
        self.core.set_return_exceptions();
        GatherTupleAll { inner: self }
    }
}

impl<Tup: TaskTuple + Unpin> Future for GatherTuple<Tup> {
    type Output = Result<Tup::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let tasks = &this.tasks;
        std::task::ready!(this.core.poll(cx, |m| tasks
            .__children()
            .iter()
            .for_each(|t| t.cancel_child(m))))?;
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
pub struct GatherTupleAll<Tup: TaskTuple> {
    inner: GatherTuple<Tup>,
}

impl<Tup: TaskTuple + Unpin> Future for GatherTupleAll<Tup> {
    type Output = Tup::Results;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.get_mut().inner;
        let tasks = &this.tasks;
        let _ = std::task::ready!(this.core.poll(cx, |m| tasks
            .__children()
            .iter()
            .for_each(|t| t.cancel_child(m))));
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

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::__testing::Polled;
    use crate::{create_task, gather, Task};

    /// A gather that stops before its children do (dropped unfinished, or failed early) takes
    /// its listener off the children still pending, and an awaited one cancels them: a
    /// long-lived task does not collect one registration per gather that ever watched it.
    #[test]
    fn a_gather_leaves_nothing_on_children_it_stopped_watching() {
        let runner = crate::Runner::builder().current_thread().build().unwrap();
        runner
            .run(async {
                let long: Task<u8> = create_task(std::future::pending());
                for _ in 0..100 {
                    // Never awaited: nothing cancelled, nothing left behind.
                    drop(gather([&long]));
                }
                assert_eq!(long.core_for_tests().waiter_count(), 0);
                assert!(!long.done());
                // A failure ends the gather early; the pending child keeps running, unwatched.
                let bad = create_task(async { Err::<u8, _>(crate::Error::runtime("bad")) });
                assert!(gather([&long, &bad]).await.is_err());
                assert_eq!(long.core_for_tests().waiter_count(), 0);
                assert!(!long.done());
                // Awaited, then dropped unfinished: the child is cancelled.
                let mut g = Polled::new(gather([&long]));
                g.pending();
                drop(g);
                assert!(long.clone().await.unwrap_err().is_cancelled());
                Ok(())
            })
            .unwrap();
    }
}
