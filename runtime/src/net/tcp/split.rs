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
}

forward_async_read!(OwnedReadHalf);
forward_async_write!(OwnedWriteHalf);
