//! The FIFO waiter list every primitive (Lock, Event, Condition, Semaphore, Barrier, the
//! queues) is built on.
//!
//! # The protocol
//!
//! A primitive keeps its state and one or more [`WaitList`]s together behind **one** mutex
//! (from `crate::kernel::sync`). Every decision "wait or proceed" and every "wake someone" is taken
//! under that mutex, so there is no sleep/wake race to reason about beyond it: a waiter that
//! decided to wait is in the list before the mutex is released, and anyone who later changes
//! the state sees it there.
//!
//! 1. **Register.** A future that must wait calls [`WaitList::push`] with its waker and keeps
//!    the returned [`WaiterId`]. Entries are kept in arrival order (ids only grow).
//! 2. **Notify.** Whoever makes progress possible calls [`WaitList::notify_one`] (or
//!    [`WaitList::notify_all`]) with a *value*: the token of what the waiter was given (a
//!    permit, a reserved item, "the barrier broke", ...). The first *waiting* entry becomes
//!    *notified*: it stores the value and its waker is taken out. The waker is returned, not
//!    called: the caller wakes it after releasing the mutex ([`Wakers`]), so a waker that
//!    re-enters the primitive cannot deadlock. Notified entries always form a prefix of the
//!    list, because notification is FIFO; `notified` counts them.
//! 3. **Consume.** The woken future, polled again, calls [`WaitList::poll`]: a notified entry
//!    is removed and its value returned; a waiting one just refreshes its waker.
//! 4. **Cancel = drop.** A future dropped while registered calls [`WaitList::remove`]. If it
//!    was still waiting, it is simply removed (nothing leaks). If it had been notified, the
//!    value comes back to the caller, which **must pass it on** (hand the permit to the next
//!    waiter, release the reserved item, ...): that is what makes "a waiter woken and then
//!    cancelled passes the wake-up on" true for every primitive.
//!
//! Lookup is a binary search on the id (entries are sorted), removal a `VecDeque::remove`;
//! both are cheap for the list lengths primitives see.
//!
//! # A waker that panics
//!
//! [`Wakers::wake_all`] wakes **every** waker it holds even when some of them panic in
//! `wake()`: each wake runs under `catch_unwind`, and a caught panic is *contained*, not
//! resumed. The panic hook has already reported it when it happened (that is where its
//! message and backtrace go, as for any panic); the payload is then dropped and the
//! notifier's operation (`Event::set`, a release, a `put`, ...) completes normally. This is
//! asyncio's rule for a failing callback: it goes to the loop's exception handler, never to
//! whoever resolved the future. Resuming it instead would fail an innocent notifier for
//! another task's broken waker, turn every guard or permit drop during unwinding into an
//! abort, and lose what an operation had already returned (a `get_nowait` item).
//!
//! What a panicking waker costs is only its own wake-up: its entry is notified (step 2) and
//! holds its value. If that future is polled again, it consumes the value; if it is dropped,
//! step 4 passes the value on. So a single-wake path (`notify_one`) never loses a
//! notification for the other waiters either: it is held by the entry until that entry
//! leaves the list.

use std::collections::VecDeque;
use std::task::{Poll, Waker};
use taskio_runtime::task::{set_awaiting, wake_contained, Awaiting};

/// Identifies one registration in a [`WaitList`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterId(u64);

#[derive(Debug)]
struct Entry<T> {
    id: u64,
    /// `Some` while waiting; taken when notified.
    waker: Option<Waker>,
    /// `Some` once notified.
    value: Option<T>,
}

