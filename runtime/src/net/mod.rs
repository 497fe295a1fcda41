//! TCP, UDP and Unix-domain sockets driven by the runtime's reactor.
//!
//! Each type wraps the matching `std` socket, made nonblocking and registered with the
//! current runtime's I/O driver when it is created, so it must be created inside a runtime
//! built with I/O enabled (otherwise creation fails with an `io::Error` of kind `Other`:
//! "no taskio runtime with I/O enabled"). Streams implement the runtime-neutral
//! [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
//!
//! Streams and datagram sockets also have tokio's readiness API: `readable()`/`writable()`
//! wait until the socket may be ready, and `try_read`/`try_write` (`try_send*`/`try_recv*`
//! for datagrams) make one nonblocking call, failing with `WouldBlock` (and clearing the
//! readiness) when it would have to wait:
//!
//! ```
//! use std::io;
//! use taskio_runtime::net::UnixDatagram;
//!
//! taskio_runtime::Runtime::new().unwrap().block_on(async {
//!     let (a, b) = UnixDatagram::pair()?;
//!     a.send(b"ping").await?;
//!     let mut buf = [0; 16];
//!     let n = loop {
//!         b.readable().await?;
//!         match b.try_recv(&mut buf) {
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
//!             r => break r?,
//!         }
//!     };
//!     assert_eq!(&buf[..n], b"ping");
//!     Ok::<_, io::Error>(())
//! }).unwrap();
//! ```
//!
//! Streams and their read halves also read into memory that may be uninitialised
//! (`poll_read_uninit` / `read_uninit`, e.g. a `Vec`'s spare capacity), which `AsyncRead`
//! cannot do without zeroing it first.
//!
//! TCP and Unix streams share one implementation (`stream.rs`), as do UDP and Unix datagram
//! sockets (`datagram.rs`); the public types are thin wrappers around them.
//!
//! Limits, for now:
//! - address resolution in `bind`/`connect`/`send_to` goes through `std::net::ToSocketAddrs`,
//!   which may block on DNS for host names (IP literals never block);
//! - [`UnixStream::connect`] uses std's blocking `connect`, which returns at once for a
//!   listening socket unless its backlog is full;
//! - each direction of a socket has one waker slot (plus overflow for several tasks waiting on
//!   the same direction, e.g. several acceptors): all waiters wake on readiness and race.
//!
//! This module is Unix-only.

pub mod tcp;
pub mod unix;

mod datagram;
mod ready;
mod stream;
mod udp;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// The listen backlog of [`TcpListener::bind`] and [`UnixListener::bind`] (and of `taskio`'s
/// servers): 1024, as tokio's `TcpListener::bind`. std listens with 128, which a burst of
/// connects overflows (the kernel then drops or refuses them); asyncio's `start_server`
/// defaults to 100. Linux caps any backlog at `net.core.somaxconn` (4096 by default since
/// 5.4). [`TcpListener::bind_with_backlog`] and [`UnixListener::bind_with_backlog`] take
/// another.
///
/// # Examples
///
/// ```
/// assert_eq!(taskio_runtime::net::DEFAULT_BACKLOG, 1024);
/// ```
pub const DEFAULT_BACKLOG: u32 = 1024;

/// `backlog` as `listen(2)` takes it: a C int (the kernel clamps it to `somaxconn`).
pub(crate) fn backlog_arg(backlog: u32) -> i32 {
    i32::try_from(backlog).unwrap_or(i32::MAX)
}

/// Resolves `addr` and runs `f` on each address until one succeeds; returns the last error.
pub(crate) fn each_addr<A: ToSocketAddrs, T>(
    addr: A,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any addresses",
    )
}

#[cfg(test)]
fn _assert_send_sync() {
    fn is<T: Send + Sync + Unpin>() {}
    is::<TcpListener>();
    is::<TcpStream>();
    is::<tcp::OwnedReadHalf>();
    is::<tcp::OwnedWriteHalf>();
    is::<UdpSocket>();
    is::<UnixListener>();
    is::<UnixStream>();
    is::<UnixDatagram>();
    is::<unix::OwnedReadHalf>();
    is::<unix::OwnedWriteHalf>();
}
