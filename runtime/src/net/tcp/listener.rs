use super::TcpStream;
use crate::driver::io::{Direction, PollEvented};
use crate::net::DEFAULT_BACKLOG;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::task::{ready, Context, Poll};

/// `socket` + `SO_REUSEADDR` + `bind` + `listen(backlog)`: std's `TcpListener::bind` with a
/// backlog of the caller's (std has no way to pass one).
fn listen(addr: SocketAddr, backlog: u32) -> io::Result<net::TcpListener> {
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
    // As std does on Unix: a restarted server can bind while old connections linger in
    // TIME_WAIT.
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, crate::net::backlog_arg(backlog))?;
    Ok(net::TcpListener::from(fd))
}

/// A TCP socket listening for connections.
///
/// # Examples
///
/// An echo server:
///
/// ```no_run
/// use futures_io::{AsyncRead, AsyncWrite};
/// use taskio_runtime::net::TcpListener;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let (stream, peer) = listener.accept().await?;
///     println!("connection from {peer}");
///     # let _ = stream;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (each resolved address is tried in turn; the last error is
    /// returned). Must be called inside a runtime with I/O enabled.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.port() != 0);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(addr, DEFAULT_BACKLOG).await
    }

    /// [`TcpListener::bind`] with the listen backlog given: how many connections the kernel
    /// queues, handshake done, before `accept` takes them (Linux caps it at
    /// `net.core.somaxconn`, and `0` still lets a few in). Connections past a full queue are
    /// dropped or refused by the kernel, so a server meeting bursts of connects wants a large
    /// one; [`bind`](TcpListener::bind) uses [`DEFAULT_BACKLOG`].
    ///
    /// The socket is made as std makes it (`SO_REUSEADDR` set, close-on-exec), and
    /// nonblocking from the start.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 4096).await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn bind_with_backlog<A: ToSocketAddrs>(
        addr: A,
        backlog: u32,
    ) -> io::Result<TcpListener> {
        // Fail before binding when there is no runtime, so no port is taken for nothing.
        crate::driver::io::current_io_handle()?;
        let std = crate::net::each_addr(addr, |a| listen(a, backlog))?;
        TcpListener::from_std(std)
    }

    /// Waits for a connection; returns the connected stream and the peer's address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     # let _ = server;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the poll form of [`TcpListener::accept`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::future::poll_fn;
    /// use taskio_runtime::net::TcpListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let (stream, peer) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     # let _ = (stream, peer);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) = ready!(self
            .io
            .registration()
            .poll_io(cx, Direction::Read, || self.io.get_ref().accept()))?;
        Poll::Ready(TcpStream::from_std(stream).map(|s| (s, addr)))
    }

    /// Wraps a std listener: makes it nonblocking and registers it with the current runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let listener = TcpListener::from_std(std)?;
    ///     # let _ = listener;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(listener)?,
        })
    }

    /// Deregisters the listener and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let std = listener.into_std()?;
    ///     std.set_nonblocking(false)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// The address this listener is bound to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