/// A FIFO list of waiters, each either waiting (with a waker) or notified (with a value).
/// Lives inside the primitive's mutex; see the module docs for the protocol.
#[derive(Debug)]
pub(crate) struct WaitList<T = ()> {
    entries: VecDeque<Entry<T>>,
    /// `entries[..notified]` are notified, the rest are waiting.
    notified: usize,
    next_id: u64,
    /// What a task waiting here awaits, for the runtime's task dumps (`None`: not recorded).
    what: Option<fn(usize) -> Awaiting>,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<T> WaitList<T> {
    pub(crate) fn new() -> Self {
        WaitList {
            entries: VecDeque::new(),
            notified: 0,
            next_id: 0,
            what: None,
        }
    }

    /// A list whose waiters show in task dumps as awaiting `what(address of the list)`, for
    /// example `WaitList::awaiting(Awaiting::Lock)`.
    pub(crate) fn awaiting(what: fn(usize) -> Awaiting) -> Self {
        WaitList {
            what: Some(what),
            ..WaitList::new()
        }
    }

    /// Records what the polling task now awaits (see `awaiting`).
    fn record(&self) {
        if let Some(what) = self.what {
            set_awaiting(what(self as *const Self as usize));
        }
    }

    /// Registers a waiter at the back of the list.
    pub(crate) fn push(&mut self, waker: &Waker) -> WaiterId {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push_back(Entry {
            id,
            waker: Some(waker.clone()),
            value: None,
        });
        self.record();
        WaiterId(id)
    }

    fn index(&self, id: WaiterId) -> Option<usize> {
        self.entries.binary_search_by_key(&id.0, |e| e.id).ok()
    }

    /// A notified waiter takes its value and leaves the list; a waiting one refreshes its
    /// waker and stays.
    ///
    /// # Panics
    ///
    /// If `id` is not registered (it was consumed or removed already): a primitive bug.
    pub(crate) fn poll(&mut self, id: WaiterId, waker: &Waker) -> Poll<T> {
        let i = self
            .index(id)
            .expect("waiter polled after leaving the list");
        if i < self.notified {
            self.notified -= 1;
            let entry = self.entries.remove(i).expect("index is in bounds");
            Poll::Ready(entry.value.expect("a notified entry has a value"))
        } else {
            let slot = &mut self.entries[i].waker;
            match slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
            self.record();
            Poll::Pending
        }
    }

    /// Removes a waiter that is being dropped. Returns the value it had been notified with,
    /// which the caller must pass on; `None` if it was still waiting (or not registered).
    pub(crate) fn remove(&mut self, id: WaiterId) -> Option<T> {
        let i = self.index(id)?;
        let entry = self.entries.remove(i).expect("index is in bounds");
        if i < self.notified {
            self.notified -= 1;
        }
        entry.value
    }

    /// Notifies the first waiting entry with `value` and returns its waker (to be woken once
    /// the mutex is released). Gives `value` back if nobody is waiting.
    pub(crate) fn notify_one(&mut self, value: T) -> Result<Waker, T> {
        match self.entries.get_mut(self.notified) {
            Some(entry) => {
                entry.value = Some(value);
                self.notified += 1;
                Ok(entry.waker.take().expect("a waiting entry has a waker"))
            }
            None => Err(value),
        }
    }

    /// Notifies every waiting entry, each with a value from `value`; their wakers go into
    /// `wakers`. Returns how many were notified.
    pub(crate) fn notify_all(
        &mut self,
        mut value: impl FnMut() -> T,
        wakers: &mut Wakers,
    ) -> usize {
        let mut n = 0;
        while self.has_waiting() {
            match self.notify_one(value()) {
                Ok(w) => wakers.push(w),
                Err(_) => unreachable!("has_waiting checked"),
            }
            n += 1;
        }
        n
    }

    /// Whether some entry is still waiting (not yet notified).
    pub(crate) fn has_waiting(&self) -> bool {
        self.entries.len() > self.notified
    }

    /// How many entries are waiting (not yet notified).
    pub(crate) fn n_waiting(&self) -> usize {
        self.entries.len() - self.notified
    }

    /// Whether the list holds no entry at all, waiting or notified.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Wakers collected under a primitive's mutex, woken after it is released. Nearly every
/// update wakes nobody or one waiter: the first waker is kept inline, so neither case
/// touches the allocator or iterates a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    #[inline]
    pub(crate) fn new() -> Self {
        Wakers::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Pushes the waker of a successful [`WaitList::notify_one`]; returns whether there was
    /// one, giving the value back otherwise.
    pub(crate) fn push_notified<T>(&mut self, notified: Result<Waker, T>) -> Result<(), T> {
        notified.map(|w| self.push(w))
    }

    /// Wakes them all, in the order they were pushed. A waker that panics does not stop
    /// the others: its panic is contained (see the module docs, "A waker that panics").
    ///
    /// Inlined: the common case (nobody to wake) is one test, with no call and no `Vec` to
    /// drop (`rest` is empty, so it never allocated).
    #[inline]
    pub(crate) fn wake_all(self) {
        if self.first.is_some() {
            self.wake_all_slow();
        } else {
            debug_assert!(self.rest.is_empty());
            std::mem::forget(self.rest);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_all_slow(self) {
        if let Some(w) = self.first {
            wake_contained(w);
            if !self.rest.is_empty() {
                self.rest.into_iter().for_each(wake_contained);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::__testing::CountingWaker;

    #[test]
    fn fifo_notify_and_consume() {
        let (wa, ca) = CountingWaker::new();
        let (wb, cb) = CountingWaker::new();
        let mut list = WaitList::<u32>::new();
        let a = list.push(&wa);
        let b = list.push(&wb);
        assert!(list.poll(a, &wa).is_pending());
        list.notify_one(1).unwrap().wake();
        assert_eq!((ca.count(), cb.count()), (1, 0));
        assert_eq!(list.n_waiting(), 1);
        assert!(list.poll(b, &wb).is_pending());
        assert_eq!(list.poll(a, &wa), Poll::Ready(1));
        list.notify_one(2).unwrap().wake();
        assert_eq!(cb.count(), 1);
        assert_eq!(list.poll(b, &wb), Poll::Ready(2));
        assert!(list.is_empty());
        assert_eq!(list.notify_one(3).err(), Some(3));
    }

    #[test]
    fn remove_waiting_and_notified() {
        let (w, _) = CountingWaker::new();
        let mut list = WaitList::<u32>::new();
        let a = list.push(&w);
        let b = list.push(&w);
        let c = list.push(&w);
        assert_eq!(list.remove(b), None);
        list.notify_one(7).unwrap();
        assert_eq!(list.remove(a), Some(7));
        assert_eq!(list.n_waiting(), 1);
        list.notify_one(8).unwrap();
        assert_eq!(list.remove(c), Some(8));
        assert!(list.is_empty());
        assert_eq!(list.remove(c), None);
    }

    /// A `Waker` that appends its tag to a shared log when woken.
    fn logging_waker(tag: u8, log: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> Waker {
        struct Logging(u8, std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::task::Wake for Logging {
            fn wake(self: std::sync::Arc<Self>) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        Waker::from(std::sync::Arc::new(Logging(tag, log.clone())))
    }

    #[test]
    fn wakers_wake_in_push_order_and_empty_wakes_nothing() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        Wakers::new().wake_all();
        let mut wakers = Wakers::new();
        for tag in [1, 2, 3] {
            wakers.push(logging_waker(tag, &log));
        }
        wakers.wake_all();
        let mut one = Wakers::new();
        one.push(logging_waker(4, &log));
        one.wake_all();
        assert_eq!(*log.lock().unwrap(), [1, 2, 3, 4]);
    }

    /// A `Waker` whose `wake` panics.
    fn panicking_waker() -> Waker {
        struct Panics;
        impl std::task::Wake for Panics {
            fn wake(self: std::sync::Arc<Self>) {
                panic!("this waker panics");
            }
        }
        Waker::from(std::sync::Arc::new(Panics))
    }

    #[test]
    fn a_panicking_waker_neither_stops_the_others_nor_escapes() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        // First (inline), in the middle of `rest`, and last.
        let mut wakers = Wakers::new();
        wakers.push(panicking_waker());
        wakers.push(logging_waker(1, &log));
        wakers.push(panicking_waker());
        wakers.push(logging_waker(2, &log));
        wakers.push(panicking_waker());
        wakers.wake_all();
        let mut one = Wakers::new();
        one.push(panicking_waker());
        one.wake_all();
        assert_eq!(*log.lock().unwrap(), [1, 2]);
    }

    #[test]
    fn notified_entry_of_a_panicking_waker_keeps_its_value_for_the_next() {
        let (w, count) = CountingWaker::new();
        let mut list = WaitList::<u32>::new();
        let bad = list.push(&panicking_waker());
        let good = list.push(&w);
        let mut wakers = Wakers::new();
        wakers.push_notified(list.notify_one(7)).unwrap();
        wakers.wake_all();
        assert_eq!(count.count(), 0);
        // The entry whose waker panicked is dropped by its owner: the value is passed on.
        let value = list.remove(bad).expect("notified");
        list.notify_one(value).unwrap().wake();
        assert_eq!(count.count(), 1);
        assert_eq!(list.poll(good, &w), Poll::Ready(7));
    }

    #[test]
    fn notify_all_wakes_every_waiting_entry_once() {
        let (w, count) = CountingWaker::new();
        let mut list = WaitList::<()>::new();
        let ids: Vec<_> = (0..5).map(|_| list.push(&w)).collect();
        list.notify_one(()).unwrap().wake();
        let mut wakers = Wakers::new();
        assert_eq!(list.notify_all(|| (), &mut wakers), 4);
        wakers.wake_all();
        assert_eq!(count.count(), 5);
        for id in ids {
            assert_eq!(list.poll(id, &w), Poll::Ready(()));
        }
    }
}

/// loom: the protocol, on a minimal one-permit primitive, with its waiters on other threads.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::kernel::sync::Mutex;
    use loom::sync::Arc;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Context;

    /// Permits handed FIFO to waiters, or stored when nobody waits.
    struct Permits {
        state: Mutex<(usize, WaitList<()>)>,
    }

    impl Permits {
        fn release(&self) {
            let waker = {
                let mut st = self.state.lock();
                match st.1.notify_one(()) {
                    Ok(w) => Some(w),
                    Err(()) => {
                        st.0 += 1;
                        None
                    }
                }
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    struct Acquire<'a> {
        permits: &'a Permits,
        id: Option<WaiterId>,
    }

    impl Future for Acquire<'_> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut st = self.permits.state.lock();
            match self.id {
                None if st.0 > 0 => {
                    st.0 -= 1;
                    Poll::Ready(())
                }
                None => {
                    let id = st.1.push(cx.waker());
                    drop(st);
                    self.id = Some(id);
                    Poll::Pending
                }
                Some(id) => {
                    let r = st.1.poll(id, cx.waker());
                    drop(st);
                    if r.is_ready() {
                        self.id = None;
                    }
                    r
                }
            }
        }
    }

    impl Drop for Acquire<'_> {
        fn drop(&mut self) {
            if let Some(id) = self.id {
                let notified = self.permits.state.lock().1.remove(id);
                if notified.is_some() {
                    self.permits.release(); // pass the permit on
                }
            }
        }
    }

    fn permits() -> Arc<Permits> {
        Arc::new(Permits {
            state: Mutex::new((0, WaitList::new())),
        })
    }

    #[test]
    fn no_lost_wakeup() {
        loom::model(|| {
            let p = permits();
            let p2 = p.clone();
            let t = loom::thread::spawn(move || p2.release());
            crate::__testing::block_on(Acquire {
                permits: &p,
                id: None,
            });
            t.join().unwrap();
        });
    }

    #[test]
    fn woken_then_dropped_passes_on() {
        loom::model(|| {
            let p = permits();
            // A registers and is dropped at some point; C waits for real; one release.
            let pa = p.clone();
            let a = loom::thread::spawn(move || {
                let mut fut = Acquire {
                    permits: &pa,
                    id: None,
                };
                let waker = crate::__testing::noop_waker();
                let r = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker));
                drop(fut);
                if r.is_ready() {
                    pa.release(); // acquired at once: give it back
                }
            });
            let pb = p.clone();
            let b = loom::thread::spawn(move || pb.release());
            crate::__testing::block_on(Acquire {
                permits: &p,
                id: None,
            });
            a.join().unwrap();
            b.join().unwrap();
        });
    }
}
