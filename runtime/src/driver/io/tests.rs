//! Reactor and `net` tests on the in-test executor of [`super::test_util`].

use super::test_util::{
    self, block_on, io_driver, read, read_exact, read_to_end, run, run_all, write_all,
};
use super::{Direction, PollEvented, Ready};
use crate::driver::{self, Cfg, Driver};
use crate::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Byte `i` of connection `conn`'s payload.
fn pattern(conn: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + conn * 7) % 251) as u8)
        .collect()
}

/// Polls both futures until both are done.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = Box::pin(a);
    let mut b = Box::pin(b);
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn echo(mut s: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; 8192];
    let mut total = 0;
    loop {
        let n = read(&mut s, &mut buf).await?;
        if n == 0 {
            test_util::close(&mut s).await?;
            return Ok(total);
        }
        write_all(&mut s, &buf[..n]).await?;
        total += n as u64;
    }
}

/// 100 concurrent connections from OS threads (std sockets), served by 100 tasks accepting
/// on one listener; every byte echoed and checked.
#[test]
fn tcp_echo_100_connections() {
    const CONNS: usize = 100;
    const LEN: usize = 64 * 1024;
    let (mut d, h) = io_driver();
    let listener = {
        let _e = driver::enter(h.clone());
        block_on(&mut d, &h, TcpListener::bind("127.0.0.1:0")).unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let clients: Vec<_> = (0..CONNS)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                let data = pattern(c, LEN);
                let mut r = s.try_clone().unwrap();
                let reader = std::thread::spawn(move || {
                    let mut back = Vec::new();
                    r.read_to_end(&mut back).unwrap();
                    back
                });
                s.write_all(&data).unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                assert!(
                    reader.join().unwrap() == data,
                    "connection {c}: bytes differ"
                );
            })
        })
        .collect();
    let served = AtomicUsize::new(0);
    let tasks = (0..CONNS)
        .map(|_| {
            let listener = &listener;
            let served = &served;
            Box::pin(async move {
                let (s, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, s.peer_addr().unwrap());
                let n = echo(s).await.unwrap();
                assert_eq!(n, LEN as u64);
                served.fetch_add(1, Ordering::SeqCst);
            }) as Pin<Box<dyn Future<Output = ()>>>
        })
        .collect();
    run_all(&mut d, &h, tasks);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(served.load(Ordering::SeqCst), CONNS);
    drop(listener);
    assert_eq!(h.io.as_ref().unwrap().num_registrations(), 0);
}

/// Both ends async: nonblocking connect, split halves writing and reading at once (1 MiB per
/// connection, so writes hit `WouldBlock` and writable edges wake the writer many times).
#[test]
fn tcp_echo_async_clients_split() {
    const CONNS: usize = 16;
    const LEN: usize = 1 << 20;
    let (mut d, h) = io_driver();
    let listener = {
        let _e = driver::enter(h.clone());
        block_on(&mut d, &h, TcpListener::bind("127.0.0.1:0")).unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let mut tasks: Vec<Pin<Box<dyn Future<Output = ()>>>> = Vec::new();
    for _ in 0..CONNS {
        let listener = &listener;
        tasks.push(Box::pin(async move {
            let (s, _) = listener.accept().await.unwrap();
            echo(s).await.unwrap();
        }));
    }
    for c in 0..CONNS {
        tasks.push(Box::pin(async move {
            let s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            assert!(s.nodelay().unwrap());
            assert_eq!(s.peer_addr().unwrap(), addr);
            let (mut r, mut w) = s.into_split();
            let data = pattern(c, LEN);
            let (wr, back) = join2(
                async {
                    write_all(&mut w, &data).await?;
                    test_util::close(&mut w).await
                },
                read_to_end(&mut r),
            )
            .await;
            wr.unwrap();
            assert!(back.unwrap() == data, "connection {c}: bytes differ");
            let s = r.reunite(w).unwrap();
            assert!(s.local_addr().unwrap().ip().is_loopback());
        }));
    }
    run_all(&mut d, &h, tasks);
}

/// The peer shuts down its write side: reads return 0, and writing still works both ways.
#[test]
fn tcp_half_close() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        write_all(&mut client, b"hello").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&mut server).await.unwrap(), b"hello");
        // Still 0 when asked again.
        assert_eq!(read(&mut server, &mut [0; 8]).await.unwrap(), 0);
        write_all(&mut server, b"world").await.unwrap();
        test_util::close(&mut server).await.unwrap();
        assert_eq!(read_to_end(&mut client).await.unwrap(), b"world");
    });
}

