//! trio's cancel scopes: [`CancelScope`], [`move_on_after`] / [`move_on_at`],
//! [`fail_after`] / [`fail_at`], and shielded scopes for clean-up that must finish.
//!
//! ```text
//! trio / anyio                                 taskio
//! with trio.move_on_after(5):                  move_on_after(5, async {
//!     await fetch()                                fetch().await
//!                                              }).await?;          // Ok(None): timed out
//! with trio.fail_after(5):                     fail_after(5, fetch()).await?; // Err(Timeout)
//!     await fetch()
//! with trio.CancelScope(shield=True) as cs:    CancelScope::shielded()
//!     cs.deadline = trio.current_time() + 2        .with_timeout(2)?
//!     await flush()                                .run(flush()).await?;
//! cs.cancel()                                  scope.cancel()
//! ```
//!
//! # The rules
//!
//! - A scope's cancellation (its [`cancel`](CancelScope::cancel), or its deadline passing)
//!   is a cancellation request, delivered as `Err(Cancelled)` at the next checkpoint inside
//!   the scope, once — asyncio's delivery, which the rest of taskio follows (trio's scopes
//!   re-raise at *every* checkpoint until the scope exits; here clean-up that awaits after
//!   the delivery runs, unless a new request comes).
//! - When the body then ends with `Cancelled` and the scope's own request was the only one
//!   left, the scope *catches* it: [`run`](CancelScope::run) returns `Ok(None)`
//!   ([`cancelled_caught`](CancelScope::cancelled_caught) turns true), [`fail_after`] returns
//!   `Timeout`. A cancellation from elsewhere (the task's, an outer scope's) passes through
//!   as `Err(Cancelled)`, as do the body's other errors; a body that swallows the
//!   cancellation and returns a value returns `Ok(Some(value))`.
//! - Nested scopes: the nearest deadline fires first and its scope catches; an outer
//!   scope's cancellation reaches every scope inside and passes through them; scopes that
//!   fire together are all counted, and the outermost catches (as asyncio's nested
//!   `timeout`s).
//! - A **shielded** scope holds back every cancellation from outside it (the task's, an
//!   outer scope's, a TaskGroup's): they stay pending and are delivered at the first
//!   checkpoint after the scope. Its own deadline and `cancel` still apply, and scopes
//!   inside it work as usual. This is the idiom for clean-up that awaits.
//! - A body parked on something that is no checkpoint when its scope's cancellation comes
//!   is dropped by the scope (as the runtime drops a task in that state), and the scope
//!   catches that cancellation.
//! - Outside a task (in `block_on`'s own future) there is no task to cancel: the body is
//!   dropped when the scope is cancelled.
//!
//! [`timeout`](crate::timeouts::timeout) scopes are cancel scopes too (the same engine) and
//! a [`TaskGroup`](crate::TaskGroup) cancels through the innermost scope it runs in, so all
//! three nest in any order.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::kernel::sync::Mutex;
use taskio_runtime::task::{CancelShield, Shielded, TaskRef};

use crate::exceptions::{Error, Result};
use crate::kernel::task::{current, AnyCoreRef, Cancel};
use crate::rt_time;
use crate::tasks::Delay;
use crate::timeouts::Instant;

