//! asyncio's timeouts: [`wait_for`], and the [`timeout`] / [`timeout_at`] scopes.
//!
//! Deadlines are [`Instant`]s of the runtime's clock (so a paused clock governs them too).

use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use crate::kernel::sync::Mutex;

pub use taskio_runtime::time::Instant;

use crate::cancel_scope::{run_scope, Core, Phase};
use crate::exceptions::{Error, Result};
use crate::rt_time;
use crate::tasks::{Awaitable, Task};

/// Awaits `aw` with a time limit (asyncio's `wait_for`).
///
/// `None` is a plain await. On expiry the inner task is cancelled, and its cancellation
/// (clean-up included) has finished before `Timeout` is returned; an inner task that swallows
/// the cancellation and returns a value gives that value. If the caller is cancelled, the
/// inner task is cancelled and the caller's Cancelled passes through. A zero timeout returns
/// the result if the task is already done, else cancels it and returns `Timeout`.
///
/// # Errors
///
/// `Timeout`, or the inner task's own error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::{sleep, wait_for};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let v = wait_for(async { Ok(1) }, Some(Duration::from_secs(1))).await?;
///     assert_eq!(v, 1);
///     let err = wait_for(async { sleep(10).await?; Ok(2) }, Some(Duration::from_secs(1)))
///         .await
///         .unwrap_err();
///     assert!(err.is_timeout());
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn wait_for<A, T>(aw: A, timeout: Option<Duration>) -> Result<T>
where
    A: Awaitable<T>,
    T: Clone + Send + 'static,
{
    let task = aw.into_task();
    let Some(t) = timeout else {
        return task.await;
    };
    if t.is_zero() {
        if task.done() {
            return task.result();
        }
        return cancel_and_timeout(task).await;
    }
    if crate::kernel::task::current().is_some() {
        // asyncio 3.12's `wait_for`: `async with timeout(t): return await task`. The scope's
        // cancellation is delivered at the task await, which forwards it to the inner task
        // and waits for it to end (its clean-up included).
        return self::timeout(Some(t)).run(task.into_future()).await;
    }
    // Outside a task (`block_on`'s future) nobody can be cancelled: race the timer.
    let mut fut = pin!(task.clone().into_future());
    let mut sleep = pin!(rt_time::sleep(t));
    let out = poll_fn(|cx| {
        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        sleep.as_mut().poll(cx).map(|()| None)
    })
    .await;
    match out {
        Some(r) => r,
        None => cancel_and_timeout(task).await,
    }
}

/// Cancels `task`, waits until it ended, and reports Timeout (or its result, if it managed
/// to finish first).
async fn cancel_and_timeout<T: Clone + Send + 'static>(task: Task<T>) -> Result<T> {
    task.cancel(None);
    let core = task.any_core();
    let mut key = None;
    poll_fn(|cx| core.poll_done(&mut key, cx)).await;
    if let Some(k) = key {
        core.unlisten(k);
    }
    match task.result() {
        Err(e) if e.is_cancelled() => Err(Error::timeout()),
        r => r,
    }
}

/// asyncio's name for where a timeout scope is.
fn state_name(c: &Core) -> &'static str {
    match (c.phase, c.cancel_called) {
        (Phase::Created, _) => "created",
        (Phase::Entered, false) => "active",
        (Phase::Entered, true) => "expiring",
        (Phase::Exited, true) => "expired",
        (Phase::Exited, false) => "finished",
    }
}

/// A timeout scope (asyncio's `async with asyncio.timeout(...) as cm:`): create it with
/// [`timeout`] or [`timeout_at`], then [`run`](Timeout::run) the scope's work in it. Cheap
/// to clone; the clones are the same scope.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::{sleep, timeouts::timeout};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let cm = timeout(Some(Duration::from_secs(1)));
///     let err = cm.run(async { sleep(5).await }).await.unwrap_err();
///     assert!(err.is_timeout() && cm.expired());
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Timeout {
    core: Arc<Mutex<Core>>,
}

/// A timeout scope that expires `delay` from now (`None`: never, until rescheduled).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let cm = taskio::timeouts::timeout(Some(Duration::from_secs(5)));
///     assert_eq!(cm.run(async { Ok(3) }).await?, 3);
///     assert!(!cm.expired());
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn timeout(delay: Option<Duration>) -> Timeout {
    timeout_at(delay.map(|d| Instant::now() + d))
}

