//! Delivered cancellation: a request is recorded in the task, and the task's next
//! *checkpoint* hands it to the code as an error.
//!
//! # The protocol
//!
//! Each task's header holds a [`CancelWord`]: the number of requests not yet withdrawn
//! (asyncio's `cancelling()`), the PENDING bit (a request that has not been delivered), and
//! a generation that every request bumps.
//! Each worker thread holds, in a thread-local, the task it is polling and two flags of that
//! poll (`delivered`, `by_self`).
//!
//! 1. **Request** (`JoinHandle::cancel`, `TaskRef::cancel`): if the task is complete, nothing
//!    (false). Else one `fetch_update` adds one to the count and sets PENDING, and then the
//!    task is woken as a waker would wake it, except that the state word is written even when
//!    the task is already notified (`transition_to_notified_for_cancel`): the poller's claim
//!    (`transition_to_running`, an acquire read-modify-write) then comes after that write in
//!    the word's order and sees PENDING. A request made by the task on
//!    itself, from inside its own poll, also sets the poll's `by_self` flag.
//! 2. **Delivery** ([`take_cancel`]): a checkpoint, polled inside a task, clears PENDING in
//!    one `fetch_update` (so two checkpoints never both deliver one request) and, if it was
//!    set, returns [`Cancelled`]; the poll's `delivered` flag is set. Requests made before a
//!    delivery are delivered together, once (asyncio's `_must_cancel` is one flag too); the
//!    count still says how many were made. Only the task itself delivers: checkpoints read
//!    the thread-local of the poll they run in.
//! 3. **Withdrawal** (`uncancel`): one `fetch_update` subtracts one from a non-zero count and,
//!    when that leaves zero, clears PENDING too: one atomic word, so a request racing the
//!    withdrawal is either counted after it (and stays pending) or before it.
//! 4. **No lost request.** A request's write of the state word is either before the
//!    poller's claim (then the poll sees PENDING from its start: a checkpoint delivers it, or
//!    the drop fallback ends the task), or after it, while the task runs: it sets NOTIFIED,
//!    so the task is polled again and that poll sees PENDING from its start.
//! 5. **Before the first poll**: the harness reads the word when it claims a task that was
//!    never polled (`POLLED` in the state word); PENDING then means the future is dropped
//!    without being polled (asyncio: a task cancelled before its first step never runs).
//! 6. **The drop fallback**: a poll that *began* with PENDING set (so every checkpoint it
//!    polled would have delivered), returned `Pending`, did not deliver, and ends with the
//!    same request still pending (PENDING, same generation: a request withdrawn and another
//!    made during the poll is a new one, which the next poll sees) was parked on something
//!    that is not a checkpoint (a foreign future, a bare
//!    `std::future::pending`): the harness cancels the task as `abort` does (drops the future,
//!    a cancelled `JoinError`). So a cancelled task always ends.
//! 7. **A task that cancels itself and then returns** ends cancelled (asyncio's rule): when the
//!    future returns `Ready` while PENDING is set by a request the poll made itself
//!    (`by_self`), the harness stores a cancelled `JoinError` instead of the output. A request
//!    from another thread that lands while the future is returning came too late: the value
//!    stands.
//!
//! 8. **Shields** ([`CancelShield`]): a region of a task's future with requests of its own
//!    (a shielded cancel scope). A shield holds a [`CancelWord`] and a reference to its task.
//!    While the shield's future is polled ([`CancelShield::poll`]), the poll's thread-local
//!    names the shield's word, and checkpoints deliver from it *instead of* the task's: the
//!    task's requests wait, pending, until the shielded future stops being polled (its next
//!    checkpoint outside delivers them). A request on a shield is made as in step 1 (the
//!    word, then the task's state word is always written), so step 4's argument holds for
//!    it unchanged. A poll that left a shielded future pending is *held*: step 6's fallback
//!    does not fire for the task's requests (the shield holds them back on purpose); the
//!    shield applies step 6 to its own requests instead, and reports a future parked on
//!    something that is no checkpoint to its caller (`Shielded::Stuck`), which drops it.
//!
//! Shutdown and `abort` still drop the future (the `CANCELLED` bit of the state word).