std::thread_local! {
    /// The shield whose body this thread is polling (innermost), if any.
    static SHIELD: std::cell::RefCell<Option<Arc<CancelShield>>> =
        const { std::cell::RefCell::new(None) };
    /// Shielded bodies left pending by this thread (a scope tells from a change whether the
    /// body it polled held requests back).
    static HELD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Where a cancellation made inside a task goes: the task itself, or the innermost shielded
/// scope it runs in.
#[derive(Clone)]
pub(crate) enum Domain {
    Task(AnyCoreRef),
    Shield(Arc<CancelShield>),
}

impl Domain {
    /// The domain of the code being polled on this thread: the innermost shield, else the
    /// current task (`None` outside a taskio task).
    pub(crate) fn current() -> Option<Domain> {
        if let Some(s) = SHIELD.with(|s| s.borrow().clone()) {
            return Some(Domain::Shield(s));
        }
        current().map(Domain::Task)
    }

    /// Requests a cancellation in the domain; false if its task is done.
    pub(crate) fn cancel(&self) -> bool {
        match self {
            Domain::Task(t) => Cancel::cancel(t, None),
            Domain::Shield(s) => s.cancel(),
        }
    }

    pub(crate) fn cancelling(&self) -> u32 {
        match self {
            Domain::Task(t) => TaskRef::cancelling(t),
            Domain::Shield(s) => s.cancelling(),
        }
    }

    pub(crate) fn uncancel(&self) -> u32 {
        match self {
            Domain::Task(t) => TaskRef::uncancel(t),
            Domain::Shield(s) => s.uncancel(),
        }
    }

    /// True once the domain's task is done.
    pub(crate) fn is_done(&self) -> bool {
        match self {
            Domain::Task(t) => TaskRef::is_finished(t),
            Domain::Shield(_) => false,
        }
    }
}

/// Polls `fut` in `shield`: checkpoints inside deliver the shield's requests, scopes entered
/// inside make theirs on it, and the task's are held back.
fn poll_shielded<F: Future + ?Sized>(
    shield: &Arc<CancelShield>,
    fut: Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> Shielded<F::Output> {
    struct Restore(Option<Arc<CancelShield>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            let _ = SHIELD.try_with(|s| *s.borrow_mut() = prev);
        }
    }
    let _restore = Restore(SHIELD.with(|s| s.borrow_mut().replace(shield.clone())));
    let out = shield.poll(fut, cx);
    if !matches!(out, Shielded::Ready(_)) {
        HELD.with(|h| h.set(h.get() + 1));
    }
    out
}

/// A counter of shielded bodies left pending on this thread: a scope whose body's poll
/// changed it must not drop the body for a request the shield holds back.
pub(crate) fn held() -> u64 {
    HELD.with(std::cell::Cell::get)
}

/// Where a scope is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Created,
    Entered,
    Exited,
}

/// A scope's state, shared by its clones (and read by [`Timeout`](crate::timeouts::Timeout)).
pub(crate) struct Core {
    pub(crate) deadline: Option<Instant>,
    /// Bumped by every deadline change, so that `run` re-arms its timer.
    generation: u64,
    pub(crate) phase: Phase,
    pub(crate) cancel_called: bool,
    pub(crate) caught: bool,
    /// Where the scope makes its request (set on entry).
    domain: Option<Domain>,
    /// The scope made a request on `domain` that it has not withdrawn.
    requested: bool,
    waker: Option<Waker>,
}

impl Core {
    pub(crate) fn new(deadline: Option<Instant>) -> Core {
        Core {
            deadline,
            generation: 0,
            phase: Phase::Created,
            cancel_called: false,
            caught: false,
            domain: None,
            requested: false,
            waker: None,
        }
    }

    /// The scope's cancellation: requested in its domain if it runs (else on entry). Returns
    /// the waker to wake (a scope outside a task drops its body when polled).
    pub(crate) fn cancel(&mut self) -> Option<Waker> {
        if self.cancel_called || self.phase == Phase::Exited {
            self.cancel_called = true;
            return None;
        }
        self.cancel_called = true;
        if self.phase == Phase::Entered {
            self.request();
        }
        self.waker.take()
    }

    fn request(&mut self) {
        if let Some(d) = &self.domain {
            if !self.requested {
                self.requested = true;
                d.cancel();
            }
        }
    }

    /// Moves the deadline; returns the waker to wake so that `run` re-arms.
    pub(crate) fn set_deadline(&mut self, when: Option<Instant>) -> Option<Waker> {
        self.deadline = when;
        self.generation += 1;
        self.waker.take()
    }

