//! [`Event`]: a flag tasks can wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::checkpoint::take_cancel;
use crate::exceptions::Result;
use crate::kernel::sync::Mutex;
use crate::kernel::waiters::{WaitList, WaiterId, Wakers};
use taskio_runtime::task::Awaiting;

/// asyncio's `Event`: `set` wakes every waiter; `clear` resets the flag without un-waking
/// the waiters `set` already woke.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use taskio::{create_task, Event};
///
/// taskio::run(async {
///     let event = Arc::new(Event::new());
///     let e = event.clone();
///     let waiter = create_task(async move { e.wait().await });
///     event.set();
///     assert!(waiter.await?);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct Event {
    state: Mutex<State>,
}

struct State {
    set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// An event that is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!taskio::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::awaiting(Awaiting::Event),
            }),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = taskio::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        let mut wakers = Wakers::new();
        {
            let mut st = self.state.lock();
            st.set = true;
            st.waiters.notify_all(|| (), &mut wakers);
        }
        wakers.wake_all();
    }

    /// Resets the flag. Waiters already woken by [`Event::set`] still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = taskio::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.lock().set = false;
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = taskio::Event::new();
    /// assert!(!e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.lock().set
    }

    /// Waits until the flag is set (at once if it is); returns `true`, like asyncio.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let e = taskio::Event::new();
    /// e.set();
    /// assert!(e.wait().await.unwrap());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            state: WaitState::Init,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Event")
            .field("set", &st.set)
            .field("waiters", &st.waiters.n_waiting())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// # Examples
///
/// ```
/// # taskio::run(async {
/// let e = taskio::Event::new();
/// e.set();
/// let fut: taskio::locks::EventWait<'_> = e.wait();
/// assert!(fut.await.unwrap());
/// # Ok(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    state: WaitState,
}

#[derive(Clone, Copy)]
enum WaitState {
    Init,
    Waiting(WaiterId),
    Done,
}

impl Future for EventWait<'_> {
    type Output = Result<bool>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        let this = self.get_mut();
        let mut st = this.event.state.lock();
        match this.state {
            WaitState::Init => {
                if st.set {
                    this.state = WaitState::Done;
                    return Poll::Ready(Ok(true));
                }
                if let Some(e) = take_cancel() {
                    this.state = WaitState::Done;
                    return Poll::Ready(Err(e));
                }
                this.state = WaitState::Waiting(st.waiters.push(cx.waker()));
                Poll::Pending
            }
            WaitState::Waiting(id) => {
                // A checkpoint (every waiter is woken together: a cancelled one passes
                // nothing on).
                if let Some(e) = take_cancel() {
                    let _ = st.waiters.remove(id);
                    this.state = WaitState::Done;
                    return Poll::Ready(Err(e));
                }
                match st.waiters.poll(id, cx.waker()) {
                    Poll::Ready(()) => {
                        this.state = WaitState::Done;
                        Poll::Ready(Ok(true))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            WaitState::Done => panic!("EventWait polled after completion"),
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let WaitState::Waiting(id) = self.state {
            // Every waiter was woken together: a dropped one has nothing to pass on.
            let _ = self.event.state.lock().waiters.remove(id);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").finish_non_exhaustive()
    }
}
