//! "http_server": an HTTP/1 hello-world server on hyper 1.x, with no glue between hyper and
//! taskio (feature `hyper`): the runtime's `TcpStream` is hyper's I/O, `hyper_rt::Timer` its
//! timer. SIGTERM (or Ctrl-C) shuts it down gracefully: it stops accepting, each connection
//! finishes the request it is serving and closes (hyper's `graceful_shutdown`), and after a
//! grace period the stragglers are dropped.
//!
//! ```text
//! cargo run -p taskio --features hyper --example http_server            # serves on 127.0.0.1:3000
//! cargo run -p taskio --features hyper --example http_server -- 8080    # another port
//! cargo run -p taskio --features hyper --example http_server -- --self-test
//! ```
//!
//! `--self-test` serves on a free loopback port, sends itself three requests with hyper's
//! client, then SIGTERM, and ends by itself once the shutdown is done.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use taskio::runtime::hyper_rt::Timer;
use taskio::runtime::net::{TcpListener, TcpStream};
use taskio::runtime::signal::{self, Signal, SignalKind};
use taskio::runtime::{spawn, time, JoinHandle, Runtime};
use taskio::Event;

/// How long connections get to finish once SIGTERM came.
const GRACE: Duration = Duration::from_secs(10);

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let text = format!("Hello, world! You asked for {}\n", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// Serves one connection until it ends, or until `stopping` is set: then hyper finishes the
/// request in flight, answers with `connection: close`, and the connection ends.
async fn serve(stream: TcpStream, stopping: Arc<Event>) {
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(Timer::current())
        .serve_connection(stream, hyper::service::service_fn(hello));
    let mut conn = pin!(conn);
    let mut stop = pin!(stopping.wait());
    let mut draining = false;
    let res = poll_fn(|cx| {
        if !draining && stop.as_mut().poll(cx).is_ready() {
            draining = true;
            conn.as_mut().graceful_shutdown();
        }
        conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = res {
        eprintln!("connection error: {e}");
    }
}

/// Accepts until SIGTERM or Ctrl-C, then shuts down gracefully.
async fn run(listener: TcpListener, mut term: Signal, mut int: Signal) -> std::io::Result<()> {
    let stopping = Arc::new(Event::new());
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let next = poll_fn(|cx| {
            if term.poll_recv(cx).is_ready() || int.poll_recv(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match next {
            None => break,
            Some(Ok((stream, _peer))) => {
                conns.retain(|c| !c.is_finished());
                conns.push(spawn(serve(stream, stopping.clone())));
            }
            Some(Err(e)) => eprintln!("accept failed: {e}"),
        }
    }
    drop(listener);
    let live = conns.iter().filter(|c| !c.is_finished()).count();
    println!("SIGTERM: no new connections; {live} open, {GRACE:?} to finish");
    stopping.set();
    let all = async {
        for c in &mut conns {
            let _ = c.await;
        }
    };
    if time::timeout(GRACE, all).await.is_err() {
        let left = conns.iter().filter(|c| !c.is_finished()).count();
        println!("grace period over: dropping {left} connections");
        for c in &conns {
            c.abort();
        }
    }
    println!("shut down");
    Ok(())
}

/// `--self-test`: three requests with hyper's client (one kept open over the shutdown, so
/// the graceful path has work to do), then SIGTERM to this process.
async fn self_test(addr: std::net::SocketAddr) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    let client_conn = spawn(conn);
    for path in ["/", "/taskio", "/hyper"] {
        sender.ready().await.unwrap();
        let req = Request::get(path)
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        print!("GET {path} -> {status}: {}", String::from_utf8_lossy(&body));
    }
    // SAFETY: `kill` with this process's own id and a valid signal number; the server's
    // SIGTERM listener (created in `main` before this runs) handles it.
    unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    // The server closes the kept-alive connection: the client's connection task ends.
    let _ = client_conn.await;
}

fn main() -> std::io::Result<()> {
    let arg = std::env::args().nth(1);
    let self_testing = arg.as_deref() == Some("--self-test");
    let port: u16 = match &arg {
        Some(p) if !self_testing => p.parse().expect("usage: http_server [PORT | --self-test]"),
        _ if self_testing => 0,
        _ => 3000,
    };
    Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr} (SIGTERM or Ctrl-C to stop)");
        // Listening from now on: a SIGTERM sent from here on is seen.
        let term = signal::signal(SignalKind::terminate())?;
        let int = signal::signal(SignalKind::interrupt())?;
        let server = spawn(run(listener, term, int));
        if self_testing {
            self_test(addr).await;
        }
        server.await.expect("the server task panicked")
    })
}
