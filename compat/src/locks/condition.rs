//! [`Condition`]: wait for a notification while giving up a [`Lock`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::lock::{Lock, LockAcquire, LockGuard};
use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::sync::Mutex;
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// asyncio's `Condition`, over a [`Lock`] of its own or one shared with others
/// ([`Condition::with_lock`]).
///
/// # The guard model, and what "re-acquires even when cancelled" becomes
///
/// asyncio's `wait()` releases the lock, waits for a notification, and re-acquires the lock
/// before returning, *even when cancelled*, so that the `async with cond:` block around it
/// always exits holding the lock. With cancellation by drop, a dropped future cannot run
/// anything asynchronous, so taskio keeps the same invariant differently:
/// [`Condition::wait`] takes the [`LockGuard`] by value and gives it back when it returns.
/// While the wait future exists, no code holds a guard it believes valid; if the future is
/// dropped, the block that would have used the re-acquired lock is dropped with it, and the
/// lock is left released exactly once. No caller ever observes "returned from wait without
/// the lock".
///
/// `wait` and `notify` need the lock held (else [`ErrorKind::Runtime`](crate::ErrorKind::Runtime)):
/// `wait` checks that its guard is a live guard of this condition's lock; `notify`, as in
/// asyncio, that the lock is held by someone. Notifications are FIFO; a notified waiter
/// dropped before it re-acquired the lock passes its notification to the next waiter.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use taskio::{create_task, Condition};
///
/// taskio::run(async {
///     let cond = Arc::new(Condition::new());
///     let ready = Arc::new(AtomicBool::new(false));
///     let (c, r) = (cond.clone(), ready.clone());
///     let consumer = create_task(async move {
///         let guard = c.acquire().await?;
///         let _guard = c.wait_for(guard, || r.load(Ordering::SeqCst)).await?;
///         Ok("consumed")
///     });
///     {
///         let _guard = cond.acquire().await?;
///         ready.store(true, Ordering::SeqCst);
///         cond.notify_all()?;
///     }
///     assert_eq!(consumer.await?, "consumed");
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Condition {
    lock: Arc<Lock>,
    waiters: Mutex<WaitList<()>>,
}

impl Condition {
    /// A condition with a new, unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::Condition::new().locked());
    /// ```
    pub fn new() -> Condition {
        Condition::with_lock(Arc::new(Lock::new()))
    }

    /// A condition over `lock`, which other conditions (or plain users) may share, like
    /// asyncio's `Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(taskio::Lock::new());
    /// let not_empty = taskio::Condition::with_lock(lock.clone());
    /// let not_full = taskio::Condition::with_lock(lock.clone());
    /// let _g = lock.try_acquire().unwrap();
    /// assert!(not_empty.locked() && not_full.locked());
    /// not_full.notify(1).unwrap(); // the shared lock is held
    /// ```
    pub fn with_lock(lock: Arc<Lock>) -> Condition {
        Condition {
            lock,
            waiters: Mutex::new(WaitList::awaiting(Awaiting::Condition)),
        }
    }

    /// The underlying lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = taskio::Condition::new();
    /// let _g = cond.lock().try_acquire().unwrap();
    /// assert!(cond.locked());
    /// ```
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Acquires the underlying lock (`async with cond:`).
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let cond = taskio::Condition::new();
    /// let _guard = cond.acquire().await.unwrap();
    /// assert!(cond.locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_> {
        self.lock.acquire()
    }

    /// Whether the underlying lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::Condition::new().locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Releases the lock held by `guard`, waits for a notification, re-acquires the lock and
    /// returns the new guard. Fails at once if `guard` is not a live guard of this
    /// condition's lock. See the type's docs for what dropping the future does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use taskio::{create_task, Condition, Event};
    ///
    /// taskio::run(async {
    ///     let cond = Arc::new(Condition::new());
    ///     let holds_lock = Arc::new(Event::new());
    ///     let (c, h) = (cond.clone(), holds_lock.clone());
    ///     let waiter = create_task(async move {
    ///         let guard = c.acquire().await?;
    ///         h.set(); // registered once the lock is free again
    ///         let guard = c.wait(guard).await?;
    ///         assert!(c.locked()); // woken holding the lock again
    ///         drop(guard);
    ///         Ok(())
    ///     });
    ///     holds_lock.wait().await?;
    ///     {
    ///         // Getting the lock means the waiter released it, so it is registered.
    ///         let _g = cond.acquire().await?;
    ///         cond.notify(1)?;
    ///     }
    ///     waiter.await?;
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn wait<'a>(&'a self, guard: LockGuard<'a>) -> ConditionWait<'a> {
        ConditionWait {
            cond: self,
            state: WaitState::Start(guard),
        }
    }

    /// Waits until `predicate()` is true, checking it first, then after each notification
    /// (with the lock held each time); returns the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let cond = taskio::Condition::new();
    /// let guard = cond.acquire().await.unwrap();
    /// let guard = cond.wait_for(guard, || true).await.unwrap(); // already true: no wait
    /// assert!(cond.locked());
    /// # drop(guard);
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn wait_for<'a, P>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: P,
    ) -> Result<LockGuard<'a>>
    where
        P: FnMut() -> bool,
    {
        while !predicate() {
            guard = self.wait(guard).await?;
        }
        Ok(guard)
    }

    /// Wakes up to `n` waiters, first come first served. Fails if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = taskio::Condition::new();
    /// assert!(cond.notify(1).is_err()); // lock not held
    /// let _g = cond.lock().try_acquire().unwrap();
    /// assert!(cond.notify(1).is_ok());
    /// ```
    pub fn notify(&self, n: usize) -> Result<()> {
        if !self.lock.locked() {
            return Err(Error::runtime("cannot notify on un-acquired lock"));
        }
        self.notify_unchecked(n);
        Ok(())
    }

    /// Wakes every waiter. Fails if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = taskio::Condition::new();
    /// let _g = cond.lock().try_acquire().unwrap();
    /// cond.notify_all().unwrap();
    /// ```
    pub fn notify_all(&self) -> Result<()> {
        self.notify(usize::MAX)
    }

    fn notify_unchecked(&self, n: usize) {
        let mut wakers = Wakers::new();
        {
            let mut waiters = self.waiters.lock();
            for _ in 0..n {
                if wakers.push_notified(waiters.notify_one(())).is_err() {
                    break;
                }
            }
        }
        wakers.wake_all();
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &self.waiters.lock().n_waiting())
            .finish()
    }
}

