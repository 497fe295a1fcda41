//! [`Lock`]: asyncio's mutex (it guards no data: it orders tasks).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::sync::{Mutex, MutexGuard};
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// asyncio's `Lock`: strictly FIFO, no barging.
///
/// `acquire().await` returns a [`LockGuard`] that releases on drop, or `Err(Cancelled)`
/// when the waiting task's cancellation is delivered there (a checkpoint; a lock handed to
/// the cancelled waiter meanwhile goes to the next one). A release while tasks
/// wait hands the lock to the first of them: a task that calls `acquire()` later queues
/// behind, even if it runs before the woken one. Between the release and the moment the
/// woken waiter runs, the lock is *in transit*: as in asyncio, `locked()` is then false,
/// but nobody else can take it, and `release()` fails.
///
/// asyncio's explicit style works too: [`LockGuard::detach`] keeps the lock held without a
/// guard, and [`Lock::release`] releases it (any task may release, as in asyncio). A guard
/// whose acquisition was already released explicitly does nothing when dropped.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use taskio::{create_task, sleep, Lock};
///
/// taskio::run(async {
///     let lock = Arc::new(Lock::new());
///     let counter = Arc::new(AtomicUsize::new(0));
///     let workers: Vec<_> = (0..4)
///         .map(|_| {
///             let (lock, counter) = (lock.clone(), counter.clone());
///             create_task(async move {
///                 for _ in 0..100 {
///                     let _g = lock.acquire().await?;
///                     let v = counter.load(Ordering::Relaxed);
///                     sleep(0).await?; // let the others run: only the lock keeps them out
///                     counter.store(v + 1, Ordering::Relaxed);
///                 }
///                 Ok(())
///             })
///         })
///         .collect();
///     for w in workers {
///         w.await?;
///     }
///     assert_eq!(counter.load(Ordering::Relaxed), 400);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Lock {
    state: Mutex<State>,
}

struct State {
    /// Held by a running owner. False while the lock is in transit to a woken waiter.
    locked: bool,
    /// Counts acquisitions; a guard releases only the acquisition it was made for.
    epoch: u64,
    waiters: WaitList<()>,
}

impl Lock {
    /// An unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::Lock::new().locked());
    /// ```
    pub fn new() -> Lock {
        Lock {
            state: Mutex::new(State {
                locked: false,
                epoch: 0,
                waiters: WaitList::awaiting(Awaiting::Lock),
            }),
        }
    }

    /// Waits for the lock (FIFO) and returns a guard that releases it on drop. Dropping the
    /// future leaves the queue; if it had been handed the lock, the lock goes to the next
    /// waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let lock = taskio::Lock::new();
    /// let guard = lock.acquire().await.unwrap();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_> {
        LockAcquire {
            lock: self,
            state: AcquireState::Init,
        }
    }

    /// [`acquire`](Lock::acquire) for an `Arc<Lock>`: the guard owns a reference to the lock,
    /// so it can be stored or moved into another task. Same FIFO and cancellation rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # taskio::run(async {
    /// let lock = Arc::new(taskio::Lock::new());
    /// let guard: taskio::locks::OwnedLockGuard = lock.clone().acquire_owned().await.unwrap();
    /// // The guard can move into another task, which releases the lock.
    /// taskio::create_task(async move {
    ///     drop(guard);
    ///     Ok(())
    /// })
    /// .await?;
    /// assert!(!lock.locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedLockGuard> {
        let guard = self.acquire().await?;
        let epoch = guard.epoch;
        std::mem::forget(guard);
        Ok(OwnedLockGuard { lock: self, epoch })
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = taskio::Lock::new();
    /// let g = lock.try_acquire().unwrap();
    /// assert!(lock.try_acquire().is_none());
    /// drop(g);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<LockGuard<'_>> {
        let mut st = self.state.lock();
        if !st.locked && st.waiters.is_empty() {
            Some(self.take(&mut st))
        } else {
            None
        }
    }

    /// Whether a task holds the lock (false while it is in transit to a woken waiter, as
    /// in asyncio).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = taskio::Lock::new();
    /// let _g = lock.try_acquire();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.state.lock().locked
    }

    /// Releases the lock, whoever holds it (asyncio's `release()`); the first waiter gets
    /// it. Fails with [`ErrorKind::Runtime`](crate::ErrorKind::Runtime) ("Lock is not
    /// acquired") if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let lock = taskio::Lock::new();
    /// lock.acquire().await.unwrap().detach(); // `await lock.acquire()`
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// assert!(lock.release().is_err());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn release(&self) -> Result<()> {
        let mut wakers = Wakers::new();
        {
            let mut st = self.state.lock();
            if !st.locked {
                return Err(Error::runtime("Lock is not acquired"));
            }
            Self::unlock(&mut st, &mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }

    fn take(&self, st: &mut State) -> LockGuard<'_> {
        debug_assert!(!st.locked);
        st.locked = true;
        st.epoch += 1;
        LockGuard {
            lock: self,
            epoch: st.epoch,
        }
    }

    /// Unlocks and hands the lock to the first waiter, if any.
    fn unlock(st: &mut State, wakers: &mut Wakers) {
        st.locked = false;
        let _ = wakers.push_notified(st.waiters.notify_one(()));
    }

    /// Releases the acquisition `epoch` if it is still the current one.
    fn release_epoch(&self, epoch: u64) {
        let mut wakers = Wakers::new();
        {
            let mut st = self.state.lock();
            if st.locked && st.epoch == epoch {
                Self::unlock(&mut st, &mut wakers);
            }
        }
        wakers.wake_all();
    }

    pub(crate) fn holds(&self, guard: &LockGuard<'_>) -> bool {
        let st = self.state.lock();
        std::ptr::eq(self, guard.lock) && st.locked && st.epoch == guard.epoch
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Lock")
            .field("locked", &st.locked)
            .field("waiters", &st.waiters.n_waiting())
            .finish()
    }
}

