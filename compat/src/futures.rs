//! asyncio's `Future`: [`Future`], its [`FutureCallback`]s, and [`ensure_future`].
//!
//! A [`Future<T>`] is a cheap-clone handle to a result that someone will set: a callback, a
//! task, or any `std::thread` (every method is thread-safe), which is how callback-based code
//! is bridged into async code. It is bound to a [`Loop`], where its done callbacks run.
//! Awaiting it gives `taskio::Result<T>`; as with [`Task`], one result may be read by many
//! awaiters, so `fut.await` and [`Future::result`] hand out a clone (`T: Clone`), and
//! [`Future::join`] moves a non-`Clone` value out.
//!
//! The type shares its name with [`std::future::Future`] (as asyncio's shares it with
//! `concurrent.futures.Future`): write `taskio::Future`, or import it under another name,
//! where both are in use.
//!
//! # Awaiting is not owning
//!
//! A Future is not owned by its awaiters: dropping the future of `fut.await` (say, because
//! the awaiting task was cancelled) leaves the Future as it is. When the awaiting task's
//! cancellation is *delivered* while it awaits (awaiting a Future is a checkpoint), asyncio
//! cancels the Future and the awaiter gets `Cancelled`; see `take_delivered_cancel` below.
//!
//! # The protocol
//!
//! Everything mutable is in one `Mutex<State<T>>`. The outcome is set once (`set_result`,
//! `set_exception`, `cancel`); under the mutex the listeners (awaiters' wakers and done
//! callbacks, one list in registration order) are moved out, and after it is released each
//! is told in that order: a waker is woken, a callback is scheduled on the loop with
//! [`Loop::call_soon`] (never inline, as asyncio does). On the deterministic runner both land
//! at the back of the one ready queue, so they run in asyncio's order. A waker is registered
//! under the same mutex as the check that the Future is pending, so no wake-up is lost.
//!
//! # Examples
//!
//! ```
//! taskio::run(async {
//!     let fut = taskio::get_running_loop()?.create_future::<u64>();
//!     let f = fut.clone();
//!     std::thread::spawn(move || f.set_result(99).unwrap()); // set from any thread
//!     let (a, b) = (fut.clone(), fut.clone()); // awaited by many
//!     let (a, b) = taskio::gather!(async move { a.await }, async move { b.await }).await?;
//!     assert_eq!((a, b), (99, 99));
//!     assert_eq!(fut.set_result(1).unwrap_err().to_string(), "invalid state");
//!     Ok(())
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::future::{Future as StdFuture, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::kernel::sync::Mutex;

use crate::events::{get_running_loop, Loop};
use crate::exceptions::{Error, Result};
use crate::tasks::{create_task, Task};

/// Awaiting a `Future` is a cancellation checkpoint: the awaiting task's delivered
/// cancellation cancels the Future (asyncio: `task.cancel()` cancels the future it awaits).
fn take_delivered_cancel() -> Option<crate::Error> {
    crate::checkpoint::take_cancel()
}

/// A result to be set later, awaitable by many: asyncio's `Future`. See the
/// [module docs](self).
///
/// # Examples
///
/// ```
/// use taskio::ErrorKind;
/// taskio::run(async {
///     let fut = taskio::Future::<i32>::new();
///     assert!(!fut.done());
///     assert_eq!(fut.result().unwrap_err().kind(), ErrorKind::InvalidState);
///     assert!(fut.cancel(Some("no longer needed")));
///     assert!(fut.cancelled() && fut.done());
///     assert_eq!(fut.clone().await.unwrap_err().cancel_message(), Some("no longer needed"));
///     assert!(!fut.cancel(None));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Future<T: Send + 'static> {
    inner: Arc<Inner<T>>,
}

struct Inner<T: Send + 'static> {
    lp: Loop,
    state: Mutex<State<T>>,
}

enum Outcome<T> {
    Pending,
    Value(T),
    /// The value was moved out by [`Future::join`].
    Taken,
    Failed(Error),
}

struct State<T: Send + 'static> {
    outcome: Outcome<T>,
    /// Ended by [`Future::cancel`] (a `Cancelled` error given to `set_exception` does not
    /// make the Future cancelled, as in asyncio).
    cancelled: bool,
    /// Awaiters' wakers and done callbacks, in registration order (asyncio keeps one list:
    /// an awaiting task's wake-up is a done callback too, so the two interleave).
    listeners: Vec<(u64, Listener<T>)>,
    next_key: u64,
}

enum Listener<T: Send + 'static> {
    Waker(Waker),
    Callback(FutureCallback<T>),
}