    /// Withdraws the scope's request, if it made one; the requests left in its domain.
    fn withdraw(&mut self) -> Option<u32> {
        self.phase = Phase::Exited;
        self.waker = None;
        let domain = self.domain.take();
        if std::mem::take(&mut self.requested) {
            return domain.map(|d| d.uncancel());
        }
        None
    }
}

/// Marks the scope exited (and withdraws its request) when `run_scope` is dropped early.
struct ExitOnDrop<'a>(&'a Mutex<Core>);

impl Drop for ExitOnDrop<'_> {
    fn drop(&mut self) {
        let mut c = self.0.lock();
        if c.phase == Phase::Entered {
            c.withdraw();
        }
    }
}

/// What a scope's run ended with.
pub(crate) struct Outcome<T> {
    /// The body's result (an `Err(Cancelled)` when the body was dropped).
    pub(crate) out: Result<T>,
    /// The cancellation the body ended with was the scope's own.
    pub(crate) caught: bool,
}

/// Runs `body` in the scope `core` (see the module docs); `name` goes into the "already
/// entered" error.
pub(crate) async fn run_scope<F, T>(
    core: &Mutex<Core>,
    shield: bool,
    name: &str,
    body: F,
) -> Result<Outcome<T>>
where
    F: Future<Output = Result<T>>,
{
    let own_shield = if shield {
        CancelShield::new().map(Arc::new)
    } else {
        None
    };
    let domain = match &own_shield {
        Some(s) => Some(Domain::Shield(s.clone())),
        None => Domain::current(),
    };
    // Requests that were there before the scope: not the scope's to catch.
    let before = domain.as_ref().map_or(0, Domain::cancelling);
    let in_task = domain.is_some();
    {
        let mut c = core.lock();
        if c.phase != Phase::Created {
            return Err(Error::runtime(format!("{name} has already been entered")));
        }
        c.phase = Phase::Entered;
        c.domain = domain;
        if c.cancel_called {
            c.request();
        }
    }
    let exit = ExitOnDrop(core);
    let mut body = pin!(Some(body));
    let mut sleep: Option<Pin<Box<rt_time::Sleep>>> = None;
    let mut armed: Option<u64> = None;
    let out = poll_fn(|cx| {
        // The body first: the deadline is looked at once it suspends (asyncio's timeout
        // callback runs in a later loop iteration).
        let requested = core.lock().requested;
        if let Some(fut) = body.as_mut().as_pin_mut() {
            let held_before = held();
            let polled = match &own_shield {
                Some(s) => poll_shielded(s, fut, cx),
                None => match fut.poll(cx) {
                    Poll::Ready(v) => Shielded::Ready(v),
                    Poll::Pending => Shielded::Pending,
                },
            };
            match polled {
                Shielded::Ready(r) => {
                    body.set(None);
                    return Poll::Ready(r);
                }
                // Parked on no checkpoint with the shield's own request pending.
                Shielded::Stuck => {
                    body.set(None);
                    return Poll::Ready(Err(Error::cancelled(None)));
                }
                Shielded::Pending => {}
            }
            // Polled after the scope made its request, the body did not take it: it waits on
            // something that is no checkpoint (unless a shield inside holds it back). The
            // scope drops it (instead of the runtime dropping the whole task).
            if requested && own_shield.is_none() && held() == held_before {
                if let Some(e) = crate::checkpoint::take_cancel() {
                    body.set(None);
                    return Poll::Ready(Err(e));
                }
            }
        }
        let mut c = core.lock();
        c.waker = Some(cx.waker().clone());
        if c.cancel_called {
            if !in_task {
                body.set(None);
                return Poll::Ready(Err(Error::cancelled(None)));
            }
            return Poll::Pending;
        }
        if armed != Some(c.generation) {
            armed = Some(c.generation);
            match (c.deadline, sleep.as_mut()) {
                (None, _) => sleep = None,
                (Some(w), Some(s)) => s.as_mut().reset(w),
                (Some(w), None) => sleep = Some(Box::pin(rt_time::sleep_until(w))),
            }
        }
        if sleep
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready())
        {
            c.waker = None;
            c.cancel();
            if !in_task {
                body.set(None);
                return Poll::Ready(Err(Error::cancelled(None)));
            }
            // Delivered at the body's next checkpoint: the request woke the task.
        }
        Poll::Pending
    })
    .await;
    let mut c = core.lock();
    let cancel_called = c.cancel_called;
    let left = c.withdraw();
    std::mem::forget(exit);
    let caught = out.as_ref().is_err_and(Error::is_cancelled)
        && cancel_called
        && match left {
            Some(left) => left <= before,
            // Outside a task the scope's cancellation is the only one there is.
            None => !in_task,
        };
    c.caught = caught;
    Ok(Outcome { out, caught })
}