/// A connected pair: a std client, and the server end registered as a `PollEvented`.
fn tcp_pair() -> (std::net::TcpStream, PollEvented<std::net::TcpStream>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    (client, PollEvented::new(server).unwrap())
}

/// `PollEvented::poll_read` with the TCP rule (a short read clears readiness).
async fn read_tcp(io: &PollEvented<std::net::TcpStream>, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| io.poll_read(cx, buf, true)).await
}

/// The reader waits first (its `WouldBlock` clears the assumed readiness), then `send`
/// runs: the bytes it sends arrive as edges the reader is woken by, never before its read.
async fn wait_then<T>(
    io: &PollEvented<std::net::TcpStream>,
    buf: &mut [u8],
    send: impl FnOnce() -> T,
) -> usize {
    let (n, _) = join2(read_tcp(io, buf), async { send() }).await;
    n.unwrap()
}

/// A short TCP read clears read readiness, as a `WouldBlock` would (so none follows it),
/// and the next bytes still wake the reader.
#[test]
fn tcp_short_read_clears_readiness() {
    run(async {
        let (mut client, server) = tcp_pair();
        let mut buf = [0; 64];
        let n = wait_then(&server, &mut buf, || client.write_all(b"hello").unwrap()).await;
        assert_eq!(&buf[..n], b"hello");
        let ready = server.registration().shared().readiness();
        assert!(!ready.contains(Ready::READABLE), "{ready:?}");
        let n = wait_then(&server, &mut buf, || client.write_all(b"world").unwrap()).await;
        assert_eq!(&buf[..n], b"world");
        // A full read proves nothing: readiness stays.
        client.write_all(&[7; 64]).unwrap();
        let n = read_tcp(&server, &mut buf).await.unwrap();
        assert!(n > 0);
        if n == buf.len() {
            assert!(server
                .registration()
                .shared()
                .readiness()
                .contains(Ready::READABLE));
        }
    });
}

