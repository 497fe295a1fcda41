//! A nonblocking source bundled with its registration.

use super::{Direction, Registration};
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::task::{ready, Context, Poll};

/// An owned nonblocking source `S` registered with the reactor.
///
/// Field order matters: `registration` is declared first, so it is dropped (deregistering the
/// fd from the poller) before `io` closes the fd.
#[derive(Debug)]
pub(crate) struct PollEvented<S: AsFd> {
    registration: Registration,
    io: S,
}

impl<S: AsFd> PollEvented<S> {
    /// Registers `io` with the current runtime's reactor. `io` must already be nonblocking.
    pub(crate) fn new(io: S) -> io::Result<PollEvented<S>> {
        // SAFETY: `io` owns the fd and is dropped after `registration` (field order), and
        // `into_inner` drops the registration before giving `io` back.
        let registration = unsafe { Registration::new(io.as_fd()) }?;
        Ok(PollEvented { registration, io })
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// Deregisters and returns the source (still nonblocking).
    pub(crate) fn into_inner(self) -> S {
        let PollEvented { registration, io } = self;
        drop(registration);
        io
    }

    /// Reads into `buf` once readable.
    ///
    /// Readiness is cleared by a `WouldBlock` and, when `short_drains` is true, by a short
    /// read (`0 < n < buf.len()`), which saves the `WouldBlock` read that would follow it.
    /// Pass `true` only for a TCP stream: the readiness protocol's step 2b (in the
    /// `driver::io` module docs) argues why a short TCP read cannot lose a wake-up (the
    /// half-close and urgent-data cases), and why a Unix stream or a datagram socket must
    /// pass `false` (their short reads can leave bytes queued with no edge to come).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        short_drains: bool,
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Read,
    {
        loop {
            let ev = ready!(self.registration.poll_ready(cx, Direction::Read))?;
            match (&self.io).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(ev)
                }
                Ok(n) if short_drains && n > 0 && n < buf.len() => {
                    self.registration.clear_after_short_read(ev);
                    return Poll::Ready(Ok(n));
                }
                r => return Poll::Ready(r),
            }
        }
    }

    /// Reads into `buf`, which may be uninitialised, once readable: [`PollEvented::poll_read`]
    /// with `read(2)` into the memory as it is (rustix's `read` takes
    /// `&mut [MaybeUninit<u8>]` and returns the part the kernel wrote). The same readiness
    /// rules, `short_drains` included.
    ///
    /// On `Ok(n)`, `buf[..n]` is initialised (the bytes read) and nothing past it was
    /// written: callers' `unsafe` (`set_len`, hyper's `advance`) relies on it.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
        short_drains: bool,
    ) -> Poll<io::Result<usize>> {
        loop {
            let ev = ready!(self.registration.poll_ready(cx, Direction::Read))?;
            let len = buf.len();
            match rustix::io::read(&self.io, &mut *buf) {
                Err(rustix::io::Errno::AGAIN) => self.registration.clear_readiness(ev),
                Ok((filled, _)) => {
                    let n = filled.len();
                    if short_drains && n > 0 && n < len {
                        self.registration.clear_after_short_read(ev);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
    }

    /// Writes `buf` once writable.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Write,
    {
        self.registration
            .poll_io(cx, Direction::Write, || (&self.io).write(buf))
    }

    /// Writes `bufs` (one syscall) once writable.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Write,
    {
        self.registration
            .poll_io(cx, Direction::Write, || (&self.io).write_vectored(bufs))
    }
}