impl<T: Send + 'static> Future<T> {
    /// A pending Future bound to the running loop (asyncio's `Future()`); see also
    /// [`Loop::create_future`].
    ///
    /// # Panics
    ///
    /// Outside a running loop, as [`create_task`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     fut.set_result('x')?;
    ///     assert_eq!(fut.await?, 'x');
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    #[allow(clippy::new_without_default)] // it needs a running loop
    pub fn new() -> Future<T> {
        match get_running_loop() {
            Ok(lp) => Future::with_loop(lp),
            Err(_) => panic!(
                "no running event loop: `Future::new` must be called from inside a taskio \
                 runner (or use `Loop::create_future`)"
            ),
        }
    }

    pub(crate) fn with_loop(lp: Loop) -> Future<T> {
        Future {
            inner: Arc::new(Inner {
                lp,
                state: Mutex::new(State {
                    outcome: Outcome::Pending,
                    cancelled: false,
                    listeners: Vec::new(),
                    next_key: 0,
                }),
            }),
        }
    }

    /// The loop the Future is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     assert!(lp.create_future::<()>().get_loop() == lp);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_loop(&self) -> Loop {
        self.inner.lp.clone()
    }

    /// Stores `outcome` if pending, then, in registration order, wakes the awaiters and
    /// schedules the callbacks.
    fn complete(&self, outcome: Outcome<T>, cancelled: bool) -> Result<bool> {
        let listeners = {
            let mut st = self.inner.state.lock();
            if !matches!(st.outcome, Outcome::Pending) {
                return Ok(false);
            }
            st.outcome = outcome;
            st.cancelled = cancelled;
            std::mem::take(&mut st.listeners)
        };
        let mut scheduled = Ok(());
        for (_, l) in listeners {
            match l {
                Listener::Waker(w) => w.wake(),
                Listener::Callback(cb) => {
                    if let Err(e) = self.schedule_callback(cb) {
                        scheduled = Err(e);
                    }
                }
            }
        }
        scheduled.map(|()| true)
    }

    fn schedule_callback(&self, cb: FutureCallback<T>) -> Result<()> {
        let fut = self.clone();
        self.inner.lp.call_soon(move || cb.call(&fut)).map(drop)
    }

    /// Marks the Future done with `value`, wakes its awaiters and schedules its done
    /// callbacks: asyncio's `set_result`.
    ///
    /// # Errors
    ///
    /// `InvalidState` ("invalid state") if the Future is already done (cancelled
    /// included); `Runtime` ("Event loop is closed") if it has done callbacks and its loop
    /// is closed (the Future is done all the same, as in asyncio).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     fut.set_result(1)?;
    ///     let err = fut.set_result(2).unwrap_err();
    ///     assert_eq!(err.kind(), taskio::ErrorKind::InvalidState);
    ///     assert_eq!(fut.result()?, 1);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_result(&self, value: T) -> Result<()> {
        match self.complete(Outcome::Value(value), false)? {
            true => Ok(()),
            false => Err(Error::invalid_state("invalid state")),
        }
    }

    /// Marks the Future done with the error `exception`: asyncio's `set_exception`.
    ///
    /// # Errors
    ///
    /// As [`set_result`](Future::set_result).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::<()>::new();
    ///     fut.set_exception(taskio::Error::runtime("broken"))?;
    ///     assert_eq!(fut.exception()?.unwrap().to_string(), "broken");
    ///     assert_eq!(fut.clone().await.unwrap_err().to_string(), "broken");
    ///     assert!(fut.set_exception(taskio::Error::timeout()).is_err());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_exception(&self, exception: Error) -> Result<()> {
        match self.complete(Outcome::Failed(exception), false)? {
            true => Ok(()),
            false => Err(Error::invalid_state("invalid state")),
        }
    }

    /// Cancels the Future at once (a Future is not a task: nothing runs to deliver the
    /// request) with an optional message, waking its awaiters with `Cancelled` and
    /// scheduling its callbacks. Returns false if it was already done. asyncio's
    /// `Future.cancel(msg)`.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::<u8>::new();
    ///     assert!(fut.cancel(Some("stop")));
    ///     assert!(fut.cancelled());
    ///     assert_eq!(fut.exception().unwrap_err().cancel_message(), Some("stop"));
    ///     assert!(!fut.cancel(None));
    ///     assert!(fut.set_result(1).is_err());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        let err = Error::cancelled(msg.map(str::to_owned));
        // Callbacks that cannot be scheduled (a closed loop) are dropped: `cancel` reports
        // only whether it cancelled.
        self.complete(Outcome::Failed(err), true).unwrap_or(true)
    }

    /// True once the Future was [cancelled](Future::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::<()>::new();
    ///     fut.set_exception(taskio::Error::cancelled(None))?;
    ///     assert!(!fut.cancelled()); // only `cancel` cancels, as in asyncio
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.state.lock().cancelled
    }

    /// True once the Future has a result, an exception, or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     assert!(!fut.done());
    ///     fut.set_result(())?;
    ///     assert!(fut.done());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn done(&self) -> bool {
        !matches!(self.inner.state.lock().outcome, Outcome::Pending)
    }

    /// The result (a clone) or the exception: asyncio's `Future.result()`.
    ///
    /// # Errors
    ///
    /// `InvalidState` ("Result is not set.") while pending; the Future's exception;
    /// `Cancelled` (with its message) if it was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     assert_eq!(fut.result().unwrap_err().to_string(), "Result is not set.");
    ///     fut.set_result(vec![1, 2])?;
    ///     assert_eq!(fut.result()?, [1, 2]);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        match &self.inner.state.lock().outcome {
            Outcome::Pending => Err(Error::invalid_state("Result is not set.")),
            Outcome::Value(v) => Ok(v.clone()),
            Outcome::Taken => Err(Error::invalid_state("Result was taken by Future::join.")),
            Outcome::Failed(e) => Err(e.clone()),
        }
    }

    /// The exception (`Ok(None)` if the Future has a result): asyncio's
    /// `Future.exception()`.
    ///
    /// # Errors
    ///
    /// `InvalidState` ("Exception is not set.") while pending; `Cancelled` if it was
    /// cancelled, as asyncio raises it.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     assert!(fut.exception().is_err());
    ///     fut.set_result(0)?;
    ///     assert!(fut.exception()?.is_none());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn exception(&self) -> Result<Option<Error>> {
        let st = self.inner.state.lock();
        match &st.outcome {
            Outcome::Pending => Err(Error::invalid_state("Exception is not set.")),
            Outcome::Failed(e) if st.cancelled => Err(e.clone()),
            Outcome::Failed(e) => Ok(Some(e.clone())),
            _ => Ok(None),
        }
    }

    /// Schedules `cb(&future)` for when the Future is done: never inline, in registration
    /// order, on the Future's loop (at once if it is already done). A panicking callback
    /// is reported to the loop's exception handler.
    ///
    /// # Errors
    ///
    /// `Runtime` ("Event loop is closed") if the Future is done and its loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// taskio::Runner::builder().current_thread().build().unwrap().run(async {
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     let fut = taskio::Future::new();
    ///     for name in ["first", "second"] {
    ///         let log = log.clone();
    ///         fut.add_done_callback(move |f: &taskio::Future<i32>| {
    ///             log.lock().unwrap().push(format!("{name} {}", f.result().unwrap()));
    ///         })?;
    ///     }
    ///     fut.set_result(3)?;
    ///     assert!(log.lock().unwrap().is_empty()); // scheduled, not run inline
    ///     taskio::sleep(0).await?;
    ///     assert_eq!(*log.lock().unwrap(), ["first 3", "second 3"]);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn add_done_callback(&self, cb: impl Into<FutureCallback<T>>) -> Result<()> {
        let cb = cb.into();
        let mut st = self.inner.state.lock();
        if matches!(st.outcome, Outcome::Pending) {
            let k = st.next_key;
            st.next_key += 1;
            st.listeners.push((k, Listener::Callback(cb)));
            return Ok(());
        }
        drop(st);
        self.schedule_callback(cb)
    }

    /// Removes every registration of `cb` (not yet scheduled); returns how many there were.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::Future::<()>::new();
    ///     let cb = taskio::futures::FutureCallback::new(|_: &taskio::Future<()>| unreachable!());
    ///     fut.add_done_callback(cb.clone())?;
    ///     fut.add_done_callback(cb.clone())?;
    ///     assert_eq!(fut.remove_done_callback(&cb), 2);
    ///     fut.set_result(())?;
    ///     taskio::sleep(0).await
    /// })
    /// .unwrap();
    /// ```
    pub fn remove_done_callback(&self, cb: &FutureCallback<T>) -> usize {
        let mut st = self.inner.state.lock();
        let before = st.listeners.len();
        st.listeners
            .retain(|(_, l)| !matches!(l, Listener::Callback(c) if c == cb));
        before - st.listeners.len()
    }

    /// Awaits the Future and *moves* its value out (no `T: Clone` needed); later reads of
    /// the value return `InvalidState`. Errors can be read any number of times.
    ///
    /// # Examples
    ///
    /// ```
    /// struct NotClone(&'static str);
    /// taskio::run(async {
    ///     let fut = taskio::Future::new();
    ///     fut.set_result(NotClone("moved"))?;
    ///     assert_eq!(fut.join().await?.0, "moved");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn join(self) -> FutureJoin<T> {
        FutureJoin {
            wait: Wait::new(self),
        }
    }
}