/// Data and the peer's FIN before the reader looks: the read of the data is short and
/// clears `READABLE`, and the half-close (`EPOLLRDHUP`, the sticky `READ_CLOSED`) still
/// ends the stream.
#[test]
fn tcp_short_read_then_fin_ends_the_stream() {
    run(async {
        let (mut client, server) = tcp_pair();
        let mut buf = [0; 64];
        let n = wait_then(&server, &mut buf, || {
            client.write_all(b"last").unwrap();
            client.shutdown(Shutdown::Write).unwrap();
        })
        .await;
        let mut got = buf[..n].to_vec();
        loop {
            let n = read_tcp(&server, &mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"last");
        assert!(server
            .registration()
            .shared()
            .readiness()
            .contains(Ready::READ_CLOSED));
    });
}

/// Urgent data: a TCP read stops short at the urgent mark with bytes still queued. The
/// `PRI` event's sticky `PRIORITY` refuses the short read's clear, so the bytes after the
/// mark are read without a new edge.
#[test]
fn tcp_short_read_at_the_urgent_mark_keeps_readiness() {
    use rustix::net::{send, SendFlags};
    run(async {
        let (mut client, server) = tcp_pair();
        let mut buf = [0; 64];
        let n = wait_then(&server, &mut buf, || {
            client.write_all(b"ab").unwrap();
            assert_eq!(send(&client, b"!", SendFlags::OOB).unwrap(), 1);
            client.write_all(b"cd").unwrap();
        })
        .await;
        let mut got = buf[..n].to_vec();
        while got.len() < 4 {
            let n = read_tcp(&server, &mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        // The urgent byte is out of band (no SO_OOBINLINE): the stream is the rest.
        assert_eq!(got, b"abcd");
        assert!(server
            .registration()
            .shared()
            .readiness()
            .contains(Ready::PRIORITY));
    });
}

/// A peer that resets the connection gives errors, not panics, on read and on write.
#[test]
fn tcp_reset_peer_is_an_error() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // SO_LINGER 0: close sends RST.
        rustix::net::sockopt::set_socket_linger(&client, Some(Duration::ZERO)).unwrap();
        drop(client);
        let err = read(&mut server, &mut [0; 16]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        let mut failed = false;
        for _ in 0..64 {
            if write_all(&mut server, &[7; 4096]).await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "writes to a reset connection keep succeeding");
    });
}

/// Connecting to a closed port is `ConnectionRefused`, through the nonblocking connect.
#[test]
fn tcp_connect_refused() {
    run(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn udp_round_trip() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0u8; 64];
        // Receive first (Pending, waker stored), then send: the wake-up goes through the reactor.
        let (got, sent) = join2(b.recv_from(&mut buf), a.send_to(b"ping", ba)).await;
        assert_eq!(sent.unwrap(), 4);
        assert_eq!(got.unwrap(), (4, aa));
        assert_eq!(&buf[..4], b"ping");
        a.connect(ba).await.unwrap();
        b.connect(aa).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), ba);
        for i in 0..100u8 {
            assert_eq!(b.send(&[i; 10]).await.unwrap(), 10);
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[i; 10]);
        }
    });
}

fn socket_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("taskio-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn unix_stream_echo() {
    let path = socket_path("echo");
    run(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let data = pattern(1, 256 * 1024);
        let ((), ()) = join2(
            async {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                loop {
                    let n = read(&mut s, &mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    write_all(&mut s, &buf[..n]).await.unwrap();
                }
                test_util::close(&mut s).await.unwrap();
            },
            async {
                let s = UnixStream::connect(&path).await.unwrap();
                let (mut r, mut w) = s.into_split();
                let (wr, back) = join2(
                    async {
                        write_all(&mut w, &data).await?;
                        test_util::close(&mut w).await
                    },
                    read_to_end(&mut r),
                )
                .await;
                wr.unwrap();
                assert!(back.unwrap() == data);
            },
        )
        .await;
        let (mut a, mut b) = UnixStream::pair().unwrap();
        write_all(&mut a, b"pair").await.unwrap();
        let mut buf = [0u8; 4];
        read_exact(&mut b, &mut buf).await.unwrap();
        assert_eq!(&buf, b"pair");
    });
    let _ = std::fs::remove_file(&path);
}

/// Sockets made outside a runtime, or in one without I/O, fail with a clear error.
#[test]
fn no_runtime_is_an_error() {
    let check = |e: io::Error| {
        assert_eq!(e.kind(), io::ErrorKind::Other);
        assert_eq!(e.to_string(), "no taskio runtime with I/O enabled");
    };
    let poll_once = |f: Pin<&mut dyn Future<Output = io::Result<()>>>| {
        let waker = Waker::from(Arc::new(CountWaker::default()));
        match f.poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(r) => r,
            Poll::Pending => panic!("pending"),
        }
    };
    check(
        poll_once(std::pin::pin!(async {
            TcpListener::bind("127.0.0.1:0").await.map(drop)
        }))
        .unwrap_err(),
    );
    check(
        poll_once(std::pin::pin!(async {
            UdpSocket::bind("127.0.0.1:0").await.map(drop)
        }))
        .unwrap_err(),
    );
    check(
        poll_once(std::pin::pin!(async {
            TcpStream::connect("127.0.0.1:1").await.map(drop)
        }))
        .unwrap_err(),
    );
    check(UnixStream::pair().map(drop).unwrap_err());
    let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    check(TcpListener::from_std(std).map(drop).unwrap_err());
    // A runtime without I/O.
    let (_d, h) = Driver::new(Cfg {
        enable_io: false,
        enable_time: false,
        start_paused: false,
    })
    .unwrap();
    let _e = driver::enter(Arc::new(h));
    check(
        poll_once(std::pin::pin!(async {
            UdpSocket::bind("127.0.0.1:0").await.map(drop)
        }))
        .unwrap_err(),
    );
}

