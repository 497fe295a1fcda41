//! The per-registration readiness state shared by the driver and the tasks using a socket.
//!
//! See the protocol in the [module docs](super). In short: `readiness` is one atomic word
//! (readiness bits, the `CLOSED` bit and one tick per direction); everything else sits under
//! the `waiters` mutex. The driver sets readiness *under* that mutex, and a task registers its
//! waker under it after re-reading readiness, so one of the two always sees the other.

use super::ready::{Direction, Ready};
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::Mutex;
use crate::loom::thread::{self, ThreadId};
use std::io;
use std::task::{Context, Poll, Waker};

/// The readiness bits ([`Ready::ALL`]) live in the low bits of the word.
const READY_MASK: u64 = Ready::ALL.as_usize() as u64;
/// Set once the registration is closed (deregistered, or the driver shut down); never unset.
/// Every later `poll_ready` fails.
const CLOSED: u64 = 1 << 6;
/// Set once by `deregister` (with `CLOSED`), never unset: a waker taken before it is dropped
/// uncalled when this is seen (see `wake_all`).
const DEREGISTERED: u64 = 1 << 7;
/// Width of each direction's tick (wrapping). A direction's tick is bumped by every event
/// that stores a bit of that direction's [`Direction::mask`], so a task can tell whether the
/// readiness it is about to clear is still the one it acted on. A wrongly accepted clear
/// would need exactly 2^24 such dispatches for one socket between a task's load of
/// readiness and its clear (its one nonblocking syscall); one driver turn dispatches a
/// socket at most once, so that is 16.7 million driver turns.
const TICK_BITS: u32 = 24;
/// Where the read direction's tick starts.
const READ_TICK_SHIFT: u32 = 16;
/// Where the write direction's tick starts (the top 24 bits of the word).
const WRITE_TICK_SHIFT: u32 = READ_TICK_SHIFT + TICK_BITS;
/// A tick's value bits, before shifting.
const TICK_MAX: u64 = (1 << TICK_BITS) - 1;

const fn tick_shift(dir: Direction) -> u32 {
    match dir {
        Direction::Read => READ_TICK_SHIFT,
        Direction::Write => WRITE_TICK_SHIFT,
    }
}

/// `dir`'s tick in `word`.
fn tick_of(word: u64, dir: Direction) -> u32 {
    ((word >> tick_shift(dir)) & TICK_MAX) as u32
}

/// `word` with `dir`'s tick bumped by one (wrapping within its bits).
fn bump_tick(word: u64, dir: Direction) -> u64 {
    let shift = tick_shift(dir);
    let tick = (((word >> shift) & TICK_MAX) + 1) & TICK_MAX;
    (word & !(TICK_MAX << shift)) | (tick << shift)
}

fn bits(ready: Ready) -> u64 {
    ready.as_usize() as u64
}

fn ready_of(word: u64) -> Ready {
    // `READY_MASK` fits the low bits of a `usize`.
    Ready::from_usize((word & READY_MASK) as usize)
}

/// The readiness a task acted on, for one direction: pass it back to
/// [`ScheduledIo::clear_readiness`] after a `WouldBlock`, so that readiness the driver stored
/// for that direction since then is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    /// The direction the task acted on: only its bits are cleared, and only its tick counts.
    pub(crate) dir: Direction,
    /// `dir`'s tick when the readiness was loaded.
    pub(crate) tick: u32,
    /// The bits of `dir`'s mask that were set.
    pub(crate) ready: Ready,
}

/// Readiness and waker slots of one registered source.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    /// Readiness bits | `CLOSED` | `DEREGISTERED` | read tick | write tick. Written only
    /// under `waiters`, or by a tick-checked compare-and-swap in `clear_readiness`.
    readiness: AtomicU64,
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    reader: Slot,
    writer: Slot,
    /// Set by `shutdown` (driver gone). Never unset.
    shutdown: bool,
    /// Set by `deregister`. Never unset. After it, no waker of this source is called.
    deregistered: bool,
    /// Threads calling wakers taken from this source right now (the dispatching driver, and
    /// `shutdown`). `deregister` waits until no *other* thread is listed.
    waking: Vec<ThreadId>,
}

/// One direction's waiters: the usual single waker, plus the rare extra wakers of other tasks
/// polling the same direction at once (several acceptors on one listener). All are woken
/// together; a waker replaced by the same task's newer one is not kept twice.
#[derive(Debug, Default)]
struct Slot {
    waker: Option<Waker>,
    extra: Vec<Waker>,
}

