//! [`Barrier`]: `parties` tasks wait for each other.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::sync::Mutex;
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// asyncio's `Barrier`: each [`wait`](Barrier::wait) returns its arrival index `0..parties`;
/// the last arrival releases the others and the barrier starts over.
///
/// [`reset`](Barrier::reset) breaks the current waiters with
/// [`ErrorKind::BrokenBarrier`](crate::ErrorKind::BrokenBarrier) and leaves the barrier
/// usable; [`abort`](Barrier::abort) breaks it for good. A waiter dropped before the barrier
/// filled leaves it (the count goes down), as a cancelled asyncio waiter does.
///
/// asyncio makes new arrivals wait while the previous cycle's waiters are still leaving
/// ("draining"); here each waiter learns its outcome when the cycle completes, so a new cycle
/// can start at once, with the same indices and results.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use taskio::{create_task, Barrier};
///
/// taskio::run(async {
///     let barrier = Arc::new(Barrier::new(3)?);
///     let parties: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             create_task(async move { b.wait().await })
///         })
///         .collect();
///     let mut indices = Vec::new();
///     for p in parties {
///         indices.push(p.await?);
///     }
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]); // each party gets its own index
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    /// Arrivals in the current cycle (all of them waiting, except the last, which releases).
    count: usize,
    /// Aborted: every wait fails, for good.
    broken: bool,
    /// Notified with `true` when released, `false` when broken (reset or abort).
    waiters: WaitList<bool>,
}

impl Barrier {
    /// A barrier for `parties` tasks; `parties == 0` is an error
    /// ([`ErrorKind::Value`](crate::ErrorKind::Value), asyncio's `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio::Barrier::new(0).is_err());
    /// assert_eq!(taskio::Barrier::new(2).unwrap().parties(), 2);
    /// ```
    pub fn new(parties: usize) -> Result<Barrier> {
        if parties == 0 {
            return Err(Error::value("parties must be >= 1"));
        }
        Ok(Barrier {
            parties,
            state: Mutex::new(State {
                count: 0,
                broken: false,
                waiters: WaitList::awaiting(Awaiting::Barrier),
            }),
        })
    }

    /// Arrives and waits for the others; returns the arrival index. Fails with
    /// BrokenBarrier if the barrier is reset or aborted while waiting, or was aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let b = taskio::Barrier::new(1).unwrap();
    /// assert_eq!(b.wait().await.unwrap(), 0); // the only party releases itself
    /// assert_eq!(b.wait().await.unwrap(), 0); // and again: it starts over
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            state: WaitState::Init,
        }
    }

    /// Breaks the current waiters (BrokenBarrier) and empties the barrier, which stays
    /// usable.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = taskio::Barrier::new(2).unwrap();
    /// b.reset();
    /// assert!(!b.broken());
    /// assert_eq!(b.n_waiting(), 0);
    /// ```
    pub fn reset(&self) {
        self.break_waiters(false);
    }

    /// Breaks the barrier for good: current and future waits fail with BrokenBarrier.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let b = taskio::Barrier::new(2).unwrap();
    /// b.abort();
    /// assert!(b.broken());
    /// assert_eq!(b.wait().await.unwrap_err().kind(), taskio::ErrorKind::BrokenBarrier);
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn abort(&self) {
        self.break_waiters(true);
    }

    fn break_waiters(&self, for_good: bool) {
        let mut wakers = Wakers::new();
        {
            let mut st = self.state.lock();
            st.broken |= for_good;
            st.count = 0;
            st.waiters.notify_all(|| false, &mut wakers);
        }
        wakers.wake_all();
    }

    /// How many tasks are waiting in the current cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Barrier::new(2).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().count
    }

    /// Whether the barrier was aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::Barrier::new(1).unwrap().broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }

    /// The number of parties.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio::Barrier::new(4).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &st.count)
            .field("broken", &st.broken)
            .finish()
    }
}

/// The future of [`Barrier::wait`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let b = taskio::Barrier::new(1).unwrap();
/// let fut: taskio::locks::BarrierWait<'_> = b.wait();
/// assert_eq!(fut.await.unwrap(), 0);
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    state: WaitState,
}

#[derive(Clone, Copy)]
enum WaitState {
    Init,
    Waiting { id: WaiterId, index: usize },
    Done,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = self.get_mut();
        let barrier = this.barrier;
        let mut wakers = Wakers::new();
        let out = {
            let mut st = barrier.state.lock();
            match this.state {
                WaitState::Init => {
                    if st.broken {
                        this.state = WaitState::Done;
                        return Poll::Ready(Err(Error::broken_barrier()));
                    }
                    let index = st.count;
                    st.count += 1;
                    if st.count == barrier.parties {
                        st.count = 0;
                        st.waiters.notify_all(|| true, &mut wakers);
                        this.state = WaitState::Done;
                        Poll::Ready(Ok(index))
                    } else if let Some(e) = take_cancel() {
                        st.count -= 1;
                        this.state = WaitState::Done;
                        Poll::Ready(Err(e))
                    } else {
                        let id = st.waiters.push(cx.waker());
                        this.state = WaitState::Waiting { id, index };
                        Poll::Pending
                    }
                }
                WaitState::Waiting { id, index } => match take_cancel() {
                    // A checkpoint: leaves as a dropped waiter does (released already: it
                    // passed the barrier, but the cancellation is delivered all the same).
                    Some(e) => {
                        if st.waiters.remove(id).is_none() {
                            st.count -= 1;
                        }
                        this.state = WaitState::Done;
                        Poll::Ready(Err(e))
                    }
                    None => match st.waiters.poll(id, cx.waker()) {
                        Poll::Ready(released) => {
                            this.state = WaitState::Done;
                            Poll::Ready(if released {
                                Ok(index)
                            } else {
                                Err(Error::broken_barrier())
                            })
                        }
                        Poll::Pending => Poll::Pending,
                    },
                },
                WaitState::Done => panic!("BarrierWait polled after completion"),
            }
        };
        wakers.wake_all();
        out
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let WaitState::Waiting { id, .. } = self.state {
            let mut st = self.barrier.state.lock();
            if st.waiters.remove(id).is_none() {
                // Left before the barrier filled: it no longer counts.
                st.count -= 1;
            }
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").finish_non_exhaustive()
    }
}
