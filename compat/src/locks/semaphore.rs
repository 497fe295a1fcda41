//! [`Semaphore`] and [`BoundedSemaphore`]: counted permits, handed out FIFO.
//!
//! # The protocol
//!
//! The free permits live in one atomic word, `permits * ONE | WAITING`, beside the
//! [`WaitList`] behind the mutex (the list's protocol: `kernel/waiters.rs`). `WAITING` is set exactly
//! when the list holds a *waiting* (not yet notified) entry.
//!
//! 1. **Only a mutex holder sets or clears `WAITING`**, so whenever the mutex is free the bit
//!    agrees with the list.
//! 2. **Invariant: `WAITING` ⇒ `permits == 0`.** The bit is set only by a CAS from a word of
//!    zero, and a release that finds it set hands its permit to the first waiting entry
//!    instead of counting it.
//! 3. **Lock-free fast paths.** An acquire takes a permit by CAS when `permits > 0`: by 2,
//!    nobody is waiting, so this is not barging. A release adds one by CAS when `WAITING` is
//!    clear. Neither changes a word with `WAITING` set, so while the bit is set the word
//!    belongs to the mutex holder.
//! 4. **Slow acquire** (mutex held): take a permit by CAS if there is one; else CAS the word
//!    from `0` to `WAITING` (or find the bit set already) and register. A release that
//!    counts a permit concurrently makes that CAS fail, and the retry takes the permit: no
//!    lost wake-up.
//! 5. **Slow release** (mutex held, `WAITING` seen): if the bit is clear by now (the last
//!    waiting entry left), count the permit by CAS; else notify the first waiting entry and,
//!    if it was the last, clear the bit (the word is exactly `WAITING`, by 2 and 3).
//! 6. **A dropped waiter** leaves the list and clears the bit if it was the last waiting
//!    entry; a notified one passes its permit on with a release.
//!
//! The common case (permits free, nobody waiting) is one CAS to acquire and one to release,
//! with the mutex untouched.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::sync::atomic::{AtomicUsize, Ordering};
use crate::kernel::sync::Mutex;
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// Set while the wait list holds a waiting (not yet notified) entry. Changed only under the
/// mutex; while set, the permit count is zero.
const WAITING: usize = 1;
/// One permit in the word.
const ONE: usize = 2;
/// The largest value a semaphore can hold.
const MAX_PERMITS: usize = usize::MAX / ONE;

/// The state both semaphores share.
struct Core {
    /// `permits * ONE | WAITING`; see the module docs.
    word: AtomicUsize,
    /// Notified entries hold the permit they were handed.
    waiters: Mutex<WaitList<()>>,
    /// `Some(initial value)` for a [`BoundedSemaphore`].
    bound: Option<usize>,
}

/// What a release does with its permit when nobody waits.
enum Counted {
    Added,
    /// A [`BoundedSemaphore`] already at its bound.
    AtBound,
}

impl Core {
    fn new(value: usize, bound: Option<usize>) -> Core {
        assert!(
            value <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        Core {
            word: AtomicUsize::new(value * ONE),
            waiters: Mutex::new(WaitList::awaiting(Awaiting::Semaphore)),
            bound,
        }
    }

    fn locked(&self) -> bool {
        let waiters = self.waiters.lock();
        self.word.load(Ordering::Acquire) < ONE || !waiters.is_empty()
    }

    fn value(&self) -> usize {
        self.word.load(Ordering::Acquire) / ONE
    }

    /// Takes a free permit (lock-free; rule 3). False if there is none.
    #[inline]
    fn take_permit(&self) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        while word >= ONE {
            match self.word.compare_exchange_weak(
                word,
                word - ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => word = actual,
            }
        }
        false
    }

    fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        // Not `then_some`: its argument is built (and, dropped, would release) either way.
        self.take_permit().then(|| SemaphorePermit { core: self })
    }

    /// Counts a released permit while `WAITING` is clear (rule 3). `Err(())` if the bit is
    /// set: the permit must go to a waiter, under the mutex.
    #[inline]
    fn count_permit(&self) -> std::result::Result<Counted, ()> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & WAITING != 0 {
                return Err(());
            }
            let permits = word / ONE;
            if self.bound.is_some_and(|bound| permits >= bound) {
                return Ok(Counted::AtBound);
            }
            assert!(permits < MAX_PERMITS, "semaphore value overflow");
            match self.word.compare_exchange_weak(
                word,
                word + ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Counted::Added),
                Err(actual) => word = actual,
            }
        }
    }

    /// Gives a permit back: to the first waiter if there is one, else to the count.
    /// `strict`: fail (instead of ignoring the permit) if that would exceed the bound.
    #[inline]
    fn release(&self, strict: bool) -> Result<()> {
        match self.count_permit() {
            Ok(Counted::Added) => Ok(()),
            Ok(Counted::AtBound) if strict => Err(Self::above_bound()),
            Ok(Counted::AtBound) => Ok(()),
            Err(()) => self.release_to_waiter(strict),
        }
    }

    fn above_bound() -> Error {
        Error::value("BoundedSemaphore released too many times")
    }

    /// Rule 5: `WAITING` was seen set.
    #[cold]
    #[inline(never)]
    fn release_to_waiter(&self, strict: bool) -> Result<()> {
        let mut wakers = Wakers::new();
        {
            let mut waiters = self.waiters.lock();
            match self.count_permit() {
                Ok(Counted::Added) => {}
                Ok(Counted::AtBound) if strict => return Err(Self::above_bound()),
                Ok(Counted::AtBound) => {}
                Err(()) => {
                    // `WAITING` is set and we hold the mutex: the word is exactly `WAITING`
                    // (rule 2), a bounded semaphore is at its bound only if the bound is 0.
                    if strict && self.bound == Some(0) {
                        return Err(Self::above_bound());
                    }
                    let notified = wakers.push_notified(waiters.notify_one(()));
                    debug_assert!(notified.is_ok(), "WAITING set with no waiting entry");
                    if !waiters.has_waiting() {
                        self.word.store(0, Ordering::Release);
                    }
                }
            }
        }
        wakers.wake_all();
        Ok(())
    }
}

/// asyncio's `Semaphore`: `value` permits, handed out FIFO with no barging.
///
/// The value is a `usize`, so asyncio's "negative value is an error" cannot happen: it does
/// not compile.
///
/// ```compile_fail
/// let sem = taskio::Semaphore::new(-1);
/// ```
///
/// `acquire().await` returns a [`SemaphorePermit`] that gives the permit back on drop, or
/// `Err(Cancelled)` when the waiting task's cancellation is delivered while it waits (a
/// permit handed to it meanwhile goes to the next waiter);
/// [`SemaphorePermit::forget`] and [`Semaphore::release`] give asyncio's manual style.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use taskio::{create_task, sleep, Semaphore};
///
/// taskio::run(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let inside = Arc::new(AtomicUsize::new(0));
///     let workers: Vec<_> = (0..4)
///         .map(|_| {
///             let (sem, inside) = (sem.clone(), inside.clone());
///             create_task(async move {
///                 let _permit = sem.acquire().await?;
///                 assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///                 sleep(0).await?; // let the others run while inside
///                 inside.fetch_sub(1, Ordering::SeqCst);
///                 Ok(())
///             })
///         })
///         .collect();
///     for w in workers {
///         w.await?;
///     }
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// A semaphore with `value` free permits.
    ///
    /// # Panics
    ///
    /// If `value` is above `usize::MAX / 2` (the count shares its word with a flag); a
    /// `release` that would take the value there panics too.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Semaphore::new(0).locked());
    /// assert!(!taskio::Semaphore::new(1).locked());
    /// ```
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            core: Core::new(value, None),
        }
    }

    /// Waits for a permit (FIFO). Dropping the future leaves the queue; if it had been
    /// handed a permit, the permit goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let sem = taskio::Semaphore::new(1);
    /// let permit = sem.acquire().await.unwrap();
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire::new(&self.core)
    }

    /// [`acquire`](Semaphore::acquire) for an `Arc<Semaphore>`: the permit owns a reference
    /// to the semaphore, so it can be stored or moved into another task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # taskio::run(async {
    /// let sem = Arc::new(taskio::Semaphore::new(1));
    /// let permit: taskio::locks::OwnedSemaphorePermit = sem.clone().acquire_owned().await.unwrap();
    /// assert_eq!(sem.value(), 0);
    /// // The permit can move into another task, which gives it back.
    /// taskio::create_task(async move {
    ///     drop(permit);
    ///     Ok(())
    /// })
    /// .await?;
    /// assert_eq!(sem.value(), 1);
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit> {
        self.acquire().await?.forget();
        Ok(OwnedSemaphorePermit { sem: self })
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core.try_acquire()
    }

    /// Adds a permit (to the first waiter if there is one). Never fails: a plain semaphore
    /// may grow above its initial value.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(&self) {
        self.core
            .release(false)
            .expect("an unbounded semaphore never fails to release");
    }

    /// True when no permit can be taken now: the value is 0 or a live waiter exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::Semaphore::new(1);
    /// let _p = sem.try_acquire();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.locked()
    }

    /// The number of free permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Semaphore::new(3).value(), 3);
    /// ```
    pub fn value(&self) -> usize {
        self.core.value()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish_non_exhaustive()
    }
}

