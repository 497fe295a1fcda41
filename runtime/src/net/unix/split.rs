//! Owned halves of a [`UnixStream`], sharing it through an `Arc`.

use super::UnixStream;
use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The read half of a [`UnixStream`], from [`UnixStream::into_split`].
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UnixStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (read, _write) = UnixStream::connect("/tmp/sock").await?.into_split();
///     println!("reading from {:?}", read.peer_addr()?);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<UnixStream>,
}

/// The write half of a [`UnixStream`], from [`UnixStream::into_split`]. Dropping it (or
/// `poll_close`) shuts the connection's write side down.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UnixStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (_read, write) = UnixStream::connect("/tmp/sock").await?.into_split();
///     drop(write); // the peer now reads end-of-file
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; here they are
/// back.
///
/// # Examples
///
/// ```no_run
/// use taskio_runtime::net::UnixStream;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let (r1, _w1) = UnixStream::connect("/tmp/sock").await?.into_split();
///     let (_r2, w2) = UnixStream::connect("/tmp/sock").await?.into_split();
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

pub(super) fn split_owned(stream: UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

impl OwnedReadHalf {
    /// Puts the stream back together, if `other` is its write half.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     let _stream = read.reunite(write).expect("same stream");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        other.shutdown_on_drop = false;
        let inner = other.inner.clone();
        drop(other);
        drop(self);
        Ok(Arc::try_unwrap(inner).expect("both halves were just dropped"))
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, _write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     println!("{:?}", read.peer_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, _write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     println!("{:?}", read.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together, if `other` is its read half.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (read, write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     let _stream = write.reunite(read).expect("same stream");
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn reunite(self, other: OwnedReadHalf) -> Result<UnixStream, ReuniteError> {
        other.reunite(self)
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (_read, write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     println!("{:?}", write.peer_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use taskio_runtime::net::UnixStream;
    ///
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (_read, write) = UnixStream::connect("/tmp/sock").await?.into_split();
    ///     println!("{:?}", write.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; nothing to report from a destructor.
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl futures_io::AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let res = self.inner.shutdown(Shutdown::Write);
        if res.is_ok() {
            self.shutdown_on_drop = false;
        }
        Poll::Ready(res)
    }
}
