use crate::net::datagram::PollDatagram;
use std::fmt;
use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

/// A Unix-domain datagram socket: bound to a path, unbound, or one of a connected pair.
///
/// # Examples
///
/// ```
/// use taskio_runtime::net::UnixDatagram;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UnixDatagram {
    inner: PollDatagram<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to `path` (which must not exist yet; the file stays after the
    /// socket is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("taskio-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let socket = UnixDatagram::bind(&path)?;
    ///     assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        crate::driver::io::current_io_handle()?;
        UnixDatagram::from_std(net::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address: it can send (to a path, or once connected) and
    /// receive replies only from a peer it is connected to.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UnixDatagram::unbound()?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        crate::driver::io::current_io_handle()?;
        UnixDatagram::from_std(net::UnixDatagram::unbound()?)
    }

    /// A pair of unnamed sockets connected to each other.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"pong").await?;
    ///     let mut buf = [0; 16];
    ///     assert_eq!(a.recv(&mut buf).await?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        crate::driver::io::current_io_handle()?;
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket: makes it nonblocking and registers it with the current runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let std = std::os::unix::net::UnixDatagram::unbound()?;
    ///     let _socket = UnixDatagram::from_std(std)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            inner: PollDatagram::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UnixDatagram::unbound()?;
    ///     let std = socket.into_std()?;
    ///     std.set_nonblocking(false)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        Ok(self.inner.into_inner())
    }

    /// Sets the default destination of [`UnixDatagram::send`] and the only source
    /// [`UnixDatagram::recv`] accepts. Never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("taskio-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     client.send(b"ping").await?;
    ///     let mut buf = [0; 16];
    ///     assert_eq!(server.recv(&mut buf).await?, 4);
    ///     std::fs::remove_file(&path)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.get_ref().connect(path)
    }

    /// The address this socket is bound to (unnamed for [`UnixDatagram::unbound`] and
    /// [`UnixDatagram::pair`] sockets).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the connected peer; fails with `NotConnected` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     assert!(UnixDatagram::unbound()?.peer_addr().is_err());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UnixDatagram::unbound()?;
    ///     assert!(socket.take_error()?.is_none());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert_eq!(a.send(b"ping").await?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Receives one datagram from the connected peer into `buf`; bytes beyond `buf`'s
    /// length are discarded.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 16];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("taskio-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     assert_eq!(client.send_to(b"ping", &path).await?, 4);
    ///     let mut buf = [0; 16];
    ///     assert_eq!(server.recv(&mut buf).await?, 4);
    ///     std::fs::remove_file(&path)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.send_with(|s| s.send_to(buf, path)).await
    }

    /// Receives one datagram into `buf`; returns its length and the sender's address
    /// (unnamed when the sender is not bound to a path).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 16];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!(n, 4);
    ///     assert!(from.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Waits until the socket may be readable. The readiness may be stale: follow it with
    /// [`UnixDatagram::try_recv`] (or [`UnixDatagram::try_recv_from`]) and wait again when
    /// that says `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         b.readable().await?;
    ///         match b.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the socket may be writable. The readiness may be stale: follow it with
    /// [`UnixDatagram::try_send`] (or [`UnixDatagram::try_send_to`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"ping")?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Sends `buf` to the connected peer now, without waiting; an error of kind
    /// `WouldBlock` means the peer's queue is full (the readiness is then cleared, so the
    /// next [`UnixDatagram::writable`] waits for room).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     assert_eq!(a.try_send(b"ping")?, 4);
    ///     let mut buf = [0; 16];
    ///     assert_eq!(b.recv(&mut buf).await?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_send(buf)
    }

    /// Sends `buf` to the socket bound at `path` now, without waiting; `WouldBlock` as for
    /// [`UnixDatagram::try_send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("taskio-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     assert_eq!(client.try_send_to(b"ping", &path)?, 4);
    ///     let mut buf = [0; 16];
    ///     assert_eq!(server.recv(&mut buf).await?, 4);
    ///     std::fs::remove_file(&path)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        self.inner.try_send_with(|s| s.send_to(buf, path))
    }

    /// Receives one datagram from the connected peer now, without waiting; an error of kind
    /// `WouldBlock` means none is there (the readiness is then cleared, so the next
    /// [`UnixDatagram::readable`] waits for a new one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     let mut buf = [0; 16];
    ///     assert_eq!(a.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_recv(buf)
    }

    /// Receives one datagram now, without waiting, with its sender's address; `WouldBlock`
    /// as for [`UnixDatagram::try_recv`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UnixDatagram;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"ping").await?;
    ///     b.readable().await?;
    ///     let mut buf = [0; 16];
    ///     let (n, _from) = b.try_recv_from(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.try_recv_from(buf)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for UnixDatagram {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}