impl<T: Send + 'static> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send + 'static> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T: Send + 'static> Eq for Future<T> {}

impl<T: Send + 'static> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        let state = match &st.outcome {
            Outcome::Pending => "pending",
            Outcome::Failed(_) if st.cancelled => "cancelled",
            Outcome::Failed(_) => "failed",
            _ => "finished",
        };
        f.debug_struct("Future").field("state", &state).finish()
    }
}

/// Waits for a Future to be done, with the checkpoint hook; dropping it only unregisters
/// its waker (the Future is not the awaiter's to cancel).
struct Wait<T: Send + 'static> {
    fut: Future<T>,
    key: Option<u64>,
}

impl<T: Send + 'static> Wait<T> {
    fn new(fut: Future<T>) -> Self {
        Wait { fut, key: None }
    }

    /// `Ready(Ok(state))` once done; `Ready(Err)` when the awaiter's cancellation is
    /// delivered here (the Future is cancelled with its message, as asyncio does).
    fn poll_done(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<crate::kernel::sync::MutexGuard<'_, State<T>>>> {
        if let Some(err) = take_delivered_cancel() {
            self.fut.cancel(err.cancel_message());
            return Poll::Ready(Err(err));
        }
        let mut st = self.fut.inner.state.lock();
        if !matches!(st.outcome, Outcome::Pending) {
            self.key = None;
            return Poll::Ready(Ok(st));
        }
        if let Some(k) = self.key {
            if let Some((_, Listener::Waker(w))) =
                st.listeners.iter_mut().find(|(key, _)| *key == k)
            {
                w.clone_from(cx.waker());
                return Poll::Pending;
            }
        }
        let k = st.next_key;
        st.next_key += 1;
        st.listeners.push((k, Listener::Waker(cx.waker().clone())));
        self.key = Some(k);
        Poll::Pending
    }
}

