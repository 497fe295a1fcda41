//! Running a loop (`run_until_complete`, `run_forever`, `stop`, `close`) and finding it
//! (`get_running_loop`, `get_event_loop`, protocol steps 3 and 4 of the [module docs](super)).

use std::cell::RefCell;
use std::future::{Future as StdFuture, IntoFuture};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Waker};

use taskio_runtime::Handle as RtHandle;

use super::{Loop, Shared};
use crate::exceptions::{Error, Result};
use crate::kernel::task::Core;
use crate::tasks::Task;

/// What a loop's threads know it by: set once, right after the loop is made (its worker
/// threads may start before that, so they keep the slot, not the loop).
pub(crate) type LoopSlot = OnceLock<Weak<Shared>>;

thread_local! {
    /// The loop this thread runs: a worker's, for its life; the `run_*` caller's, for the call.
    static RUNNING: RefCell<Option<Arc<LoopSlot>>> = const { RefCell::new(None) };
    /// asyncio's event loop policy, per thread: the loop `set_event_loop` set, and whether
    /// it was ever called (then `get_event_loop` no longer makes one).
    static CURRENT: RefCell<(Option<Loop>, bool)> = const { RefCell::new((None, false)) };
}

/// Makes `slot` this thread's loop (the runtime's thread-start hook).
pub(crate) fn enter_thread(slot: Arc<LoopSlot>) {
    RUNNING.with(|r| *r.borrow_mut() = Some(slot));
}

/// The runtime's thread-stop hook.
pub(crate) fn leave_thread() {
    let _ = RUNNING.try_with(|r| r.borrow_mut().take());
}

fn running_loop() -> Option<Loop> {
    RUNNING
        .try_with(|r| {
            let slot = r.borrow().clone()?;
            Loop::from_weak(slot.get()?)
        })
        .ok()
        .flatten()
}

/// True if this thread runs the loop `shared`.
pub(super) fn is_current(shared: &Shared) -> bool {
    RUNNING
        .try_with(|r| {
            r.borrow()
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(s, &shared.slot))
        })
        .unwrap_or(false)
}

/// The loop running the current task (or callback): asyncio's `get_running_loop()`. (On the
/// multi-thread runner tasks keep running between two runs of a [`Runner`](crate::Runner);
/// they find their loop too, [not running](Loop::is_running).)
///
/// # Errors
///
/// `Runtime` ("no running event loop") outside a running loop, as asyncio's RuntimeError.
///
/// # Examples
///
/// ```
/// let err = taskio::get_running_loop().unwrap_err();
/// assert_eq!(err.to_string(), "no running event loop");
/// taskio::run(async {
///     let lp = taskio::get_running_loop()?;
///     assert!(lp.is_running());
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn get_running_loop() -> Result<Loop> {
    running_loop().ok_or_else(|| Error::runtime("no running event loop"))
}

/// The running loop, else this thread's current loop (set by [`set_event_loop`] or by a
/// [`Runner`](crate::Runner) running here), else a new loop made current, unless
/// `set_event_loop` was called on this thread before (asyncio's `get_event_loop()` with
/// its default policy, as 3.12 has it; the new loop is a multi-thread one).
///
/// # Errors
///
/// `Runtime` ("There is no current event loop in thread 'NAME'.") when `set_event_loop`
/// was called here and no loop is set (so, after [`run`](crate::run) on this thread), or
/// `Io` if a new loop cannot be built.
///
/// # Examples
///
/// ```
/// std::thread::spawn(|| {
///     let lp = taskio::get_event_loop().unwrap(); // made and set
///     assert!(lp == taskio::get_event_loop().unwrap());
///     assert_eq!(lp.run_until_complete(async { Ok(1) }).unwrap(), 1);
///     lp.close().unwrap();
///     taskio::set_event_loop(None);
///     assert!(taskio::get_event_loop().is_err());
/// })
/// .join()
/// .unwrap();
/// ```
pub fn get_event_loop() -> Result<Loop> {
    if let Some(lp) = running_loop() {
        return Ok(lp);
    }
    let (set, was_set) = CURRENT.with(|c| {
        let c = c.borrow();
        (c.0.clone(), c.1)
    });
    if let Some(lp) = set {
        return Ok(lp);
    }
    if was_set {
        let name = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        return Err(Error::runtime(format!(
            "There is no current event loop in thread '{name}'."
        )));
    }
    let lp = new_event_loop()?;
    set_event_loop(Some(&lp));
    Ok(lp)
}

