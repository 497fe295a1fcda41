//! asyncio's event loop: [`Loop`], [`get_running_loop`], [`get_event_loop`],
//! [`new_event_loop`], the callback [`Handle`]s and the loop's exception handler.
//!
//! A [`Loop`] is a cheap, `Send + Sync` handle to one runner's runtime (every
//! [`Runner`](crate::Runner) has one, and so has the loop [`run`](crate::run) creates). It
//! schedules plain callbacks ([`call_soon`](Loop::call_soon), [`call_later`](Loop::call_later),
//! [`call_at`](Loop::call_at)), makes [`Future`]s and tasks, and runs: with
//! [`run_until_complete`](Loop::run_until_complete), [`run_forever`](Loop::run_forever) and
//! [`stop`](Loop::stop), the pre-3.7 style of asyncio programs.
//!
//! | asyncio | taskio |
//! |---|---|
//! | `asyncio.get_running_loop()` | [`get_running_loop()?`](get_running_loop) |
//! | `asyncio.get_event_loop()`, `new_event_loop()`, `set_event_loop(l)` | [`get_event_loop()?`](get_event_loop), [`new_event_loop()?`](new_event_loop), [`set_event_loop(Some(&l))`](set_event_loop) |
//! | `loop.time()` | [`lp.time()`](Loop::time) (seconds since the loop was made, on the runtime's clock) |
//! | `loop.call_soon(cb)`, `call_soon_threadsafe(cb)` | [`lp.call_soon(cb)?`](Loop::call_soon), [`lp.call_soon_threadsafe(cb)?`](Loop::call_soon_threadsafe) → [`Handle`] |
//! | `loop.call_later(d, cb)`, `call_at(when, cb)` | [`lp.call_later(d, cb)?`](Loop::call_later), [`lp.call_at(when, cb)?`](Loop::call_at) → [`TimerHandle`] |
//! | `loop.create_future()`, `create_task(coro)` | [`lp.create_future()`](Loop::create_future), [`lp.create_task(coro)?`](Loop::create_task) |
//! | `loop.run_in_executor(None, f)` | [`lp.run_in_executor(f)?`](Loop::run_in_executor) → [`Future`] |
//! | `loop.run_until_complete(aw)`, `run_forever()`, `stop()`, `close()` | the same names |
//! | `loop.set_exception_handler(h)`, `call_exception_handler(ctx)` | [`Loop::set_exception_handler`], [`Loop::call_exception_handler`] with an [`ExceptionContext`] |
//!
//! # The protocol
//!
//! 1. **One callback, one runtime task.** `call_soon` spawns a runtime task that runs the
//!    callback. On the deterministic (current-thread) runner the runtime's ready queue is
//!    asyncio's `_ready`, so callbacks and task steps run in exactly asyncio's FIFO order. A
//!    callback that panics is reported to the loop's exception handler; the loop goes on.
//! 2. **Timers are the loop's own heap**, ordered by `(when, call order)`, with one driver
//!    task per loop (spawned when the first timer is added, ending when the heap is empty)
//!    sleeping on the runtime's timer until the earliest deadline. When it wakes it takes
//!    every due timer off the heap, yields once (asyncio appends the due timers to `_ready`,
//!    behind what is ready), then runs them in heap order. Ties run in call order; the
//!    runtime's paused clock jumps to the deadline. (A task's [`sleep`](crate::sleep) is on
//!    the runtime's timer, not on this heap: it is not ordered against a loop timer with the
//!    same deadline.)
//! 3. **Running.** `run_until_complete` and `run_forever` mark the loop running (under the
//!    state mutex) and `block_on` its runtime until the future is done or `stop` is called.
//!    While a loop is not running, or is stopping, a callback scheduled after the `stop`
//!    does not run: it is set aside and scheduled again, in call order, when the loop runs
//!    next (asyncio's rule that callbacks scheduled after `stop` wait for the next run).
//!    Timers likewise only fire while the loop runs. Tasks are not callbacks: on the
//!    multi-thread runner they keep running between runs (see [`Runner::run`](crate::Runner::run)).
//! 4. **Finding the loop.** Worker threads know their loop from the runtime's thread-start
//!    hook; the thread in `run_until_complete` knows it for the length of the call. That is
//!    what [`get_running_loop`] reads.
//!
//! # Examples
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! let log = Arc::new(Mutex::new(Vec::new()));
//! let l = log.clone();
//! taskio::Runner::builder().current_thread().build().unwrap().run(async move {
//!     let lp = taskio::get_running_loop()?;
//!     let fut = lp.create_future::<&str>();
//!     let (f, l2) = (fut.clone(), l.clone());
//!     lp.call_later(0.01, move || {
//!         l2.lock().unwrap().push("timer");
//!         f.set_result("done").unwrap();
//!     })?;
//!     let l3 = l.clone();
//!     lp.call_soon(move || l3.lock().unwrap().push("soon"))?;
//!     let v = fut.await?;
//!     l.lock().unwrap().push(v);
//!     Ok(())
//! })
//! .unwrap();
//! assert_eq!(*log.lock().unwrap(), ["soon", "timer", "done"]);
//! ```