/// The future of [`Condition::wait`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let cond = taskio::Condition::new();
/// let other = taskio::Lock::new();
/// let foreign = other.acquire().await.unwrap();
/// let fut: taskio::locks::ConditionWait<'_> = cond.wait(foreign);
/// assert!(fut.await.is_err()); // not a guard of this condition's lock
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ConditionWait<'a> {
    cond: &'a Condition,
    state: WaitState<'a>,
}

enum WaitState<'a> {
    /// Not polled yet: still holds the caller's guard.
    Start(LockGuard<'a>),
    /// Registered, lock released, waiting for a notification.
    Waiting(WaiterId),
    /// Notified; re-acquiring the lock.
    Reacquire(LockAcquire<'a>),
    Done,
}

impl<'a> Future for ConditionWait<'a> {
    type Output = Result<LockGuard<'a>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let cond = this.cond;
        loop {
            match std::mem::replace(&mut this.state, WaitState::Done) {
                WaitState::Start(guard) => {
                    if !cond.lock.holds(&guard) {
                        return Poll::Ready(Err(Error::runtime("cannot wait on un-acquired lock")));
                    }
                    // Register first, then release: a notifier needs the lock, so it cannot
                    // come between and miss us.
                    let id = cond.waiters.lock().push(cx.waker());
                    this.state = WaitState::Waiting(id);
                    drop(guard);
                    return Poll::Pending;
                }
                WaitState::Waiting(id) => {
                    // A checkpoint: a cancelled waiter leaves (a notification it had goes to
                    // the next one) and holds no lock: in Rust the guard is the lock, so the
                    // end state is asyncio's (re-acquired, then released by `async with`).
                    if let Some(e) = take_cancel() {
                        cond.leave(id);
                        return Poll::Ready(Err(e));
                    }
                    match cond.waiters.lock().poll(id, cx.waker()) {
                        Poll::Ready(()) => this.state = WaitState::Reacquire(cond.lock.acquire()),
                        Poll::Pending => {
                            this.state = WaitState::Waiting(id);
                            return Poll::Pending;
                        }
                    }
                }
                WaitState::Reacquire(mut acquire) => {
                    return match Pin::new(&mut acquire).poll(cx) {
                        Poll::Ready(guard) => Poll::Ready(guard),
                        Poll::Pending => {
                            this.state = WaitState::Reacquire(acquire);
                            Poll::Pending
                        }
                    };
                }
                WaitState::Done => panic!("ConditionWait polled after completion"),
            }
        }
    }
}

impl Condition {
    /// A waiter leaves; a notification it was given goes to the next one.
    fn leave(&self, id: WaiterId) {
        let notified = self.waiters.lock().remove(id);
        if notified.is_some() {
            // Our notification must not be lost: give it to the next waiter.
            self.notify_unchecked(1);
        }
    }
}

impl Drop for ConditionWait<'_> {
    fn drop(&mut self) {
        if let WaitState::Waiting(id) = self.state {
            self.cond.leave(id);
        }
        // `Start` drops the caller's guard (releasing the lock); `Reacquire` drops its
        // `LockAcquire`, which passes a handed-over lock on.
    }
}

impl fmt::Debug for ConditionWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait").finish_non_exhaustive()
    }
}