/// A timeout scope that expires at `when` (`None`: never, until rescheduled).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::timeouts::{timeout_at, Instant};
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let when = Instant::now() + Duration::from_secs(2);
///     let cm = timeout_at(Some(when));
///     assert_eq!(cm.when(), Some(when));
///     cm.run(async { Ok(()) }).await
/// })
/// .unwrap();
/// ```
pub fn timeout_at(when: Option<Instant>) -> Timeout {
    Timeout {
        core: Arc::new(Mutex::new(Core::new(when))),
    }
}

impl Timeout {
    /// The deadline, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::timeouts::timeout_at(None).when(), None);
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.core.lock().deadline
    }

    /// Moves the deadline (`None`: no deadline).
    ///
    /// # Errors
    ///
    /// `Runtime` unless the scope is running and has not expired ("Timeout has not been
    /// entered", "Cannot change state of expired Timeout", ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskio::{sleep, timeouts::{timeout, Instant}};
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let cm = timeout(Some(Duration::from_secs(1)));
    ///     assert!(cm.reschedule(None).is_err()); // not entered
    ///     let c = cm.clone();
    ///     cm.run(async move {
    ///         c.reschedule(Some(Instant::now() + Duration::from_secs(10)))?;
    ///         sleep(5).await // would have expired at 1s
    ///     })
    ///     .await
    /// })
    /// .unwrap();
    /// ```
    pub fn reschedule(&self, when: Option<Instant>) -> Result<()> {
        let waker = {
            let mut c = self.core.lock();
            match (c.phase, c.cancel_called) {
                (Phase::Entered, false) => {}
                (Phase::Created, _) => {
                    return Err(Error::runtime("Timeout has not been entered"));
                }
                _ => {
                    return Err(Error::runtime(format!(
                        "Cannot change state of {} Timeout",
                        state_name(&c)
                    )));
                }
            }
            c.set_deadline(when)
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// True once the deadline passed while the scope ran.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::timeouts::timeout(None).expired());
    /// ```
    pub fn expired(&self) -> bool {
        let c = self.core.lock();
        c.cancel_called && c.phase != Phase::Created
    }

    /// Runs `body` in the scope, asyncio's way: when the deadline passes, the scope requests
    /// the current task's cancellation, which `body` receives at its next checkpoint; when
    /// `body` then ends with that Cancelled, the scope withdraws its request (`uncancel`)
    /// and, if no other request is left, returns `Timeout` instead. So `body`'s clean-up
    /// runs (and may await) before the Timeout; a `body` that swallows the cancellation and
    /// returns a value returns it; other errors and foreign cancellations pass through; of
    /// nested scopes with one deadline the outer one reports the Timeout and both are
    /// [`expired`](Self::expired). The deadline is looked at only once `body` suspends, so
    /// a body that completes without suspending returns its value even with a zero timeout.
    ///
    /// Outside a task (in `block_on`'s own future) there is no task to cancel: `body` is
    /// dropped at the deadline instead.
    ///
    /// # Errors
    ///
    /// `Timeout`; `Runtime` if the scope was already used; `body`'s own error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskio::{sleep, timeouts::timeout};
    ///
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let cm = taskio::timeouts::timeout(Some(Duration::from_secs(1)));
    ///     let err = cm.run(async { Err::<(), _>(taskio::Error::runtime("own")) }).await.unwrap_err();
    ///     assert_eq!(err.to_string(), "own");
    ///
    ///     // Clean-up that awaits runs before the Timeout is reported.
    ///     let cm = timeout(Some(Duration::from_secs(1)));
    ///     let err = cm
    ///         .run(async {
    ///             let r = sleep(5).await; // Cancelled here, at 1 s
    ///             sleep(0.5).await?; // clean-up (the request was delivered once)
    ///             r
    ///         })
    ///         .await
    ///         .unwrap_err();
    ///     assert!(err.is_timeout() && cm.expired());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn run<F, T>(&self, body: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let o = run_scope(&self.core, false, "Timeout", body).await?;
        match o.out {
            Err(_) if o.caught => Err(Error::timeout()),
            r => r,
        }
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.core.lock();
        f.debug_struct("Timeout")
            .field("when", &c.deadline)
            .field("state", &state_name(&c))
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Timeout>();
}
