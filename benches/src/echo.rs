//! Loopback echo workload, generic over [`NetRt`] (the `echo_bench` binary).
//!
//! The server accepts on 127.0.0.1 and runs one task per connection: read, write back what
//! was read. Each client connection is one task: write a message, read until the whole
//! message is back, record the round trip, repeat until the deadline. Round trips that
//! start during the warm-up are not recorded.

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::{Rt, Smol, Taskio, Tokio};

/// The socket operations the echo workload needs from a runtime.
pub trait NetRt: Rt {
    /// `net::TcpListener`.
    type Listener: Send + Sync + 'static;
    /// `net::TcpStream`.
    type Stream: Send + 'static;

    /// `TcpListener::bind`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    /// `TcpListener::local_addr`.
    fn local_addr(l: &Self::Listener) -> SocketAddr;
    /// `TcpListener::accept`, nodelay set on the accepted stream.
    fn accept(l: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    /// `TcpStream::connect`, nodelay set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// One `read`.
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    /// `write_all`.
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

impl NetRt for Taskio {
    type Listener = taskio_runtime::net::TcpListener;
    type Stream = taskio_runtime::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        taskio_runtime::net::TcpListener::bind(addr)
    }
    fn local_addr(l: &Self::Listener) -> SocketAddr {
        l.local_addr().unwrap()
    }
    async fn accept(l: &Self::Listener) -> io::Result<Self::Stream> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = taskio_runtime::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        poll_fn(move |cx| futures_io::AsyncRead::poll_read(Pin::new(&mut *s), cx, buf))
    }
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        mut buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        poll_fn(move |cx| {
            while !buf.is_empty() {
                match futures_io::AsyncWrite::poll_write(Pin::new(&mut *s), cx, buf) {
                    std::task::Poll::Ready(Ok(0)) => {
                        return std::task::Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
                    }
                    std::task::Poll::Ready(Ok(n)) => buf = &buf[n..],
                    std::task::Poll::Ready(Err(e)) => return std::task::Poll::Ready(Err(e)),
                    std::task::Poll::Pending => return std::task::Poll::Pending,
                }
            }
            std::task::Poll::Ready(Ok(()))
        })
    }
}

impl NetRt for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr)
    }
    fn local_addr(l: &Self::Listener) -> SocketAddr {
        l.local_addr().unwrap()
    }
    async fn accept(l: &Self::Listener) -> io::Result<Self::Stream> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        tokio::io::AsyncReadExt::read(s, buf)
    }
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        tokio::io::AsyncWriteExt::write_all(s, buf)
    }
}

impl NetRt for Smol {
    // async-net's sockets: async-io's `Async<std::net::TcpListener/TcpStream>`.
    type Listener = smol::net::TcpListener;
    type Stream = smol::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        smol::net::TcpListener::bind(addr)
    }
    fn local_addr(l: &Self::Listener) -> SocketAddr {
        l.local_addr().unwrap()
    }
    async fn accept(l: &Self::Listener) -> io::Result<Self::Stream> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = smol::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        smol::io::AsyncReadExt::read(s, buf)
    }
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        smol::io::AsyncWriteExt::write_all(s, buf)
    }
}

/// Binds 127.0.0.1:0 on `rt` and spawns the accept loop; returns the address. The server
/// lives until `rt` is dropped.
pub fn start_server<S: NetRt>(rt: &S::Runtime, max_msg: usize) -> SocketAddr {
    let listener = S::block_on(rt, S::bind(SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
    let addr = S::local_addr(&listener);
    drop(S::rt_spawn(rt, async move {
        while let Ok(mut s) = S::accept(&listener).await {
            drop(S::spawn(async move {
                let mut buf = vec![0u8; max_msg];
                loop {
                    match S::read(&mut s, &mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if S::write_all(&mut s, &buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }));
        }
    }));
    addr
}

/// Runs `conns` client connections on `rt` against `addr` with `msg`-byte messages for
/// `warmup + measure`; returns every round-trip latency measured after the warm-up.
pub fn run_clients<C: NetRt>(
    rt: &C::Runtime,
    addr: SocketAddr,
    conns: usize,
    msg: usize,
    warmup: Duration,
    measure: Duration,
) -> Vec<Duration> {
    C::block_on(rt, async move {
        let mut streams = Vec::with_capacity(conns);
        for _ in 0..conns {
            streams.push(C::connect(addr).await.unwrap());
        }
        let start = Instant::now();
        let (from, until) = (start + warmup, start + warmup + measure);
        let handles: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                C::spawn(async move {
                    let out_buf = vec![i as u8; msg];
                    let mut in_buf = vec![0u8; msg];
                    let mut lat = Vec::new();
                    loop {
                        let t0 = Instant::now();
                        if t0 >= until {
                            break;
                        }
                        C::write_all(&mut s, &out_buf).await.unwrap();
                        let mut got = 0;
                        while got < msg {
                            let n = C::read(&mut s, &mut in_buf[got..]).await.unwrap();
                            assert!(n > 0, "server closed the connection");
                            got += n;
                        }
                        if t0 >= from {
                            lat.push(t0.elapsed());
                        }
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all
    })
}
