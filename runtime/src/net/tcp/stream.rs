use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::driver::io::Direction;
use crate::net::stream::{forward_async_read, forward_async_write, PollStream};
use std::fmt;
use std::io;
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};

/// A TCP connection. Reads and writes through [`futures_io::AsyncRead`] and
/// [`futures_io::AsyncWrite`]; `poll_close` shuts the write side down.
///
/// # Examples
///
/// ```no_run
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_io::AsyncWrite;
/// use taskio_runtime::net::TcpStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let mut stream = TcpStream::connect("127.0.0.1:8080").await?;
///     let n = poll_fn(|cx| Pin::new(&mut stream).poll_write(cx, b"hello")).await?;
///     assert!(n > 0);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct TcpStream {
    pub(super) inner: PollStream<net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn (the last error is
    /// returned). The connect itself is nonblocking: the task waits for it in the reactor.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     println!("connected to {}", stream.peer_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        crate::driver::io::current_io_handle()?;
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_addr(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(crate::net::no_addresses))
    }

    /// One nonblocking connect: std cannot start a connect without blocking, so the socket is
    /// made with rustix (`socket(NONBLOCK)` + `connect` → `EINPROGRESS`), registered, and
    /// finished when the reactor reports it writable (`SO_ERROR` says how it went).
    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        use rustix::net::{AddressFamily, SocketFlags, SocketType};
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::INET,
            SocketAddr::V6(_) => AddressFamily::INET6,
        };
        let fd = rustix::net::socket_with(
            family,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) | Err(rustix::io::Errno::INPROGRESS) => {}
            Err(e) => return Err(e.into()),
        }
        // Registered after `connect` started: a socket that never connected reports a
        // hang-up, which must not be mistaken for the connect's end.
        let stream = TcpStream {
            inner: PollStream::new(net::TcpStream::from(fd))?,
        };
        let registration = stream.inner.io().registration();
        loop {
            let ev = registration.ready(Direction::Write).await?;
            if let Some(e) = stream.take_error()? {
                return Err(e);
            }
            match stream.peer_addr() {
                Ok(_) => return Ok(stream),
                // Spurious readiness: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    registration.clear_readiness(ev)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Wraps a connected std stream: makes it nonblocking and registers it with the current
    /// runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let std = std::net::TcpStream::connect("127.0.0.1:8080")?;
    ///     let stream = TcpStream::from_std(std)?;
    ///     # let _ = stream;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            inner: PollStream::new(stream)?,
        })
    }

    /// Deregisters the stream and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     let std = stream.into_std()?;
    ///     std.set_nonblocking(false)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        Ok(self.inner.into_inner())
    }

    /// The local address of this connection.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     println!("{}", stream.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The remote address of this connection.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     assert_eq!(stream.peer_addr()?.port(), 8080);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (turns Nagle's algorithm off when `true`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     println!("nodelay: {}", stream.nodelay()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side, or both. After `Shutdown::Write` the peer
    /// reads end-of-file; this side can still read.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::Shutdown;
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     stream.shutdown(Shutdown::Write)?;
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
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     assert!(stream.take_error()?.is_none());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }

    /// Waits until the stream may be readable: data, end-of-file or an error is waiting. The
    /// readiness may be stale (another task read first, or the reactor has not looked yet), so
    /// follow it with [`TcpStream::try_read`] and wait again when that says `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
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

    /// Waits until the stream may be writable. Like [`TcpStream::readable`], the readiness
    /// may be stale: follow it with [`TcpStream::try_write`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
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
    /// next [`TcpStream::readable`] waits for new data).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut buf = [0; 16];
    ///     // The server has sent nothing.
    ///     let err = client.try_read(&mut buf).unwrap_err();
    ///     assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// Polls for a read into `buf`, which may be uninitialised: the poll form of
    /// [`TcpStream::read_uninit`]. `AsyncRead::poll_read` needs initialised memory, so a caller
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
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     server.writable().await?;
    ///     assert_eq!(server.try_write(b"hello")?, 5);
    ///     let reader = client;
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
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     server.writable().await?;
    ///     assert_eq!(server.try_write(b"hello")?, 5);
    ///     let reader = client;
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
    /// [`TcpStream::writable`] waits for room).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let n = client.try_write(b"hello")?;
    ///     assert_eq!(n, 5);
    ///     # let _ = server;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }

    /// Splits the stream into a read half and a write half that can move to different tasks.
    /// Dropping the write half shuts the write side down; [`OwnedReadHalf::reunite`] puts the
    /// halves back together.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let stream = TcpStream::connect("127.0.0.1:8080").await?;
    ///     let (read, write) = stream.into_split();
    ///     let stream = read.reunite(write).unwrap();
    ///     # let _ = stream;
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

forward_async_read!(TcpStream);
forward_async_write!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}
