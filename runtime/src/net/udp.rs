use crate::net::datagram::PollDatagram;
use std::fmt;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

/// A UDP socket.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UdpSocket;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
///     let mut buf = [0; 1500];
///     let (n, from) = socket.recv_from(&mut buf).await?;
///     socket.send_to(&buf[..n], from).await?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct UdpSocket {
    inner: PollDatagram<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (each resolved address is tried in turn).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.local_addr()?.port() != 0);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        crate::driver::io::current_io_handle()?;
        let std = crate::net::each_addr(addr, net::UdpSocket::bind)?;
        UdpSocket::from_std(std)
    }

    /// Wraps a std socket: makes it nonblocking and registers it with the current runtime.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let std = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let _socket = UdpSocket::from_std(std)?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            inner: PollDatagram::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the std one (still nonblocking).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let _std = socket.into_std()?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        Ok(self.inner.into_inner())
    }

    /// The address this socket is bound to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     println!("{}", socket.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address this socket is connected to (see [`UdpSocket::connect`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect("127.0.0.1:9000").await?;
    ///     assert_eq!(socket.peer_addr()?.port(), 9000);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets the default destination of [`UdpSocket::send`] and the only source
    /// [`UdpSocket::recv`] accepts. Never waits (a UDP connect sends nothing).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect("127.0.0.1:9000").await?;
    ///     socket.send(b"ping").await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        crate::net::each_addr(addr, |a| self.inner.get_ref().connect(a))
    }

    /// Sends `buf` to `target` (the first address it resolves to); returns the bytes sent.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.send_to(b"ping", "127.0.0.1:9000").await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = target
            .to_socket_addrs()?
            .next()
            .ok_or_else(crate::net::no_addresses)?;
        self.inner.send_with(|s| s.send_to(buf, target)).await
    }

    /// Polls to send `buf` to `target`: the poll form of [`UdpSocket::send_to`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::future::poll_fn;
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let to = "127.0.0.1:9000".parse().unwrap();
    ///     poll_fn(|cx| socket.poll_send_to(cx, b"ping", to)).await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_send_with(cx, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length and sender. Bytes beyond `buf`'s
    /// length are discarded.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let mut buf = [0; 1500];
    ///     let (n, from) = socket.recv_from(&mut buf).await?;
    ///     println!("{n} bytes from {from}");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Polls to receive one datagram: the poll form of [`UdpSocket::recv_from`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::future::poll_fn;
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let mut buf = [0; 1500];
    ///     let (_n, _from) = poll_fn(|cx| socket.poll_recv_from(cx, &mut buf)).await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.inner.poll_recv_from(cx, buf)
    }

    /// Sends `buf` to the connected address (see [`UdpSocket::connect`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect("127.0.0.1:9000").await?;
    ///     socket.send(b"ping").await?;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Receives one datagram from the connected address (see [`UdpSocket::connect`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect("127.0.0.1:9000").await?;
    ///     let mut buf = [0; 1500];
    ///     let n = socket.recv(&mut buf).await?;
    ///     println!("{n} bytes");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// Waits until the socket may be readable (a datagram or an error is waiting). The
    /// readiness may be stale: follow it with [`UdpSocket::try_recv_from`] (or
    /// [`UdpSocket::try_recv`]) and wait again when that says `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"ping", b.local_addr()?).await?;
    ///     let mut buf = [0; 16];
    ///     let (n, from) = loop {
    ///         b.readable().await?;
    ///         match b.try_recv_from(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the socket may be writable. The readiness may be stale: follow it with
    /// [`UdpSocket::try_send_to`] (or [`UdpSocket::try_send`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send_to(b"ping", b.local_addr()?)?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Sends `buf` to the connected address now, without waiting; an error of kind
    /// `WouldBlock` means the send buffer is full (the readiness is then cleared, so the next
    /// [`UdpSocket::writable`] waits for room).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.try_send(b"ping")?, 4);
    ///     let mut buf = [0; 16];
    ///     assert_eq!(b.recv(&mut buf).await?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_send(buf)
    }

    /// Sends `buf` to `target` now, without waiting; `WouldBlock` as for
    /// [`UdpSocket::try_send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.try_send_to(b"ping", b.local_addr()?)?, 4);
    ///     let mut buf = [0; 16];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!((n, from), (4, a.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.try_send_with(|s| s.send_to(buf, target))
    }

    /// Receives one datagram from the connected address now, without waiting; an error of
    /// kind `WouldBlock` means none is there (the readiness is then cleared, so the next
    /// [`UdpSocket::readable`] waits for a new one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     let mut buf = [0; 16];
    ///     assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_recv(buf)
    }

    /// Receives one datagram now, without waiting, with its sender; `WouldBlock` as for
    /// [`UdpSocket::try_recv`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use taskio_runtime::net::UdpSocket;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let mut buf = [0; 16];
    ///     let err = socket.try_recv_from(&mut buf).unwrap_err();
    ///     assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.try_recv_from(buf)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}