/// A socket pair registered by hand, for the registration-level tests.
fn registered_pair() -> (
    PollEvented<std::os::unix::net::UnixStream>,
    std::os::unix::net::UnixStream,
) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let a = PollEvented::new(a).unwrap();
    // Forget the optimistic initial readiness, as the first `WouldBlock`s would.
    a.registration().shared().clear_all();
    (a, b)
}

/// Readiness arrives for a registration, which is dropped before the driver dispatches: its
/// waker is never called, nothing panics, and the slab is empty again.
#[test]
fn registration_dropped_while_readiness_pending() {
    let (mut d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let (a, mut b) = registered_pair();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(a.registration().poll_read_ready(&mut cx).is_pending());
    b.write_all(b"x").unwrap(); // the poller now has an event for `a`
    drop(a);
    for _ in 0..3 {
        d.park(&h, Some(Duration::from_millis(10)));
    }
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(h.io.as_ref().unwrap().num_registrations(), 0);
}

/// An event for a deregistered source that the driver has not freed yet (its wait began
/// before the delete) finds it closed and is ignored; a new registration gets another token
/// (the old source still holds its address); the next driver turn frees the old source.
#[test]
fn event_for_deregistered_source_ignored_then_freed() {
    let (mut d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    let (old, _b1) = registered_pair();
    let old_token = old.registration().token();
    drop(old);
    assert_eq!(io.num_released(), 1);
    let (new, _b2) = registered_pair();
    let new_token = new.registration().token();
    assert_ne!(old_token, new_token);
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    assert!(new
        .registration()
        .poll_read_ready(&mut Context::from_waker(&waker))
        .is_pending());
    // SAFETY: no driver turn has run since `old` was dropped: its source is not freed.
    assert!(!unsafe { io.dispatch(&polling::Event::all(old_token)) });
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(new.registration().shared().readiness(), Ready::EMPTY);
    // The live token is delivered.
    // SAFETY: `new` is registered.
    assert!(unsafe { io.dispatch(&polling::Event::readable(new_token)) });
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    // A turn frees the deregistered source, and only it.
    d.poll_events(&h);
    assert_eq!(io.num_released(), 0);
    assert_eq!(io.num_registrations(), 1);
}

/// Many deregistrations with no driver turn: each is freed by the next turn, none earlier.
#[test]
fn deregistered_sources_wait_for_the_next_turn() {
    let (mut d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    for n in 1..=40 {
        drop(registered_pair());
        assert_eq!(io.num_released(), n);
    }
    d.poll_events(&h);
    assert_eq!(io.num_released(), 0);
    assert_eq!(io.num_registrations(), 0);
}

/// The tick: clearing readiness the driver has replaced since keeps the new readiness.
#[test]
fn clear_readiness_keeps_newer_readiness() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    let (a, _b) = registered_pair();
    let reg = a.registration();
    let key = reg.token();
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut cx = Context::from_waker(&waker);
    assert!(reg.poll_read_ready(&mut cx).is_pending());
    // SAFETY: `a` is registered for the whole test.
    unsafe { io.dispatch(&polling::Event::readable(key)) };
    let Poll::Ready(Ok(ev)) = reg.poll_read_ready(&mut cx) else {
        panic!()
    };
    // A new event lands while the task's syscall says WouldBlock.
    // SAFETY: `a` is registered for the whole test.
    unsafe { io.dispatch(&polling::Event::readable(key)) };
    reg.clear_readiness(ev);
    assert!(
        reg.poll_read_ready(&mut cx).is_ready(),
        "newer readiness lost"
    );
    let Poll::Ready(Ok(ev)) = reg.poll_read_ready(&mut cx) else {
        panic!()
    };
    reg.clear_readiness(ev);
    assert!(reg.poll_read_ready(&mut cx).is_pending());
}

/// A clear yields only to events of its own direction: the first event of a fresh source,
/// for the other direction alone, landing between a `try_*`'s load of the assumed readiness
/// and its clear after `WouldBlock`, does not keep the assumed bit (the `net_ready` flake).
#[test]
fn clear_readiness_passes_an_event_of_the_other_direction() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    for (dir, other_event) in [
        (Direction::Read, Ready::WRITABLE),
        (Direction::Write, Ready::READABLE),
    ] {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // Not `registered_pair`: this one keeps the readiness assumed at registration.
        let a = PollEvented::new(a).unwrap();
        let reg = a.registration();
        let ev = reg
            .ready_now(dir)
            .expect("assumed ready at registration")
            .unwrap();
        // SAFETY: `a` is registered until the end of this iteration.
        unsafe { io.dispatch_ready(reg.token(), other_event) };
        reg.clear_readiness(ev);
        assert!(
            reg.ready_now(dir).is_none(),
            "{dir:?}: an event of the other direction kept the assumed readiness"
        );
        assert!(
            reg.shared().readiness().contains(other_event),
            "{dir:?}: the other direction's event was lost"
        );
    }
}

/// An error is readiness of both directions: it stops a clear of either.
#[test]
fn clear_readiness_yields_to_an_error_in_either_direction() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    for (dir, bit) in [
        (Direction::Read, Ready::READABLE),
        (Direction::Write, Ready::WRITABLE),
    ] {
        let (a, _b) = registered_pair();
        let reg = a.registration();
        // SAFETY: `a` is registered until the end of this iteration.
        unsafe { io.dispatch_ready(reg.token(), bit) };
        let ev = reg.ready_now(dir).expect("dispatched").unwrap();
        // SAFETY: as above.
        unsafe { io.dispatch_ready(reg.token(), Ready::ERROR) };
        reg.clear_readiness(ev);
        assert!(
            reg.shared().readiness().contains(bit | Ready::ERROR),
            "{dir:?}: a clear removed readiness stored after its load"
        );
    }
}