/// asyncio's `BoundedSemaphore`: a [`Semaphore`] whose explicit [`release`] fails above the
/// initial value.
///
/// A [`SemaphorePermit`] dropped after a manual over-release (which brought the value back
/// to the bound) returns nothing, instead of failing in a destructor.
///
/// [`release`]: BoundedSemaphore::release
///
/// # Examples
///
/// ```
/// let sem = taskio::BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // above the initial value
/// sem.try_acquire().unwrap().forget();
/// assert!(sem.release().is_ok());
/// ```
pub struct BoundedSemaphore {
    core: Core,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, which is also its bound.
    ///
    /// # Panics
    ///
    /// If `value` is above `usize::MAX / 2`, as [`Semaphore::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::BoundedSemaphore::new(2).value(), 2);
    /// ```
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(value, Some(value)),
        }
    }

    /// Waits for a permit (FIFO); see [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let sem = taskio::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire().await.unwrap();
    /// assert!(sem.locked());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire::new(&self.core)
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core.try_acquire()
    }

    /// Gives a permit back; fails with [`ErrorKind::Value`](crate::ErrorKind::Value)
    /// (asyncio's `ValueError`) if the value would exceed the initial value.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::BoundedSemaphore::new(0);
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<()> {
        self.core.release(true)
    }

    /// True when the value is 0 or a live waiter exists.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::BoundedSemaphore::new(0).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.locked()
    }

    /// The number of free permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::BoundedSemaphore::new(1).value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.core.value()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.core.bound)
            .finish_non_exhaustive()
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; given back on drop.
///
/// # Examples
///
/// ```
/// let sem = taskio::Semaphore::new(1);
/// let permit: taskio::SemaphorePermit<'_> = sem.try_acquire().unwrap();
/// assert_eq!(sem.value(), 0);
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    core: &'a Core,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken with no guard; give it back later with `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = taskio::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.value(), 0);
    /// sem.release();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        let _ = self.core.release(false);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// A permit of an `Arc<Semaphore>`, from [`Semaphore::acquire_owned`]; given back on drop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # taskio::run(async {
/// let sem = Arc::new(taskio::Semaphore::new(1));
/// let permit = sem.clone().acquire_owned().await.unwrap();
/// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
}