/// A cancel scope (trio's `CancelScope`): run a body in it with [`run`](Self::run); cancel
/// it from anywhere with [`cancel`](Self::cancel), or give it a deadline. Cheap to clone; the
/// clones are the same scope. See the [module docs](self) for the rules.
///
/// # Examples
///
/// ```
/// use taskio::{sleep, CancelScope, TaskGroup};
///
/// taskio::run(async {
///     let scope = CancelScope::new();
///     let out = TaskGroup::run(|tg| {
///         let scope = scope.clone();
///         async move {
///             let s = scope.clone();
///             tg.create_task(async move {
///                 s.cancel(); // e.g. a "stop" command arrived
///                 Ok(())
///             })?;
///             scope.run(async { sleep(3600).await }).await
///         }
///     })
///     .await?;
///     assert_eq!(out, None);
///     assert!(scope.cancel_called() && scope.cancelled_caught());
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct CancelScope {
    core: Arc<Mutex<Core>>,
    shield: bool,
}

impl Default for CancelScope {
    fn default() -> Self {
        CancelScope::new()
    }
}

impl CancelScope {
    /// A scope with no deadline, not shielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = taskio::CancelScope::new();
    /// assert_eq!(scope.deadline(), None);
    /// assert!(!scope.shield() && !scope.cancel_called());
    /// ```
    pub fn new() -> CancelScope {
        CancelScope {
            core: Arc::new(Mutex::new(Core::new(None))),
            shield: false,
        }
    }

    /// A shielded scope: cancellations from outside it wait until it has exited; its own
    /// deadline and [`cancel`](Self::cancel) still apply.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{sleep, CancelScope};
    ///
    /// taskio::run(async {
    ///     let me = taskio::current_task().unwrap();
    ///     let out = CancelScope::shielded()
    ///         .run(async {
    ///             me.cancel(None); // held back while the shield runs
    ///             sleep(0.01).await?; // not interrupted
    ///             Ok("flushed")
    ///         })
    ///         .await?;
    ///     assert_eq!(out, Some("flushed"));
    ///     // The held request is delivered at the first checkpoint after the scope.
    ///     assert!(sleep(0).await.unwrap_err().is_cancelled());
    ///     me.uncancel();
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shielded() -> CancelScope {
        CancelScope {
            shield: true,
            ..CancelScope::new()
        }
    }

    /// This scope with the deadline `when` (a runtime-clock [`Instant`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskio::{timeouts::Instant, CancelScope};
    /// let when = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(CancelScope::new().with_deadline(when).deadline(), Some(when));
    /// ```
    pub fn with_deadline(mut self, when: Instant) -> CancelScope {
        match Arc::get_mut(&mut self.core) {
            // A scope nobody else holds yet (the builder's usual case): no lock, no waker.
            Some(core) => core.get_mut().deadline = Some(when),
            None => {
                let waker = self.core.lock().set_deadline(Some(when));
                if let Some(w) = waker {
                    w.wake();
                }
            }
        }
        self
    }