mod handles;
mod running;
mod timers;

use crate::kernel::sync::atomic::{AtomicU64, Ordering};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future as StdFuture;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};
use std::task::Waker;

use crate::kernel::sync::Mutex;
use taskio_runtime::time::{Duration, Instant};
use taskio_runtime::{Handle as RtHandle, Runtime};

use self::handles::HandleInner;
pub use self::handles::{Handle, TimerHandle};
pub(crate) use self::running::{
    enter_thread as running_enter_thread, leave_thread as running_leave_thread, LoopSlot,
};
pub use self::running::{get_event_loop, get_running_loop, new_event_loop, set_event_loop};
use self::timers::Timers;
use crate::exceptions::{Error, Result};
use crate::futures::Future;
use crate::kernel::task::Core;
use crate::tasks::{Delay, Task};

/// A handle to an event loop: asyncio's `AbstractEventLoop`. Cheap to clone, `Send + Sync`;
/// clones are the same loop (`==` compares loops). See the [module docs](self).
///
/// # Examples
///
/// ```
/// let lp = taskio::new_event_loop().unwrap();
/// assert!(!lp.is_running() && !lp.is_closed());
/// let v = lp.run_until_complete(async { Ok(6 * 7) }).unwrap();
/// assert_eq!(v, 42);
/// lp.close().unwrap();
/// assert!(lp.is_closed());
/// ```
#[derive(Clone)]
pub struct Loop {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// The runtime's handle, to spawn onto from any thread.
    handle: RtHandle,
    /// The loop's clock reading when it was made: `time()` counts from here.
    epoch: Instant,
    /// What the loop's worker threads (and the thread running it) know it by.
    slot: Arc<LoopSlot>,
    /// The runtime, owned by the loop; taken out while the loop runs (`block_on`) and for
    /// good by `close`.
    rt: Mutex<Option<Runtime>>,
    /// Call order of every callback: timers' tie-break, and which callbacks a `stop` defers.
    seq: AtomicU64,
    state: Mutex<State>,
}

struct State {
    running: bool,
    /// `stop` was called while running: the run ends at its next look.
    stopping: bool,
    /// Callbacks scheduled from this sequence number on wait for the next run.
    stop_mark: u64,
    /// `stop` was called while not running: the next run stops after one round.
    stop_pending: bool,
    closed: bool,
    /// The waker of the thread blocked in `run_*` (woken by `stop`).
    run_waker: Option<Waker>,
    /// Callbacks set aside by protocol step 3, until the next run.
    deferred: VecDeque<Arc<HandleInner>>,
    timers: Timers,
    handler: Option<ExceptionHandler>,
}

impl Loop {
    /// A loop owning `rt`; `slot` is what `rt`'s worker threads were told to look at.
    pub(crate) fn from_runtime(rt: Runtime, slot: Arc<LoopSlot>) -> Loop {
        let epoch = {
            let _enter = rt.enter();
            Instant::now()
        };
        let shared = Arc::new(Shared {
            handle: rt.handle().clone(),
            epoch,
            slot,
            rt: Mutex::new(Some(rt)),
            seq: AtomicU64::new(0),
            state: Mutex::new(State {
                running: false,
                stopping: false,
                stop_mark: 0,
                stop_pending: false,
                closed: false,
                run_waker: None,
                deferred: VecDeque::new(),
                timers: Timers::default(),
                handler: None,
            }),
        });
        let _ = shared.slot.set(Arc::downgrade(&shared));
        Loop { shared }
    }