use crate::loom::sync::atomic::{AtomicU32, Ordering};
use crate::task::cell::Header;
use crate::task::Id;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// A request waits to be delivered. Set by a request, cleared by its delivery or by the
/// withdrawal of the last request.
const PENDING: u32 = 1 << 31;
/// One request more in the generation: bumped (wrapping in its 15 bits) by every request, so
/// that a poll can tell a request made during it from one that was there at its start.
const GEN_ONE: u32 = 1 << 16;
/// The generation bits.
const GEN: u32 = PENDING - GEN_ONE;
/// The number of requests not withdrawn (saturating).
const COUNT: u32 = GEN_ONE - 1;

/// A task's cancellation requests; see the module docs.
pub(crate) struct CancelWord(AtomicU32);

/// A copy of a [`CancelWord`] at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CancelSnapshot(u32);

impl CancelSnapshot {
    /// A request waits to be delivered.
    pub(crate) fn is_pending(self) -> bool {
        self.0 & PENDING != 0
    }

    /// Requests not withdrawn.
    pub(crate) fn count(self) -> u32 {
        self.0 & COUNT
    }

    /// The same request is pending in both snapshots: no request was made in between (up to
    /// a wrap of the generation, 32768 requests during one poll).
    pub(crate) fn same_request_pending(self, later: CancelSnapshot) -> bool {
        self.is_pending() && later.is_pending() && self.0 & GEN == later.0 & GEN
    }
}

impl CancelWord {
    pub(crate) fn new() -> CancelWord {
        CancelWord(AtomicU32::new(0))
    }

    pub(crate) fn load(&self) -> CancelSnapshot {
        CancelSnapshot(self.0.load(Ordering::Acquire))
    }

    /// Step 1: one more request, pending. Returns the new count.
    pub(crate) fn request(&self) -> u32 {
        let prev = self.update(|w| {
            let count = ((w & COUNT) + 1).min(COUNT);
            let generation = (w & GEN).wrapping_add(GEN_ONE) & GEN;
            Some(PENDING | generation | count)
        });
        ((prev & COUNT) + 1).min(COUNT)
    }

    /// Step 2: clears PENDING; true if it was set.
    pub(crate) fn take(&self) -> bool {
        // A plain load first: the common case (nothing pending) writes nothing.
        if self.0.load(Ordering::Acquire) & PENDING == 0 {
            return false;
        }
        let prev = self.update(|w| (w & PENDING != 0).then_some(w & !PENDING));
        prev & PENDING != 0
    }

    /// Step 3: one request fewer; the last one's withdrawal also clears PENDING. Returns the
    /// new count.
    pub(crate) fn uncancel(&self) -> u32 {
        let prev = self.update(|w| {
            let count = w & COUNT;
            if count == 0 {
                return None;
            }
            Some(if count == 1 { w & GEN } else { w - 1 })
        });
        (prev & COUNT).saturating_sub(1)
    }

    /// Applies `f` until it sticks; returns the previous word (unchanged if `f` said `None`).
    fn update(&self, mut f: impl FnMut(u32) -> Option<u32>) -> u32 {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let Some(next) = f(cur) else { return cur };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(prev) => return prev,
                Err(actual) => cur = actual,
            }
        }
    }
}

/// What the thread knows of the poll it is running.
struct Current {
    /// The task being polled on this thread.
    task: Cell<Option<NonNull<Header>>>,
    /// A checkpoint delivered a request during this poll.
    delivered: Cell<bool>,
    /// The task requested its own cancellation during this poll.
    by_self: Cell<bool>,
    /// The word of the shield being polled, if any: checkpoints deliver from it (step 8).
    shield: Cell<Option<NonNull<CancelWord>>>,
    /// A shielded future was left pending during this poll (step 8).
    held: Cell<bool>,
}

crate::loom::rt_thread_local! {
    static CURRENT: Current = Current {
        task: Cell::new(None),
        delivered: Cell::new(false),
        by_self: Cell::new(false),
        shield: Cell::new(None),
        held: Cell::new(false),
    };
}

/// Marks `task` as the task being polled on this thread until dropped (then restores
/// whatever was there: a poll never nests, but the thread-local outlives no guard).
pub(crate) struct PollGuard {
    prev: (Option<NonNull<Header>>, bool, bool),
}

impl PollGuard {
    pub(crate) fn enter(task: NonNull<Header>) -> PollGuard {
        let prev = CURRENT.with(|c| {
            c.shield.set(None);
            c.held.set(false);
            (
                c.task.replace(Some(task)),
                c.delivered.replace(false),
                c.by_self.replace(false),
            )
        });
        PollGuard { prev }
    }

