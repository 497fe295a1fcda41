//! asyncio's timeouts: [`wait_for`], and the [`timeout`] / [`timeout_at`] scopes.
//!
//! Deadlines are [`Instant`]s of the runtime's clock (so a paused clock governs them too).

use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;

pub use taskio_runtime::time::Instant;

use crate::exceptions::{Error, Result};
use crate::rt_time;
use crate::tasks::core::Cancel;
use crate::tasks::{Awaitable, Task};
use taskio_runtime::task::TaskRef;

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
    if crate::tasks::core::current().is_some() {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScopeState {
    Created,
    Entered,
    Expiring,
    Expired,
    Exited,
}

impl ScopeState {
    fn name(self) -> &'static str {
        match self {
            ScopeState::Created => "created",
            ScopeState::Entered => "active",
            ScopeState::Expiring => "expiring",
            ScopeState::Expired => "expired",
            ScopeState::Exited => "finished",
        }
    }
}

struct Shared {
    when: Option<Instant>,
    state: ScopeState,
    /// Bumped by `reschedule`, so that `run` re-arms its timer.
    generation: u64,
    waker: Option<Waker>,
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
    shared: Arc<Mutex<Shared>>,
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
        shared: Arc::new(Mutex::new(Shared {
            when,
            state: ScopeState::Created,
            generation: 0,
            waker: None,
        })),
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
        self.shared.lock().when
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
            let mut st = self.shared.lock();
            match st.state {
                ScopeState::Entered => {}
                ScopeState::Created => {
                    return Err(Error::runtime("Timeout has not been entered"));
                }
                s => {
                    return Err(Error::runtime(format!(
                        "Cannot change state of {} Timeout",
                        s.name()
                    )));
                }
            }
            st.when = when;
            st.generation += 1;
            st.waker.take()
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
        matches!(
            self.shared.lock().state,
            ScopeState::Expiring | ScopeState::Expired
        )
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
        {
            let mut st = self.shared.lock();
            if st.state != ScopeState::Created {
                return Err(Error::runtime("Timeout has already been entered"));
            }
            st.state = ScopeState::Entered;
        }
        let _exit = ExitOnDrop(self.shared.clone());
        let task = crate::tasks::core::current();
        // Requests that were there before the scope: not the scope's to turn into Timeout.
        let cancelling = task.as_ref().map_or(0, TaskRef::cancelling);
        let mut body = pin!(Some(body));
        let mut sleep: Option<std::pin::Pin<Box<rt_time::Sleep>>> = None;
        let mut armed: Option<u64> = None;
        let out = poll_fn(|cx| {
            // The body first: the deadline is looked at once it suspends (asyncio's timeout
            // callback runs in a later loop iteration).
            let expiring = self.shared.lock().state == ScopeState::Expiring;
            if let Some(fut) = body.as_mut().as_pin_mut() {
                if let Poll::Ready(r) = fut.poll(cx) {
                    body.set(None);
                    return Poll::Ready(r);
                }
                // Polled after the scope asked for the cancellation, the body did not take
                // it: it waits on something that is no checkpoint. The scope drops it
                // (instead of the runtime dropping the whole task).
                if expiring {
                    if let Some(e) = crate::checkpoint::take_cancel() {
                        body.set(None);
                        return Poll::Ready(Err(e));
                    }
                }
            }
            {
                let mut st = self.shared.lock();
                st.waker = Some(cx.waker().clone());
                if st.state != ScopeState::Entered {
                    return Poll::Pending;
                }
                if armed != Some(st.generation) {
                    armed = Some(st.generation);
                    match (st.when, sleep.as_mut()) {
                        (None, _) => sleep = None,
                        (Some(w), Some(s)) => s.as_mut().reset(w),
                        (Some(w), None) => sleep = Some(Box::pin(rt_time::sleep_until(w))),
                    }
                }
            }
            if sleep
                .as_mut()
                .is_some_and(|s| s.as_mut().poll(cx).is_ready())
            {
                self.shared.lock().state = ScopeState::Expiring;
                match &task {
                    // Delivered at the body's next checkpoint; this poll is over.
                    Some(t) => {
                        Cancel::cancel(t, None);
                    }
                    None => {
                        body.set(None);
                        self.shared.lock().state = ScopeState::Expired;
                        return Poll::Ready(Err(Error::timeout()));
                    }
                }
            }
            Poll::Pending
        })
        .await;
        let mut st = self.shared.lock();
        if st.state != ScopeState::Expiring {
            return out;
        }
        st.state = ScopeState::Expired;
        drop(st);
        let t = task
            .as_ref()
            .expect("only a scope in a task is left expiring");
        // The scope's request is withdrawn whatever the body did (a value, another error:
        // those stand); a Cancelled with no request left but those from before the scope
        // was the scope's own.
        let left = TaskRef::uncancel(t);
        match out {
            Err(e) if e.is_cancelled() && left <= cancelling => Err(Error::timeout()),
            r => r,
        }
    }
}

/// Marks the scope exited when `run` ends or is dropped.
struct ExitOnDrop(Arc<Mutex<Shared>>);

impl Drop for ExitOnDrop {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        if st.state == ScopeState::Entered {
            st.state = ScopeState::Exited;
        }
        st.waker = None;
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("Timeout")
            .field("when", &st.when)
            .field("state", &st.state.name())
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Timeout>();
}
