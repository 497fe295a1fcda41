//! The shared state of one task, and the future the runtime actually runs.
//!
//! # The protocol
//!
//! A task is one runtime task spawned with its `Core<T>` as data
//! ([`Handle::spawn_with`](taskio_runtime::Handle::spawn_with)): one allocation holds the
//! runtime's header, the future ([`Run`]) and the `Core`. A [`CoreRef<T>`] (a counted
//! [`TaskRef`]) is shared by the task's [`Task`](crate::tasks::Task) handles, its future's
//! [`Guard`] and whoever listens for its completion (erased to an [`AnyCoreRef`]); the
//! `Core` is dropped with the last of them. Everything mutable is in one
//! `Mutex<State<T>>`:
//!
//! 1. **Completion** happens exactly once, in [`Core::complete`]: under the mutex the outcome
//!    is stored, the completion sequence number taken, and the waiters, listeners and done
//!    callbacks moved out; after the mutex is released, wakers are woken, listeners told, and
//!    the done callbacks handed to one new runtime task (so they are *scheduled*, never run
//!    inline, and run in registration order).
//! 2. **Cancellation** is the runtime's (delivered at checkpoints: see
//!    `taskio_runtime::task`'s `take_cancel`). [`Cancel::cancel`] stores the message under
//!    the mutex while the task is pending, then asks the runtime task for its cancellation
//!    (after releasing it). Each taskio checkpoint calls [`take_cancel`], which turns the
//!    runtime's delivery into `Err(Cancelled(message))`. When the future is dropped without
//!    having completed the task (the runtime's drop fallback, `abort`, shutdown, a request
//!    before the first poll), its [`Guard`] completes the task as Cancelled. A body that
//!    returns while a request it made itself is undelivered ends cancelled (the runtime's
//!    `cancelling_itself`).
//! 3. **The loop is the runtime.** `all_tasks()` lists the runtime's own owned-task list
//!    (every live runtime task, kept for shutdown) through the `Core`'s [`TaskData`] view,
//!    skipping tasks whose outcome is published: there is no registry of our own to insert
//!    into and remove from on every task (the runtime adds a task to its list before it can
//!    be scheduled, so a task always finds itself). A cancel needs a `TaskRef`, which exists
//!    only once the runtime task does, so no early cancel can be lost.
//!
//! Listeners and wakers are called with no lock held, so they may re-enter any task.

use std::any::Any;
use std::hash::Hasher;

/// Task ids are distinct counters: hashing them is a multiply (SipHash would be a good part
/// of the cost of creating a task).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
/// Tells the tasks not seen before in a sequence of task ids, in linear time: tasks made for
/// the call (the common case) have strictly increasing ids, so nothing is hashed until an id
/// fails to increase.
#[derive(Default)]
pub(crate) struct FirstSeen {
    last: u64,
    seen: Option<std::collections::HashSet<u64, std::hash::BuildHasherDefault<IdHasher>>>,
}

impl FirstSeen {
    /// True if `id` was not seen before; `earlier` gives the ids seen so far (only read the
    /// first time the ids stop increasing).
    pub(crate) fn is_new<I: IntoIterator<Item = u64>>(
        &mut self,
        id: u64,
        earlier: impl FnOnce() -> I,
    ) -> bool {
        let new = match &mut self.seen {
            None if id > self.last => true,
            None => {
                let mut seen: std::collections::HashSet<u64, _> = earlier().into_iter().collect();
                let new = seen.insert(id);
                self.seen = Some(seen);
                new
            }
            Some(seen) => seen.insert(id),
        };
        self.last = id;
        new
    }
}

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::kernel::sync::Mutex;
use taskio_runtime::task::{TaskData, TaskRef};
use taskio_runtime::Handle;

use crate::exceptions::{Error, Result};
use crate::tasks::DoneCallback;
use crate::tasks::Task;

/// (Both `static`s stay std atomics under loom: see `kernel::sync`.)
///
/// Completion order across every task of the process (gives "first failure" and
/// `as_completed` a total order even across workers).
static COMPLETION_SEQ: AtomicU64 = AtomicU64::new(1);
/// `Task-N` names.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

/// Someone told when a task completes (a gather, a TaskGroup, `wait`, `as_completed`).
pub(crate) trait DoneListener: Send + Sync {
    /// Called once, with no lock held, after the task with this `tag` completed with the
    /// completion sequence number `seq`. `failure` is its error (Cancelled included), `None`
    /// when it succeeded.
    fn on_done(self: Arc<Self>, tag: usize, seq: u64, failure: Option<&Error>);
}