/// Makes `lp` this thread's current loop (`None`: none), for [`get_event_loop`]: asyncio's
/// `set_event_loop`.
///
/// # Examples
///
/// ```
/// std::thread::spawn(|| {
///     let lp = taskio::new_event_loop().unwrap();
///     taskio::set_event_loop(Some(&lp));
///     assert!(taskio::get_event_loop().unwrap() == lp);
///     taskio::set_event_loop(None);
///     lp.close().unwrap();
/// })
/// .join()
/// .unwrap();
/// ```
pub fn set_event_loop(lp: Option<&Loop>) {
    let old = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), (lp.cloned(), true)));
    drop(old);
}

/// A new loop on a new multi-thread runtime (as [`run`](crate::run) uses): asyncio's
/// `new_event_loop()`. It is not running and not current; close it with
/// [`Loop::close`]. For the deterministic runner, use
/// [`Runner::builder()`](crate::Runner::builder)`.current_thread()` and
/// [`Runner::get_loop`](crate::Runner::get_loop).
///
/// # Errors
///
/// `Io` if the runtime cannot be built.
///
/// # Examples
///
/// ```
/// let lp = taskio::new_event_loop().unwrap();
/// assert!(lp.run_until_complete(async { Ok(()) }).is_ok());
/// lp.close().unwrap();
/// ```
pub fn new_event_loop() -> Result<Loop> {
    crate::runners::RunnerBuilder::default().build_loop()
}

/// The end of a run: puts the runtime back, then clears the running state (in that order,
/// so that whoever sees the loop not running finds its runtime).
struct RunGuard<'a> {
    lp: &'a Loop,
    rt: Option<taskio_runtime::Runtime>,
    prev: Option<Option<Arc<LoopSlot>>>,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            let _ = RUNNING.try_with(|r| *r.borrow_mut() = prev);
        }
        *self.lp.shared.rt.lock() = self.rt.take();
        let mut st = self.lp.shared.state.lock();
        st.running = false;
        st.stopping = false;
        st.run_waker = None;
    }
}