impl Slot {
    fn register(&mut self, waker: &Waker) {
        match &mut self.waker {
            None => self.waker = Some(waker.clone()),
            Some(w) if w.will_wake(waker) => {}
            Some(_) => {
                if let Some(w) = self.extra.iter_mut().find(|w| w.will_wake(waker)) {
                    w.clone_from(waker);
                } else {
                    self.extra.push(waker.clone());
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.waker.is_none() && self.extra.is_empty()
    }

    fn take_into(&mut self, out: &mut WakeList) {
        if let Some(w) = self.waker.take() {
            out.push(w);
        }
        if !self.extra.is_empty() {
            out.more.append(&mut self.extra);
        }
    }
}

/// Wakers taken out of the slots to be called outside the lock. The usual one reader and
/// one writer fit inline: a dispatch allocates nothing.
#[derive(Default)]
struct WakeList {
    inline: [Option<Waker>; 2],
    more: Vec<Waker>,
}

impl WakeList {
    fn push(&mut self, waker: Waker) {
        match self.inline.iter_mut().find(|w| w.is_none()) {
            Some(slot) => *slot = Some(waker),
            None => self.more.push(waker),
        }
    }

    fn is_empty(&self) -> bool {
        self.inline[0].is_none() && self.more.is_empty()
    }

    fn into_iter(self) -> impl Iterator<Item = Waker> {
        let [a, b] = self.inline;
        a.into_iter().chain(b).chain(self.more)
    }
}

fn closed_error(shutdown: bool) -> io::Error {
    if shutdown {
        io::Error::other("the taskio runtime's I/O driver has shut down")
    } else {
        io::Error::other("the I/O source was deregistered")
    }
}

impl Default for ScheduledIo {
    fn default() -> Self {
        ScheduledIo::new()
    }
}

impl ScheduledIo {
    /// A new source starts out *assumed* readable and writable: the first syscall is tried
    /// at once, and costs one `WouldBlock` when the guess is wrong. (Starting empty would
    /// cost a whole poller round trip before, say, the first write of a fresh connection.)
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicU64::new(bits(Ready::READABLE) | bits(Ready::WRITABLE)),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// A source with no readiness assumed (tests: the first poll is `Pending`).
    #[cfg(test)]
    pub(crate) fn new_empty() -> ScheduledIo {
        let io = ScheduledIo::new();
        io.readiness.store(0, Ordering::Relaxed);
        io
    }

    /// Forgets all readiness (tests: what a fresh socket's first `WouldBlock`s do).
    #[cfg(test)]
    pub(crate) fn clear_all(&self) {
        self.readiness.fetch_and(!READY_MASK, Ordering::AcqRel);
    }

    /// A snapshot of the readiness bits (for tests and debugging).
    pub(crate) fn readiness(&self) -> Ready {
        ready_of(self.readiness.load(Ordering::Acquire))
    }

    fn check(word: u64, dir: Direction, shutdown: bool) -> Option<io::Result<ReadyEvent>> {
        if word & CLOSED != 0 {
            return Some(Err(closed_error(shutdown)));
        }
        let ready = ready_of(word) & dir.mask();
        if ready.is_empty() {
            None
        } else {
            Some(Ok(ReadyEvent {
                dir,
                tick: tick_of(word, dir),
                ready,
            }))
        }
    }

    /// `dir`'s readiness now, without waiting or storing a waker: `None` when not ready
    /// (the `try_*` socket methods). Same answer as [`ScheduledIo::poll_ready`] would give.
    pub(crate) fn ready_now(&self, dir: Direction) -> Option<io::Result<ReadyEvent>> {
        let word = self.readiness.load(Ordering::Acquire);
        if word & CLOSED == 0 {
            return Self::check(word, dir, false);
        }
        // Closed: which error depends on `shutdown`, which lives under the lock.
        let shutdown = self.waiters.lock().shutdown;
        Self::check(word, dir, shutdown)
    }

    /// Ready when `dir` has readiness; otherwise stores the waker (the poller is registered
    /// edge-triggered for everything once, so there is nothing to arm).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        // Fast path: no lock when readiness is already there.
        let word = self.readiness.load(Ordering::Acquire);
        if word & CLOSED == 0 {
            if let Some(r) = Self::check(word, dir, false) {
                return Poll::Ready(r);
            }
        }
        let mut w = self.waiters.lock();
        // Re-read under the lock: the driver stores readiness under it, so either it did so
        // before we locked (we see it here) or it will after we unlock (it takes our waker).
        let word = self.readiness.load(Ordering::Acquire);
        if let Some(r) = Self::check(word, dir, w.shutdown) {
            return Poll::Ready(r);
        }
        match dir {
            Direction::Read => w.reader.register(cx.waker()),
            Direction::Write => w.writer.register(cx.waker()),
        }
        Poll::Pending
    }

    /// Clears the readiness a task acted on, unless the driver stored newer readiness *for
    /// the same direction* since (that direction's tick moved). Call it only after the
    /// syscall said `WouldBlock` (the poller is edge-triggered: it reports a change, not a
    /// state, so readiness cleared while the condition still holds is not reported again).
    /// Hang-up bits are never cleared ([`Ready::clearable`]): a closed side stays closed, and
    /// edge-triggered epoll would not report it a second time.
    ///
    /// An event of the other direction only (a fresh socket's first `EPOLLOUT`, say) does
    /// not stop a reader's clear: it stored none of the bits the clear removes.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.clear_unless(ev, 0);
    }

    /// The tick-checked clear of `ev`'s bits, refused also while the word has any bit of
    /// `refuse`.
    #[inline]
    fn clear_unless(&self, ev: ReadyEvent, refuse: u64) {
        let clear = bits(ev.ready.clearable() & ev.dir.mask());
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                if tick_of(word, ev.dir) != ev.tick || word & refuse != 0 {
                    return None;
                }
                Some(word & !clear)
            });
    }

    /// [`ScheduledIo::clear_readiness`] after a read that returned fewer bytes than asked
    /// for, from a stream socket whose short read proves its receive queue empty (TCP: see
    /// `PollEvented::poll_read`). The same tick rule: bytes queued after the read bring an
    /// event, which either moved the tick already (the clear is refused) or comes after the
    /// clear (and sets readiness again). Refused as well once urgent data was ever reported
    /// ([`Ready::PRIORITY`], sticky): a TCP read stops short at the urgent mark, with bytes
    /// still queued and possibly no edge to come.
    pub(crate) fn clear_after_short_read(&self, ev: ReadyEvent) {
        self.clear_unless(ev, bits(Ready::PRIORITY));
    }

    /// Driver side: the poller reported `ready` for this source. Stores the readiness (with a
    /// new tick) and wakes the waiters of the directions it satisfies, outside the lock.
    /// Returns `false` if the source is closed (deregistered or shut down): nothing is stored.
    pub(crate) fn dispatch(&self, ready: Ready) -> bool {
        let mut wakers = WakeList::default();
        let me = {
            let mut w = self.waiters.lock();
            if w.shutdown || w.deregistered {
                return false;
            }
            self.store_readiness(ready);
            if ready.intersects(Direction::Read.mask()) {
                w.reader.take_into(&mut wakers);
            }
            if ready.intersects(Direction::Write.mask()) {
                w.writer.take_into(&mut wakers);
            }
            if wakers.is_empty() {
                return true;
            }
            let me = thread::current_id();
            w.waking.push(me);
            me
        };
        self.wake_all(wakers, me);
        true
    }

    /// Ors `ready` into the word and bumps the tick of each direction `ready` has a bit of
    /// (both for hang-up or error). Called with `waiters` locked.
    fn store_readiness(&self, ready: Ready) {
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                let mut word = word | bits(ready);
                for dir in [Direction::Read, Direction::Write] {
                    if ready.intersects(dir.mask()) {
                        word = bump_tick(word, dir);
                    }
                }
                Some(word)
            });
    }

    /// Calls `wakers` outside the lock, this thread being listed in `waking`. A waker is
    /// dropped uncalled if the source was deregistered meanwhile (by one of these very
    /// wakers, on this thread: `deregister` from any other thread waits for us).
    fn wake_all(&self, wakers: WakeList, me: ThreadId) {
        struct Unlist<'a>(&'a ScheduledIo, ThreadId);
        impl Drop for Unlist<'_> {
            fn drop(&mut self) {
                let mut w = self.0.waiters.lock();
                if let Some(i) = w.waking.iter().position(|t| *t == self.1) {
                    w.waking.swap_remove(i);
                }
            }
        }
        let _unlist = Unlist(self, me);
        for waker in wakers.into_iter() {
            if self.readiness.load(Ordering::Acquire) & DEREGISTERED != 0 {
                drop(waker);
            } else {
                // A waker that panics loses only its own wake-up, not the ones after it.
                crate::task::wake_contained(waker);
            }
        }
    }

    /// The driver shuts down: closes the source and wakes every waiter (they then see an
    /// error). Later `poll_ready` calls fail.
    pub(crate) fn shutdown(&self) {
        let mut wakers = WakeList::default();
        let me = {
            let mut w = self.waiters.lock();
            if w.shutdown || w.deregistered {
                return;
            }
            w.shutdown = true;
            self.readiness.fetch_or(CLOSED, Ordering::AcqRel);
            w.reader.take_into(&mut wakers);
            w.writer.take_into(&mut wakers);
            if wakers.is_empty() {
                return;
            }
            let me = thread::current_id();
            w.waking.push(me);
            me
        };
        self.wake_all(wakers, me);
    }

    /// The owner drops the source: no waker stored here is called once this returns. Wakers
    /// are dropped uncalled; if another thread is calling wakers it took from this source,
    /// waits for it to finish. Must be called before the fd is removed from the poller.
    pub(crate) fn deregister(&self) {
        let me = thread::current_id();
        let mut dropped = WakeList::default();
        {
            let mut w = self.waiters.lock();
            w.deregistered = true;
            self.readiness
                .fetch_or(CLOSED | DEREGISTERED, Ordering::AcqRel);
            w.reader.take_into(&mut dropped);
            w.writer.take_into(&mut dropped);
        }
        // Dropping a waker may drop a task and its future: never under our lock.
        drop(dropped);
        loop {
            {
                let w = self.waiters.lock();
                if w.waking.iter().all(|t| *t == me) {
                    return;
                }
            }
            // Another thread is between taking our wakers and calling them: a short wait,
            // the length of a `wake()`.
            thread::yield_now();
        }
    }
}