    fn from_weak(w: &Weak<Shared>) -> Option<Loop> {
        w.upgrade().map(|shared| Loop { shared })
    }

    /// The runtime's handle (to spawn onto it from other threads).
    pub(crate) fn rt_handle(&self) -> &RtHandle {
        &self.shared.handle
    }

    fn check_closed(&self) -> Result<()> {
        if self.shared.state.lock().closed {
            return Err(Error::runtime("Event loop is closed"));
        }
        Ok(())
    }

    /// The loop's monotonic clock, in seconds: the runtime's clock (the paused clock when
    /// the runner starts paused), counted from when the loop was made. asyncio's
    /// `loop.time()`; deadlines for [`call_at`](Loop::call_at) are on this clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let start = lp.time();
    ///     taskio::sleep(5).await?; // the paused clock jumps: no real time passes
    ///     assert_eq!(lp.time() - start, 5.0);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn time(&self) -> f64 {
        let now = if running::is_current(&self.shared) {
            Instant::now()
        } else {
            let _enter = self.shared.handle.enter();
            Instant::now()
        };
        self.secs(now)
    }

    fn secs(&self, t: Instant) -> f64 {
        match t.checked_duration_since(self.shared.epoch) {
            Some(d) => d.as_secs_f64(),
            None => -(self.shared.epoch - t).as_secs_f64(),
        }
    }

    /// The instant of `when` on the loop's clock; `None` for "never" (infinity).
    fn deadline(&self, when: f64) -> Option<Instant> {
        if when <= 0.0 {
            // In the past (the clock reads at least 0): due at once.
            return Some(self.shared.epoch);
        }
        let d = Duration::try_from_secs_f64(when).ok()?;
        self.shared.epoch.checked_add(d)
    }

    fn next_seq(&self) -> u64 {
        self.shared.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Schedules `callback` to run at the loop's next opportunity: asyncio's
    /// `loop.call_soon`. Callbacks run in call order; on the deterministic runner they take
    /// their turn in the one FIFO queue with the tasks' steps, as in asyncio. A panic in
    /// `callback` goes to the loop's [exception handler](Loop::call_exception_handler).
    ///
    /// # Errors
    ///
    /// `Runtime` ("Event loop is closed") once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let r = taskio::Runner::builder().current_thread().build().unwrap();
    /// let order = r.run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     for i in 0..3 {
    ///         let log = log.clone();
    ///         lp.call_soon(move || log.lock().unwrap().push(i))?;
    ///     }
    ///     assert!(log.lock().unwrap().is_empty()); // scheduled, not run inline
    ///     taskio::sleep(0).await?;
    ///     let v = log.lock().unwrap().clone();
    ///     Ok(v)
    /// })
    /// .unwrap();
    /// assert_eq!(order, [0, 1, 2]);
    /// ```
    ///
    /// A callback may run on any worker, so it must be `Send`:
    ///
    /// ```compile_fail
    /// let lp = taskio::new_event_loop().unwrap();
    /// let rc = std::rc::Rc::new(1);
    /// lp.call_soon(move || drop(rc)).unwrap();
    /// ```
    pub fn call_soon<F>(&self, callback: F) -> Result<Handle>
    where
        F: FnOnce() + Send + 'static,
    {
        self.check_closed()?;
        let inner = HandleInner::new(Box::new(callback), None, self.next_seq(), self);
        self.spawn_handle(inner.clone());
        Ok(Handle { inner })
    }

    /// [`call_soon`](Loop::call_soon) from any thread: asyncio's
    /// `loop.call_soon_threadsafe`. (Every taskio loop method is thread-safe, so the two are
    /// one; this name says what the call site relies on.)
    ///
    /// # Errors
    ///
    /// `Runtime` ("Event loop is closed") once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let fut = lp.create_future::<u32>();
    ///     let (lp2, f) = (lp.clone(), fut.clone());
    ///     std::thread::spawn(move || {
    ///         lp2.call_soon_threadsafe(move || f.set_result(7).unwrap()).unwrap();
    ///     });
    ///     assert_eq!(fut.await?, 7);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn call_soon_threadsafe<F>(&self, callback: F) -> Result<Handle>
    where
        F: FnOnce() + Send + 'static,
    {
        self.call_soon(callback)
    }

    /// Schedules `callback` to run after `delay` (seconds, or a `Duration`): asyncio's
    /// `loop.call_later`, that is `call_at(time() + delay)`. A delay `<= 0` is due at once.
    ///
    /// # Errors
    ///
    /// `Value` for a NaN delay; `Runtime` once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// let log = r.run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     for (d, name) in [(2, "b"), (1, "a"), (2, "c")] {
    ///         let log = log.clone();
    ///         let h = lp.call_later(d, move || log.lock().unwrap().push(name))?;
    ///         assert!(h.when() > lp.time());
    ///     }
    ///     taskio::sleep(3).await?;
    ///     let v = log.lock().unwrap().clone();
    ///     Ok(v)
    /// })
    /// .unwrap();
    /// assert_eq!(log, ["a", "b", "c"]); // equal deadlines: call order
    /// ```
    pub fn call_later<F>(&self, delay: impl Delay, callback: F) -> Result<TimerHandle>
    where
        F: FnOnce() + Send + 'static,
    {
        let secs = delay.into_delay()?.map_or(0.0, |d| d.as_secs_f64());
        self.call_at(self.time() + secs, callback)
    }

    /// Schedules `callback` to run when the loop's [`time`](Loop::time) reaches `when`:
    /// asyncio's `loop.call_at`. Timers run in deadline order, equal deadlines in call order;
    /// an infinite `when` never comes.
    ///
    /// # Errors
    ///
    /// `Value` for a NaN `when`; `Runtime` once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// let log = r.run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     let now = lp.time();
    ///     for (at, name) in [(3.0, "late"), (1.0, "early"), (2.0, "cancelled")] {
    ///         let log = log.clone();
    ///         let h = lp.call_at(now + at, move || log.lock().unwrap().push(name))?;
    ///         assert_eq!(h.when(), now + at);
    ///         if name == "cancelled" {
    ///             h.cancel();
    ///         }
    ///     }
    ///     taskio::sleep(4).await?;
    ///     let v = log.lock().unwrap().clone();
    ///     Ok(v)
    /// })
    /// .unwrap();
    /// assert_eq!(log, ["early", "late"]);
    /// ```
    pub fn call_at<F>(&self, when: f64, callback: F) -> Result<TimerHandle>
    where
        F: FnOnce() + Send + 'static,
    {
        if when.is_nan() {
            return Err(Error::value("Invalid when: NaN (not a number)"));
        }
        self.check_closed()?;
        let inner = HandleInner::new(Box::new(callback), Some(when), self.next_seq(), self);
        timers::add(self, inner.clone(), self.deadline(when));
        Ok(TimerHandle { inner })
    }

    /// Spawns the runtime task of one `call_soon` callback (protocol step 1).
    fn spawn_handle(&self, inner: Arc<HandleInner>) {
        let weak = Arc::downgrade(&self.shared);
        drop(self.shared.handle.spawn(async move {
            if let Some(lp) = Loop::from_weak(&weak) {
                if !lp.defer_if_stopped(&inner) {
                    inner.run(&lp);
                }
            }
        }));
    }

    /// Protocol step 3: sets `inner` aside if the loop is not running, or is stopping and
    /// `inner` was scheduled after the `stop`.
    fn defer_if_stopped(&self, inner: &Arc<HandleInner>) -> bool {
        let mut st = self.shared.state.lock();
        if st.closed {
            return true;
        }
        if !st.running || (st.stopping && inner.seq >= st.stop_mark) {
            st.deferred.push_back(inner.clone());
            return true;
        }
        false
    }

    /// A new pending [`Future`] bound to this loop (its done callbacks run here): asyncio's
    /// `loop.create_future()`.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let fut = taskio::get_running_loop()?.create_future::<String>();
    ///     assert!(!fut.done());
    ///     fut.set_result("hi".into())?;
    ///     assert_eq!(fut.await?, "hi");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn create_future<T: Send + 'static>(&self) -> Future<T> {
        Future::with_loop(self.clone())
    }

    /// Wraps `coro` in a [`Task`] scheduled on this loop (from any thread): asyncio's
    /// `loop.create_task`.
    ///
    /// # Errors
    ///
    /// `Runtime` ("Event loop is closed") once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// let t = lp.create_task(async { Ok(5) }).unwrap(); // made before the loop runs
    /// assert_eq!(lp.run_until_complete(t).unwrap(), 5);
    /// lp.close().unwrap();
    /// ```
    #[track_caller]
    pub fn create_task<F, T>(&self, coro: F) -> Result<Task<T>>
    where
        F: StdFuture<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.check_closed()?;
        Ok(Task::from_core(Core::spawn(
            coro,
            None,
            &self.shared.handle,
            std::panic::Location::caller(),
        )))
    }

    /// Runs `f` on the runtime's blocking pool and returns a [`Future`] of its result:
    /// asyncio's `loop.run_in_executor(None, f)`. The work is submitted at once; a panic in
    /// `f` becomes the Future's exception (kind `Panic`). Cancelling the Future before the
    /// work starts keeps it from starting; running work cannot be interrupted (asyncio's
    /// rule).
    ///
    /// # Errors
    ///
    /// `Runtime` ("Event loop is closed") once the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let fut = lp.run_in_executor(|| (1..=10u32).product::<u32>())?;
    ///     assert_eq!(fut.await?, 3_628_800);
    ///     let err = lp.run_in_executor(|| -> u8 { panic!("in the pool") })?.await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("in the pool"));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn run_in_executor<F, R>(&self, f: F) -> Result<Future<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.check_closed()?;
        let fut = self.create_future::<R>();
        let out = fut.clone();
        drop(self.shared.handle.spawn_blocking(move || {
            if out.done() {
                return; // cancelled before it started
            }
            let r = catch_unwind(AssertUnwindSafe(f));
            // The Future may have been cancelled meanwhile: then the result is dropped.
            let _ = match r {
                Ok(v) => out.set_result(v),
                Err(p) => out.set_exception(Error::panic(p)),
            };
        }));
        Ok(fut)
    }

    /// Sets the loop's exception handler (`None`: back to the
    /// [default](Loop::default_exception_handler)): asyncio's `loop.set_exception_handler`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use taskio::events::ExceptionHandler;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// taskio::Runner::builder().current_thread().build().unwrap().run(async move {
    ///     let lp = taskio::get_running_loop()?;
    ///     lp.set_exception_handler(Some(ExceptionHandler::new(move |_lp, ctx| {
    ///         s.lock().unwrap().push(ctx.exception().unwrap().panic_message().unwrap().to_owned());
    ///     })));
    ///     lp.call_soon(|| panic!("bad callback"))?;
    ///     let fut = lp.create_future::<()>();
    ///     let f = fut.clone();
    ///     lp.call_soon(move || f.set_result(()).unwrap())?; // the loop went on
    ///     fut.await?;
    ///     lp.set_exception_handler(None);
    ///     assert!(lp.get_exception_handler().is_none());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// assert_eq!(*seen.lock().unwrap(), ["bad callback"]);
    /// ```
    pub fn set_exception_handler(&self, handler: Option<ExceptionHandler>) {
        self.shared.state.lock().handler = handler;
    }

    /// The handler set with [`set_exception_handler`](Loop::set_exception_handler), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// assert!(lp.get_exception_handler().is_none());
    /// let h = taskio::events::ExceptionHandler::new(|_, _| {});
    /// lp.set_exception_handler(Some(h.clone()));
    /// assert!(lp.get_exception_handler() == Some(h));
    /// lp.close().unwrap();
    /// ```
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.shared.state.lock().handler.clone()
    }

    /// Reports `context` to the loop's exception handler, or to the
    /// [default](Loop::default_exception_handler) one if none is set; a handler that panics
    /// is reported to the default one. asyncio's `loop.call_exception_handler`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use taskio::events::{ExceptionContext, ExceptionHandler};
    /// let lp = taskio::new_event_loop().unwrap();
    /// let hits = Arc::new(AtomicUsize::new(0));
    /// let h = hits.clone();
    /// lp.set_exception_handler(Some(ExceptionHandler::new(move |_, ctx| {
    ///     assert_eq!(ctx.message(), "something broke");
    ///     h.fetch_add(1, Ordering::SeqCst);
    /// })));
    /// lp.call_exception_handler(&ExceptionContext::new("something broke"));
    /// assert_eq!(hits.load(Ordering::SeqCst), 1);
    /// lp.close().unwrap();
    /// ```
    pub fn call_exception_handler(&self, context: &ExceptionContext) {
        let handler = self.shared.state.lock().handler.clone();
        let Some(handler) = handler else {
            self.default_exception_handler(context);
            return;
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| (handler.0)(self, context))) {
            self.default_exception_handler(
                &ExceptionContext::new("Unhandled error in exception handler")
                    .with_exception(Error::panic(p)),
            );
            self.default_exception_handler(context);
        }
    }

    /// The default exception handler: reports the context as every error nobody awaits is
    /// reported (the process's [`set_error_hook`](crate::set_error_hook) hook; else
    /// `tracing`, with the `tracing` feature; else standard error). asyncio logs it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// // Prints "taskio: Exception in callback: Cancelled" on stderr (no hook is set).
    /// lp.default_exception_handler(
    ///     &taskio::events::ExceptionContext::new("Exception in callback")
    ///         .with_exception(taskio::Error::cancelled(None)),
    /// );
    /// lp.close().unwrap();
    /// ```
    pub fn default_exception_handler(&self, context: &ExceptionContext) {
        crate::report::report(&context.message, context.exception.as_ref());
    }
}

