//! hyper 1.x on taskio with no glue (feature `hyper`): hyper's own HTTP/1 server and client
//! over the runtime's TCP and Unix streams, on each runtime flavour, loopback only.
//!
//! - requests and responses, keep-alive, a 256 KiB body echoed byte for byte (reads go into
//!   hyper's uninitialised buffers), over TCP and over a Unix pair;
//! - a client that resets its connection mid-request ends that connection's task with an
//!   error, and only it: another connection, opened before, still serves, and so does the
//!   listener;
//! - a client sending garbage gets hyper's `400 Bad Request` and the server's task hyper's
//!   parse error, not a panic.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use taskio::runtime::hyper_rt::{Executor, Timer};
use taskio::runtime::net::{TcpListener, TcpStream, UnixStream};
use taskio::runtime::{spawn, Builder, JoinHandle};
use taskio::Queue;
use taskio_tests::io::write_all;
use taskio_tests::on_each_runtime;

/// `GET /path` answers `hello, /path`; `POST` echoes its body.
async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if req.method() == hyper::Method::POST {
        let body = req.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    let text = format!("hello, {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

type ConnTask = JoinHandle<Result<(), hyper::Error>>;

/// Serves one connection with hyper's HTTP/1 server, with the runtime's timer.
fn serve<IO>(io: IO) -> ConnTask
where
    IO: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    spawn(
        hyper::server::conn::http1::Builder::new()
            .timer(Timer::current())
            .serve_connection(io, hyper::service::service_fn(service)),
    )
}

/// A listener whose accept loop serves every connection; each connection's task is handed
/// to the test through the queue.
async fn server() -> (std::net::SocketAddr, Arc<Queue<ConnTask>>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(Queue::new(0));
    let tx = conns.clone();
    let accept = spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tx.put_nowait(serve(stream)).unwrap();
        }
    });
    (addr, conns, accept)
}

/// hyper's HTTP/1 client over `io`; the connection is driven by a spawned task.
async fn client<IO>(io: IO) -> hyper::client::conn::http1::SendRequest<Full<Bytes>>
where
    IO: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    spawn(async move {
        let _ = conn.await;
    });
    sender
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    path: &str,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// The I/O error under a hyper error, if that is its cause.
fn io_error(err: &hyper::Error) -> Option<&std::io::Error> {
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = e.source();
    }
    None
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 253) as u8).collect()
}

#[test]
fn requests_and_responses_over_tcp_and_unix() {
    on_each_runtime(|| async {
        let (addr, conns, accept) = server().await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let unix_server = serve(a);
        for (name, mut sender) in [("tcp", client(tcp).await), ("unix", client(b).await)] {
            // Keep-alive: several requests on one connection.
            for path in ["/a", "/bb", "/ccc"] {
                let (status, body) = get(&mut sender, path).await;
                assert_eq!(status, StatusCode::OK, "{name}");
                assert_eq!(body, format!("hello, {path}").as_bytes(), "{name}");
            }
            let sent = pattern(256 * 1024);
            sender.ready().await.unwrap();
            let req = Request::post("/echo")
                .header("host", "localhost")
                .body(Full::new(Bytes::from(sent.clone())))
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{name}");
            let got = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(got.len(), sent.len(), "{name}");
            assert!(got == sent, "{name}: echoed body differs");
            // Closing the client ends the server's connection task cleanly.
            drop(sender);
        }
        let tcp_conn = conns.get().await.unwrap();
        tcp_conn.await.unwrap().unwrap();
        unix_server.await.unwrap().unwrap();
        accept.abort();
    });
}

/// Makes the next close of `stream` send a reset (`SO_LINGER` on, zero seconds).
fn linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a valid `struct linger` of the size given, alive for the call.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