    /// A shield held the task's requests back during this poll (step 8).
    pub(crate) fn held(&self) -> bool {
        CURRENT.with(|c| c.held.get())
    }

    /// This poll delivered a request (step 6).
    pub(crate) fn delivered(&self) -> bool {
        CURRENT.with(|c| c.delivered.get())
    }

    /// This poll requested its own task's cancellation (step 7).
    pub(crate) fn by_self(&self) -> bool {
        CURRENT.with(|c| c.by_self.get())
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        let (task, delivered, by_self) = self.prev;
        let _ = CURRENT.try_with(|c| {
            c.task.set(task);
            c.delivered.set(delivered);
            c.by_self.set(by_self);
            c.shield.set(None);
            c.held.set(false);
        });
    }
}

/// The header of the task polled on this thread.
pub(crate) fn current_task() -> Option<NonNull<Header>> {
    CURRENT.try_with(|c| c.task.get()).ok().flatten()
}

/// Step 1's note: the request is the polled task's own.
pub(crate) fn note_request(task: NonNull<Header>) {
    let _ = CURRENT.try_with(|c| {
        if c.task.get() == Some(task) {
            c.by_self.set(true);
        }
    });
}

/// The error a checkpoint returns when it delivers a cancellation request.
///
/// The runtime's checkpoints return it in their own error type: I/O operations as an
/// [`io::Error`] of kind [`Other`](io::ErrorKind::Other) carrying this value (read it back
/// with [`Cancelled::is_cancelled_io`]); the `taskio` crate turns it into its `Cancelled`
/// error, with the request's message.
///
/// # Examples
///
/// ```
/// use taskio_runtime::task::Cancelled;
///
/// let e: std::io::Error = Cancelled.into();
/// assert!(Cancelled::is_cancelled_io(&e));
/// assert_eq!(Cancelled.to_string(), "the task was cancelled");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Cancelled;

impl Cancelled {
    /// True if `err` is a delivered cancellation (made from a [`Cancelled`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::task::Cancelled;
    /// assert!(!Cancelled::is_cancelled_io(&std::io::Error::other("no")));
    /// ```
    pub fn is_cancelled_io(err: &io::Error) -> bool {
        err.get_ref().is_some_and(|e| e.is::<Cancelled>())
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task was cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl From<Cancelled> for io::Error {
    fn from(c: Cancelled) -> io::Error {
        io::Error::other(c)
    }
}

/// Delivers the current task's pending cancellation request, if it has one: the first thing
/// every checkpoint does when it is polled.
///
/// Returns `Some(Cancelled)` once per request (requests made before a delivery are delivered
/// together): the checkpoint then returns it as its error, and the code decides: propagate
/// it (the task ends with it), run clean-up that awaits (later checkpoints do not deliver it
/// again), or swallow it. `None` outside a task, or when nothing is pending. The cost when
/// nothing is pending: one thread-local read and one atomic load.
///
/// A future of your own that waits is a checkpoint if it calls this at the top of its `poll`
/// (the request wakes the task, so the future is polled again after a request).
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use taskio_runtime::task::{self, Cancelled};
///
/// // A wait that never ends on its own, but is a checkpoint.
/// async fn forever() -> Result<(), Cancelled> {
///     poll_fn(|_cx| match task::take_cancel() {
///         Some(c) => Poll::Ready(Err(c)),
///         None => Poll::Pending,
///     })
///     .await
/// }
///
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (started, is_started) = std::sync::mpsc::channel();
///     let h = taskio_runtime::spawn(async move {
///         started.send(()).unwrap();
///         let first = forever().await; // delivered here
///         assert_eq!(first, Err(Cancelled));
///         "cleaned up" // swallowed: the task returns a value
///     });
///     is_started.recv().unwrap(); // (a task cancelled before it starts never runs)
///     assert!(h.cancel());
///     assert_eq!(h.await.unwrap(), "cleaned up");
/// });
/// ```
pub fn take_cancel() -> Option<Cancelled> {
    CURRENT
        .try_with(|c| {
            let task = c.task.get()?;
            let word = match c.shield.get() {
                // SAFETY: the shield's word lives in the `CancelShield` that `poll` borrows
                // for as long as the thread-local names it.
                Some(w) => unsafe { w.as_ref() },
                // SAFETY: the task being polled is alive: its poller holds a reference for
                // the whole poll, and this thread-local names it only during that poll.
                None => &unsafe { task.as_ref() }.cancel,
            };
            if word.take() {
                c.delivered.set(true);
                Some(Cancelled)
            } else {
                None
            }
        })
        .ok()
        .flatten()
}

/// True while the current task has an undelivered cancellation that it requested itself
/// during the current poll: a future about to return checks it to end cancelled instead
/// (asyncio's rule that a task that cancels itself and then returns ends cancelled; the
/// runtime applies it to every task's output). False outside a task.
///
/// # Examples
///
/// ```
/// assert!(!taskio_runtime::task::cancelling_itself()); // outside a task
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// let h = rt.spawn(async { taskio_runtime::task::cancelling_itself() });
/// assert!(!rt.block_on(h).unwrap());
/// ```
pub fn cancelling_itself() -> bool {
    CURRENT
        .try_with(|c| {
            c.by_self.get()
                && c.task.get().is_some_and(|t| {
                    // SAFETY: as in `take_cancel`.
                    unsafe { t.as_ref() }.cancel.load().is_pending()
                })
        })
        .unwrap_or(false)
}

/// The id of the task being polled on this thread, or `None` outside a task (tokio's
/// `task::try_id`).
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(taskio_runtime::task::try_id(), None); // block_on's future is no task
///     let h = taskio_runtime::spawn(async { taskio_runtime::task::try_id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), Some(id));
/// });
/// ```
pub fn try_id() -> Option<Id> {
    // SAFETY: as in `take_cancel`.
    current_task().map(|t| unsafe { t.as_ref() }.id)
}

/// The id of the task being polled on this thread.
///
/// # Panics
///
/// Outside a task; see [`try_id`].
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// let h = rt.spawn(async { taskio_runtime::task::id() });
/// let id = h.id();
/// assert_eq!(rt.block_on(h).unwrap(), id);
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`task::id()` called outside a task")
}

/// Waits until the current task's cancellation is requested, and delivers it: a checkpoint
/// that never ends on its own, for `select`-style code.
///
/// Outside a task it never completes.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (started, is_started) = std::sync::mpsc::channel();
///     let h = taskio_runtime::spawn(async move {
///         started.send(()).unwrap();
///         taskio_runtime::task::cancelled().await;
///         "asked to stop"
///     });
///     is_started.recv().unwrap();
///     h.cancel();
///     assert_eq!(h.await.unwrap(), "asked to stop");
/// });
/// ```
pub fn cancelled() -> CancelRequested {
    CancelRequested { _p: () }
}

/// The future of [`cancelled`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct CancelRequested {
    _p: (),
}

