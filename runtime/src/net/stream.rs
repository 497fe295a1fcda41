//! The logic TCP and Unix streams share, written once: a connected stream socket over
//! [`PollEvented`], generic over the std socket type. [`TcpStream`](super::TcpStream) and
//! [`UnixStream`](super::UnixStream) are thin public wrappers around [`PollStream`], and their
//! owned halves around [`ReadHalf`] and [`WriteHalf`].
//!
//! The wrappers forward `futures_io::AsyncRead`/`AsyncWrite` to their `inner` field with
//! [`forward_async_read!`] and [`forward_async_write!`].

use super::ready;
use crate::driver::io::{Direction, PollEvented};
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the shared logic needs of a std stream socket besides `Read` and `Write` on `&S`.
pub(crate) trait StreamSocket: AsFd {
    /// A read that returns fewer bytes than asked for proves the receive queue empty, so it
    /// may clear readiness as a `WouldBlock` does (`PollEvented::poll_read`).
    const SHORT_READ_DRAINS: bool;

    /// The std socket's `shutdown`.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl StreamSocket for std::net::TcpStream {
    /// On Linux, where the half-close is registered (`EPOLLRDHUP`): see the readiness
    /// protocol's step 2b in `driver::io`.
    const SHORT_READ_DRAINS: bool = cfg!(target_os = "linux");

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, how)
    }
}

impl StreamSocket for std::os::unix::net::UnixStream {
    /// Not for Unix streams: a read stops short at a change of the writer's credentials.
    const SHORT_READ_DRAINS: bool = false;

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }
}

/// A connected, registered, nonblocking stream socket.
pub(crate) struct PollStream<S: AsFd> {
    io: PollEvented<S>,
}

impl<S: AsFd> PollStream<S> {
    /// Registers `socket` with the current runtime. It must already be nonblocking.
    pub(crate) fn new(socket: S) -> io::Result<PollStream<S>> {
        Ok(PollStream {
            io: PollEvented::new(socket)?,
        })
    }

    pub(crate) fn io(&self) -> &PollEvented<S> {
        &self.io
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.io.get_ref()
    }

    /// Deregisters and returns the std socket (still nonblocking).
    pub(crate) fn into_inner(self) -> S {
        self.io.into_inner()
    }

    /// Waits until the socket may be readable (see `net::ready`).
    pub(crate) async fn readable(&self) -> io::Result<()> {
        ready::ready(&self.io, Direction::Read).await
    }

    /// Waits until the socket may be writable.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        ready::ready(&self.io, Direction::Write).await
    }
}

impl<S: StreamSocket> PollStream<S>
where
    for<'a> &'a S: Read + Write,
{
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf, S::SHORT_READ_DRAINS)
    }

    /// `poll_read` into memory that may be uninitialised: on `Ok(n)`, `buf[..n]` holds the
    /// bytes read and nothing past it was written (see `PollEvented::poll_read_uninit`).
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf, S::SHORT_READ_DRAINS)
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// `AsyncWrite::poll_close` of a whole stream: shuts the write side down.
    pub(crate) fn close(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    /// One read now, if the socket is readable; `WouldBlock` otherwise.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        ready::try_io(&self.io, Direction::Read, |mut s| s.read(buf))
    }

    /// One write now, if the socket is writable; `WouldBlock` otherwise.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        ready::try_io(&self.io, Direction::Write, |mut s| s.write(buf))
    }

    /// Splits into halves sharing the stream; dropping the write half shuts the write side
    /// down.
    pub(crate) fn into_split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let stream = Arc::new(self);
        (
            ReadHalf {
                stream: stream.clone(),
            },
            WriteHalf {
                stream,
                shutdown_on_drop: true,
            },
        )
    }
}

/// The read half of a split [`PollStream`].
pub(crate) struct ReadHalf<S: AsFd> {
    stream: Arc<PollStream<S>>,
}

/// The write half of a split [`PollStream`]. Dropping it (or `close`) shuts the write side
/// down, unless it is being reunited.
pub(crate) struct WriteHalf<S: StreamSocket> {
    stream: Arc<PollStream<S>>,
    shutdown_on_drop: bool,
}

/// Halves that were not split from the same stream, handed back.
pub(crate) type Mismatched<S> = (ReadHalf<S>, WriteHalf<S>);

impl<S: StreamSocket> ReadHalf<S>
where
    for<'a> &'a S: Read + Write,
{
    /// Puts the stream back together, if `write` is its other half.
    pub(crate) fn reunite(self, write: WriteHalf<S>) -> Result<PollStream<S>, Mismatched<S>> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err((self, write));
        }
        let mut write = write;
        write.shutdown_on_drop = false;
        let stream = write.stream.clone();
        drop(write);
        drop(self);
        Ok(Arc::into_inner(stream).expect("both halves were just dropped"))
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.stream.get_ref()
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read(cx, buf)
    }

    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_uninit(cx, buf)
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read(buf)
    }
}

impl<S: StreamSocket> WriteHalf<S>
where
    for<'a> &'a S: Read + Write,
{
    pub(crate) fn get_ref(&self) -> &S {
        self.stream.get_ref()
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.stream.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored(cx, bufs)
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.stream.writable().await
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write(buf)
    }

    /// `AsyncWrite::poll_close`: shuts the write side down (once it worked, dropping the half
    /// does not do it again).
    pub(crate) fn close(&mut self) -> io::Result<()> {
        let res = self.stream.shutdown(Shutdown::Write);
        if res.is_ok() {
            self.shutdown_on_drop = false;
        }
        res
    }
}

impl<S: StreamSocket> Drop for WriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; nothing to report from a destructor.
            let _ = self.stream.get_ref().shutdown(Shutdown::Write);
        }
    }
}

// Debug shows the std socket (its addresses and fd), not the registration's internals.

impl<S: AsFd + fmt::Debug> fmt::Debug for PollStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PollStream").field(self.get_ref()).finish()
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf")
            .field(self.stream.get_ref())
            .finish()
    }
}

impl<S: StreamSocket + fmt::Debug> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf")
            .field(self.stream.get_ref())
            .finish()
    }
}

/// Implements `futures_io::AsyncRead` for a public wrapper by forwarding to the `poll_read`
/// of its `inner` field.
macro_rules! forward_async_read {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }
        }
    };
}

/// Implements `futures_io::AsyncWrite` for a public wrapper by forwarding to the
/// `poll_write`, `poll_write_vectored` and `close` of its `inner` field. Flushing has
/// nothing to do: writes go straight to the socket.
macro_rules! forward_async_write {
    ($ty:ty) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.get_mut().inner.close())
            }
        }
    };
}

pub(crate) use {forward_async_read, forward_async_write};
