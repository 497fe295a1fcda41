use super::UnixStream;
use crate::driver::io::{Direction, PollEvented};
use crate::net::DEFAULT_BACKLOG;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A Unix-domain socket listening for connections.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UnixListener;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
///     let (stream, _addr) = listener.accept().await?;
///     # let _ = stream;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to the socket file at `path` (which must not exist). Not `async`:
    /// binding a Unix socket never waits. Must be called inside a runtime with I/O enabled.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
    ///     # let _ = listener;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::bind_with_backlog(path, DEFAULT_BACKLOG)
    }

    /// [`UnixListener::bind`] with the listen backlog given: how many connections the kernel
    /// queues before `accept` takes them (Linux caps it at `net.core.somaxconn`). A client
    /// connecting to a full queue waits, or fails with `EAGAIN` when nonblocking;
    /// [`bind`](UnixListener::bind) uses [`DEFAULT_BACKLOG`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::{UnixListener, UnixStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("taskio-doc-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("backlog.sock");
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind_with_backlog(&path, 4096)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, _addr) = listener.accept().await?;
    ///     std::fs::remove_file(&path)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind_with_backlog<P: AsRef<Path>>(path: P, backlog: u32) -> io::Result<UnixListener> {
        use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
        crate::driver::io::current_io_handle()?;
        let addr = SocketAddrUnix::new(path.as_ref())?;
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )?;
        rustix::net::bind(&fd, &addr)?;
        rustix::net::listen(&fd, crate::net::backlog_arg(backlog))?;
        UnixListener::from_std(net::UnixListener::from(fd))
    }

    /// Waits for a connection; returns the stream and the peer's (usually unnamed) address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::{UnixListener, UnixStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
    ///     let _client = UnixStream::connect("/tmp/taskio.sock").await?;
    ///     let (_server, _addr) = listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the poll form of [`UnixListener::accept`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::future::poll_fn;
    /// use taskio_runtime::net::UnixListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
    ///     let (_stream, _addr) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(self
            .io
            .registration()
            .poll_io(cx, Direction::Read, || self.io.get_ref().accept()))?;
        Poll::Ready(UnixStream::from_std(stream).map(|s| (s, addr)))
    }

    /// Wraps a std listener: makes it nonblocking and registers it with the current runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let std = std::os::unix::net::UnixListener::bind("/tmp/taskio.sock")?;
    ///     let _listener = UnixListener::from_std(std)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(listener)?,
        })
    }

    /// Deregisters the listener and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
    ///     let _std = listener.into_std()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// The address this listener is bound to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixListener;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind("/tmp/taskio.sock")?;
    ///     println!("{:?}", listener.local_addr()?.as_pathname());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for UnixListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
