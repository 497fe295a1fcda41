//! Loom models of the readiness protocol (see the module docs of `driver::io`).
//!
//! The poller is a stand-in, `Kernel`: the socket's "data available" count and "room to
//! write" flag, plus the edge events not yet collected, under a mutex, with a condvar the
//! stand-in driver thread waits on. Like epoll in edge-triggered mode, every change that makes
//! the socket readable or writable queues an event (changes before the driver collects it
//! merge into one), collecting an event empties the queue, and a condition that still holds
//! is never reported again by itself.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p taskio-runtime --release --lib loom`

use super::{Direction, Ready, ReadyEvent, RegistrationSet, ScheduledIo};
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Condvar, Mutex};
use std::future::poll_fn;
use std::io;
use std::task::{Poll, Wake, Waker};

#[derive(Debug, Default)]
struct KState {
    /// Bytes waiting in the socket (each "read" takes one).
    data: usize,
    /// Room in the send buffer.
    space: bool,
    /// Units before the urgent mark, while one is queued (a stream read stops there).
    mark: Option<usize>,
    /// The peer shut its write side down (after the units queued).
    eof: bool,
    /// Edge events queued and not collected by `wait` yet.
    pending: Ready,
    /// The task finished: the driver thread stops.
    done: bool,
}

#[derive(Debug)]
struct Kernel {
    state: Mutex<KState>,
    cv: Condvar,
}

impl Kernel {
    fn new() -> Kernel {
        Kernel {
            state: Mutex::new(KState::default()),
            cv: Condvar::new(),
        }
    }

    /// The nonblocking `read`: one unit of data, or `WouldBlock`. Queues no event.
    fn read(&self) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.data > 0 {
            s.data -= 1;
            Ok(())
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    /// The nonblocking `write`: needs room, or `WouldBlock`.
    fn write(&self) -> io::Result<()> {
        let s = self.state.lock();
        if s.space {
            Ok(())
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    /// The peer drains the send buffer: a writable edge.
    fn make_room(&self) {
        let mut s = self.state.lock();
        s.space = true;
        s.pending |= Ready::WRITABLE;
        self.cv.notify_all();
    }

    /// The peer sends one unit: a readable edge.
    fn send(&self) {
        let mut s = self.state.lock();
        s.data += 1;
        s.pending |= Ready::READABLE;
        self.cv.notify_all();
    }

    /// A TCP read into a buffer larger than anything queued: every unit queued, or those
    /// before the urgent mark; `Ok(0)` at the end of the stream; `WouldBlock` when empty.
    /// Whatever it returns is a short read.
    fn read_stream(&self) -> io::Result<usize> {
        let mut s = self.state.lock();
        let n = match s.mark.take() {
            Some(before) if before > 0 => before,
            _ => s.data,
        };
        if n == 0 {
            return if s.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        s.data -= n;
        Ok(n)
    }

    /// The peer sends one unit, then urgent data (one more unit, the mark before it): one
    /// readable edge with `PRI`.
    fn send_urgent(&self) {
        let mut s = self.state.lock();
        s.mark = Some(s.data + 1);
        s.data += 2;
        s.pending |= Ready::READABLE | Ready::PRIORITY;
        self.cv.notify_all();
    }

    /// The peer sends one unit and shuts its write side down: one edge, `IN | RDHUP`.
    fn send_and_close(&self) {
        let mut s = self.state.lock();
        s.data += 1;
        s.eof = true;
        s.pending |= Ready::READABLE | Ready::READ_CLOSED;
        self.cv.notify_all();
    }

    fn finish(&self) {
        let mut s = self.state.lock();
        s.done = true;
        self.cv.notify_all();
    }

    /// `Poller::wait` on the driver thread: blocks until an edge is queued (and collects
    /// it) or the task is done.
    fn wait(&self) -> Option<Ready> {
        let mut s = self.state.lock();
        loop {
            if s.done {
                return None;
            }
            if !s.pending.is_empty() {
                return Some(std::mem::take(&mut s.pending));
            }
            self.cv.wait(&mut s);
        }
    }
}

/// Wakes a loom thread parked in [`block_on`].
struct Unparker(loom::thread::Thread);

impl Wake for Unparker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this loom thread, parking while it is pending. A task that is never woken
/// leaves every thread blocked: loom reports the deadlock.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unparker(loom::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        loom::thread::park();
    }
}

/// The driver thread: wait, dispatch, until the task is done.
fn driver_loop(kernel: Arc<Kernel>, io: Arc<ScheduledIo>) {
    while let Some(ready) = kernel.wait() {
        io.dispatch(ready);
    }
}

/// A task running `Registration::poll_io`'s loop for `dir` until `op` succeeds.
fn poll_io(io: &ScheduledIo, dir: Direction, op: impl Fn() -> io::Result<()>) {
    block_on(poll_fn(|cx| loop {
        let ev = match io.poll_ready(cx, dir) {
            Poll::Ready(r) => r.expect("not closed"),
            Poll::Pending => return Poll::Pending,
        };
        match op() {
            Ok(()) => return Poll::Ready(()),
            Err(_) => io.clear_readiness(ev),
        }
    }));
}

/// The task: reads `n` units.
fn read_n(kernel: &Kernel, io: &ScheduledIo, n: usize) {
    for _ in 0..n {
        poll_io(io, Direction::Read, || kernel.read());
    }
}

/// Data sent by a peer thread, racing the task's first `WouldBlock` (the source starts
/// assumed ready), its `clear_readiness`, its `poll_ready` (fast path, lock, re-load, waker
/// store) and the driver's dispatch (readiness store, waker take): the task always wakes,
/// including when the edge lands between the `WouldBlock` and the waker store. A lost
/// wake-up is a deadlock, which loom reports.
#[test]
fn loom_readiness_never_lost() {
    loom::model(|| {
        let kernel = Arc::new(Kernel::new());
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || driver_loop(k, io))
        };
        let peer = {
            let k = kernel.clone();
            loom::thread::spawn(move || k.send())
        };
        read_n(&kernel, &io, 1);
        kernel.finish();
        peer.join().unwrap();
        driver.join().unwrap();
    });
}