impl Future for CancelRequested {
    type Output = Cancelled;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Cancelled> {
        // A request wakes the task, so no waker needs to be kept here.
        match take_cancel() {
            Some(c) => Poll::Ready(c),
            None => Poll::Pending,
        }
    }
}

/// A region of a task with cancellation requests of its own: while its future is polled
/// through [`poll`](CancelShield::poll), the task's own requests are held back (they stay
/// pending and are delivered at the first checkpoint outside), and the checkpoints inside
/// deliver the shield's requests instead. This is what a shielded cancel scope (trio's
/// `CancelScope(shield=True)`) is made of: clean-up that must finish even though its task is
/// being cancelled, with a deadline of its own.
///
/// A shield belongs to the task that was current when it was made ([`CancelShield::new`]),
/// and keeps a reference to it; [`cancel`](CancelShield::cancel) may be called from any
/// thread. The protocol is step 8 of this module's.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::pin;
/// use std::task::Poll;
/// use taskio_runtime::task::{self, CancelShield, Shielded};
///
/// let rt = taskio_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (started, is_started) = std::sync::mpsc::channel();
///     let (go, wait_go) = std::sync::mpsc::channel::<()>();
///     let h = taskio_runtime::spawn(async move {
///         let shield = CancelShield::new().unwrap();
///         let mut cleanup = pin!(async move {
///             started.send(()).unwrap();
///             loop {
///                 // `go` is sent after the task's cancel: once it is here, so is the request.
///                 let went = wait_go.try_recv().is_ok();
///                 if task::take_cancel().is_some() {
///                     return "interrupted";
///                 }
///                 if went {
///                     return "finished";
///                 }
///                 taskio_runtime::yield_now().await;
///             }
///         });
///         let r = poll_fn(|cx| match shield.poll(cleanup.as_mut(), cx) {
///             Shielded::Ready(v) => Poll::Ready(v),
///             Shielded::Pending | Shielded::Stuck => Poll::Pending,
///         })
///         .await;
///         // Outside the shield, the held request is delivered.
///         (r, task::take_cancel().is_some())
///     });
///     is_started.recv().unwrap();
///     h.cancel();
///     go.send(()).unwrap();
///     assert_eq!(h.await.unwrap(), ("finished", true));
/// });
/// ```
pub struct CancelShield {
    word: CancelWord,
    /// One reference to the shield's task, released on drop.
    task: crate::task::RawTask,
}

