use super::split::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::io::PollEvented;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A Unix-domain stream connection. Reads and writes through [`futures_io::AsyncRead`] and
/// [`futures_io::AsyncWrite`]; `poll_close` shuts the write side down.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UnixStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     # let _ = (a, b);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// Std's `connect` is used: for a Unix socket it returns at once unless the listener's
    /// backlog is full, in which case it blocks the thread until there is room.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let _stream = UnixStream::connect("/tmp/taskio.sock").await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        crate::driver::io::current_io_handle()?;
        UnixStream::from_std(net::UnixStream::connect(path)?)
    }

    /// A connected pair of streams.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     # let _ = (a, b);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        crate::driver::io::current_io_handle()?;
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected std stream: makes it nonblocking and registers it with the current
    /// runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let _a = UnixStream::from_std(a)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Deregisters the stream and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let _std = a.into_std()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::Shutdown;
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     a.shutdown(Shutdown::Write)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     assert!(a.take_error()?.is_none());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits the stream into a read half and a write half that can move to different tasks.
    /// Dropping the write half shuts the write side down.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let (read, write) = a.into_split();
    ///     let _a = read.reunite(write).unwrap();
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }
}

impl futures_io::AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for UnixStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
