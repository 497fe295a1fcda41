//! A socket's handle on the reactor.

use super::{Direction, IoHandle, ReadyEvent, ScheduledIo};
use crate::driver::{self, Handle};
use crate::loom::sync::Arc;
use std::future::poll_fn;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

/// The error for sockets created outside a runtime with I/O.
pub(crate) fn no_runtime() -> io::Error {
    io::Error::other("no taskio runtime with I/O enabled")
}

/// The current runtime's driver handle, if it has I/O enabled.
pub(crate) fn current_io_handle() -> io::Result<Arc<Handle>> {
    driver::with_current(|h| match h {
        Some(h) if h.io.is_some() => Ok(h.clone()),
        _ => Err(no_runtime()),
    })
}

/// One source registered with the reactor: its key, its [`ScheduledIo`], and the runtime it
/// belongs to. Dropping it deregisters the source (see the module docs for what that
/// guarantees).
#[derive(Debug)]
pub(crate) struct Registration {
    handle: Arc<Handle>,
    shared: Arc<ScheduledIo>,
    key: usize,
    fd: RawFd,
}

impl Registration {
    /// Registers `fd` with the current runtime's reactor.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until the returned `Registration` is dropped.
    pub(crate) unsafe fn new(fd: BorrowedFd<'_>) -> io::Result<Registration> {
        let handle = current_io_handle()?;
        // SAFETY: forwarded from the caller.
        unsafe { Registration::new_with_handle(fd, handle) }
    }

    /// Registers `fd` with `handle`'s reactor.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until the returned `Registration` is dropped.
    pub(crate) unsafe fn new_with_handle(
        fd: BorrowedFd<'_>,
        handle: Arc<Handle>,
    ) -> io::Result<Registration> {
        use std::os::fd::AsRawFd;
        let io = handle.io.as_ref().ok_or_else(no_runtime)?;
        // SAFETY: `Drop` deregisters the key, and the caller keeps `fd` open until then.
        let (key, shared) = unsafe { io.register(fd) }?;
        Ok(Registration {
            handle,
            shared,
            key,
            fd: fd.as_raw_fd(),
        })
    }

    fn io(&self) -> &IoHandle {
        self.handle
            .io
            .as_ref()
            .expect("a registration's runtime has I/O enabled")
    }

    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the constructor's contract: the fd stays open while `self` lives.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    /// Ready when `dir` has readiness (with the tick to clear it by), or `Pending` with the
    /// waker stored. Fails once the driver has shut down or the source was deregistered.
    ///
    /// A cancellation checkpoint: where it would wait, it delivers the current task's
    /// pending cancellation instead, as an `io::Error` made from
    /// [`Cancelled`](crate::task::Cancelled).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.shared.poll_ready(cx, dir) {
            Poll::Pending => match crate::task::take_cancel() {
                Some(c) => Poll::Ready(Err(c.into())),
                None => {
                    crate::task::set_awaiting(crate::task::Awaiting::Io);
                    Poll::Pending
                }
            },
            ready => ready,
        }
    }

    /// `dir`'s readiness now, or `None`; never waits and stores no waker.
    pub(crate) fn ready_now(&self, dir: Direction) -> Option<io::Result<ReadyEvent>> {
        self.shared.ready_now(dir)
    }

    /// [`Registration::poll_ready`] for reading.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// [`Registration::poll_ready`] for writing.
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// Forgets the readiness in `ev`, unless newer readiness of `ev`'s direction arrived
    /// since (an event of the other direction alone does not stop it). Only after a
    /// syscall made after `ev` was returned said `WouldBlock` (or an equivalent "not yet",
    /// like a connect still in progress): the poller is edge-triggered, so readiness cleared
    /// while the condition holds is not reported again.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.shared.clear_readiness(ev);
    }

    /// Forgets the readiness in `ev` after a short read of a stream whose short read means
    /// an empty receive queue (TCP): see `ScheduledIo::clear_after_short_read`.
    pub(crate) fn clear_after_short_read(&self, ev: ReadyEvent) {
        self.shared.clear_after_short_read(ev);
    }

    /// Runs the nonblocking syscall `f` once `dir` is ready; on `WouldBlock` clears that
    /// readiness and waits again. Any other result is returned.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        // Cooperative budget: a socket that is always ready must not let its task starve
        // the others on its worker.
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                r => {
                    coop.made_progress();
                    return Poll::Ready(r);
                }
            }
        }
    }

    /// The `async` form of [`Registration::poll_io`].
    pub(crate) async fn async_io<R>(
        &self,
        dir: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, dir, &mut f)).await
    }

    /// Waits until `dir` is ready and returns the readiness (not cleared).
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<ReadyEvent> {
        poll_fn(|cx| self.poll_ready(cx, dir)).await
    }

    /// The shared state (tests).
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<ScheduledIo> {
        &self.shared
    }

    /// The poller key: the token of the shared state (tests).
    #[cfg(test)]
    pub(crate) fn token(&self) -> usize {
        super::RegistrationSet::token(&self.shared)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The handle is cloned out so that `self.fd()` and `self.io()` borrow nothing twice.
        let handle = self.handle.clone();
        if let Some(io) = handle.io.as_ref() {
            io.deregister(self.fd(), self.key, &self.shared);
        }
    }
}
