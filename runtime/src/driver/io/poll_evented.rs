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
    /// Readiness is cleared only by a `WouldBlock`, never by a short read: the poller is
    /// edge-triggered, and a short read proves the queue empty only for stream sockets (a
    /// datagram socket returns one datagram however many are queued), so clearing on it
    /// would risk a wake-up that never comes for the cost of one `WouldBlock` it saves.
    ///
    /// Not for TCP either, as sources are registered now: clearing on a short stream read
    /// (as tokio does on epoll) was tried, and the driver's 16-connection split echo test hung
    /// in 7 of 10 runs. A read that stops at the peer's FIN is short, and the EOF it leaves
    /// (`MSG_PEEK` returns 0 right after) was already reported by the edge that brought the
    /// data: sources are not registered for `EPOLLRDHUP`, so a half-close sets no sticky
    /// `READ_CLOSED`, and once `READABLE` is cleared nothing reports the EOF again.
    /// Registering `EPOLLRDHUP` as a sticky `READ_CLOSED` (what mio does for tokio) fixes that
    /// case but not two others where a stream read is short with bytes still queued and no
    /// new edge to come: TCP stops before an urgent-data mark once it has copied something
    /// (the `PRI` edge may be spent already), and a Unix stream socket does not join messages
    /// from writers with different credentials (a socket shared with a forked process). Rare,
    /// but each is a lost wake-up; the optimization saves one `WouldBlock` `recv` per short
    /// read, so it is not taken.
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a S: Read,
    {
        loop {
            let ev = ready!(self.registration.poll_ready(cx, Direction::Read))?;
            match (&self.io).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(ev)
                }
                r => return Poll::Ready(r),
            }
        }
    }

    /// Reads into `buf`, which may be uninitialised, once readable: [`PollEvented::poll_read`]
    /// with `read(2)` into the memory as it is (rustix's `read` takes
    /// `&mut [MaybeUninit<u8>]` and returns the part the kernel wrote). The same readiness
    /// rules: only a `WouldBlock` clears the readiness.
    ///
    /// On `Ok(n)`, `buf[..n]` is initialised (the bytes read) and nothing past it was
    /// written: callers' `unsafe` (`set_len`, hyper's `advance`) relies on it.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        loop {
            let ev = ready!(self.registration.poll_ready(cx, Direction::Read))?;
            match rustix::io::read(&self.io, &mut *buf) {
                Err(rustix::io::Errno::AGAIN) => self.registration.clear_readiness(ev),
                Ok((filled, _)) => return Poll::Ready(Ok(filled.len())),
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