/// Hang-up and error wake both directions.
#[test]
fn hangup_wakes_reader_and_writer() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let io = h.io.as_ref().unwrap();
    let (a, _b) = registered_pair();
    let reg = a.registration();
    let (r, w) = (
        Arc::new(CountWaker::default()),
        Arc::new(CountWaker::default()),
    );
    let (rw, ww) = (Waker::from(r.clone()), Waker::from(w.clone()));
    assert!(reg
        .poll_read_ready(&mut Context::from_waker(&rw))
        .is_pending());
    // The pair is writable at once, so use a fresh read-only wait on write by dispatching by hand.
    let mut hup = polling::Event::none(reg.token());
    hup.set_interrupt(true);
    let _ = reg.poll_ready(&mut Context::from_waker(&ww), Direction::Write);
    // SAFETY: `a` is registered for the whole test.
    unsafe { io.dispatch(&hup) };
    assert_eq!(r.0.load(Ordering::SeqCst), 1);
    assert!(reg
        .shared()
        .readiness()
        .contains(Ready::READ_CLOSED | Ready::WRITE_CLOSED));
    assert!(reg
        .poll_read_ready(&mut Context::from_waker(&rw))
        .is_ready());
    assert!(reg
        .poll_write_ready(&mut Context::from_waker(&ww))
        .is_ready());
}

/// Driver shutdown wakes waiters with an error; registering afterwards fails.
#[test]
fn shutdown_wakes_with_error() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    let (a, _b) = registered_pair();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(a.registration().poll_read_ready(&mut cx).is_pending());
    h.shutdown();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        a.registration().poll_read_ready(&mut cx),
        Poll::Ready(Err(_))
    ));
    assert!(PollEvented::new(std::os::unix::net::UnixStream::pair().unwrap().0).is_err());
}