// SAFETY: `task` is a counted reference to a task, which is shared by design (its state and
// cancel words are atomics; waking and requesting are thread-safe); `word` is an atomic.
unsafe impl Send for CancelShield {}
// SAFETY: as for `Send`: every method takes `&self` and works on atomics.
unsafe impl Sync for CancelShield {}

/// What [`CancelShield::poll`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shielded<T> {
    /// The future completed.
    Ready(T),
    /// The future is waiting.
    Pending,
    /// The future is waiting on something that is no checkpoint although a request of the
    /// shield's own was pending for the whole poll (step 6 applied to the shield): the
    /// caller should drop it, as the runtime drops a task in that state.
    Stuck,
}

impl CancelShield {
    /// A shield for the task being polled on this thread; `None` outside a task.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskio_runtime::task::CancelShield::new().is_none()); // no task here
    /// ```
    pub fn new() -> Option<CancelShield> {
        let task = current_task()?;
        // SAFETY: the task being polled is alive for the whole poll.
        let raw = unsafe { crate::task::RawTask::from_raw(task) };
        raw.state().ref_inc();
        Some(CancelShield {
            word: CancelWord::new(),
            task: raw,
        })
    }

    /// Polls `fut` inside the shield: checkpoints inside deliver the shield's requests and
    /// hold the task's back. Polled anywhere but in the shield's own task, it polls `fut`
    /// unshielded.
    pub fn poll<F: Future + ?Sized>(
        &self,
        fut: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Shielded<F::Output> {
        let mine = current_task() == Some(self.task.header_ptr());
        if !mine {
            return match fut.poll(cx) {
                Poll::Ready(v) => Shielded::Ready(v),
                Poll::Pending => Shielded::Pending,
            };
        }
        let before = self.word.load();
        let word = NonNull::from(&self.word);
        let (prev_shield, prev_delivered) =
            CURRENT.with(|c| (c.shield.replace(Some(word)), c.delivered.replace(false)));
        // Restores the outer view even if `fut` panics.
        struct Restore(Option<NonNull<CancelWord>>, bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                let _ = CURRENT.try_with(|c| {
                    c.shield.set(self.0);
                    c.delivered.set(self.1);
                });
            }
        }
        let restore = Restore(prev_shield, prev_delivered);
        let out = fut.poll(cx);
        let delivered = CURRENT.with(|c| c.delivered.get());
        drop(restore);
        match out {
            Poll::Ready(v) => Shielded::Ready(v),
            Poll::Pending => {
                CURRENT.with(|c| c.held.set(true));
                if !delivered && before.same_request_pending(self.word.load()) {
                    Shielded::Stuck
                } else {
                    Shielded::Pending
                }
            }
        }
    }

    /// Requests the cancellation of the shielded future (step 1, on the shield's word): the
    /// next checkpoint inside it delivers `Cancelled`, once. False once the task completed.
    pub fn cancel(&self) -> bool {
        if self.task.state().load().is_complete() {
            return false;
        }
        self.word.request();
        match self.task.state().transition_to_notified_for_cancel() {
            // SAFETY: the transition added the reference `schedule` consumes.
            crate::task::state::TransitionToNotifiedByRef::Submit => unsafe {
                self.task.schedule()
            },
            crate::task::state::TransitionToNotifiedByRef::DoNothing => {}
        }
        true
    }

    /// The shield's requests not withdrawn.
    pub fn cancelling(&self) -> u32 {
        self.word.load().count()
    }

    /// Withdraws one of the shield's requests; returns how many are left.
    pub fn uncancel(&self) -> u32 {
        self.word.uncancel()
    }
}

impl Drop for CancelShield {
    fn drop(&mut self) {
        // SAFETY: the shield holds one reference to its task, given up here.
        unsafe { self.task.drop_reference() };
    }
}

impl fmt::Debug for CancelShield {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelShield")
            .field("task", &self.task.header().id)
            .field("cancelling", &self.cancelling())
            .finish()
    }
}