pub(crate) enum Waiter {
    Waker(Waker),
    Listener(Arc<dyn DoneListener>, usize),
}

pub(crate) enum Outcome<T> {
    Pending,
    Value(T),
    /// The value was moved out by [`Task::join`](crate::tasks::Task::join).
    Taken,
    Failed(Error),
}

pub(crate) struct State<T: Send + 'static> {
    pub(crate) outcome: Outcome<T>,
    seq: u64,
    waiters: Waiters,
    next_waiter: u64,
    /// What most tasks never have: a name set by the user, a cancellation message, done
    /// callbacks. Boxed on first use, so that a task's cell stays small (a large gather's
    /// time is mostly cache misses on its children's cells).
    rare: Option<Box<Rare<T>>>,
}

struct Rare<T: Send + 'static> {
    /// The name set by the user; `None` means the default `Task-N`.
    name: Option<String>,
    cancel_msg: Option<String>,
    callbacks: Vec<DoneCallback<T>>,
}

impl<T: Send + 'static> State<T> {
    fn rare(&mut self) -> &mut Rare<T> {
        self.rare.get_or_insert_with(|| {
            Box::new(Rare {
                name: None,
                cancel_msg: None,
                callbacks: Vec::new(),
            })
        })
    }

    fn cancel_msg(&self) -> Option<String> {
        self.rare.as_ref().and_then(|r| r.cancel_msg.clone())
    }
}

/// The wakers and listeners of one task, in registration order, keyed. Nearly every task
/// has at most one (its gather, group or awaiter), so the first lives inline and only more
/// allocate. Order: `first`, when set, was registered before everything in `rest` (a new
/// entry goes to `first` only when `rest` is empty).
#[derive(Default)]
struct Waiters {
    first: Option<(u64, Waiter)>,
    rest: Vec<(u64, Waiter)>,
}

impl Waiters {
    fn push(&mut self, key: u64, w: Waiter) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some((key, w));
        } else {
            self.rest.push((key, w));
        }
    }

    fn find_mut(&mut self, key: u64) -> Option<&mut Waiter> {
        self.first
            .iter_mut()
            .chain(self.rest.iter_mut())
            .find(|(k, _)| *k == key)
            .map(|(_, w)| w)
    }

    /// Removes every listener registration of `listener` (an `Arc`'s data address).
    fn remove_listener(&mut self, listener: *const ()) {
        let is_it = |w: &Waiter| matches!(w, Waiter::Listener(l, _) if std::ptr::addr_eq(Arc::as_ptr(l), listener));
        if matches!(&self.first, Some((_, w)) if is_it(w)) {
            self.first = None;
        }
        self.rest.retain(|(_, w)| !is_it(w));
    }

    fn remove(&mut self, key: u64) {
        if matches!(&self.first, Some((k, _)) if *k == key) {
            self.first = None;
        } else {
            self.rest.retain(|(k, _)| *k != key);
        }
    }

    /// Every entry, in registration order.
    #[cfg(test)]
    fn into_iter(self) -> impl Iterator<Item = Waiter> {
        self.first.into_iter().chain(self.rest).map(|(_, w)| w)
    }
}

/// The tasks of the runtime `handle` that are not done, oldest (lowest id) first: asyncio's
/// `all_tasks()` of the loop. A task that has just completed may still be in the runtime's
/// list for a moment (it leaves after its outcome is published), so done ones are skipped.
pub(crate) fn all_tasks(handle: &Handle) -> Vec<AnyCoreRef> {
    let mut v = handle.tasks_with_view::<dyn AnyCore>();
    v.retain(|c| c.seq().is_none());
    v.sort_unstable_by_key(TaskRef::id);
    v
}

/// A counted reference to a task and its `Core` (the task's one allocation).
pub(crate) type CoreRef<T> = TaskRef<Core<T>>;

/// A counted reference to a task of any output type.
pub(crate) type AnyCoreRef = TaskRef<dyn AnyCore>;

/// The type-erased view of a task reference.
pub(crate) fn erase<T: Send + 'static>(core: CoreRef<T>) -> AnyCoreRef {
    TaskRef::map(core, |c| c as &dyn AnyCore)
}

