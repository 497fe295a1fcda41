//! The readiness API every socket type shares: wait until a direction is ready
//! (`readable`/`writable`), or try one nonblocking syscall now (`try_read`, `try_send`, ...).
//!
//! Both follow the reactor's readiness protocol (see `driver::io`): waiting returns the
//! readiness without clearing it, and a `try_*` whose syscall says `WouldBlock` clears the
//! readiness it acted on with that readiness's tick, exactly as the `async` paths do, so
//! readiness the driver stored in between survives.

use crate::driver::io::{Direction, PollEvented};
use std::io;
use std::os::fd::AsFd;
use std::ptr;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// Waits until `dir` of `io` is ready. The readiness is kept: the caller's next syscall
/// either uses it or, on `WouldBlock`, clears it.
pub(crate) async fn ready<S: AsFd>(io: &PollEvented<S>, dir: Direction) -> io::Result<()> {
    io.registration().ready(dir).await.map(drop)
}

/// Runs the nonblocking syscall `f` if `dir` is ready now; `WouldBlock` when it is not, or
/// when `f` says so (then the readiness `f` acted on is cleared, as in `Registration::poll_io`).
///
/// Readiness is looked up through `Registration::poll_ready` with a waker that does nothing:
/// when `dir` is not ready that parks the no-op waker in `dir`'s slot and arms the poller,
/// which costs one spurious (empty) wake-up at the next event and nothing else. Every no-op
/// waker is the same waker (one static vtable), so the slot keeps at most one of them however
/// often `try_*` is called.
pub(crate) fn try_io<S: AsFd, R>(
    io: &PollEvented<S>,
    dir: Direction,
    f: impl FnOnce(&S) -> io::Result<R>,
) -> io::Result<R> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let ev = match io.registration().poll_ready(&mut cx, dir) {
        Poll::Ready(ev) => ev?,
        Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
    };
    match f(io.get_ref()) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            io.registration().clear_readiness(ev);
            Err(e)
        }
        r => r,
    }
}

/// One static vtable, so that `Waker::will_wake` recognises every no-op waker as the same
/// (a vtable built per call site need not have one address).
static NOOP_VTABLE: RawWakerVTable = RawWakerVTable::new(noop_clone, noop, noop, noop);

fn noop_clone(_: *const ()) -> RawWaker {
    RawWaker::new(ptr::null(), &NOOP_VTABLE)
}

fn noop(_: *const ()) {}

fn noop_waker() -> Waker {
    // SAFETY: every function of `NOOP_VTABLE` ignores the (null) data pointer and does
    // nothing, so they are safe to call from any thread, any number of times, and `clone`
    // returns a waker upholding the same contract.
    unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &NOOP_VTABLE)) }
}

#[cfg(test)]
mod tests {
    use super::noop_waker;

    #[test]
    fn noop_wakers_are_one_waker() {
        let a = noop_waker();
        let b = noop_waker();
        assert!(a.will_wake(&b));
        assert!(a.clone().will_wake(&b));
        b.wake();
        a.wake_by_ref();
    }
}