#[test]
fn reset_mid_request_ends_that_connection_only() {
    on_each_runtime(|| async {
        let (addr, conns, accept) = server().await;
        // A healthy connection, opened first.
        let mut healthy = client(TcpStream::connect(addr).await.unwrap()).await;
        let (status, _) = get(&mut healthy, "/before").await;
        assert_eq!(status, StatusCode::OK);
        let healthy_conn = conns.get().await.unwrap();
        // Then connections that send half a request and reset: in the body (the service's
        // body read fails) and in the headers (hyper's read fails).
        for half in [
            &b"POST /upload HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100000\r\n\r\npartial"[..],
            &b"GET /never-finished HTTP/1.1\r\nhost: loc"[..],
        ] {
            let mut rude = TcpStream::connect(addr).await.unwrap();
            write_all(&mut rude, half).await.unwrap();
            let rude_conn = conns.get().await.unwrap();
            // Whether the server has read the half request yet or not, its next read meets
            // the reset.
            linger_zero(&rude);
            drop(rude);
            // Its task ends with hyper's error, not a panic.
            let err = rude_conn
                .await
                .expect("the connection task must not panic")
                .expect_err("a reset mid-request is an error of that connection");
            eprintln!("reset connection ended with: {err:?}");
            assert_eq!(
                io_error(&err).map(|e| e.kind()),
                Some(std::io::ErrorKind::ConnectionReset),
                "{err:?}"
            );
        }
        // The other connection and the listener are unaffected.
        let (status, body) = get(&mut healthy, "/after").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, &b"hello, /after"[..]);
        let mut fresh = client(TcpStream::connect(addr).await.unwrap()).await;
        let (status, _) = get(&mut fresh, "/fresh").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!accept.is_finished());
        drop(healthy);
        healthy_conn.await.unwrap().unwrap();
        accept.abort();
    });
}

#[test]
fn garbage_gets_a_parse_error_not_a_panic() {
    on_each_runtime(|| async {
        let (addr, conns, accept) = server().await;
        let mut garbage = TcpStream::connect(addr).await.unwrap();
        write_all(&mut garbage, b"\x00\x01\x02 not http at all \xff\r\n\r\n")
            .await
            .unwrap();
        let conn = conns.get().await.unwrap();
        let err = conn
            .await
            .expect("the connection task must not panic")
            .expect_err("garbage is an error");
        assert!(err.is_parse(), "not a parse error: {err:?}");
        // hyper answered 400 and closed.
        let mut reply = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            garbage.readable().await.unwrap();
            match garbage.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(
            reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
            "{:?}",
            String::from_utf8_lossy(&reply)
        );
        // The server goes on serving.
        let mut sender = client(TcpStream::connect(addr).await.unwrap()).await;
        let (status, body) = get(&mut sender, "/ok").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, &b"hello, /ok"[..]);
        accept.abort();
    });
}

#[test]
fn executor_runs_hyper_background_work() {
    use hyper::rt::Executor as _;
    on_each_runtime(|| async {
        let exec = Executor::current();
        let done = Arc::new(Queue::new(0));
        for i in 0..10 {
            let tx = done.clone();
            exec.execute(async move {
                taskio::runtime::yield_now().await;
                tx.put_nowait(i).unwrap();
            });
        }
        let mut got = Vec::new();
        for _ in 0..10 {
            got.push(done.get().await.unwrap());
        }
        got.sort();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn header_read_timeout_runs_on_the_runtime_timer() {
    // A paused clock: the timeout fires when the clock jumps to it, in no real time.
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut silent = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let start = taskio::runtime::time::Instant::now();
        let conn = spawn(
            hyper::server::conn::http1::Builder::new()
                .timer(Timer::current())
                .header_read_timeout(std::time::Duration::from_secs(5))
                .serve_connection(stream, hyper::service::service_fn(service)),
        );
        // The client sends half a request line and then nothing.
        write_all(&mut silent, b"GET / HT").await.unwrap();
        let err = conn.await.unwrap().expect_err("the headers never came");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            taskio::runtime::time::Instant::now() - start,
            std::time::Duration::from_secs(5)
        );
    });
}