pub(crate) struct Core<T: Send + 'static> {
    /// `N` of the default name `Task-N`, formatted only when asked for (most tasks are never
    /// asked their name; a name set by the user is in the state's `rare` part).
    number: u64,
    pub(crate) state: Mutex<State<T>>,
}

/// The type-erased view of a task, for `AnyTask`, gathers and groups.
pub(crate) trait AnyCore: Send + Sync + 'static {
    fn name(&self) -> String;
    fn set_name(&self, name: String);
    /// Stores the cancellation message (the last one wins); false if the task is done. The
    /// caller then requests the runtime task's cancellation: see [`Cancel::cancel`].
    fn set_cancel_message(&self, msg: Option<String>) -> bool;
    /// The error a delivered cancellation of this task is (its message).
    fn cancelled_error(&self) -> Error;
    /// `None` while pending; `Some(None)` on success; `Some(Some(err))` on failure.
    fn failure(&self) -> Option<Option<Error>>;
    /// The completion sequence number, once done.
    fn seq(&self) -> Option<u64>;
    /// Registers (or refreshes) a waker; `Ready` once done.
    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()>;
    /// Registers a listener; if the task is already done, it is told at once (inline).
    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64>;
    fn unlisten(&self, key: u64);
    /// Removes the registrations of `listener` (the address of its `Arc`'s data): for an
    /// owner that keeps no keys.
    fn unlisten_listener(&self, listener: *const ());
}

impl<T: Send + 'static> TaskData for Core<T> {
    type View = dyn AnyCore;

    fn view(&self) -> &dyn AnyCore {
        self
    }

    fn name(&self) -> Option<String> {
        Some(AnyCore::name(self))
    }
}

/// `cancel` on a task reference: asyncio's `Task.cancel`.
pub(crate) trait Cancel {
    /// Requests cancellation; false if the task is done. See the module docs.
    fn cancel(&self, msg: Option<String>) -> bool;
}

impl<C: AnyCore + ?Sized> Cancel for TaskRef<C> {
    fn cancel(&self, msg: Option<String>) -> bool {
        if !self.set_cancel_message(msg) {
            return false;
        }
        // After the mutex is released: the runtime records the request and wakes the task;
        // its next checkpoint delivers it.
        TaskRef::cancel(self)
    }
}

/// The task being polled on this thread.
pub(crate) fn current() -> Option<AnyCoreRef> {
    TaskRef::<dyn AnyCore>::current()
}

pub(crate) use crate::checkpoint::take_cancel;

