//! The readiness API every socket type shares: wait until a direction is ready
//! (`readable`/`writable`), or try one nonblocking syscall now (`try_read`, `try_send`, ...).
//!
//! Both follow the reactor's readiness protocol (see `driver::io`): waiting returns the
//! readiness without clearing it, and a `try_*` whose syscall says `WouldBlock` clears the
//! readiness it acted on with its direction's tick, exactly as the `async` paths do, so
//! readiness the driver stored for that direction in between survives.

use crate::driver::io::{Direction, PollEvented};
use std::io;
use std::os::fd::AsFd;

/// Waits until `dir` of `io` is ready. The readiness is kept: the caller's next syscall
/// either uses it or, on `WouldBlock`, clears it.
pub(crate) async fn ready<S: AsFd>(io: &PollEvented<S>, dir: Direction) -> io::Result<()> {
    io.registration().ready(dir).await.map(drop)
}

/// Runs the nonblocking syscall `f` if `dir` is ready now; `WouldBlock` when it is not, or
/// when `f` says so (then the readiness `f` acted on is cleared, as in `Registration::poll_io`).
///
/// Readiness is read without storing a waker (`Registration::ready_now`): a `try_*` that
/// finds nothing leaves no trace in the reactor.
pub(crate) fn try_io<S: AsFd, R>(
    io: &PollEvented<S>,
    dir: Direction,
    f: impl FnOnce(&S) -> io::Result<R>,
) -> io::Result<R> {
    let Some(ev) = io.registration().ready_now(dir) else {
        return Err(io::ErrorKind::WouldBlock.into());
    };
    let ev = ev?;
    match f(io.get_ref()) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            io.registration().clear_readiness(ev);
            Err(e)
        }
        r => r,
    }
}
