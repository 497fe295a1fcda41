//! asyncio's streams over loopback: every rule of ASYNCIO.md's "Streams", on the
//! current-thread runtime and the multi-thread one; and the reader checked against a model.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use taskio::runtime::{spawn, yield_now, Builder};
use taskio::streams::model::{self, Chunk, Op};
use taskio::streams::{
    open_connection, open_unix_connection, start_server, start_server_with, start_unix_server,
    ServerConfig, StreamReader, StreamWriter,
};
use taskio::{Error, ErrorKind, Event, Queue};
use taskio_tests::{on_each_runtime, port};

fn unix_path(tag: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("taskio-{tag}-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// Echoes lines until EOF.
async fn echo_lines(mut r: StreamReader, w: StreamWriter) -> taskio::Result<()> {
    loop {
        let line = r.readline().await?;
        if line.is_empty() {
            break;
        }
        w.write(&line)?;
        w.drain().await?;
    }
    w.close();
    w.wait_closed().await
}

async fn echo_client(mut r: StreamReader, w: StreamWriter, id: usize) {
    const LINES: usize = 50;
    for j in 0..LINES {
        let line = format!("client {id} line {j} {}\n", "x".repeat((id * 7 + j) % 100));
        w.write(line.as_bytes()).unwrap();
        w.drain().await.unwrap();
        assert_eq!(r.readline().await.unwrap(), line.as_bytes());
    }
    w.write_eof().unwrap();
    assert_eq!(r.read_to_end().await.unwrap(), b"");
    assert!(r.at_eof());
}

#[test]
fn echo_tcp_smoke() {
    on_each_runtime(|| async {
        let server = start_server(echo_lines, "127.0.0.1", 0).await.unwrap();
        let port = port(&server);
        let clients: Vec<_> = (0..16)
            .map(|id| {
                spawn(async move {
                    let (r, w) = open_connection("127.0.0.1", port).await.unwrap();
                    let peer = w.peername().unwrap().as_inet().unwrap();
                    assert_eq!(peer.port(), port);
                    assert!(w.sockname().unwrap().as_inet().unwrap().ip().is_loopback());
                    echo_client(r, w, id).await;
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.close();
        server.wait_closed().await.unwrap();
    });
}

#[test]
fn echo_unix_smoke() {
    on_each_runtime(|| async {
        let path = unix_path("echo");
        let server = start_unix_server(echo_lines, &path).await.unwrap();
        assert_eq!(server.sockets()[0].as_pathname(), Some(path.as_path()));
        let clients: Vec<_> = (0..8)
            .map(|id| {
                let path = path.clone();
                spawn(async move {
                    let (r, w) = open_unix_connection(&path).await.unwrap();
                    echo_client(r, w, id).await;
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.close();
        server.wait_closed().await.unwrap();
        assert!(!path.exists(), "the socket file is removed at close");
    });
}

/// A server that sends `bytes` and closes.
async fn sender(bytes: &'static [u8]) -> taskio::Server {
    start_server(
        move |_r: StreamReader, w: StreamWriter| async move {
            w.write(bytes)?;
            w.close();
            w.wait_closed().await
        },
        "127.0.0.1",
        0,
    )
    .await
    .unwrap()
}

#[test]
fn readline_returns_partial_last_line_at_eof() {
    on_each_runtime(|| async {
        let server = sender(b"first\nsecond").await;
        let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        assert_eq!(r.readline().await.unwrap(), b"first\n");
        assert_eq!(r.readline().await.unwrap(), b"second");
        assert_eq!(r.readline().await.unwrap(), b"");
        assert!(r.at_eof());
        assert_eq!(r.read(0).await.unwrap(), b"");
        assert_eq!(r.read(10).await.unwrap(), b"");
    });
}

#[test]
fn limit_overrun_keeps_data_readable() {
    on_each_runtime(|| async {
        static LONG: &[u8] = b"0123456789abcdefghij0123456789\nshort\nxxxxxxxxxxxxxxxxxxxxEND";
        let server = sender(LONG).await;
        let (r, _w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        let mut r = r.with_limit(10);
        assert_eq!(r.limit(), 10);
        let err = r.readline().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitOverrun);
        assert!(err.downcast_ref::<taskio::LimitOverrun>().unwrap().consumed > 10);
        // Nothing was lost: the long line is still there.
        assert_eq!(r.readexactly(31).await.unwrap(), &LONG[..31]);
        assert_eq!(r.readline().await.unwrap(), b"short\n");
        let err = r.readuntil(b"END").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitOverrun);
        r.set_limit(100);
        assert_eq!(r.readuntil(b"END").await.unwrap(), &LONG[37..]);
        assert_eq!(r.read_to_end().await.unwrap(), b"");
    });
}

#[test]
fn incomplete_read_carries_partial_bytes_when_peer_closes_mid_message() {
    on_each_runtime(|| async {
        let server = sender(b"12345").await;
        let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        let err = r.readexactly(10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteRead);
        let p = err.downcast_ref::<taskio::IncompleteRead>().unwrap();
        assert_eq!((&p.partial[..], p.expected), (&b"12345"[..], Some(10)));
        assert!(r.at_eof());

        let server = sender(b"no separator here").await;
        let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        let err = r.readuntil(b"\r\n").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteRead);
        let p = err.downcast_ref::<taskio::IncompleteRead>().unwrap();
        assert_eq!(
            (&p.partial[..], p.expected),
            (&b"no separator here"[..], None)
        );
        assert!(r.at_eof(), "the buffer is cleared");
        let err = r.readuntil(b"").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Value, "empty separator");
    });
}

#[test]
fn reset_peer_is_an_error_from_read_and_drain() {
    on_each_runtime(|| async {
        let listener = taskio::runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1];
            // Wait for the client's data, then close with some unread: Linux sends RST.
            read_some(&mut s, &mut buf).await;
            drop(s);
        });
        let (mut r, w) = open_connection("127.0.0.1", addr.port()).await.unwrap();
        w.write(b"unread data").unwrap();
        w.drain().await.unwrap();
        peer.await.unwrap();
        let err = r.read(100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(r.exception().is_some());
        // The reader's error is sticky and drain re-raises it.
        assert_eq!(r.readline().await.unwrap_err().kind(), ErrorKind::Io);
        assert_eq!(w.drain().await.unwrap_err().kind(), ErrorKind::Io);
    });
}

/// Reads at least one byte from a runtime `TcpStream`.
async fn read_some(s: &mut taskio::runtime::net::TcpStream, buf: &mut [u8]) {
    let n = std::future::poll_fn(|cx| {
        futures_io::AsyncRead::poll_read(std::pin::Pin::new(&mut *s), cx, buf)
    })
    .await;
    assert!(n.unwrap() > 0);
}

#[test]
fn reset_peer_is_an_error_from_drain_when_only_writing() {
    on_each_runtime(|| async {
        let listener = taskio::runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1];
            read_some(&mut s, &mut buf).await;
            drop(s);
        });
        let (_r, w) = open_connection("127.0.0.1", addr.port()).await.unwrap();
        w.write(b"unread data").unwrap();
        peer.await.unwrap();
        // Writes to a reset connection fail in the flusher; drain reports it. Bounded:
        // each round waits for the flusher to take the buffer down.
        let mut failed = None;
        for _ in 0..1000 {
            w.write(&[7u8; 1024]).unwrap();
            if let Err(e) = w.drain().await {
                failed = Some(e);
                break;
            }
            while w.write_buffer_size() > 0 && !w.is_closing() {
                yield_now().await;
            }
        }
        let err = failed.expect("drain never reported the reset");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(w.is_closing());
        assert!(w.wait_closed().await.is_err());
    });
}

#[test]
fn failing_callback_closes_only_its_connection() {
    on_each_runtime(|| async {
        let errors = Arc::new(Queue::new(0));
        let hook_errors = errors.clone();
        let config = ServerConfig::new().on_error(move |e: &Error| {
            hook_errors.put_nowait(e.clone()).unwrap();
        });
        let server = start_server_with(
            |mut r: StreamReader, w: StreamWriter| async move {
                loop {
                    let line = r.readline().await?;
                    match &line[..] {
                        b"" => return Ok(()),
                        b"fail\n" => return Err(Error::msg("callback failed")),
                        b"panic\n" => panic!("callback panicked"),
                        _ => {
                            w.write(&line)?;
                            w.drain().await?;
                        }
                    }
                }
            },
            "127.0.0.1",
            0,
            config,
        )
        .await
        .unwrap();
        let port = port(&server);
        let (mut good_r, good_w) = open_connection("127.0.0.1", port).await.unwrap();
        good_w.write(b"hello\n").unwrap();
        assert_eq!(good_r.readline().await.unwrap(), b"hello\n");

        for (bad, kind) in [
            (&b"fail\n"[..], ErrorKind::Other),
            (b"panic\n", ErrorKind::Panic),
        ] {
            let (mut r, w) = open_connection("127.0.0.1", port).await.unwrap();
            w.write(bad).unwrap();
            // That connection is closed by the server...
            assert_eq!(r.read_to_end().await.unwrap(), b"");
            let err = errors.get().await.unwrap();
            assert_eq!(err.kind(), kind);
            // ...and the others keep working.
            good_w.write(b"still here\n").unwrap();
            assert_eq!(good_r.readline().await.unwrap(), b"still here\n");
        }
        assert!(server.is_serving());
        let (mut r, w) = open_connection("127.0.0.1", port).await.unwrap();
        w.write(b"new\n").unwrap();
        assert_eq!(r.readline().await.unwrap(), b"new\n");
        assert_eq!(errors.qsize(), 0);
    });
}

#[test]
fn drain_blocks_until_the_peer_reads() {
    // More than loopback's kernel buffers can hold without the peer reading (send buffer
    // at most 4 MiB here; the receive window does not grow while nothing is read).
    const TOTAL: usize = 24 * 1024 * 1024;
    on_each_runtime(|| async {
        let go = Arc::new(Event::new());
        let reading = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Queue::new(0));
        let (go2, reading2, received2) = (go.clone(), reading.clone(), received.clone());
        let server = start_server(
            move |mut r: StreamReader, _w: StreamWriter| {
                let (go, reading, received) = (go2.clone(), reading2.clone(), received2.clone());
                async move {
                    go.wait().await.unwrap();
                    reading.store(true, Ordering::SeqCst);
                    let all = r.read_to_end().await?;
                    let ok = all.len() == TOTAL
                        && all.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8);
                    received.put_nowait(ok).unwrap();
                    Ok(())
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (_r, w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        w.write(&data).unwrap();
        assert!(w.write_buffer_size() > taskio::streams::DEFAULT_HIGH_WATER);
        let w = Arc::new(w);
        let w2 = w.clone();
        let reading2 = reading.clone();
        let drainer = spawn(async move {
            w2.drain().await.unwrap();
            // The buffer cannot reach the low-water mark before the peer reads.
            reading2.load(Ordering::SeqCst)
        });
        for _ in 0..100 {
            yield_now().await;
        }
        assert!(
            !drainer.is_finished(),
            "drain returned while the peer was not reading"
        );
        go.set();
        assert!(
            drainer.await.unwrap(),
            "drain returned before the peer read"
        );
        w.close();
        w.wait_closed().await.unwrap();
        assert!(
            received.get().await.unwrap(),
            "every byte arrived, in order"
        );
    });
}

#[test]
fn abort_clients_unblocks_a_drain_stuck_on_a_peer_that_does_not_read() {
    on_each_runtime(|| async {
        let errors = Arc::new(Queue::new(0));
        let started = Arc::new(Queue::new(0));
        let (errors2, started2) = (errors.clone(), started.clone());
        let config = ServerConfig::new().on_error(move |e: &Error| {
            errors2.put_nowait(e.clone()).unwrap();
        });
        let server = start_server_with(
            move |_r: StreamReader, w: StreamWriter| {
                let started = started2.clone();
                async move {
                    w.write(&vec![1u8; 24 * 1024 * 1024])?;
                    started.put_nowait(()).unwrap();
                    w.drain().await // blocks: the client does not read
                }
            },
            "127.0.0.1",
            0,
            config,
        )
        .await
        .unwrap();
        let (mut r, _w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        started.get().await.unwrap();
        server.abort_clients();
        let err = errors.get().await.unwrap();
        assert_eq!(err.kind(), ErrorKind::Io, "{err:?}");
        // The client sees what was sent before the abort, then EOF.
        let got = r.read_to_end().await.unwrap();
        assert!(got.len() < 24 * 1024 * 1024);
        server.close();
        server.wait_closed().await.unwrap();
    });
}

#[test]
fn writer_close_write_eof_and_misuse() {
    on_each_runtime(|| async {
        // The server answers with the byte count once it reads EOF.
        let server = start_server(
            |mut r: StreamReader, w: StreamWriter| async move {
                let all = r.read_to_end().await?;
                w.write(format!("{}\n", all.len()).as_bytes())?;
                Ok(())
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (mut r, w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        assert!(w.can_write_eof());
        w.writelines([&b"ab"[..], b"cd", b"e"]).unwrap();
        w.write_eof().unwrap();
        assert!(!w.is_closing());
        assert_eq!(w.write(b"more").unwrap_err().kind(), ErrorKind::Runtime);
        // Half-closed: reading goes on.
        assert_eq!(r.readline().await.unwrap(), b"5\n");
        assert_eq!(r.read_to_end().await.unwrap(), b"");
        w.drain().await.unwrap();
        w.close();
        assert!(w.is_closing());
        w.wait_closed().await.unwrap();
        assert_eq!(w.write(b"x").unwrap_err().kind(), ErrorKind::Runtime);
        assert_eq!(w.drain().await.unwrap_err().kind(), ErrorKind::Io);
        assert!(w.set_write_buffer_limits(10, Some(20)).is_err());
    });
}

#[test]
fn server_close_and_wait_closed_wait_for_connections() {
    on_each_runtime(|| async {
        let release = Arc::new(Event::new());
        let finished = Arc::new(AtomicBool::new(false));
        let started = Arc::new(Queue::new(0));
        let (release2, finished2, started2) = (release.clone(), finished.clone(), started.clone());
        let server = start_server(
            move |_r: StreamReader, w: StreamWriter| {
                let (release, finished, started) =
                    (release2.clone(), finished2.clone(), started2.clone());
                async move {
                    started.put_nowait(()).unwrap();
                    release.wait().await.unwrap();
                    w.write(b"bye\n")?;
                    finished.store(true, Ordering::SeqCst);
                    Ok(())
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let port = port(&server);
        let (mut r, _w) = open_connection("127.0.0.1", port).await.unwrap();
        started.get().await.unwrap();
        assert_eq!(server.connections(), 1);
        server.close();
        assert!(!server.is_serving());
        assert!(server.sockets().is_empty());
        assert_eq!(
            server.serve_forever().await.unwrap_err().kind(),
            ErrorKind::Runtime
        );
        let server = Arc::new(server);
        let s2 = server.clone();
        let finished2 = finished.clone();
        let waiter = spawn(async move {
            s2.wait_closed().await.unwrap();
            finished2.load(Ordering::SeqCst)
        });
        for _ in 0..50 {
            yield_now().await;
        }
        assert!(
            !waiter.is_finished(),
            "wait_closed waits for the connection"
        );
        // The open connection is still served after close.
        release.set();
        assert_eq!(r.readline().await.unwrap(), b"bye\n");
        assert!(
            waiter.await.unwrap(),
            "wait_closed returned before the callback ended"
        );
        assert_eq!(server.connections(), 0);
    });
}

/// Starts two `serve_forever` tasks: one fails at once (the other is running); returns the
/// running one.
async fn serve_forever_twice(
    server: &Arc<taskio::Server>,
) -> taskio::runtime::JoinHandle<taskio::Result<()>> {
    let (s1, s2) = (server.clone(), server.clone());
    let a = spawn(async move { s1.serve_forever().await });
    let b = spawn(async move { s2.serve_forever().await });
    while !a.is_finished() && !b.is_finished() {
        yield_now().await;
    }
    let (failed, running) = if a.is_finished() { (a, b) } else { (b, a) };
    let err = failed.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    running
}

#[test]
fn serve_forever_returns_when_closed_and_rejects_a_second_caller() {
    on_each_runtime(|| async {
        let server = Arc::new(start_server(echo_lines, "127.0.0.1", 0).await.unwrap());
        let forever = serve_forever_twice(&server).await;
        let (r, w) = open_connection("127.0.0.1", port(&server)).await.unwrap();
        echo_client(r, w, 0).await;
        assert!(!forever.is_finished());
        server.close();
        forever.await.unwrap().unwrap();
    });
}

#[test]
fn cancelling_serve_forever_closes_the_server() {
    on_each_runtime(|| async {
        let server = Arc::new(start_server(echo_lines, "127.0.0.1", 0).await.unwrap());
        let forever = serve_forever_twice(&server).await;
        assert!(server.is_serving());
        forever.abort();
        assert!(forever.await.unwrap_err().is_cancelled());
        assert!(!server.is_serving());
        server.wait_closed().await.unwrap();
    });
}

#[test]
fn host_names_are_resolved() {
    on_each_runtime(|| async {
        let server = start_server(echo_lines, "localhost", 0).await;
        // "localhost" may resolve to ::1 too where IPv6 is off; then binding may fail.
        if let Ok(server) = server {
            let addr = server.sockets()[0].as_inet().unwrap();
            let (r, w) = open_connection(&addr.ip().to_string(), addr.port())
                .await
                .unwrap();
            echo_client(r, w, 1).await;
        }
    });
}

// ---- the reader against its model -------------------------------------------------------

fn chunk() -> impl Strategy<Value = Chunk> {
    prop_oneof![
        4 => proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'b'), any::<u8>()], 0..24)
            .prop_map(Chunk::Data),
        1 => Just(Chunk::Pending),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..40).prop_map(Op::Read),
        Just(Op::ReadToEnd),
        Just(Op::Readline),
        proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'b')], 0..3)
            .prop_map(Op::Readuntil),
        (0usize..40).prop_map(Op::Readexactly),
        Just(Op::AtEof),
        (0usize..40).prop_map(Op::SetLimit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Every read of the real `StreamReader`, over any chunking, with any read cancelled at
    /// its first `Pending`, gives what the `VecDeque` model gives, and both buffers agree.
    #[test]
    fn reader_matches_model(
        limit in 0usize..40,
        chunks in proptest::collection::vec(chunk(), 0..20),
        ends_with_error in proptest::bool::weighted(0.2),
        ops in proptest::collection::vec((op(), proptest::bool::weighted(0.3)), 0..30),
    ) {
        model::check(&model::Input { limit, chunks, ends_with_error, ops });
    }
}

/// A write half whose first `poll_write` stops in the middle (the flusher is inside a poll)
/// until the test has aborted the writer; its drop reports whether the flusher panicked.
struct StallingWrite {
    entered: std::sync::mpsc::Sender<()>,
    resume: std::sync::mpsc::Receiver<()>,
    dropped: std::sync::mpsc::Sender<bool>,
    stalled: bool,
}

impl futures_io::AsyncWrite for StallingWrite {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if !self.stalled {
            self.stalled = true;
            self.entered.send(()).unwrap();
            self.resume.recv().unwrap();
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

impl Drop for StallingWrite {
    fn drop(&mut self) {
        let _ = self.dropped.send(std::thread::panicking());
    }
}

/// A read half that never has data and never wakes anyone: only the writer's abort can end
/// a read on it.
struct SilentRead;

impl futures_io::AsyncRead for SilentRead {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Pending
    }
}

#[test]
fn abort_during_an_in_flight_flush_leaves_the_flusher_whole_and_ends_the_reader() {
    // The flusher runs on a worker; this thread aborts while it is inside its write.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..20 {
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (resume, resume_rx) = std::sync::mpsc::channel();
        let (dropped_tx, dropped) = std::sync::mpsc::channel();
        rt.block_on(async {
            let write = StallingWrite {
                entered: entered_tx,
                resume: resume_rx,
                dropped: dropped_tx,
                stalled: false,
            };
            let (mut r, w) = taskio::streams::from_io(SilentRead, write);
            // A reader parked on a transport that never wakes it.
            let reader = spawn(async move { r.read(10).await });
            w.write(&vec![7u8; 200 * 1024]).unwrap();
            entered.recv().unwrap(); // the flusher is inside poll_write
            w.abort();
            assert_eq!(w.write_buffer_size(), 0);
            resume.send(()).unwrap(); // its write "succeeds" after the abort
            let panicked = dropped.recv().unwrap();
            assert!(!panicked, "the flusher panicked after an abort mid-write");
            let err = w.wait_closed().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io);
            // The aborted connection's reader sees EOF.
            assert_eq!(reader.await.unwrap().unwrap(), b"");
        });
    }
}
