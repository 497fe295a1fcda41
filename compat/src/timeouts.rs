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
use crate::futures::FutureWait;
use crate::rt_time;
use crate::tasks::{Task, TaskFuture, TimeLimit};

/// Awaits `aw` with a time limit (asyncio's `wait_for`): `timeout` is seconds (`1.5`, `2`),
/// a `Duration`, or `None` for a plain await (see [`TimeLimit`]).
///
/// `aw` is a future, which may borrow (the read-timeout idiom
/// `wait_for(reader.readline(), 5.0)` works), or a task (see [`WaitForArg`]). As in asyncio 3.12 it is
/// awaited in a [`timeout`] scope: on expiry the current task's cancellation is requested and
/// delivered at `aw`'s await point, so `aw`'s clean-up (which may await) has run before
/// `Timeout` is returned. Awaiting a task forwards the cancellation to it and waits for it
/// to end; an awaitable that swallows the cancellation and returns a value gives that value.
/// If the caller is cancelled, the caller's Cancelled passes through. A limit `<= 0` has
/// already passed: `aw` gets one poll (a finished task gives its result), then Timeout.
/// Outside a task (in `block_on`'s own future) nobody can be cancelled: `aw`'s future is
/// dropped at the deadline (a task it awaited keeps running).
///
/// # Errors
///
/// `Timeout`; `Value` for a NaN timeout; `aw`'s own error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::{create_task, sleep, wait_for};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let v = wait_for(async { Ok(1) }, 1.0).await?;
///     assert_eq!(v, 1);
///     let err = wait_for(async { sleep(10).await?; Ok(2) }, Duration::from_secs(1))
///         .await
///         .unwrap_err();
///     assert!(err.is_timeout());
///
///     // A borrowed future: the caller keeps `data`.
///     let mut data = vec![1, 2];
///     wait_for(async { data.push(3); Ok(()) }, 0.5).await?;
///     assert_eq!(data, [1, 2, 3]);
///
///     // A task, with no limit.
///     let task = create_task(async { Ok("done") });
///     assert_eq!(wait_for(&task, None).await?, "done");
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn wait_for<A, F, T>(aw: A, timeout: impl TimeLimit) -> Result<T>
where
    A: WaitForArg<F>,
    F: Future<Output = Result<T>>,
{
    let fut = aw.into_wait_future();
    let Some(t) = timeout.into_limit()? else {
        return fut.await;
    };
    if crate::kernel::task::current().is_some() {
        // asyncio 3.12's `wait_for`: `async with timeout(t): return await aw`. The scope's
        // cancellation is delivered at `aw`'s await point (a task await forwards it to the
        // task and waits for the task to end, its clean-up included).
        return timeout_after(t).run(fut).await;
    }
    // Outside a task (`block_on`'s future) nobody can be cancelled: race the timer.
    let mut fut = pin!(fut);
    let mut sleep = pin!(rt_time::sleep(t));
    poll_fn(|cx| {
        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        sleep.as_mut().poll(cx).map(|()| Err(Error::timeout()))
    })
    .await
}

/// What [`wait_for`] awaits, and the future it awaits it through (`F`, inferred): a future
/// is itself (it may borrow); a [`Task`] or an asyncio [`Future`](crate::Future), by value
/// or by reference, is its `.await` future.
///
/// Unlike `IntoFuture`, the future type is a parameter here rather than an associated
/// type: a caller's future that holds `wait_for(task, t)` then stays `Send` for any task
/// output, `&'static str` included.
///
/// # Examples
///
/// ```
/// use taskio::timeouts::WaitForArg;
/// fn takes<F>(_: impl WaitForArg<F>) {}
/// takes(async { Ok::<_, taskio::Error>(1) });
/// ```
pub trait WaitForArg<F> {
    /// The future [`wait_for`] polls.
    fn into_wait_future(self) -> F;
}

impl<F: Future> WaitForArg<F> for F {
    fn into_wait_future(self) -> F {
        self
    }
}

impl<T: Clone + Send + 'static> WaitForArg<TaskFuture<T>> for Task<T> {
    fn into_wait_future(self) -> TaskFuture<T> {
        self.into_future()
    }
}

impl<T: Clone + Send + 'static> WaitForArg<TaskFuture<T>> for &Task<T> {
    fn into_wait_future(self) -> TaskFuture<T> {
        self.into_future()
    }
}

impl<T: Clone + Send + 'static> WaitForArg<FutureWait<T>> for crate::Future<T> {
    fn into_wait_future(self) -> FutureWait<T> {
        self.into_future()
    }
}

impl<T: Clone + Send + 'static> WaitForArg<FutureWait<T>> for &crate::Future<T> {
    fn into_wait_future(self) -> FutureWait<T> {
        self.into_future()
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
/// use taskio::{sleep, timeouts::timeout};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let cm = timeout(1);
///     let err = cm.run(async { sleep(5).await }).await.unwrap_err();
///     assert!(err.is_timeout() && cm.expired());
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Timeout {
    core: Arc<Mutex<Core>>,
    /// The error of an invalid delay (NaN), returned by `run`.
    invalid: Option<Error>,
}

/// A timeout scope that expires `delay` from now: seconds, a `Duration`, or `None` for
/// never, until rescheduled (see [`TimeLimit`]). A NaN delay makes a scope whose
/// [`run`](Timeout::run) fails with `Value`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let cm = taskio::timeouts::timeout(5);
///     assert_eq!(cm.run(async { Ok(3) }).await?, 3);
///     assert!(!cm.expired());
///     let cm = taskio::timeouts::timeout(Some(Duration::from_millis(2500)));
///     assert!(cm.when().is_some());
///     let bad = taskio::timeouts::timeout(f64::NAN);
///     assert!(bad.run(async { Ok(()) }).await.unwrap_err().to_string().contains("NaN"));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn timeout(delay: impl TimeLimit) -> Timeout {
    match delay.into_limit() {
        Ok(limit) => timeout_after(limit),
        Err(e) => Timeout {
            invalid: Some(e),
            ..timeout_at(None)
        },
    }
}

fn timeout_after(limit: impl Into<Option<Duration>>) -> Timeout {
    timeout_at(limit.into().map(|d| Instant::now() + d))
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
        invalid: None,
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
    ///     let cm = timeout(1);
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
    /// `Timeout`; `Runtime` if the scope was already used; `Value` if its delay was NaN;
    /// `body`'s own error.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{sleep, timeouts::timeout};
    ///
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let cm = taskio::timeouts::timeout(1);
    ///     let err = cm.run(async { Err::<(), _>(taskio::Error::runtime("own")) }).await.unwrap_err();
    ///     assert_eq!(err.to_string(), "own");
    ///
    ///     // Clean-up that awaits runs before the Timeout is reported.
    ///     let cm = timeout(1);
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
        if let Some(e) = &self.invalid {
            return Err(e.clone());
        }
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
