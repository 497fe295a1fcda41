//! The logic UDP and Unix datagram sockets share, written once: a registered datagram socket
//! over [`PollEvented`], generic over the std socket type. [`UdpSocket`](super::UdpSocket) and
//! [`UnixDatagram`](super::UnixDatagram) are thin public wrappers around [`PollDatagram`];
//! what differs between them (addresses, `send_to`'s target) stays in the wrappers.

use super::ready;
use crate::driver::io::{Direction, PollEvented};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

/// The syscalls of a std datagram socket the shared logic calls.
pub(crate) trait DatagramSocket: AsFd {
    /// The socket's address type.
    type Addr;
    /// The std socket's `send` (to the connected peer).
    fn send(&self, buf: &[u8]) -> io::Result<usize>;
    /// The std socket's `recv` (from the connected peer).
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// The std socket's `recv_from`.
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)>;
}

impl DatagramSocket for std::net::UdpSocket {
    type Addr = std::net::SocketAddr;

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::net::UdpSocket::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::net::UdpSocket::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        std::net::UdpSocket::recv_from(self, buf)
    }
}

impl DatagramSocket for std::os::unix::net::UnixDatagram {
    type Addr = std::os::unix::net::SocketAddr;

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::os::unix::net::UnixDatagram::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::net::UnixDatagram::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        std::os::unix::net::UnixDatagram::recv_from(self, buf)
    }
}

/// A registered, nonblocking datagram socket.
pub(crate) struct PollDatagram<S: AsFd> {
    io: PollEvented<S>,
}

impl<S: DatagramSocket> PollDatagram<S> {
    /// Makes nothing nonblocking: `socket` must already be. Registers it with the current
    /// runtime.
    pub(crate) fn new(socket: S) -> io::Result<PollDatagram<S>> {
        Ok(PollDatagram {
            io: PollEvented::new(socket)?,
        })
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.io.get_ref()
    }

    /// Deregisters and returns the std socket (still nonblocking).
    pub(crate) fn into_inner(self) -> S {
        self.io.into_inner()
    }

    /// Runs the sending syscall `f` once the socket is writable (again after each
    /// `WouldBlock`).
    pub(crate) fn poll_send_with(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.io
            .registration()
            .poll_io(cx, Direction::Write, || f(self.io.get_ref()))
    }

    /// The `async` form of [`PollDatagram::poll_send_with`].
    pub(crate) async fn send_with(
        &self,
        mut f: impl FnMut(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send_with(cx, &mut f)).await
    }

    pub(crate) async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_with(|s| s.send(buf)).await
    }

    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .registration()
            .async_io(Direction::Read, || self.io.get_ref().recv(buf))
            .await
    }

    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, S::Addr)>> {
        self.io
            .registration()
            .poll_io(cx, Direction::Read, || self.io.get_ref().recv_from(buf))
    }

    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, S::Addr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Waits until the socket may be readable (see `net::ready`).
    pub(crate) async fn readable(&self) -> io::Result<()> {
        ready::ready(&self.io, Direction::Read).await
    }

    /// Waits until the socket may be writable.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        ready::ready(&self.io, Direction::Write).await
    }

    /// Runs the sending syscall `f` now if the socket is writable; `WouldBlock` otherwise.
    pub(crate) fn try_send_with(
        &self,
        f: impl FnOnce(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        ready::try_io(&self.io, Direction::Write, f)
    }

    pub(crate) fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_send_with(|s| s.send(buf))
    }

    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        ready::try_io(&self.io, Direction::Read, |s| s.recv(buf))
    }

    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, S::Addr)> {
        ready::try_io(&self.io, Direction::Read, |s| s.recv_from(buf))
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for PollDatagram<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The std socket (address and fd), not the registration's internals.
        f.debug_tuple("PollDatagram")
            .field(self.io.get_ref())
            .finish()
    }
}