/// Two units, sent one at a time by the peer while the task reads: exercises
/// `clear_readiness` after `WouldBlock` racing a new dispatch (the tick), and two sends
/// merged into one edge (readiness must survive the first successful read: only a
/// `WouldBlock` clears it).
#[test]
fn loom_readiness_two_sends_tick() {
    loom::model(|| {
        let kernel = Arc::new(Kernel::new());
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || driver_loop(k, io))
        };
        let peer = {
            let k = kernel.clone();
            loom::thread::spawn(move || {
                k.send();
                k.send();
            })
        };
        read_n(&kernel, &io, 2);
        kernel.finish();
        peer.join().unwrap();
        driver.join().unwrap();
    });
}

/// A reader and a writer waiting on one source at once, each made ready by the peer in
/// either order (or by one merged edge): an event for one direction must not take or lose
/// the other direction's waiter.
#[test]
fn loom_reader_and_writer() {
    loom::model(|| {
        let kernel = Arc::new(Kernel::new());
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || driver_loop(k, io))
        };
        let writer = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || poll_io(&io, Direction::Write, || k.write()))
        };
        let peer = {
            let k = kernel.clone();
            loom::thread::spawn(move || {
                k.send();
                k.make_room();
            })
        };
        read_n(&kernel, &io, 1);
        writer.join().unwrap();
        kernel.finish();
        peer.join().unwrap();
        driver.join().unwrap();
    });
}

/// A fresh source (assumed readable and writable) whose first event is of the *other*
/// direction only, as a new socket's is (its registration queues `EPOLLOUT`), racing the
/// task's `try_*` on `dir`: load of the assumed readiness, `WouldBlock`, clear. The clear
/// must pass the unrelated event, so that `dir` is then not ready: nothing ever reported it.
/// (With one tick for both directions, a dispatch between the task's load and its clear
/// refused the clear, and `readable()` resolved with nothing to read: the `net_ready`
/// flake.) Then the peer makes `dir` ready, and the waiting task must wake.
fn first_event_of_the_other_direction(dir: Direction) {
    loom::model(move || {
        let kernel = Arc::new(Kernel::new());
        {
            let mut s = kernel.state.lock();
            match dir {
                // A fresh connected socket: room to write, nothing to read.
                Direction::Read => {
                    s.space = true;
                    s.pending = Ready::WRITABLE;
                }
                // The mirror: data queued, send buffer full.
                Direction::Write => {
                    s.data = 1;
                    s.pending = Ready::READABLE;
                }
            }
        }
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || driver_loop(k, io))
        };
        let op = || match dir {
            Direction::Read => kernel.read(),
            Direction::Write => kernel.write(),
        };
        // `try_io`: the assumed readiness, a syscall that says `WouldBlock`, the clear.
        let ev = io
            .ready_now(dir)
            .expect("assumed ready at registration")
            .expect("not closed");
        assert!(op().is_err(), "nothing to do yet in {dir:?}");
        io.clear_readiness(ev);
        assert!(
            io.ready_now(dir).is_none(),
            "{dir:?} readiness that no event reported survived a WouldBlock"
        );
        // Now the peer makes `dir` ready; the task waits for it and is woken.
        match dir {
            Direction::Read => kernel.send(),
            Direction::Write => kernel.make_room(),
        }
        poll_io(&io, dir, op);
        kernel.finish();
        driver.join().unwrap();
    });
}

