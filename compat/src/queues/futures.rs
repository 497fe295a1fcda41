//! The futures of a queue's waiting operations: [`Put`], [`Get`], [`Join`]. Each one is
//! registered in a waiter list while it waits; dropping it leaves the list (and passes on
//! what it was woken for: see the [module docs](super)).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::queue::{BaseQueue, GetWake, PutWake};
use super::{PutError, Storage};
use crate::checkpoint::take_cancel;
use crate::exceptions::{Error, Result};
use crate::kernel::waiters::WaiterId;

/// The future of [`BaseQueue::put`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::new(0);
/// let fut: taskio::queues::Put<'_, u8, _> = q.put(1);
/// fut.await.unwrap();
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, T, S: Storage<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    /// Owned until enqueued (or given back in the error).
    pub(super) item: Option<T>,
    pub(super) waiter: Option<WaiterId>,
}

// The item is moved, never pinned.
impl<T, S: Storage<T>> Unpin for Put<'_, T, S> {}

impl<T, S: Storage<T>> Future for Put<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let queue = this.queue;
        let maxsize = queue.maxsize;
        // A checkpoint where it waits: a cancelled put never enqueues its item (it comes
        // back in the error) and passes a slot handed to it on.
        if let Some(id) = this.waiter {
            if let Some(e) = take_cancel() {
                this.waiter = None;
                queue.leave_putters(id);
                let item = this.item.take().expect("Put polled after completion");
                return Poll::Ready(Err(PutError::new(e, item)));
            }
        }
        queue.update(|st| {
            let item = this.item.take().expect("Put polled after completion");
            let enqueue = match this.waiter {
                None if st.shutdown => false,
                None if st.has_space(maxsize) && !st.putters.has_waiting() => true,
                None => {
                    if let Some(e) = take_cancel() {
                        return Poll::Ready(Err(PutError::new(e, item)));
                    }
                    this.waiter = Some(st.putters.push(cx.waker()));
                    this.item = Some(item);
                    return Poll::Pending;
                }
                Some(id) => match st.putters.poll(id, cx.waker()) {
                    Poll::Pending => {
                        this.item = Some(item);
                        return Poll::Pending;
                    }
                    Poll::Ready(wake) => {
                        this.waiter = None;
                        if wake == PutWake::Slot {
                            st.put_reserved -= 1;
                        }
                        wake == PutWake::Slot && !st.shutdown
                    }
                },
            };
            Poll::Ready(if enqueue {
                st.enqueue(item);
                Ok(())
            } else {
                Err(PutError::new(Error::queue_shut_down(), item))
            })
        })
    }
}

impl<T, S: Storage<T>> Drop for Put<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.queue.leave_putters(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Put<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").finish_non_exhaustive()
    }
}

/// The future of [`BaseQueue::get`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::new(0);
/// q.put_nowait(1).unwrap();
/// let fut: taskio::queues::Get<'_, u8, _> = q.get();
/// assert_eq!(fut.await.unwrap(), 1);
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, T, S: Storage<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    pub(super) waiter: Option<WaiterId>,
}

impl<T, S: Storage<T>> Future for Get<'_, T, S> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        // A checkpoint where it waits: a cancelled get leaves an item reserved for it to the
        // next getter.
        if let Some(id) = this.waiter {
            if let Some(e) = take_cancel() {
                this.waiter = None;
                this.queue.leave_getters(id);
                return Poll::Ready(Err(e));
            }
        }
        this.queue.update(|st| match this.waiter {
            None => match st.take() {
                Some(item) => Poll::Ready(Ok(item)),
                None if st.shutdown => Poll::Ready(Err(Error::queue_shut_down())),
                None => {
                    if let Some(e) = take_cancel() {
                        return Poll::Ready(Err(e));
                    }
                    this.waiter = Some(st.getters.push(cx.waker()));
                    Poll::Pending
                }
            },
            Some(id) => match st.getters.poll(id, cx.waker()) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(wake) => {
                    this.waiter = None;
                    if wake == GetWake::ShutDown || st.cleared {
                        return Poll::Ready(Err(Error::queue_shut_down()));
                    }
                    st.get_reserved -= 1;
                    let item = st.items.pop().expect("a reserved item is in the queue");
                    Poll::Ready(Ok(item))
                }
            },
        })
    }
}

impl<T, S: Storage<T>> Drop for Get<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.queue.leave_getters(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Get<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").finish_non_exhaustive()
    }
}

/// The future of [`BaseQueue::join`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let q = taskio::Queue::<u8>::new(0);
/// let fut: taskio::queues::Join<'_, u8, _> = q.join();
/// fut.await.unwrap();
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Join<'a, T, S: Storage<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    pub(super) waiter: Option<WaiterId>,
    pub(super) done: bool,
}

impl<T, S: Storage<T>> Future for Join<'_, T, S> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        assert!(!this.done, "Join polled after completion");
        let mut st = this.queue.lock();
        let ready = if this.waiter.is_none() && st.unfinished == 0 {
            Poll::Ready(())
        } else if let Some(e) = take_cancel() {
            // A checkpoint where it waits (joiners are woken together: nothing to pass on).
            if let Some(id) = this.waiter.take() {
                let _ = st.joiners.remove(id);
            }
            this.done = true;
            return Poll::Ready(Err(e));
        } else {
            match this.waiter {
                None => {
                    this.waiter = Some(st.joiners.push(cx.waker()));
                    Poll::Pending
                }
                Some(id) => st.joiners.poll(id, cx.waker()),
            }
        };
        if ready.is_ready() {
            this.waiter = None;
            this.done = true;
        }
        ready.map(Ok)
    }
}

impl<T, S: Storage<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            // Every joiner is released together: nothing to pass on.
            let _ = self.queue.state.lock().joiners.remove(id);
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Join<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}
