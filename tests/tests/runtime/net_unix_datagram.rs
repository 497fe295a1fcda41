//! `net::UnixDatagram` through the real reactor on every runtime flavour: bound, unbound and
//! paired sockets, the readiness API, and errors as `io::Error`. Socket files get unique
//! names under `std::env::temp_dir()` and are removed when the test ends.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use taskio_runtime::net::UnixDatagram;
use taskio_tests::{poll_once, rt_tests, Flavor};

/// A socket path no other test (or test process) uses; the file is removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "taskio-dgram-{}-{name}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bound_sockets_round_trip_with_addresses(flavor: Flavor) {
    let (p1, p2) = (TempPath::new("server"), TempPath::new("client"));
    flavor.rt().block_on(async {
        let server = UnixDatagram::bind(p1.path()).unwrap();
        let client = UnixDatagram::bind(p2.path()).unwrap();
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(p1.path()));
        assert_eq!(client.send_to(b"ping", p1.path()).await.unwrap(), 4);
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(p2.path()));
        let reply_to = from.as_pathname().unwrap();
        assert_eq!(server.send_to(b"pong", reply_to).await.unwrap(), 4);
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
        assert_eq!(from.as_pathname(), Some(p1.path()));
    });
}

fn unbound_socket_connects_sends_and_receives(flavor: Flavor) {
    let (ps, pc) = (TempPath::new("server"), TempPath::new("client"));
    flavor.rt().block_on(async {
        let server = UnixDatagram::bind(ps.path()).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        assert!(client.local_addr().unwrap().is_unnamed());
        assert!(client.peer_addr().is_err(), "not connected yet");
        client.connect(ps.path()).unwrap();
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(ps.path()));
        assert_eq!(client.send(b"hello").await.unwrap(), 5);
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert!(from.is_unnamed());
        // A bound, connected pair: `recv` takes only the peer's datagrams.
        let other = UnixDatagram::bind(pc.path()).unwrap();
        other.connect(ps.path()).unwrap();
        server.connect(pc.path()).unwrap();
        server.send(b"back").await.unwrap();
        let n = other.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
    });
}

fn pair_readiness_try_send_and_try_recv(flavor: Flavor) {
    flavor.rt().block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let mut readable = Box::pin(b.readable());
        assert!(
            poll_once(&mut readable).is_pending(),
            "readable() resolved before anything was sent"
        );
        assert_eq!(a.try_send(b"one").unwrap(), 3);
        readable.await.unwrap();
        let n = b.try_recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one");
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.send(b"two").await.unwrap();
        b.readable().await.unwrap();
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
        assert!(from.is_unnamed());
    });
}

fn try_send_to_a_path_and_recv(flavor: Flavor) {
    let p = TempPath::new("target");
    flavor.rt().block_on(async {
        let server = UnixDatagram::bind(p.path()).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.writable().await.unwrap();
        assert_eq!(client.try_send_to(b"hi", p.path()).unwrap(), 2);
        let mut buf = [0u8; 8];
        assert_eq!(server.recv(&mut buf).await.unwrap(), 2);
        assert_eq!(&buf[..2], b"hi");
    });
}

fn fill_the_peer_queue_until_would_block_then_drain(flavor: Flavor) {
    /// Far beyond any Unix datagram queue: reaching it means WouldBlock never came.
    const CAP: u32 = 1 << 20;
    flavor.rt().block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut sent = 0u32;
        loop {
            a.writable().await.unwrap();
            match a.try_send(&sent.to_le_bytes()) {
                Ok(n) => {
                    assert_eq!(n, 4);
                    sent += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_send failed: {e}"),
            }
            assert!(sent < CAP, "the peer's queue never filled");
        }
        assert!(sent > 0);
        let mut writable = Box::pin(a.writable());
        assert!(
            poll_once(&mut writable).is_pending(),
            "writable() resolved with the peer's queue full"
        );
        // Every datagram arrives once, in order.
        let mut buf = [0u8; 8];
        for i in 0..sent {
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_le_bytes(buf[..4].try_into().unwrap()), i);
        }
        writable.await.unwrap();
        assert_eq!(a.try_send(b"more").unwrap(), 4);
    });
}

fn errors_are_io_errors(flavor: Flavor) {
    let p = TempPath::new("taken");
    let missing = TempPath::new("missing");
    flavor.rt().block_on(async {
        let _first = UnixDatagram::bind(p.path()).unwrap();
        let err = UnixDatagram::bind(p.path()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let client = UnixDatagram::unbound().unwrap();
        assert!(client.send_to(b"x", missing.path()).await.is_err());
        assert!(client.try_send_to(b"x", missing.path()).is_err());
        assert!(client.connect(missing.path()).is_err());
    });
}

rt_tests!(
    bound_sockets_round_trip_with_addresses,
    unbound_socket_connects_sends_and_receives,
    pair_readiness_try_send_and_try_recv,
    try_send_to_a_path_and_recv,
    fill_the_peer_queue_until_would_block_then_drain,
    errors_are_io_errors,
);

#[test]
fn outside_a_runtime_is_an_error() {
    let err = UnixDatagram::unbound().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(UnixDatagram::pair().is_err());
    let p = TempPath::new("no-rt");
    assert!(UnixDatagram::bind(p.path()).is_err());
    // No socket file was left behind by the failed bind.
    assert!(!p.path().exists());
}
