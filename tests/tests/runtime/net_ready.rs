//! The readiness API (`readable`/`writable`/`try_read`/`try_write`, UDP's `try_send*` and
//! `try_recv*`, and the split halves' share) through the real reactor, loopback only, on every
//! runtime flavour. The generic stream bodies run on a TCP pair and on a Unix pair.

use futures_io::{AsyncRead, AsyncWrite};
use std::future::Future;
use std::io::{self, ErrorKind::WouldBlock};
use taskio_runtime::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use taskio_runtime::spawn;
use taskio_tests::io::{close, read_exact, write_all};
use taskio_tests::{poll_once, rt_tests, Flavor};

/// The readiness methods TcpStream and UnixStream share, so one body tests both.
trait ReadyStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_;
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send + '_;
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
}

impl ReadyStream for TcpStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        TcpStream::readable(self)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        TcpStream::writable(self)
    }
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::try_read(self, buf)
    }
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::try_write(self, buf)
    }
}

impl ReadyStream for UnixStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        UnixStream::readable(self)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        UnixStream::writable(self)
    }
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        UnixStream::try_read(self, buf)
    }
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        UnixStream::try_write(self, buf)
    }
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Byte `i` of every stream the tests send: a 251-cycle, so a lost, repeated or reordered
/// chunk shows.
fn byte_at(i: usize) -> u8 {
    (i % 251) as u8
}

async fn readable_waits_for_the_peer<S: ReadyStream>(a: S, mut b: S) {
    let mut buf = [0u8; 64];
    // Nothing sent: WouldBlock, which also clears the readiness assumed at registration.
    assert_eq!(a.try_read(&mut buf).unwrap_err().kind(), WouldBlock);
    let mut readable = Box::pin(a.readable());
    assert!(
        poll_once(&mut readable).is_pending(),
        "readable() resolved before the peer wrote"
    );
    write_all(&mut b, b"hello").await.unwrap();
    readable.await.unwrap();
    // Readiness from a real event: the data is there now.
    let n = a.try_read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    // All taken: the next try clears the readiness again.
    assert_eq!(a.try_read(&mut buf).unwrap_err().kind(), WouldBlock);
}

async fn readable_and_try_read_read_a_whole_message<S: ReadyStream>(a: S, b: S) {
    const LEN: usize = 1 << 20;
    let writer = spawn(async move {
        let mut b = b;
        let data: Vec<u8> = (0..LEN).map(byte_at).collect();
        write_all(&mut b, &data).await.unwrap();
        close(&mut b).await.unwrap();
        b
    });
    let mut got = Vec::with_capacity(LEN);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        a.readable().await.unwrap();
        match a.try_read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == WouldBlock => continue,
            Err(e) => panic!("try_read failed: {e}"),
        }
    }
    drop(writer.await.unwrap());
    assert_eq!(got.len(), LEN);
    assert!(
        got.iter().enumerate().all(|(i, &x)| x == byte_at(i)),
        "the message came through altered"
    );
}

async fn writable_and_try_write_fill_then_drain<S: ReadyStream>(a: S, mut b: S) {
    const CHUNK: usize = 64 * 1024;
    /// Far beyond any loopback socket buffer: reaching it means WouldBlock never came.
    const CAP: usize = 256 << 20;
    let data: Vec<u8> = (0..CHUNK + 251).map(byte_at).collect();
    let mut total = 0;
    loop {
        a.writable().await.unwrap();
        match a.try_write(&data[total % 251..][..CHUNK]) {
            Ok(n) => total += n,
            Err(e) if e.kind() == WouldBlock => break,
            Err(e) => panic!("try_write failed: {e}"),
        }
        assert!(total < CAP, "the send buffer never filled");
    }
    assert!(total > 0);
    let mut writable = Box::pin(a.writable());
    assert!(
        poll_once(&mut writable).is_pending(),
        "writable() resolved with the send buffer full"
    );
    // Drain everything on the peer, every byte in order.
    let mut got = vec![0u8; total];
    read_exact(&mut b, &mut got).await.unwrap();
    assert!(
        got.iter().enumerate().all(|(i, &x)| x == byte_at(i)),
        "the drained bytes differ from those written"
    );
    writable.await.unwrap();
    assert_eq!(a.try_write(b"more").unwrap(), 4);
    let mut more = [0u8; 4];
    read_exact(&mut b, &mut more).await.unwrap();
    assert_eq!(&more, b"more");
}

fn readable_resolves_after_the_peer_writes(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (a, b) = tcp_pair().await;
        readable_waits_for_the_peer(a, b).await;
        let (a, b) = UnixStream::pair().unwrap();
        readable_waits_for_the_peer(a, b).await;
    });
}

fn readable_try_read_loop_reads_a_whole_message(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (a, b) = tcp_pair().await;
        readable_and_try_read_read_a_whole_message(a, b).await;
        let (a, b) = UnixStream::pair().unwrap();
        readable_and_try_read_read_a_whole_message(a, b).await;
    });
}

fn writable_try_write_fill_until_would_block_then_drain(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (a, b) = tcp_pair().await;
        writable_and_try_write_fill_then_drain(a, b).await;
        let (a, b) = UnixStream::pair().unwrap();
        writable_and_try_write_fill_then_drain(a, b).await;
    });
}

fn udp_try_send_to_and_try_recv_from_follow_readiness(flavor: Flavor) {
    flavor.rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0u8; 64];
        assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), WouldBlock);
        let mut readable = Box::pin(b.readable());
        assert!(poll_once(&mut readable).is_pending());
        a.writable().await.unwrap();
        assert_eq!(a.try_send_to(b"one", b_addr).unwrap(), 3);
        readable.await.unwrap();
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
        assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), WouldBlock);
    });
}

fn udp_connected_try_send_and_try_recv(flavor: Flavor) {
    flavor.rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), WouldBlock);
        for i in 0..10u8 {
            a.writable().await.unwrap();
            assert_eq!(a.try_send(&[i; 3]).unwrap(), 3);
            let n = loop {
                b.readable().await.unwrap();
                match b.try_recv(&mut buf) {
                    Err(e) if e.kind() == WouldBlock => continue,
                    r => break r.unwrap(),
                }
            };
            assert_eq!(&buf[..n], &[i; 3]);
        }
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), WouldBlock);
    });
}

fn split_halves_have_the_readiness_api(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (a, b) = tcp_pair().await;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let mut buf = [0u8; 64];
        assert_eq!(b_read.try_read(&mut buf).unwrap_err().kind(), WouldBlock);
        let mut readable = Box::pin(b_read.readable());
        assert!(poll_once(&mut readable).is_pending());
        a_write.writable().await.unwrap();
        assert_eq!(a_write.try_write(b"over").unwrap(), 4);
        readable.await.unwrap();
        assert_eq!(b_read.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"over");
        // The other direction, and end-of-file once the write half is gone.
        assert_eq!(b_write.try_write(b"back").unwrap(), 4);
        drop(b_write);
        let mut got = Vec::new();
        loop {
            a_read.readable().await.unwrap();
            match a_read.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == WouldBlock => continue,
                Err(e) => panic!("try_read failed: {e}"),
            }
        }
        assert_eq!(got, b"back");
    });
}

rt_tests!(
    split_halves_have_the_readiness_api,
    readable_resolves_after_the_peer_writes,
    readable_try_read_loop_reads_a_whole_message,
    writable_try_write_fill_until_would_block_then_drain,
    udp_try_send_to_and_try_recv_from_follow_readiness,
    udp_connected_try_send_and_try_recv,
);
