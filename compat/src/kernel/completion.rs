//! A task's completion: its result slot, the wakers and listeners waiting for it, its done
//! callbacks and its cancellation message, all behind one mutex.
//!
//! # The protocol
//!
//! 1. **Complete once.** [`Completion::complete`] takes the mutex; if the outcome is still
//!    pending, it stores the outcome, takes the completion sequence number and moves the
//!    waiters and the done callbacks out. After the mutex is released, wakers are woken and
//!    listeners told, in registration order, and the callbacks are handed back to the caller
//!    (who schedules them). A later `complete` finds the outcome set and changes nothing:
//!    the first outcome wins.
//! 2. **Register, or see it done.** [`Completion::poll_done`], [`Completion::listen`] and
//!    [`Completion::add_callback`] take the mutex: while pending they register (to be told
//!    by step 1); once done they answer at once (`Ready`; the listener told inline after the
//!    mutex is released; the callback handed back). A registration and the move-out of step
//!    1 are ordered by the one mutex, so every registration is told **exactly once**: it is
//!    either in what step 1 moved out or sees the outcome. This is where no wake-up can be
//!    lost.
//! 3. **A cancellation message** is stored only while pending
//!    ([`Completion::set_cancel_message`] returns false once done); the caller then asks the
//!    runtime for the cancellation. Whoever completes the task as Cancelled afterwards reads
//!    the message under the mutex ([`Completion::cancelled_error`]).
//! 4. **Unregister** by key ([`Completion::unlisten`]) or by listener; a registration
//!    already moved out by step 1 is not found, and nothing happens.
//!
//! Listeners and wakers are called with no lock held, so they may re-enter any task.
//!
//! The loom model at the end of this file checks steps 1 to 3 with a completion racing a
//! waiter, a listener, a done callback and a cancellation request.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::exceptions::{Error, Result};
use crate::kernel::sync::Mutex;
use crate::tasks::DoneCallback;

/// Completion order across every task of the process (gives "first failure" and
/// `as_completed` a total order even across workers). A `static`, so a std atomic under loom
/// too (see `kernel::sync`): it numbers completions, the order a model checks is the mutex's.
static COMPLETION_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

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

/// The result slot and everyone waiting for it; see the module docs.
pub(crate) struct Completion<T: Send + 'static> {
    state: Mutex<State<T>>,
}

struct State<T: Send + 'static> {
    outcome: Outcome<T>,
    /// The completion sequence number, once done.
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

    fn is_done(&self) -> bool {
        !matches!(self.outcome, Outcome::Pending)
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

    #[cfg(test)]
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Every entry, in registration order.
    #[cfg(test)]
    fn into_iter(self) -> impl Iterator<Item = Waiter> {
        self.first.into_iter().chain(self.rest).map(|(_, w)| w)
    }
}

