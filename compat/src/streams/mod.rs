//! asyncio's streams: [`open_connection`], [`start_server`] and their Unix-socket variants,
//! [`StreamReader`], [`StreamWriter`], [`Server`].
//!
//! | asyncio | taskio |
//! |---|---|
//! | `r, w = await open_connection(host, port)` | `let (mut r, w) = open_connection(host, port).await?;` |
//! | `await r.read(-1)` | `r.read_to_end().await?` |
//! | `await r.readline()` | `r.readline().await?` |
//! | `w.write(data); await w.drain()` | `w.write(data)?; w.drain().await?;` |
//! | `w.close(); await w.wait_closed()` | `w.close(); w.wait_closed().await?;` |
//! | `w.get_extra_info("peername")` | `w.peername()` |
//! | `except IncompleteReadError as e: e.partial` | `Err(e) if e.kind() == ErrorKind::IncompleteRead => &e.downcast_ref::<IncompleteRead>().unwrap().partial` |
//! | `open_connection(..., limit=n)` | `r.with_limit(n)` (reads are lazy) |
//!
//! # Layers
//!
//! - [`buffer`]: [`StreamBuffer`], the reader's parsing rules, pure and synchronous (fuzzed and
//!   property-tested against a model: `fuzz/fuzz_targets/stream_reader.rs`).
//! - [`reader`]: [`StreamReader`] = a `StreamBuffer` + the read half, read lazily. The
//!   runtime's own TCP and Unix sockets are read straight into the buffer's spare capacity
//!   (`poll_read_uninit`, no zeroing); other `AsyncRead` transports into zeroed space.
//! - [`writer`]: [`StreamWriter`] + the flusher task owning the write half (asyncio's
//!   transport; its protocol is in the module docs).
//! - [`server`]: [`Server`], an accept task per listening socket and a task per connection.
//!
//! # Differences from asyncio
//!
//! - `readline` on a line longer than the limit returns `LimitOverrun` and keeps the line
//!   buffered (asyncio drops it and raises `ValueError`).
//! - Two reads at once on one reader do not compile (reads take `&mut self`) instead of
//!   raising `RuntimeError`.
//! - A connection error seen by the reader is sticky, as in asyncio, and is returned at once
//!   by every read (asyncio's `read` can return `b""` after it in one race).

pub mod buffer;
mod connect;
#[doc(hidden)]
pub mod model;
mod read_io;
pub mod reader;
pub mod server;
pub mod writer;

use std::fmt;
use std::path::Path;

pub use self::buffer::{StreamBuffer, DEFAULT_LIMIT};
pub use self::connect::{
    from_io, from_tcp_stream, from_unix_stream, open_connection, open_unix_connection,
};
pub use self::reader::StreamReader;
pub use self::server::{
    start_server, start_server_with, start_unix_server, start_unix_server_with, Server,
    ServerConfig,
};
pub use self::writer::{StreamWriter, DEFAULT_HIGH_WATER};

/// A socket address: internet (TCP) or Unix-domain. What [`StreamWriter::peername`],
/// [`StreamWriter::sockname`] and [`Server::sockets`] return.
///
/// # Examples
///
/// ```
/// let addr = taskio::streams::Address::Inet("127.0.0.1:80".parse().unwrap());
/// assert_eq!(addr.as_inet().unwrap().port(), 80);
/// assert!(addr.as_pathname().is_none());
/// assert_eq!(addr.to_string(), "127.0.0.1:80");
/// ```
#[derive(Clone, Debug)]
pub enum Address {
    /// An IPv4 or IPv6 address and port.
    Inet(std::net::SocketAddr),
    /// A Unix-domain socket address (a path, or unnamed).
    Unix(std::os::unix::net::SocketAddr),
}

impl Address {
    /// The internet address, if this is one.
    pub fn as_inet(&self) -> Option<std::net::SocketAddr> {
        match self {
            Address::Inet(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }

    /// The path of a Unix-domain address, if it has one.
    pub fn as_pathname(&self) -> Option<&Path> {
        match self {
            Address::Inet(_) => None,
            Address::Unix(a) => a.as_pathname(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(a) => fmt::Display::fmt(a, f),
            Address::Unix(a) => match a.as_pathname() {
                Some(p) => fmt::Display::fmt(&p.display(), f),
                None => f.write_str("(unnamed)"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    fn _assert_send_sync() {
        fn send<T: Send>() {}
        fn send_sync<T: Send + Sync>() {}
        send::<super::StreamReader>();
        send_sync::<super::StreamWriter>();
        send_sync::<super::Server>();
        send_sync::<super::Address>();
    }
}