/// `Handle::unpark` from another thread ends a park with no timeout.
#[test]
fn unpark_from_another_thread() {
    let (mut d, h) = io_driver();
    let h2 = h.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        h2.unpark();
    });
    d.park(&h, None);
    t.join().unwrap();
}

/// A registration dropped on one thread while the driver dispatches on another: stress for
/// the "no waker call after drop returns" rule (the loom model checks it exhaustively).
#[test]
fn drop_races_dispatch_stress() {
    let (_d, h) = io_driver();
    let _e = driver::enter(h.clone());
    for _ in 0..200 {
        let (a, _b) = registered_pair();
        let key = a.registration().token();
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct W(Arc<std::sync::atomic::AtomicBool>);
        impl Wake for W {
            fn wake(self: Arc<Self>) {
                assert!(
                    !self.0.load(Ordering::SeqCst),
                    "waker called after drop returned"
                );
            }
        }
        let waker = Waker::from(Arc::new(W(dropped.clone())));
        assert!(a
            .registration()
            .poll_read_ready(&mut Context::from_waker(&waker))
            .is_pending());
        let h2 = h.clone();
        let t = std::thread::spawn(move || {
            let io = h2.io.as_ref().unwrap();
            // SAFETY: this test never turns the driver, so `a`'s source is not freed even
            // once `a` is dropped.
            unsafe { io.dispatch(&polling::Event::readable(key)) };
        });
        drop(a);
        dropped.store(true, Ordering::SeqCst);
        t.join().unwrap();
    }
}

/// With I/O, `park` returns at its timeout when nothing happens.
#[test]
fn park_times_out() {
    let (mut d, h) = io_driver();
    let start = std::time::Instant::now();
    d.park(&h, Some(Duration::from_millis(30)));
    assert!(start.elapsed() >= Duration::from_millis(25));
    // `poll_events` never blocks.
    let start = std::time::Instant::now();
    d.poll_events(&h);
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// `into_std` deregisters; the socket keeps working as a std socket.
#[test]
fn into_std_deregisters() {
    let (mut d, h) = io_driver();
    let io = h.io.as_ref().unwrap();
    let (listener, std_client) = block_on(&mut d, &h, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        (l, c)
    });
    assert_eq!(io.num_registrations(), 1);
    let (server, _) = block_on(&mut d, &h, listener.accept()).unwrap();
    assert_eq!(io.num_registrations(), 2);
    let mut server = server.into_std().unwrap();
    drop(listener);
    assert_eq!(io.num_registrations(), 0);
    server.set_nonblocking(false).unwrap();
    (&std_client).write_all(b"abc").unwrap();
    let mut buf = [0u8; 3];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"abc");
}

/// A waker that deregisters its own source from inside `wake()` (on the dispatching thread):
/// no deadlock, and the source's other waker, taken in the same dispatch, is not called.
#[test]
fn deregister_from_inside_wake() {
    use super::ScheduledIo;
    struct Deregisters(Arc<ScheduledIo>, Arc<AtomicUsize>);
    impl Wake for Deregisters {
        fn wake(self: Arc<Self>) {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.deregister();
        }
    }
    let io = Arc::new(ScheduledIo::new_empty());
    let reader_calls = Arc::new(AtomicUsize::new(0));
    let writer = Arc::new(CountWaker::default());
    let rw = Waker::from(Arc::new(Deregisters(io.clone(), reader_calls.clone())));
    let ww = Waker::from(writer.clone());
    assert!(io
        .poll_ready(&mut Context::from_waker(&rw), Direction::Read)
        .is_pending());
    assert!(io
        .poll_ready(&mut Context::from_waker(&ww), Direction::Write)
        .is_pending());
    drop((rw, ww));
    io.dispatch(Ready::READABLE | Ready::WRITABLE);
    assert_eq!(reader_calls.load(Ordering::SeqCst), 1);
    assert_eq!(writer.0.load(Ordering::SeqCst), 0);
}
