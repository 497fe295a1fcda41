//! Opening connections: TCP, Unix, or any pair of `futures_io` halves.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use futures_io::{AsyncRead, AsyncWrite};
use taskio_runtime::net::{TcpStream, UnixStream};

use super::read_io::ReadIo;
use super::{Address, StreamReader, StreamWriter};
use crate::Result;

/// Resolves `host:port`: an IP literal at once, a name on the blocking pool (the system
/// resolver blocks).
pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = host.to_owned();
    let addrs = crate::threads::to_thread(move || {
        use std::net::ToSocketAddrs;
        (host.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
    })
    .await??;
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no addresses to connect to").into());
    }
    Ok(addrs)
}

/// Connects to `host:port` over TCP (each resolved address in turn) and returns the
/// connection's reader and writer: asyncio's `open_connection`. `TCP_NODELAY` is set, as
/// asyncio does.
///
/// # Examples
///
/// ```
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
///     let port = listener.local_addr().unwrap().port();
///     let (_reader, writer) = taskio::open_connection("127.0.0.1", port).await.unwrap();
///     assert_eq!(writer.peername().unwrap().as_inet().unwrap().port(), port);
///     let refused = taskio::open_connection("127.0.0.1", 1).await;
///     assert_eq!(refused.unwrap_err().kind(), taskio::ErrorKind::Io);
/// });
/// ```
pub async fn open_connection(host: &str, port: u16) -> Result<(StreamReader, StreamWriter)> {
    let addrs = resolve(host, port).await?;
    let stream = TcpStream::connect(&addrs[..]).await?;
    Ok(from_tcp_stream(stream))
}

/// Connects to the Unix-domain socket at `path`: asyncio's `open_unix_connection`.
pub async fn open_unix_connection(path: impl AsRef<Path>) -> Result<(StreamReader, StreamWriter)> {
    let stream = UnixStream::connect(path).await?;
    Ok(from_unix_stream(stream))
}

/// Reader and writer over a connected TCP stream (asyncio's `open_connection(sock=...)`).
///
/// # Panics
///
/// Outside a runtime (the writer's flusher task is spawned).
pub fn from_tcp_stream(stream: TcpStream) -> (StreamReader, StreamWriter) {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok().map(Address::Inet);
    let local = stream.local_addr().ok().map(Address::Inet);
    let (r, w) = stream.into_split();
    build(ReadIo::Tcp(r), Box::new(w), peer, local)
}

/// Reader and writer over a connected Unix-domain stream.
///
/// # Panics
///
/// Outside a runtime (the writer's flusher task is spawned).
pub fn from_unix_stream(stream: UnixStream) -> (StreamReader, StreamWriter) {
    let peer = stream.peer_addr().ok().map(Address::Unix);
    let local = stream.local_addr().ok().map(Address::Unix);
    let (r, w) = stream.into_split();
    build(ReadIo::Unix(r), Box::new(w), peer, local)
}

/// Reader and writer over any read and write halves (no addresses).
///
/// # Panics
///
/// Outside a runtime (the writer's flusher task is spawned).
///
/// # Examples
///
/// ```
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let (a, b) = taskio::runtime::net::UnixStream::pair().unwrap();
///     let (ra, wa) = a.into_split();
///     let (mut reader, _w) = taskio::streams::from_io(ra, wa);
///     let (_r, writer) = taskio::streams::from_unix_stream(b);
///     writer.write(b"over a pair\n").unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"over a pair\n");
/// });
/// ```
pub fn from_io<R, W>(read: R, write: W) -> (StreamReader, StreamWriter)
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    build(ReadIo::Generic(Box::new(read)), Box::new(write), None, None)
}

fn build(
    read: ReadIo,
    write: Box<dyn AsyncWrite + Send + Unpin>,
    peer: Option<Address>,
    local: Option<Address>,
) -> (StreamReader, StreamWriter) {
    let (writer, shared) = StreamWriter::spawn(write, peer, local);
    (StreamReader::new(read, Some(shared)), writer)
}