#[test]
fn loom_first_event_of_the_other_direction_read() {
    first_event_of_the_other_direction(Direction::Read);
}

#[test]
fn loom_first_event_of_the_other_direction_write() {
    first_event_of_the_other_direction(Direction::Write);
}

/// Asserts, when called, that `deregister` has not returned yet.
struct AssertNotDropped(Arc<AtomicBool>);

impl Wake for AssertNotDropped {
    fn wake(self: std::sync::Arc<Self>) {
        assert!(
            !self.0.load(Ordering::SeqCst),
            "waker called after deregister returned"
        );
    }
}

/// The driver dispatches readiness on one thread while the owner deregisters on another: the
/// waker may be called before `deregister` returns, never after.
#[test]
fn loom_no_wake_after_deregister() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new_empty());
        let dropped = Arc::new(AtomicBool::new(false));
        let waker = Waker::from(std::sync::Arc::new(AssertNotDropped(dropped.clone())));
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        drop(waker);
        let driver = {
            let io = io.clone();
            loom::thread::spawn(move || {
                io.dispatch(Ready::READABLE);
            })
        };
        io.deregister();
        dropped.store(true, Ordering::SeqCst);
        driver.join().unwrap();
    });
}

/// Driver shutdown racing a task's `poll_ready`: the task always finishes, with an error.
#[test]
fn loom_shutdown_wakes_waiter() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new_empty());
        let closer = {
            let io = io.clone();
            loom::thread::spawn(move || io.shutdown())
        };
        let r = block_on(poll_fn(|cx| io.poll_ready(cx, Direction::Write)));
        assert!(r.is_err());
        closer.join().unwrap();
    });
}

/// The epoll stand-in for the registration models: one fd, added under a token. `delete`
/// and `poll`'s collection exclude each other (epoll serialises them on its mutex), and
/// deleting drops an event not collected yet.
#[derive(Debug)]
struct Epoll {
    state: Mutex<EpollState>,
}

#[derive(Debug, Default)]
struct EpollState {
    token: Option<usize>,
    pending: Ready,
}

impl Epoll {
    fn new() -> Epoll {
        Epoll {
            state: Mutex::new(EpollState::default()),
        }
    }

    fn add(&self, token: usize) {
        self.state.lock().token = Some(token);
    }

    fn delete(&self) -> bool {
        let mut s = self.state.lock();
        s.token = None;
        s.pending = Ready::EMPTY;
        true
    }

    /// The peer sends: a readable edge, if the fd is registered.
    fn send(&self) {
        let mut s = self.state.lock();
        if s.token.is_some() {
            s.pending |= Ready::READABLE;
        }
    }

    /// A wait with a zero timeout: the collected event, if any.
    fn poll(&self) -> Option<(usize, Ready)> {
        let mut s = self.state.lock();
        let token = s.token?;
        if s.pending.is_empty() {
            return None;
        }
        Some((token, std::mem::take(&mut s.pending)))
    }
}

/// `IoDriver::turn`, `turns` times without blocking, on the stand-in: release, collect,
/// dispatch through the token. Records what `release` let go of, and asserts no event is
/// dispatched to it afterwards (that would be a use after free in the real driver).
fn set_driver(set: &RegistrationSet, epoll: &Epoll, turns: usize) {
    let mut freed = Vec::new();
    for _ in 0..turns {
        for io in set.release() {
            freed.push(RegistrationSet::token(&io));
        }
        if let Some((token, ready)) = epoll.poll() {
            assert!(
                !freed.contains(&token),
                "event dispatched to a released source"
            );
            // SAFETY: the assertion above: the set has not let go of the source.
            unsafe { set.resolve(token) }.dispatch(ready);
        }
    }
}