impl OwnedSemaphorePermit {
    /// The semaphore this permit belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # taskio::run(async {
    /// let permit = Arc::new(taskio::Semaphore::new(1)).acquire_owned().await.unwrap();
    /// assert_eq!(permit.semaphore().value(), 0);
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permit taken; give it back later with [`Semaphore::release`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # taskio::run(async {
    /// let sem = Arc::new(taskio::Semaphore::new(1));
    /// sem.clone().acquire_owned().await.unwrap().forget();
    /// assert_eq!(sem.value(), 0);
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release();
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .finish_non_exhaustive()
    }
}

/// The future of [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let sem = taskio::Semaphore::new(1);
/// let fut: taskio::locks::SemaphoreAcquire<'_> = sem.acquire();
/// let _permit = fut.await;
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct SemaphoreAcquire<'a> {
    core: &'a Core,
    state: AcquireState,
}

#[derive(Clone, Copy)]
enum AcquireState {
    Init,
    Waiting(WaiterId),
    Done,
}

impl<'a> SemaphoreAcquire<'a> {
    fn new(core: &'a Core) -> Self {
        SemaphoreAcquire {
            core,
            state: AcquireState::Init,
        }
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = Result<SemaphorePermit<'a>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<SemaphorePermit<'a>>> {
        let this = self.get_mut();
        let core = this.core;
        if let AcquireState::Init = this.state {
            if core.take_permit() {
                this.state = AcquireState::Done;
                return Poll::Ready(Ok(SemaphorePermit { core }));
            }
        }
        // A checkpoint where it waits: a delivered cancellation leaves the queue (passing on
        // a permit handed over meanwhile).
        if let Some(e) = take_cancel() {
            if let AcquireState::Waiting(id) =
                std::mem::replace(&mut this.state, AcquireState::Done)
            {
                this.leave(id);
            }
            this.state = AcquireState::Done;
            return Poll::Ready(Err(e));
        }
        this.poll_slow(cx).map(Ok)
    }
}

impl<'a> SemaphoreAcquire<'a> {
    /// Registers (rule 4), or polls the registration.
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let core = self.core;
        let mut waiters = core.waiters.lock();
        match self.state {
            AcquireState::Init => {
                let mut word = core.word.load(Ordering::Acquire);
                loop {
                    if word >= ONE {
                        // A permit counted since the fast path looked: take it.
                        match core.word.compare_exchange_weak(
                            word,
                            word - ONE,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => {
                                self.state = AcquireState::Done;
                                return Poll::Ready(SemaphorePermit { core });
                            }
                            Err(actual) => word = actual,
                        }
                    } else if word == WAITING {
                        break;
                    } else {
                        match core.word.compare_exchange_weak(
                            0,
                            WAITING,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => break,
                            Err(actual) => word = actual,
                        }
                    }
                }
                self.state = AcquireState::Waiting(waiters.push(cx.waker()));
                Poll::Pending
            }
            AcquireState::Waiting(id) => match waiters.poll(id, cx.waker()) {
                Poll::Ready(()) => {
                    self.state = AcquireState::Done;
                    Poll::Ready(SemaphorePermit { core })
                }
                Poll::Pending => Poll::Pending,
            },
            AcquireState::Done => panic!("SemaphoreAcquire polled after completion"),
        }
    }

    /// Rule 6.
    #[cold]
    #[inline(never)]
    fn leave(&self, id: WaiterId) {
        let handed = {
            let mut waiters = self.core.waiters.lock();
            let handed = waiters.remove(id);
            if handed.is_none() && !waiters.has_waiting() {
                // It was the last waiting entry (the word is exactly `WAITING`, rule 2).
                self.core.word.store(0, Ordering::Release);
            }
            handed
        };
        if handed.is_some() {
            // We held a permit: pass it on (to the next waiter, or the count).
            let _ = self.core.release(false);
        }
    }
}

impl Drop for SemaphoreAcquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if let AcquireState::Waiting(id) = self.state {
            self.leave(id);
        }
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire").finish_non_exhaustive()
    }
}