impl<T: Send + 'static> Completion<T> {
    /// A pending completion; `name` is the one the user gave, if any.
    pub(crate) fn new(name: Option<String>) -> Completion<T> {
        Completion {
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
        }
    }

    /// Step 1: stores `result` and tells every waiter and listener, unless an outcome is
    /// stored already (then `None`). Returns the done callbacks, for the caller to schedule.
    #[must_use]
    pub(crate) fn complete(&self, result: Result<T>) -> Option<Vec<DoneCallback<T>>> {
        let (waiters, callbacks, failure, seq) = {
            let mut st = self.state.lock();
            if st.is_done() {
                return None;
            }
            let failure = result.as_ref().err().cloned();
            st.outcome = match result {
                Ok(v) => Outcome::Value(v),
                Err(e) => Outcome::Failed(e),
            };
            st.seq = COMPLETION_SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
        Some(callbacks)
    }

    /// Step 2 for a done callback: kept while pending; handed back (`Err`) once done, to be
    /// scheduled by the caller.
    pub(crate) fn add_callback(
        &self,
        cb: DoneCallback<T>,
    ) -> std::result::Result<(), DoneCallback<T>> {
        let mut st = self.state.lock();
        if st.is_done() {
            return Err(cb);
        }
        st.rare().callbacks.push(cb);
        Ok(())
    }

    /// Removes every registration of `cb`; how many there were.
    pub(crate) fn remove_callback(&self, cb: &DoneCallback<T>) -> usize {
        let mut st = self.state.lock();
        let Some(rare) = st.rare.as_mut() else {
            return 0;
        };
        let before = rare.callbacks.len();
        rare.callbacks.retain(|c| !c.ptr_eq(cb));
        before - rare.callbacks.len()
    }

    /// The name set by the user, if any.
    pub(crate) fn user_name(&self) -> Option<String> {
        self.state.lock().rare.as_ref().and_then(|r| r.name.clone())
    }

    pub(crate) fn set_name(&self, name: String) {
        self.state.lock().rare().name = Some(name);
    }

    /// Step 3: stores the cancellation message (the last one wins); false if done.
    pub(crate) fn set_cancel_message(&self, msg: Option<String>) -> bool {
        let mut st = self.state.lock();
        if st.is_done() {
            return false;
        }
        if msg.is_some() || st.rare.is_some() {
            st.rare().cancel_msg = msg;
        }
        true
    }

    /// Cancelled, with the last message stored by [`Completion::set_cancel_message`].
    pub(crate) fn cancelled_error(&self) -> Error {
        let msg = self
            .state
            .lock()
            .rare
            .as_ref()
            .and_then(|r| r.cancel_msg.clone());
        Error::cancelled(msg)
    }

    /// `None` while pending; `Some(None)` on success; `Some(Some(err))` on failure.
    pub(crate) fn failure(&self) -> Option<Option<Error>> {
        match &self.state.lock().outcome {
            Outcome::Pending => None,
            Outcome::Failed(e) => Some(Some(e.clone())),
            _ => Some(None),
        }
    }

    /// The completion sequence number, once done.
    pub(crate) fn seq(&self) -> Option<u64> {
        let st = self.state.lock();
        st.is_done().then_some(st.seq)
    }

    /// Step 2 for a waker: registers (or refreshes, under `key`) the waker; `Ready` once
    /// done.
    pub(crate) fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.lock();
        if st.is_done() {
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

    /// Step 2 for a listener: registers it (its key) while pending; once done, tells it at
    /// once, inline, after releasing the mutex (`None`).
    pub(crate) fn listen(&self, listener: Arc<dyn DoneListener>, tag: usize) -> Option<u64> {
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

    /// Step 4, by key.
    pub(crate) fn unlisten(&self, key: u64) {
        self.state.lock().waiters.remove(key);
    }

    /// Step 4, every registration of `listener` (the address of its `Arc`'s data).
    pub(crate) fn unlisten_listener(&self, listener: *const ()) {
        self.state.lock().waiters.remove_listener(listener);
    }

    /// Reads the outcome with `read` (under the mutex).
    pub(crate) fn read_outcome<R>(
        &self,
        read: impl FnOnce(&mut Outcome<T>) -> Result<R>,
    ) -> Result<R> {
        read(&mut self.state.lock().outcome)
    }

    /// How many wakers and listeners wait (tests: nothing may be left behind).
    #[cfg(test)]
    pub(crate) fn waiter_count(&self) -> usize {
        self.state.lock().waiters.len()
    }
}

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

/// loom: a completion racing every kind of registration and a cancellation request. A
/// registration told twice or never fails a count (a waker never woken is a loom deadlock of
/// `block_on`); an outcome overwritten, or a Cancelled without the message stored before it,
/// fails the outcome check.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::poll_fn;

    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    use super::*;
    use crate::__testing::block_on;

    /// Counts the times it is told.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl DoneListener for Count {
        fn on_done(self: Arc<Self>, _tag: usize, _seq: u64, _failure: Option<&Error>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn wait_done(c: &Completion<u32>) {
        let mut key = None;
        block_on(poll_fn(|cx| c.poll_done(&mut key, cx)));
    }

    fn value(c: &Completion<u32>) -> Result<u32> {
        c.read_outcome(|o| match o {
            Outcome::Value(v) => Ok(*v),
            Outcome::Failed(e) => Err(e.clone()),
            _ => panic!("read before done"),
        })
    }

    /// A waiter on another thread, a listener and a done callback registered while the task
    /// completes: each is told once, the callback handed out once, nothing left registered.
    #[test]
    fn loom_every_registration_is_told_once() {
        loom::model(|| {
            let c = loom::sync::Arc::new(Completion::<u32>::new(None));
            let completer = {
                let c = c.clone();
                thread::spawn(move || c.complete(Ok(7)).expect("the only completion").len())
            };
            let waiter = {
                let c = c.clone();
                thread::spawn(move || {
                    wait_done(&c);
                    value(&c).unwrap()
                })
            };
            let count = Arc::new(Count::default());
            let key = c.listen(count.clone(), 0);
            let cb_back = c.add_callback(DoneCallback::new(|_| {})).is_err();
            let from_complete = completer.join().unwrap();
            assert_eq!(waiter.join().unwrap(), 7);
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                1,
                "a listener told twice or never"
            );
            assert_eq!(
                usize::from(cb_back) + from_complete,
                1,
                "a callback lost or doubled"
            );
            if let Some(k) = key {
                c.unlisten(k); // already moved out: nothing happens
            }
            assert_eq!(c.waiter_count(), 0);
            assert!(c.complete(Ok(8)).is_none(), "the first outcome wins");
            assert_eq!(value(&c).unwrap(), 7);
        });
    }

    /// `cancel` racing the body's return: the request lands while pending (its message is
    /// the Cancelled error's) or finds the task done (and changes nothing); exactly one
    /// outcome is stored and the waiter is woken once either way.
    #[test]
    fn loom_cancel_racing_completion() {
        loom::model(|| {
            let c = loom::sync::Arc::new(Completion::<u32>::new(None));
            let body = {
                let c = c.clone();
                thread::spawn(move || c.complete(Ok(1)).is_some())
            };
            let canceller = {
                let c = c.clone();
                thread::spawn(move || {
                    if !c.set_cancel_message(Some("stop".into())) {
                        return (false, false);
                    }
                    // The runtime's delivery, then the task's guard completing it.
                    let err = c.cancelled_error();
                    (true, c.complete(Err(err)).is_some())
                })
            };
            let count = Arc::new(Count::default());
            c.listen(count.clone(), 0);
            wait_done(&c);
            let body_won = body.join().unwrap();
            let (requested, cancel_won) = canceller.join().unwrap();
            assert!(body_won != cancel_won, "one outcome, stored once");
            assert!(
                requested || body_won,
                "a refused request means the task was done"
            );
            match value(&c) {
                Ok(v) => assert!(body_won && v == 1),
                Err(e) => {
                    assert!(cancel_won);
                    assert_eq!(e.cancel_message(), Some("stop"));
                }
            }
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
        });
    }
}