impl<T: Send + 'static> Drop for Wait<T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.fut
                .inner
                .state
                .lock()
                .listeners
                .retain(|(key, _)| *key != k);
        }
    }
}

/// The future of `fut.await` (see [`Future`]): the result, cloned. Dropping it does not
/// cancel the Future.
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
/// taskio::run(async {
///     let fut = taskio::Future::new();
///     let wait: taskio::futures::FutureWait<u8> = fut.clone().into_future();
///     drop(wait); // the Future is not cancelled
///     assert!(!fut.cancelled());
///     fut.set_result(4)?;
///     assert_eq!(fut.await?, 4);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct FutureWait<T: Send + 'static> {
    wait: Wait<T>,
}

impl<T: Clone + Send + 'static> StdFuture for FutureWait<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let st = std::task::ready!(self.get_mut().wait.poll_done(cx))?;
        Poll::Ready(match &st.outcome {
            Outcome::Value(v) => Ok(v.clone()),
            Outcome::Taken => Err(Error::invalid_state("Result was taken by Future::join.")),
            Outcome::Failed(e) => Err(e.clone()),
            Outcome::Pending => unreachable!("polled done"),
        })
    }
}

impl<T: Send + 'static> fmt::Debug for FutureWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureWait")
            .field("future", &self.wait.fut)
            .finish()
    }
}

/// The future of [`Future::join`]: the value, moved out.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let fut = taskio::Future::<Vec<u8>>::new();
///     fut.set_result(vec![1])?;
///     let join: taskio::futures::FutureJoin<Vec<u8>> = fut.join();
///     assert_eq!(join.await?, [1]);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct FutureJoin<T: Send + 'static> {
    wait: Wait<T>,
}

impl<T: Send + 'static> StdFuture for FutureJoin<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let mut st = std::task::ready!(self.get_mut().wait.poll_done(cx))?;
        Poll::Ready(match std::mem::replace(&mut st.outcome, Outcome::Taken) {
            Outcome::Value(v) => Ok(v),
            Outcome::Failed(e) => {
                st.outcome = Outcome::Failed(e.clone());
                Err(e)
            }
            Outcome::Taken => Err(Error::invalid_state("Result was taken by Future::join.")),
            Outcome::Pending => unreachable!("polled done"),
        })
    }
}

impl<T: Send + 'static> fmt::Debug for FutureJoin<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureJoin")
            .field("future", &self.wait.fut)
            .finish()
    }
}

