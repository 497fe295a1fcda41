//! [`Semaphore`] and [`BoundedSemaphore`]: counted permits, handed out FIFO.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::exceptions::{Error, Result};
use crate::loom::Mutex;
use crate::waiters::{WaitList, WaiterId, Wakers};

/// The state both semaphores share.
struct Core {
    state: Mutex<State>,
    /// `Some(initial value)` for a [`BoundedSemaphore`].
    bound: Option<usize>,
}

struct State {
    /// Free permits. Invariant: while an entry is *waiting*, `value == 0` (a release with
    /// waiters hands its permit to the first one instead of counting it).
    value: usize,
    /// Notified entries hold the permit they were handed.
    waiters: WaitList<()>,
}

impl Core {
    fn new(value: usize, bound: Option<usize>) -> Core {
        Core {
            state: Mutex::new(State {
                value,
                waiters: WaitList::new(),
            }),
            bound,
        }
    }

    fn locked(&self) -> bool {
        let st = self.state.lock();
        st.value == 0 || !st.waiters.is_empty()
    }

    fn value(&self) -> usize {
        self.state.lock().value
    }

    fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        let mut st = self.state.lock();
        if st.value > 0 && !st.waiters.has_waiting() {
            st.value -= 1;
            Some(SemaphorePermit { core: self })
        } else {
            None
        }
    }

    /// Gives a permit back: to the first waiter if there is one, else to the count.
    /// `strict`: fail (instead of ignoring the permit) if that would exceed the bound.
    fn release(&self, strict: bool) -> Result<()> {
        let mut wakers = Wakers::new();
        {
            let mut st = self.state.lock();
            let at_bound = self.bound.is_some_and(|bound| st.value >= bound);
            if strict && at_bound {
                return Err(Error::runtime("BoundedSemaphore released too many times"));
            }
            if wakers.push_notified(st.waiters.notify_one(())).is_err() && !at_bound {
                st.value += 1;
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
/// `acquire().await` returns a [`SemaphorePermit`] that gives the permit back on drop;
/// [`SemaphorePermit::forget`] and [`Semaphore::release`] give asyncio's manual style.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use taskio::{Semaphore, __testing::spawn};
///
/// let sem = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let workers: Vec<_> = (0..4).map(|_| {
///     let (sem, inside) = (sem.clone(), inside.clone());
///     spawn(async move {
///         let _permit = sem.acquire().await;
///         assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///         inside.fetch_sub(1, Ordering::SeqCst);
///     })
/// }).collect();
/// workers.into_iter().for_each(|w| w.join().unwrap());
/// ```
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// A semaphore with `value` free permits.
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
    /// # taskio::__testing::block_on(async {
    /// let sem = taskio::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// # });
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
    /// # taskio::__testing::block_on(async {
    /// let sem = Arc::new(taskio::Semaphore::new(1));
    /// let permit: taskio::locks::OwnedSemaphorePermit = sem.clone().acquire_owned().await;
    /// assert_eq!(sem.value(), 0);
    /// std::thread::spawn(move || drop(permit)).join().unwrap();
    /// assert_eq!(sem.value(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.acquire().await.forget();
        OwnedSemaphorePermit { sem: self }
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
    /// # taskio::__testing::block_on(async {
    /// let sem = taskio::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire().await;
    /// assert!(sem.locked());
    /// # });
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

    /// Gives a permit back; fails with [`ErrorKind::Runtime`](crate::ErrorKind::Runtime)
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
/// # taskio::__testing::block_on(async {
/// let sem = Arc::new(taskio::Semaphore::new(1));
/// let permit = sem.clone().acquire_owned().await;
/// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
/// # });
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
    /// # taskio::__testing::block_on(async {
    /// let permit = Arc::new(taskio::Semaphore::new(1)).acquire_owned().await;
    /// assert_eq!(permit.semaphore().value(), 0);
    /// # });
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
    /// # taskio::__testing::block_on(async {
    /// let sem = Arc::new(taskio::Semaphore::new(1));
    /// sem.clone().acquire_owned().await.forget();
    /// assert_eq!(sem.value(), 0);
    /// # });
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
/// # taskio::__testing::block_on(async {
/// let sem = taskio::Semaphore::new(1);
/// let fut: taskio::locks::SemaphoreAcquire<'_> = sem.acquire();
/// let _permit = fut.await;
/// # });
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
    type Output = SemaphorePermit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = self.get_mut();
        let core = this.core;
        let mut st = core.state.lock();
        match this.state {
            AcquireState::Init => {
                if st.value > 0 && !st.waiters.has_waiting() {
                    st.value -= 1;
                    this.state = AcquireState::Done;
                    return Poll::Ready(SemaphorePermit { core });
                }
                this.state = AcquireState::Waiting(st.waiters.push(cx.waker()));
                Poll::Pending
            }
            AcquireState::Waiting(id) => match st.waiters.poll(id, cx.waker()) {
                Poll::Ready(()) => {
                    this.state = AcquireState::Done;
                    Poll::Ready(SemaphorePermit { core })
                }
                Poll::Pending => Poll::Pending,
            },
            AcquireState::Done => panic!("SemaphoreAcquire polled after completion"),
        }
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        if let AcquireState::Waiting(id) = self.state {
            let handed = self.core.state.lock().waiters.remove(id);
            if handed.is_some() {
                // We held a permit: pass it on (to the next waiter, or the count).
                let _ = self.core.release(false);
            }
        }
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire").finish_non_exhaustive()
    }
}
