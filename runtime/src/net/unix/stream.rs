use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::stream::{forward_async_read, forward_async_write, PollStream};
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

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
    pub(super) inner: PollStream<net::UnixStream>,
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
            inner: PollStream::new(stream)?,
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
        Ok(self.inner.into_inner())
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
        self.inner.get_ref().local_addr()
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
        self.inner.get_ref().peer_addr()
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
        self.inner.get_ref().shutdown(how)
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
        self.inner.get_ref().take_error()
    }

    /// Waits until the stream may be readable: data, end-of-file or an error is waiting. The
    /// readiness may be stale (another task read first, or the reactor has not looked yet), so
    /// follow it with [`UnixStream::try_read`] and wait again when that says `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (client, server) = UnixStream::pair()?;
    ///     server.writable().await?;
    ///     assert_eq!(server.try_write(b"hi")?, 2);
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         client.readable().await?;
    ///         match client.try_read(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the stream may be writable. Like [`UnixStream::readable`], the readiness
    /// may be stale: follow it with [`UnixStream::try_write`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (client, _server) = UnixStream::pair()?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_write(b"ping")?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Reads what is there now, without waiting: `Ok(0)` is end-of-file, and an error of kind
    /// `WouldBlock` means nothing is there (the stream's readiness is then cleared, so the
    /// next [`UnixStream::readable`] waits for new data).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (client, _server) = UnixStream::pair()?;
    ///     let mut buf = [0; 16];
    ///     // The other end has sent nothing.
    ///     let err = client.try_read(&mut buf).unwrap_err();
    ///     assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// Polls for a read into `buf`, which may be uninitialised: the poll form of
    /// [`UnixStream::read_uninit`]. `AsyncRead::poll_read` needs initialised memory, so a caller
    /// reading into a `Vec`'s spare capacity (or hyper's `ReadBuf`) would zero it first; this
    /// reads into it as it is, with the same readiness handling as `poll_read`.
    ///
    /// `Ready(Ok(n))`: `buf[..n]` now holds the `n` bytes read, and nothing past it was
    /// written, so a caller may then treat those `n` bytes as initialised (e.g. `set_len`).
    /// `Ok(0)` with a non-empty `buf` is end-of-file. `Pending` when nothing is there (the
    /// socket said `WouldBlock`: its readiness was cleared and the task will be woken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (reader, server) = UnixStream::pair()?;
    ///     server.writable().await?;
    ///     assert_eq!(server.try_write(b"hello")?, 5);
    ///     let mut buf: Vec<u8> = Vec::with_capacity(64);
    ///     let n = poll_fn(|cx| reader.poll_read_uninit(cx, buf.spare_capacity_mut())).await?;
    ///     // SAFETY: the read initialised the first `n` bytes of the spare capacity.
    ///     unsafe { buf.set_len(n) };
    ///     assert_eq!(buf, b"hello");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> std::task::Poll<io::Result<usize>> {
        self.inner.poll_read_uninit(cx, buf)
    }

    /// Reads into `buf`, which may be uninitialised, waiting until something is there: the
    /// read that [`futures_io::AsyncRead`] cannot do without zeroing `buf` first. Returns `n`:
    /// `buf[..n]` holds the bytes read and nothing past it was written; `0` (for a non-empty
    /// `buf`) is end-of-file. A cancellation checkpoint when it waits, like every read.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (reader, server) = UnixStream::pair()?;
    ///     server.writable().await?;
    ///     assert_eq!(server.try_write(b"hello")?, 5);
    ///     let mut buf: Vec<u8> = Vec::with_capacity(64);
    ///     let n = reader.read_uninit(buf.spare_capacity_mut()).await?;
    ///     // SAFETY: the read initialised the first `n` bytes of the spare capacity.
    ///     unsafe { buf.set_len(n) };
    ///     assert_eq!(buf, b"hello");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn read_uninit(&self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.inner.poll_read_uninit(cx, buf)).await
    }

    /// Writes what fits now, without waiting; an error of kind `WouldBlock` means the send
    /// buffer is full (the stream's readiness is then cleared, so the next
    /// [`UnixStream::writable`] waits for room).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (client, _server) = UnixStream::pair()?;
    ///     let n = client.try_write(b"hello")?;
    ///     assert_eq!(n, 5);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
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
        let (read, write) = self.inner.into_split();
        (
            OwnedReadHalf { inner: read },
            OwnedWriteHalf { inner: write },
        )
    }
}

forward_async_read!(UnixStream);
forward_async_write!(UnixStream);

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
        self.inner.get_ref().as_fd()
    }
}