impl<T: Send + 'static> Core<T> {
    /// Creates the task and spawns it on `handle` (the spawn site the runtime records is the
    /// caller's, through `#[track_caller]` on every function of the chain).
    #[track_caller]
    pub(crate) fn spawn<F>(
        fut: F,
        name: Option<String>,
        handle: &Handle,
        at: &'static std::panic::Location<'static>,
    ) -> CoreRef<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        // As in asyncio, only unnamed tasks take a number from the counter.
        let number = if name.is_none() {
            NAME_COUNTER.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        let core = Core {
            number,
            state: Mutex::new(State {
                outcome: Outcome::Pending,
                seq: 0,
                waiters: Waiters::default(),
                next_waiter: 0,
                rare: name.map(|name| {
                    Box::new(Rare {
                        name: Some(name),
                        cancel_msg: None,
                        callbacks: Vec::new(),
                    })
                }),
            }),
        };
        handle.spawn_with_at(
            core,
            move |me| Run {
                fut: Some(fut),
                guard: Guard {
                    core: me,
                    completed: false,
                },
            },
            at,
        )
    }

    /// How many wakers and listeners wait for this task (tests: nothing may be left behind).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiter_count(&self) -> usize {
        let st = self.state.lock();
        usize::from(st.waiters.first.is_some()) + st.waiters.rest.len()
    }

    /// Stores the outcome (once) and tells everyone; see the module docs.
    fn complete(this: &CoreRef<T>, result: Result<T>) {
        let (waiters, callbacks, failure, seq) = {
            let mut st = this.state.lock();
            if !matches!(st.outcome, Outcome::Pending) {
                return;
            }
            let failure = result.as_ref().err().cloned();
            st.outcome = match result {
                Ok(v) => Outcome::Value(v),
                Err(e) => Outcome::Failed(e),
            };
            st.seq = COMPLETION_SEQ.fetch_add(1, Ordering::SeqCst);
            (
                std::mem::take(&mut st.waiters),
                st.rare
                    .as_mut()
                    .map(|r| std::mem::take(&mut r.callbacks))
                    .unwrap_or_default(),
                failure,
                st.seq,
            )
        };
        let tell = |w: Waiter| match w {
            Waiter::Waker(w) => w.wake(),
            Waiter::Listener(l, tag) => l.on_done(tag, seq, failure.as_ref()),
        };
        // In registration order (`Waiters`); nearly always just `first`, so the rest is
        // only walked when there is one.
        let Waiters { first, rest } = waiters;
        if let Some((_, w)) = first {
            tell(w);
        }
        if !rest.is_empty() {
            rest.into_iter().for_each(|(_, w)| tell(w));
        }
        if !callbacks.is_empty() {
            Core::schedule_callbacks(this, callbacks);
        }
    }

    /// Runs `callbacks` in order, in one new runtime task.
    pub(crate) fn schedule_callbacks(this: &CoreRef<T>, callbacks: Vec<DoneCallback<T>>) {
        // Every task belongs to a runtime; `None` would be a runtime-internal test scheduler.
        let Some(handle) = TaskRef::handle(this) else {
            return;
        };
        let task = Task::from_core(this.clone());
        drop(handle.spawn(async move {
            for cb in callbacks {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| cb.call(&task))) {
                    crate::report::report(
                        &format!("a done callback of {} panicked", task.get_name()),
                        Some(&Error::panic(p)),
                    );
                }
            }
        }));
    }

    pub(crate) fn add_callback(this: &CoreRef<T>, cb: DoneCallback<T>) {
        let mut st = this.state.lock();
        if matches!(st.outcome, Outcome::Pending) {
            st.rare().callbacks.push(cb);
        } else {
            drop(st);
            Core::schedule_callbacks(this, vec![cb]);
        }
    }

    pub(crate) fn remove_callback(&self, cb: &DoneCallback<T>) -> usize {
        let mut st = self.state.lock();
        let Some(rare) = st.rare.as_mut() else {
            return 0;
        };
        let before = rare.callbacks.len();
        rare.callbacks.retain(|c| !c.ptr_eq(cb));
        before - rare.callbacks.len()
    }
}

impl<T: Send + 'static> AnyCore for Core<T> {
    fn name(&self) -> String {
        match self
            .state
            .lock()
            .rare
            .as_ref()
            .and_then(|r| r.name.as_ref())
        {
            Some(name) => name.clone(),
            None => format!("Task-{}", self.number),
        }
    }

    fn set_name(&self, name: String) {
        self.state.lock().rare().name = Some(name);
    }

    fn set_cancel_message(&self, msg: Option<String>) -> bool {
        let mut st = self.state.lock();
        if !matches!(st.outcome, Outcome::Pending) {
            return false;
        }
        if msg.is_some() || st.rare.is_some() {
            st.rare().cancel_msg = msg;
        }
        true
    }

    fn cancelled_error(&self) -> Error {
        Error::cancelled(self.state.lock().cancel_msg())
    }

    fn failure(&self) -> Option<Option<Error>> {
        match &self.state.lock().outcome {
            Outcome::Pending => None,
            Outcome::Failed(e) => Some(Some(e.clone())),
            _ => Some(None),
        }
    }

    fn seq(&self) -> Option<u64> {
        let st = self.state.lock();
        (!matches!(st.outcome, Outcome::Pending)).then_some(st.seq)
    }

    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.lock();
        if !matches!(st.outcome, Outcome::Pending) {
            *key = None;
            return Poll::Ready(());
        }
        if let Some(k) = *key {
            if let Some(Waiter::Waker(w)) = st.waiters.find_mut(k) {
                w.clone_from(cx.waker());
                return Poll::Pending;
            }
        }
        let k = st.next_waiter;
        st.next_waiter += 1;
        st.waiters.push(k, Waiter::Waker(cx.waker().clone()));
        *key = Some(k);
        Poll::Pending
    }

    fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64> {
        let mut st = self.state.lock();
        match &st.outcome {
            Outcome::Pending => {
                let k = st.next_waiter;
                st.next_waiter += 1;
                st.waiters.push(k, Waiter::Listener(listener, tag));
                Some(k)
            }
            outcome => {
                let failure = match outcome {
                    Outcome::Failed(e) => Some(e.clone()),
                    _ => None,
                };
                let seq = st.seq;
                drop(st);
                listener.on_done(tag, seq, failure.as_ref());
                None
            }
        }
    }

    fn unlisten(&self, key: u64) {
        self.state.lock().waiters.remove(key);
    }

    fn unlisten_listener(&self, listener: *const ()) {
        self.state.lock().waiters.remove_listener(listener);
    }
}