impl Loop {
    /// Runs the loop until `fut` (wrapped in a task, as `ensure_future` does) is done, and
    /// returns its result: asyncio's `loop.run_until_complete`. Callbacks, timers and tasks
    /// all run meanwhile.
    ///
    /// # Errors
    ///
    /// `fut`'s error; `Runtime` with asyncio's messages: "Event loop stopped before Future
    /// completed." if [`stop`](Loop::stop) ended the run first (the task is left pending, to
    /// run again with the loop), "Event loop is closed", "This event loop is already
    /// running", "Cannot run the event loop while another loop is running".
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// assert_eq!(lp.run_until_complete(async { Ok("speech") }).unwrap(), "speech");
    ///
    /// let err = lp
    ///     .run_until_complete(async {
    ///         taskio::get_running_loop()?.stop();
    ///         taskio::sleep(3600).await
    ///     })
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "Event loop stopped before Future completed.");
    /// lp.close().unwrap();
    /// ```
    #[track_caller]
    pub fn run_until_complete<A, T>(&self, fut: A) -> Result<T>
    where
        A: IntoFuture<Output = Result<T>>,
        A::IntoFuture: Send + 'static,
        T: Send + 'static,
    {
        self.run_until_complete_then(fut, |_| {})
    }

    /// [`run_until_complete`](Loop::run_until_complete), telling `spawned` the task made for
    /// `fut` as soon as it exists (the runner's SIGINT handling cancels it).
    #[track_caller]
    pub(crate) fn run_until_complete_then<A, T>(
        &self,
        fut: A,
        spawned: impl FnOnce(&Task<T>),
    ) -> Result<T>
    where
        A: IntoFuture<Output = Result<T>>,
        A::IntoFuture: Send + 'static,
        T: Send + 'static,
    {
        self.check_can_run()?;
        let fut = fut.into_future();
        let handle = self.shared.handle.clone();
        // The task is made once the loop is marked running (a worker may start it at once).
        let at = std::panic::Location::caller();
        let task = self
            .run(move || {
                let task = Task::from_core(Core::spawn(fut, None, &handle, at));
                spawned(&task);
                Some(task)
            })?
            .expect("made by `start`");
        if !task.done() {
            return Err(Error::runtime(
                "Event loop stopped before Future completed.",
            ));
        }
        let mut join = std::pin::pin!(task.join());
        match join.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("the task is done"),
        }
    }

    /// Runs the loop until [`stop`](Loop::stop) is called: asyncio's `loop.run_forever`.
    /// A `stop` made before the call lets the run do one round (what is already scheduled)
    /// and return.
    ///
    /// # Errors
    ///
    /// `Runtime` as for [`run_until_complete`](Loop::run_until_complete).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// let l = lp.clone();
    /// lp.call_later(0.01, move || l.stop()).unwrap();
    /// lp.run_forever().unwrap();
    /// assert!(!lp.is_running());
    /// lp.close().unwrap();
    /// ```
    pub fn run_forever(&self) -> Result<()> {
        self.check_can_run()?;
        self.run::<()>(|| None).map(drop)
    }

    fn check_can_run(&self) -> Result<()> {
        let st = self.shared.state.lock();
        if st.closed {
            return Err(Error::runtime("Event loop is closed"));
        }
        if st.running {
            return Err(Error::runtime("This event loop is already running"));
        }
        drop(st);
        if RtHandle::try_current().is_ok() {
            return Err(Error::runtime(
                "Cannot run the event loop while another loop is running",
            ));
        }
        Ok(())
    }

    /// Marks the loop running, calls `start` (which may make the task to run until), and
    /// runs until that task is done or the loop is stopped.
    fn run<T: Send + 'static>(
        &self,
        start: impl FnOnce() -> Option<Task<T>>,
    ) -> Result<Option<Task<T>>> {
        let (deferred, timer_waker, stop_after_round) = {
            let mut st = self.shared.state.lock();
            if st.closed {
                return Err(Error::runtime("Event loop is closed"));
            }
            if st.running {
                return Err(Error::runtime("This event loop is already running"));
            }
            st.running = true;
            st.stopping = false;
            let deferred: Vec<_> = st.deferred.drain(..).collect();
            let stop = std::mem::take(&mut st.stop_pending);
            (deferred, st.timers.take_waker(), stop)
        };
        let prev = RUNNING.with(|r| r.borrow_mut().replace(self.shared.slot.clone()));
        let guard = RunGuard {
            lp: self,
            rt: self.shared.rt.lock().take(),
            prev: Some(prev),
        };
        let Some(rt) = guard.rt.as_ref() else {
            return Err(Error::runtime("Event loop is closed"));
        };
        let mut deferred = deferred;
        deferred.sort_by_key(|h| h.seq);
        for h in deferred {
            self.spawn_handle(h);
        }
        if let Some(w) = timer_waker {
            w.wake();
        }
        let main = start();
        if stop_after_round {
            // Behind everything already scheduled: asyncio runs one round, then stops.
            let lp = self.clone();
            drop(self.shared.handle.spawn(async move { lp.stop() }));
        }
        let until = main.as_ref().map(Task::dyn_core);
        let mut key = None;
        rt.block_on(std::future::poll_fn(|cx| {
            if let Some(core) = until {
                if core.poll_done(&mut key, cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            let mut st = self.shared.state.lock();
            if st.stopping {
                return Poll::Ready(());
            }
            st.run_waker = Some(cx.waker().clone());
            Poll::Pending
        }));
        if let (Some(core), Some(k)) = (until, key) {
            core.unlisten(k);
        }
        Ok(main)
    }

    /// Stops the loop: asyncio's `loop.stop()`. The run in progress returns at its next look:
    /// at once on the multi-thread runner; on the deterministic runner once nothing is ready
    /// or after the runtime's event interval (61 steps), whichever comes first. Callbacks
    /// scheduled before the `stop` still run in this run; callbacks (and timers) scheduled
    /// after it wait for the next run, as in asyncio. Tasks are not held back: a task may
    /// take a step or two more than asyncio would give it before the run returns. Called
    /// while the loop is not running, the next run does one round (what is already
    /// scheduled) and stops.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// let lp = taskio::new_event_loop().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// lp.call_soon(move || r.store(true, Ordering::SeqCst)).unwrap();
    /// lp.stop(); // before the run: one round, then stop
    /// lp.run_forever().unwrap();
    /// assert!(ran.load(Ordering::SeqCst));
    /// lp.close().unwrap();
    /// ```
    pub fn stop(&self) {
        let waker = {
            let mut st = self.shared.state.lock();
            if !st.running {
                st.stop_pending = true;
                return;
            }
            if !st.stopping {
                st.stopping = true;
                st.stop_mark = self.shared.seq.load(std::sync::atomic::Ordering::Relaxed);
            }
            st.run_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Closes the loop: its runtime shuts down (the tasks still pending are dropped, so
    /// they end cancelled; the blocking pool is shut down) and every later scheduling call
    /// fails. Closing twice does nothing. asyncio's `loop.close()`; a
    /// [`Runner`](crate::Runner) closes its loop after cancelling its tasks.
    ///
    /// # Errors
    ///
    /// `Runtime` ("Cannot close a running event loop") while the loop runs, or from one of
    /// its own tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// lp.close().unwrap();
    /// lp.close().unwrap();
    /// assert!(lp.call_soon(|| ()).is_err());
    /// assert_eq!(
    ///     lp.run_until_complete(async { Ok(()) }).unwrap_err().to_string(),
    ///     "Event loop is closed"
    /// );
    /// ```
    pub fn close(&self) -> Result<()> {
        let running = || Err(Error::runtime("Cannot close a running event loop"));
        if is_current(&self.shared) {
            return running();
        }
        let (timers, deferred) = {
            let mut st = self.shared.state.lock();
            if st.running {
                return running();
            }
            if st.closed {
                return Ok(());
            }
            st.closed = true;
            (st.timers.clear(), std::mem::take(&mut st.deferred))
        };
        // Outside the mutex: destructors may call into the loop.
        drop((timers, deferred));
        let rt = self.shared.rt.lock().take();
        if let Some(rt) = rt {
            drop_runtime(rt);
        }
        Ok(())
    }

    /// The runtime, for a runner's close (which cancels the tasks first); the loop is marked
    /// closed. `None` if it was closed already, or is running.
    pub(crate) fn take_runtime_for_close(&self) -> Option<taskio_runtime::Runtime> {
        let (timers, deferred) = {
            let mut st = self.shared.state.lock();
            if st.running || st.closed {
                return None;
            }
            st.closed = true;
            (st.timers.clear(), std::mem::take(&mut st.deferred))
        };
        drop((timers, deferred));
        self.shared.rt.lock().take()
    }

    /// True while [`run_until_complete`](Loop::run_until_complete) or
    /// [`run_forever`](Loop::run_forever) runs the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// assert!(!lp.is_running());
    /// lp.run_until_complete(async { Ok(assert!(taskio::get_running_loop()?.is_running())) })
    ///     .unwrap();
    /// lp.close().unwrap();
    /// ```
    pub fn is_running(&self) -> bool {
        self.shared.state.lock().running
    }

    /// True once the loop is [closed](Loop::close).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = taskio::new_event_loop().unwrap();
    /// assert!(!lp.is_closed());
    /// lp.close().unwrap();
    /// assert!(lp.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().closed
    }
}

/// Shuts a loop's runtime down; from inside a runtime (one of the loop's own threads, such
/// as its blocking pool's, which the shutdown joins), on a thread of its own.
fn drop_runtime(rt: taskio_runtime::Runtime) {
    if RtHandle::try_current().is_ok() {
        std::thread::spawn(move || drop(rt));
    } else {
        drop(rt);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle to an unclosed loop may go away in one of its tasks.
        if let Some(rt) = self.rt.get_mut().take() {
            drop_runtime(rt);
        }
    }
}