impl<T: Clone + Send + 'static> IntoFuture for Future<T> {
    type Output = Result<T>;
    type IntoFuture = FutureWait<T>;

    fn into_future(self) -> FutureWait<T> {
        FutureWait {
            wait: Wait::new(self),
        }
    }
}

impl<T: Clone + Send + 'static> IntoFuture for &Future<T> {
    type Output = Result<T>;
    type IntoFuture = FutureWait<T>;

    fn into_future(self) -> FutureWait<T> {
        self.clone().into_future()
    }
}

/// A callback run once a [`Future`] is done (see [`Future::add_done_callback`]). Closures
/// convert into it; two callbacks are equal when one is a clone of the other.
///
/// # Examples
///
/// ```
/// let cb = taskio::futures::FutureCallback::new(|f: &taskio::Future<u8>| {
///     println!("done: {:?}", f.result());
/// });
/// assert!(cb == cb.clone());
/// ```
pub struct FutureCallback<T: Send + 'static>(Arc<CallbackFn<T>>);

type CallbackFn<T> = dyn Fn(&Future<T>) + Send + Sync;

impl<T: Send + 'static> FutureCallback<T> {
    /// Wraps a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let _cb = taskio::futures::FutureCallback::new(|_: &taskio::Future<()>| {});
    /// ```
    pub fn new<F>(f: F) -> FutureCallback<T>
    where
        F: Fn(&Future<T>) + Send + Sync + 'static,
    {
        FutureCallback(Arc::new(f))
    }

    fn call(&self, fut: &Future<T>) {
        (self.0)(fut)
    }
}

impl<T: Send + 'static> Clone for FutureCallback<T> {
    fn clone(&self) -> Self {
        FutureCallback(self.0.clone())
    }
}

impl<T: Send + 'static> PartialEq for FutureCallback<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: Send + 'static> fmt::Debug for FutureCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureCallback").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, F> From<F> for FutureCallback<T>
where
    F: Fn(&Future<T>) + Send + Sync + 'static,
{
    fn from(f: F) -> Self {
        FutureCallback::new(f)
    }
}

/// What [`ensure_future`] accepts: a coroutine (wrapped in a [`Task`]), a [`Task`] or a
/// [`Future`] (each returned as it is).
///
/// # Examples
///
/// ```
/// use taskio::futures::EnsureFuture;
/// taskio::run(async {
///     let t: taskio::Task<u8> = async { Ok(1) }.ensure_future();
///     assert_eq!(t.clone().ensure_future(), t);
///     t.await.map(drop)
/// })
/// .unwrap();
/// ```
pub trait EnsureFuture<T: Send + 'static> {
    /// A [`Task`] or a [`Future`].
    type Output;

    /// See [`ensure_future`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::futures::EnsureFuture;
    /// taskio::run(async {
    ///     let fut = taskio::Future::<u8>::new();
    ///     assert!(fut.clone().ensure_future() == fut);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn ensure_future(self) -> Self::Output;
}

impl<T, F> EnsureFuture<T> for F
where
    F: StdFuture<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    type Output = Task<T>;

    #[track_caller]
    fn ensure_future(self) -> Task<T> {
        create_task(self)
    }
}

impl<T: Send + 'static> EnsureFuture<T> for Task<T> {
    type Output = Task<T>;

    fn ensure_future(self) -> Task<T> {
        self
    }
}

impl<T: Send + 'static> EnsureFuture<T> for Future<T> {
    type Output = Future<T>;

    fn ensure_future(self) -> Future<T> {
        self
    }
}

/// A coroutine wrapped in a [`Task`] scheduled on the running loop; a [`Task`] or a
/// [`Future`] returned as it is: asyncio's `ensure_future`.
///
/// # Panics
///
/// For a coroutine, outside a running loop (as [`create_task`]).
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::ensure_future(async { Ok(2) }); // scheduled now
///     let same = taskio::ensure_future(t.clone());
///     assert_eq!(same, t);
///     let fut = taskio::Future::new();
///     assert!(taskio::ensure_future(fut.clone()) == fut);
///     fut.set_result(t.await? * 10)?;
///     assert_eq!(fut.await?, 20);
///     Ok(())
/// })
/// .unwrap();
/// ```
#[track_caller]
pub fn ensure_future<T: Send + 'static, A: EnsureFuture<T>>(aw: A) -> A::Output {
    aw.ensure_future()
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Future<u8>>();
    is::<FutureWait<u8>>();
    is::<FutureJoin<u8>>();
    is::<FutureCallback<u8>>();
}