impl PartialEq for Loop {
    fn eq(&self, other: &Loop) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for Loop {}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("Loop")
            .field("running", &st.running)
            .field("closed", &st.closed)
            .finish_non_exhaustive()
    }
}

/// What went wrong, as told to an exception handler: asyncio's context dict, with its
/// `message` and `exception` keys.
///
/// # Examples
///
/// ```
/// let ctx = taskio::events::ExceptionContext::new("Exception in callback")
///     .with_exception(taskio::Error::runtime("boom"));
/// assert_eq!(ctx.message(), "Exception in callback");
/// assert_eq!(ctx.exception().unwrap().to_string(), "boom");
/// ```
#[derive(Clone, Debug)]
pub struct ExceptionContext {
    message: String,
    exception: Option<Error>,
}

impl ExceptionContext {
    /// A context with a message and no exception.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = taskio::events::ExceptionContext::new("it happened");
    /// assert!(ctx.exception().is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> ExceptionContext {
        ExceptionContext {
            message: message.into(),
            exception: None,
        }
    }

    /// The context with `exception` attached.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = taskio::events::ExceptionContext::new("m").with_exception(taskio::Error::timeout());
    /// assert!(ctx.exception().unwrap().is_timeout());
    /// ```
    pub fn with_exception(mut self, exception: Error) -> ExceptionContext {
        self.exception = Some(exception);
        self
    }

    /// The message (asyncio's `context['message']`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::events::ExceptionContext::new("m").message(), "m");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error, if any (asyncio's `context['exception']`); a panicking callback's is of
    /// kind `Panic`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::events::ExceptionContext::new("m").exception().is_none());
    /// ```
    pub fn exception(&self) -> Option<&Error> {
        self.exception.as_ref()
    }
}

/// A loop's exception handler: a closure called with the loop and the
/// [`ExceptionContext`]. Two handlers are equal when one is a clone of the other.
///
/// # Examples
///
/// ```
/// let h = taskio::events::ExceptionHandler::new(|_lp, ctx| eprintln!("{}", ctx.message()));
/// assert!(h == h.clone());
/// ```
#[derive(Clone)]
pub struct ExceptionHandler(Arc<HandlerFn>);

type HandlerFn = dyn Fn(&Loop, &ExceptionContext) + Send + Sync;

impl ExceptionHandler {
    /// Wraps a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let _h = taskio::events::ExceptionHandler::new(|_lp, _ctx| {});
    /// ```
    pub fn new<F>(f: F) -> ExceptionHandler
    where
        F: Fn(&Loop, &ExceptionContext) + Send + Sync + 'static,
    {
        ExceptionHandler(Arc::new(f))
    }
}

impl PartialEq for ExceptionHandler {
    fn eq(&self, other: &ExceptionHandler) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for ExceptionHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptionHandler").finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Loop>();
    is::<Handle>();
    is::<TimerHandle>();
    is::<ExceptionContext>();
    is::<ExceptionHandler>();
}