    /// This scope with a deadline `delay` from now (seconds, or a `Duration`; `<= 0`: now).
    ///
    /// # Errors
    ///
    /// `Value` for a NaN delay.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = taskio::CancelScope::new().with_timeout(2.5).unwrap();
    /// assert!(scope.deadline().is_some());
    /// assert!(taskio::CancelScope::new().with_timeout(f64::NAN).is_err());
    /// ```
    pub fn with_timeout(self, delay: impl Delay) -> Result<CancelScope> {
        let when = deadline_after(delay)?;
        Ok(self.with_deadline(when))
    }

    /// Cancels the scope (trio's `cancel()`): its body gets `Err(Cancelled)` at its next
    /// checkpoint, which the scope then catches. Idempotent; before the scope runs, it is
    /// cancelled as soon as it is entered; after it exited, it does nothing but set
    /// [`cancel_called`](Self::cancel_called). Callable from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let scope = taskio::CancelScope::new();
    ///     scope.cancel(); // before entry
    ///     let out = scope.run(async { taskio::sleep(3600).await }).await?;
    ///     assert_eq!(out, None);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self) {
        let waker = self.core.lock().cancel();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The deadline, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::CancelScope::new().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.core.lock().deadline
    }

    /// Moves the deadline (`None`: none), also while the scope runs (trio's settable
    /// `deadline`). A deadline in the past cancels a running scope at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskio::{sleep, timeouts::Instant, CancelScope};
    ///
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let scope = CancelScope::new().with_timeout(1)?;
    ///     let s = scope.clone();
    ///     let out = scope
    ///         .run(async move {
    ///             s.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
    ///             sleep(5).await?; // would have been cancelled at 1 s
    ///             Ok(5)
    ///         })
    ///         .await?;
    ///     assert_eq!(out, Some(5));
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_deadline(&self, when: Option<Instant>) {
        let waker = self.core.lock().set_deadline(when);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True once the scope was cancelled ([`cancel`](Self::cancel), or its deadline passed
    /// while it ran).
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = taskio::CancelScope::new();
    /// scope.cancel();
    /// assert!(scope.cancel_called());
    /// ```
    pub fn cancel_called(&self) -> bool {
        self.core.lock().cancel_called
    }

    /// True once the scope caught its own cancellation (its body ended with it).
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let scope = taskio::CancelScope::new().with_timeout(0)?;
    ///     assert_eq!(scope.run(async { taskio::sleep(1).await }).await?, None);
    ///     assert!(scope.cancelled_caught());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled_caught(&self) -> bool {
        self.core.lock().caught
    }

    /// True for a shielded scope.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::CancelScope::shielded().shield());
    /// ```
    pub fn shield(&self) -> bool {
        self.shield
    }

    /// Runs `body` in the scope: `Ok(Some(value))`, or `Ok(None)` when the scope caught its
    /// own cancellation (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// `Runtime` if the scope was already entered; `body`'s own error, and cancellations
    /// that are not the scope's.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::{sleep, CancelScope};
    ///
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let outer = CancelScope::new().with_timeout(1)?;
    ///     let inner = CancelScope::new().with_timeout(5)?;
    ///     // The outer deadline comes first: the inner scope lets it through.
    ///     let out = outer.run(async { inner.run(async { sleep(10).await }).await }).await?;
    ///     assert_eq!(out, None);
    ///     assert!(outer.cancelled_caught() && !inner.cancel_called());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn run<F, T>(&self, body: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<T>>,
    {
        moved_on(run_scope(&self.core, self.shield, "CancelScope", body).await?)
    }
}

impl fmt::Debug for CancelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.core.lock();
        f.debug_struct("CancelScope")
            .field("deadline", &c.deadline)
            .field("shield", &self.shield)
            .field("cancel_called", &c.cancel_called)
            .field("cancelled_caught", &c.caught)
            .finish()
    }
}

