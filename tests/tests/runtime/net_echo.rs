//! Loopback echo through the runtime's own scheduler and reactor: many concurrent
//! connections, every byte checked, on each runtime flavour.

use taskio_runtime::net::{TcpListener, TcpStream};
use taskio_runtime::{spawn, Builder, Runtime};
use taskio_tests::io::{close, read_exact, read_to_end, write_all};

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
        (
            "multi_thread(1)",
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap(),
        ),
        (
            "multi_thread(4)",
            Builder::new_multi_thread()
                .worker_threads(4)
                .build()
                .unwrap(),
        ),
    ]
}

/// The bytes client `i` sends: distinct per client and per position.
fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j * 7) % 251) as u8).collect()
}

async fn echo_server(listener: TcpListener, conns: usize) {
    let mut handlers = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (stream, _) = listener.accept().await.unwrap();
        handlers.push(spawn(async move {
            let (mut r, mut w) = stream.into_split();
            let mut buf = vec![0u8; 8192];
            loop {
                let n = taskio_tests::io::read(&mut r, &mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                write_all(&mut w, &buf[..n]).await.unwrap();
            }
            close(&mut w).await.unwrap();
        }));
    }
    for h in handlers {
        h.await.unwrap();
    }
}

#[test]
fn echo_500_connections_every_byte() {
    const CONNS: usize = 500;
    const LEN: usize = 4096;
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(echo_server(listener, CONNS));
            let clients: Vec<_> = (0..CONNS)
                .map(|i| {
                    spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        let data = payload(i, LEN);
                        // Write in uneven pieces, reading the echo as we go.
                        let mut got = vec![0u8; LEN];
                        let mut sent = 0;
                        let mut step = 1 + i % 700;
                        while sent < LEN {
                            let end = (sent + step).min(LEN);
                            write_all(&mut s, &data[sent..end]).await.unwrap();
                            read_exact(&mut s, &mut got[sent..end]).await.unwrap();
                            sent = end;
                            step = step * 2 + 1;
                        }
                        close(&mut s).await.unwrap();
                        let rest = read_to_end(&mut s).await.unwrap();
                        assert!(rest.is_empty(), "extra bytes after the echo");
                        assert_eq!(got, data, "client {i} got different bytes back");
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        });
        eprintln!("{name}: {CONNS} connections echoed");
    }
}

#[test]
fn half_close_then_write_back() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                // The client half-closed: we read everything to EOF, then still write.
                let got = read_to_end(&mut s).await.unwrap();
                write_all(&mut s, format!("got {} bytes", got.len()).as_bytes())
                    .await
                    .unwrap();
                close(&mut s).await.unwrap();
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            write_all(&mut c, &[7u8; 10_000]).await.unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let reply = read_to_end(&mut c).await.unwrap();
            assert_eq!(reply, b"got 10000 bytes");
            server.await.unwrap();
        });
    }
}

#[test]
fn reset_peer_is_an_error_not_a_panic() {
    for (_, rt) in runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                // Unread data + close => RST on Linux.
                let std = s.into_std().unwrap();
                std.set_nonblocking(false).unwrap();
                drop(std);
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            write_all(&mut c, b"unread").await.unwrap();
            server.await.unwrap();
            // Writing to / reading from a reset connection must end in an error or EOF,
            // never a panic or a hang.
            let mut saw_end = false;
            for _ in 0..100 {
                match write_all(&mut c, &[0u8; 1024]).await {
                    Err(_) => {
                        saw_end = true;
                        break;
                    }
                    Ok(()) => taskio_runtime::yield_now().await,
                }
            }
            if !saw_end {
                let mut buf = [0u8; 16];
                let r = taskio_tests::io::read(&mut c, &mut buf).await;
                saw_end = matches!(r, Err(_) | Ok(0));
            }
            assert!(saw_end, "a reset connection was never reported");
        });
    }
}
