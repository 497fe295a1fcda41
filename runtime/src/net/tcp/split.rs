//! Owned halves of a [`TcpStream`], sharing it through an `Arc`.

use super::TcpStream;
use crate::net::stream::{forward_async_read, forward_async_write, ReadHalf, WriteHalf};
use std::error::Error;
use std::fmt;
use std::io;
use std::net::SocketAddr;

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::TcpStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (read, _write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
///     println!("reading from {}", read.peer_addr()?);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf {
    pub(super) inner: ReadHalf<std::net::TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it (or
/// `poll_close`) shuts the connection's write side down.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::TcpStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (_read, write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
///     drop(write); // the peer now reads end-of-file
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf {
    pub(super) inner: WriteHalf<std::net::TcpStream>,
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; here they are
/// back.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::TcpStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (r1, _w1) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
///     let (_r2, w2) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
///     let err = r1.reunite(w2).unwrap_err();
///     let (_r1, _w2) = (err.0, err.1);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the stream back together, if `other` is its write half.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     let _stream = read.reunite(write).expect("same stream");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        match self.inner.reunite(other.inner) {
            Ok(inner) => Ok(TcpStream { inner }),
            Err((read, write)) => Err(ReuniteError(
                OwnedReadHalf { inner: read },
                OwnedWriteHalf { inner: write },
            )),
        }
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, _write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     assert_eq!(read.peer_addr()?.port(), 8080);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, _write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     println!("{}", read.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Waits until the stream may be readable; see [`TcpStream::readable`].
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
    ///     let (read, _write) = client.into_split();
    ///     assert_eq!(server.try_write(b"hi")?, 2);
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         read.readable().await?;
    ///         match read.try_read(&mut buf) {
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

    /// Reads what is there now, without waiting; see [`TcpStream::try_read`].
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
    ///     let (read, _write) = client.into_split();
    ///     let mut buf = [0; 16];
    ///     assert_eq!(read.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    ///     # let _ = server;
    ///     Ok::<_, io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// Polls for a read into `buf`, which may be uninitialised: the poll form of
    /// [`OwnedReadHalf::read_uninit`]. See [`TcpStream::poll_read_uninit`].
    ///
    /// `Ready(Ok(n))`: `buf[..n]` now holds the `n` bytes read, and nothing past it was
    /// written. `Ok(0)` with a non-empty `buf` is end-of-file.
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
    ///     let (reader, _write) = client.into_split();
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
    /// use taskio_runtime::net::{TcpListener, TcpStream};
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (reader, _write) = client.into_split();
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
}

impl OwnedWriteHalf {
    /// Puts the stream back together, if `other` is its read half.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     let _stream = write.reunite(read).expect("same stream");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (_read, write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     assert_eq!(write.peer_addr()?.port(), 8080);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::TcpStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (_read, write) = TcpStream::connect("127.0.0.1:8080").await?.into_split();
    ///     println!("{}", write.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Waits until the stream may be writable; see [`TcpStream::writable`].
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
    ///     let (_read, write) = client.into_split();
    ///     write.writable().await?;
    ///     assert_eq!(write.try_write(b"ping")?, 4);
    ///     # let _ = server;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Writes what fits now, without waiting; see [`TcpStream::try_write`].
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
    ///     let (_read, write) = client.into_split();
    ///     assert_eq!(write.try_write(b"hello")?, 5);
    ///     # let _ = server;
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }
}

forward_async_read!(OwnedReadHalf);
forward_async_write!(OwnedWriteHalf);