fn deadline_after(delay: impl Delay) -> Result<Instant> {
    let d = delay.into_delay()?.unwrap_or_default();
    let now = Instant::now();
    Ok(now
        .checked_add(d)
        .unwrap_or(now + std::time::Duration::from_secs(86400 * 365 * 100)))
}

/// Runs `body` with a time limit and no error (anyio's `move_on_after`): `Ok(Some(value))`,
/// or `Ok(None)` when `delay` (seconds, or a `Duration`) passed first and the body was
/// cancelled at its checkpoint (its clean-up done).
///
/// # Errors
///
/// `Value` for a NaN delay; the body's own error; cancellations from elsewhere.
///
/// # Examples
///
/// ```
/// use taskio::{move_on_after, sleep};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     assert_eq!(move_on_after(1, async { sleep(10).await }).await?, None);
///     assert_eq!(move_on_after(1, async { Ok(7) }).await?, Some(7));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn move_on_after<F, T>(delay: impl Delay, body: F) -> Result<Option<T>>
where
    F: Future<Output = Result<T>>,
{
    let core = Mutex::new(Core::new(Some(deadline_after(delay)?)));
    moved_on(run_scope(&core, false, "CancelScope", body).await?)
}

/// A scope's outcome as a value: `None` when it caught its own cancellation. (The free
/// functions' scopes, which nobody else can reach, live in their futures, not in an `Arc`:
/// `run_scope` only borrows its core.)
fn moved_on<T>(o: Outcome<T>) -> Result<Option<T>> {
    match o.out {
        Err(_) if o.caught => Ok(None),
        r => r.map(Some),
    }
}

/// [`move_on_after`] with a deadline (anyio's `move_on_at`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::{move_on_at, sleep, timeouts::Instant};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let when = Instant::now() + Duration::from_secs(1);
///     assert_eq!(move_on_at(when, async { sleep(10).await }).await?, None);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn move_on_at<F, T>(when: Instant, body: F) -> Result<Option<T>>
where
    F: Future<Output = Result<T>>,
{
    let core = Mutex::new(Core::new(Some(when)));
    moved_on(run_scope(&core, false, "CancelScope", body).await?)
}

/// Runs `body` with a time limit (anyio's `fail_after`, trio's `TooSlowError` as
/// `Timeout`): when `delay` passes first, the body is cancelled at its checkpoint and, once
/// its clean-up is done, the error is `Timeout`.
///
/// # Errors
///
/// `Timeout`; `Value` for a NaN delay; the body's own error; cancellations from
/// elsewhere.
///
/// # Examples
///
/// ```
/// use taskio::{fail_after, sleep};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     assert!(fail_after(1, async { sleep(10).await }).await.unwrap_err().is_timeout());
///     assert_eq!(fail_after(1, async { Ok(7) }).await?, 7);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn fail_after<F, T>(delay: impl Delay, body: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let core = Mutex::new(Core::new(Some(deadline_after(delay)?)));
    failed(run_scope(&core, false, "CancelScope", body).await?)
}

/// A scope's outcome as `fail_after`'s: Timeout when it caught its own cancellation.
fn failed<T>(o: Outcome<T>) -> Result<T> {
    match moved_on(o)? {
        Some(v) => Ok(v),
        None => Err(Error::timeout()),
    }
}

/// [`fail_after`] with a deadline (anyio's `fail_at`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskio::{fail_at, sleep, timeouts::Instant};
///
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let when = Instant::now() + Duration::from_secs(1);
///     assert!(fail_at(when, async { sleep(10).await }).await.unwrap_err().is_timeout());
///     Ok(())
/// })
/// .unwrap();
/// ```
pub async fn fail_at<F, T>(when: Instant, body: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let core = Mutex::new(Core::new(Some(when)));
    failed(run_scope(&core, false, "CancelScope", body).await?)
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<CancelScope>();
}