/// Deregistration racing an event for the source and two driver turns: the driver never
/// dispatches to a source the set released (delete comes before the move to `released`,
/// which the driver frees only before a wait), and no waker is called after the
/// deregistration returns.
#[test]
fn loom_deregister_races_event_and_release() {
    loom::model(|| {
        let set = Arc::new(RegistrationSet::new());
        let epoll = Arc::new(Epoll::new());
        let (key, io) = set.allocate().expect("not shut down");
        epoll.add(RegistrationSet::token(&io));
        // The owner waits for readability first (its source is no longer assumed ready).
        let dropped = Arc::new(AtomicBool::new(false));
        let waker = Waker::from(std::sync::Arc::new(AssertNotDropped(dropped.clone())));
        io.clear_readiness(ReadyEvent {
            dir: Direction::Read,
            tick: 0,
            ready: Ready::READABLE,
        });
        assert!(io
            .poll_ready(&mut std::task::Context::from_waker(&waker), Direction::Read)
            .is_pending());
        drop(waker);
        let driver = {
            let (set, epoll) = (set.clone(), epoll.clone());
            loom::thread::spawn(move || set_driver(&set, &epoll, 2))
        };
        let peer = {
            let epoll = epoll.clone();
            loom::thread::spawn(move || epoll.send())
        };
        set.deregister(key, &io, || epoll.delete());
        dropped.store(true, Ordering::SeqCst);
        drop(io);
        peer.join().unwrap();
        driver.join().unwrap();
        assert_eq!(set.len(), 0);
    });
}

/// Registration racing shutdown: a source either fails to register or is closed by the
/// shutdown (its polls fail), never left open on a dead driver.
#[test]
fn loom_register_races_shutdown() {
    loom::model(|| {
        let set = Arc::new(RegistrationSet::new());
        let closer = {
            let set = set.clone();
            loom::thread::spawn(move || {
                for io in set.shutdown() {
                    io.shutdown();
                }
            })
        };
        let registered = set.allocate();
        closer.join().unwrap();
        if let Ok((_key, io)) = registered {
            let waker = Waker::from(std::sync::Arc::new(Unparker(loom::thread::current())));
            let r = io.poll_ready(&mut std::task::Context::from_waker(&waker), Direction::Read);
            assert!(matches!(r, Poll::Ready(Err(_))), "open after shutdown");
        }
    });
}

/// The task reading a TCP stream with `PollEvented::poll_read`'s short-read rule (every
/// successful read here is short) until it has `want` units, or the end of the stream when
/// `want` is `None`.
fn read_stream_until(kernel: &Kernel, io: &ScheduledIo, want: Option<usize>) {
    let mut got = 0;
    block_on(poll_fn(|cx| loop {
        if want == Some(got) {
            return Poll::Ready(());
        }
        let ev = match io.poll_ready(cx, Direction::Read) {
            Poll::Ready(r) => r.expect("not closed"),
            Poll::Pending => return Poll::Pending,
        };
        match kernel.read_stream() {
            Ok(0) => return Poll::Ready(()),
            Ok(n) => {
                got += n;
                io.clear_after_short_read(ev);
            }
            Err(_) => io.clear_readiness(ev),
        }
    }));
}

/// Runs `peer` beside the driver and a task reading with the short-read rule.
fn short_read_model(peer: fn(&Kernel), want: Option<usize>) {
    loom::model(move || {
        let kernel = Arc::new(Kernel::new());
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let (k, io) = (kernel.clone(), io.clone());
            loom::thread::spawn(move || driver_loop(k, io))
        };
        let p = {
            let k = kernel.clone();
            loom::thread::spawn(move || peer(&k))
        };
        read_stream_until(&kernel, &io, want);
        kernel.finish();
        p.join().unwrap();
        driver.join().unwrap();
    });
}

/// Two sends, each its own edge, racing short reads that clear readiness: the data the
/// second send queues after a short read emptied the queue brings an edge that moves the
/// tick (the clear is refused) or is dispatched after the clear.
#[test]
fn loom_short_read_clear_two_sends() {
    short_read_model(
        |k| {
            k.send();
            k.send();
        },
        Some(2),
    );
}

/// A read stops at the urgent mark with a unit still queued and no edge to come: the
/// sticky `PRIORITY` (or the tick, when the `PRI` event is dispatched after the read)
/// refuses the short read's clear, so the task reads the rest.
#[test]
fn loom_short_read_stops_at_the_urgent_mark() {
    short_read_model(Kernel::send_urgent, Some(2));
}

/// Data and FIN in one edge: the read of the data is short and clears `READABLE`, but the
/// half-close is the sticky `READ_CLOSED`, so the task still reads the end of the stream.
#[test]
fn loom_short_read_then_end_of_stream() {
    short_read_model(Kernel::send_and_close, None);
}