/// Completes the task as Cancelled if it is dropped before [`Run::poll`] completed it: this
/// is what the runtime's abort (and its shutdown) ends up doing.
struct Guard<T: Send + 'static> {
    /// The task's own reference (its future's): never the last one, see the runtime's
    /// `TaskRef` docs.
    core: CoreRef<T>,
    /// `Run::poll` completed the task (the common case: nothing left to do, and no
    /// cancellation error to build only for `complete` to drop it).
    completed: bool,
}

impl<T: Send + 'static> Drop for Guard<T> {
    fn drop(&mut self) {
        if !self.completed {
            let err = self.core.cancelled_error();
            Core::complete(&self.core, Err(err));
        }
    }
}

/// The future the runtime runs for a task. Field order matters: `fut` is dropped before
/// `guard`, so destructors run before the task is marked done.
struct Run<F, T: Send + 'static> {
    fut: Option<F>,
    guard: Guard<T>,
}

impl<F, T> Future for Run<F, T>
where
    F: Future<Output = Result<T>>,
    T: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: structural pinning: `fut` is never moved out of `Run` (it is dropped in
        // place through `Pin::set`), `Run` has no `Drop` impl, and `guard` is never pinned
        // (it is `Unpin` and only used by reference).
        let (mut fut, guard) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.fut), &mut this.guard)
        };
        if fut.is_none() {
            return Poll::Ready(());
        }
        let core = &guard.core;
        let res = catch_unwind(AssertUnwindSafe(|| {
            fut.as_mut().as_pin_mut().expect("checked above").poll(cx)
        }));
        let result = match res {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(r)) => r,
            Err(payload) => Err(Error::panic(payload)),
        };
        // asyncio's rule: a task that cancelled itself and then returned ends cancelled (a
        // request from another thread landing while the body returns came too late).
        let cancelled_itself = taskio_runtime::task::cancelling_itself();
        // Destructors first (they may panic too), then the outcome.
        let dropped = catch_unwind(AssertUnwindSafe(|| fut.set(None)));
        let result = match dropped {
            Err(payload) => Err(Error::panic(payload)),
            Ok(()) if cancelled_itself => Err(core.cancelled_error()),
            Ok(()) => result,
        };
        Core::complete(core, result);
        guard.completed = true;
        Poll::Ready(())
    }
}

/// Reads a done task's outcome with `read`.
pub(crate) fn read_outcome<T: Send + 'static, R>(
    core: &Core<T>,
    read: impl FnOnce(&mut Outcome<T>) -> Result<R>,
) -> Result<R> {
    let mut st = core.state.lock();
    read(&mut st.outcome)
}

#[allow(dead_code)]
fn _payload_is_send(_: Box<dyn Any + Send>) {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nop;

    impl DoneListener for Nop {
        fn on_done(self: Arc<Self>, _tag: usize, _seq: u64, _failure: Option<&Error>) {}
    }

    fn listener(tag: usize) -> Waiter {
        Waiter::Listener(Arc::new(Nop), tag)
    }

    fn tags(w: Waiters) -> Vec<usize> {
        w.into_iter()
            .map(|w| match w {
                Waiter::Listener(_, tag) => tag,
                Waiter::Waker(_) => usize::MAX,
            })
            .collect()
    }

    #[test]
    fn waiters_keep_registration_order_across_removals() {
        let mut w = Waiters::default();
        for k in 0..3 {
            w.push(k, listener(k as usize));
        }
        w.remove(0);
        // The inline place is free, but older entries remain: the new one goes after them.
        w.push(3, listener(3));
        assert!(w.find_mut(0).is_none());
        assert!(matches!(w.find_mut(2), Some(Waiter::Listener(_, 2))));
        assert_eq!(tags(w), [1, 2, 3]);

        let mut w = Waiters::default();
        w.push(0, listener(0));
        w.remove(0);
        w.push(1, listener(1));
        w.push(2, listener(2));
        w.remove(2);
        w.push(3, listener(3));
        w.remove(7); // unknown keys are ignored
        assert_eq!(tags(w), [1, 3]);
    }
}
