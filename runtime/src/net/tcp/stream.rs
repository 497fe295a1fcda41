use super::split::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::driver::io::{Direction, PollEvented};
use std::fmt;
use std::io::{self, IoSlice};
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

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
    io: PollEvented<net::TcpStream>,
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
            io: PollEvented::new(net::TcpStream::from(fd))?,
        };
        loop {
            let ev = stream.io.registration().ready(Direction::Write).await?;
            if let Some(e) = stream.io.get_ref().take_error()? {
                return Err(e);
            }
            match stream.io.get_ref().peer_addr() {
                Ok(_) => return Ok(stream),
                // Spurious readiness: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    stream.io.registration().clear_readiness(ev)
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
            io: PollEvented::new(stream)?,
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
        Ok(self.io.into_inner())
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
        self.io.get_ref().local_addr()
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
        self.io.get_ref().peer_addr()
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
        self.io.get_ref().set_nodelay(nodelay)
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
        self.io.get_ref().nodelay()
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
        self.io.get_ref().shutdown(how)
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
        self.io.get_ref().take_error()
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

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
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
        self.io.get_ref().as_fd()
    }
}