/// Holds a [`Lock`]; releases it on drop.
///
/// # Examples
///
/// ```
/// let lock = taskio::Lock::new();
/// let guard: taskio::LockGuard<'_> = lock.try_acquire().unwrap();
/// assert!(std::ptr::eq(guard.lock(), &lock));
/// ```
///
/// A guard cannot outlive its lock:
///
/// ```compile_fail
/// let guard = {
///     let lock = taskio::Lock::new();
///     lock.try_acquire().unwrap()
/// };
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
    epoch: u64,
}

impl<'a> LockGuard<'a> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = taskio::Lock::new();
    /// let g = lock.try_acquire().unwrap();
    /// assert!(g.lock().locked());
    /// ```
    pub fn lock(&self) -> &'a Lock {
        self.lock
    }

    /// Keeps the lock held with no guard: release it later with [`Lock::release`]
    /// (asyncio's manual `acquire()` / `release()`). If the task is cancelled in between,
    /// nothing releases it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = taskio::Lock::new();
    /// lock.try_acquire().unwrap().detach();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.release_epoch(self.epoch);
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// Holds an `Arc<Lock>`'s lock; releases it on drop. From [`Lock::acquire_owned`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # taskio::run(async {
/// let lock = Arc::new(taskio::Lock::new());
/// let guard = lock.clone().acquire_owned().await.unwrap();
/// assert!(Arc::ptr_eq(guard.lock(), &lock));
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedLockGuard {
    lock: Arc<Lock>,
    epoch: u64,
}

impl OwnedLockGuard {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # taskio::run(async {
    /// let guard = Arc::new(taskio::Lock::new()).acquire_owned().await.unwrap();
    /// assert!(guard.lock().locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn lock(&self) -> &Arc<Lock> {
        &self.lock
    }
}

impl Drop for OwnedLockGuard {
    fn drop(&mut self) {
        self.lock.release_epoch(self.epoch);
    }
}

impl fmt::Debug for OwnedLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedLockGuard").finish_non_exhaustive()
    }
}

/// The future of [`Lock::acquire`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let lock = taskio::Lock::new();
/// let fut: taskio::locks::LockAcquire<'_> = lock.acquire();
/// let _guard = fut.await;
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct LockAcquire<'a> {
    lock: &'a Lock,
    state: AcquireState,
}

#[derive(Clone, Copy)]
enum AcquireState {
    Init,
    Waiting(WaiterId),
    Done,
}

impl<'a> Future for LockAcquire<'a> {
    type Output = Result<LockGuard<'a>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<LockGuard<'a>>> {
        let this = self.get_mut();
        // A checkpoint where it waits: a delivered cancellation leaves the queue (passing on
        // a lock handed over meanwhile).
        if let AcquireState::Waiting(_) = this.state {
            if let Some(e) = take_cancel() {
                this.leave();
                return Poll::Ready(Err(e));
            }
        }
        let lock = this.lock;
        let mut st = lock.lock_state();
        match this.state {
            AcquireState::Init => {
                if !st.locked && st.waiters.is_empty() {
                    this.state = AcquireState::Done;
                    return Poll::Ready(Ok(lock.take(&mut st)));
                }
                if let Some(e) = take_cancel() {
                    this.state = AcquireState::Done;
                    return Poll::Ready(Err(e));
                }
                this.state = AcquireState::Waiting(st.waiters.push(cx.waker()));
                Poll::Pending
            }
            AcquireState::Waiting(id) => match st.waiters.poll(id, cx.waker()) {
                Poll::Ready(()) => {
                    this.state = AcquireState::Done;
                    Poll::Ready(Ok(lock.take(&mut st)))
                }
                Poll::Pending => Poll::Pending,
            },
            AcquireState::Done => panic!("LockAcquire polled after completion"),
        }
    }
}

impl LockAcquire<'_> {
    /// Leaves the wait queue; a lock handed to this waiter in transit goes to the next one.
    fn leave(&mut self) {
        if let AcquireState::Waiting(id) = std::mem::replace(&mut self.state, AcquireState::Done) {
            let mut wakers = Wakers::new();
            {
                let mut st = self.lock.lock_state();
                if st.waiters.remove(id).is_some() {
                    // We were handed the lock (in transit): hand it to the next one.
                    Lock::unlock(&mut st, &mut wakers);
                }
            }
            wakers.wake_all();
        }
    }
}

impl Drop for LockAcquire<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl fmt::Debug for LockAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").finish_non_exhaustive()
    }
}
