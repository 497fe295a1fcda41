//! A server's listen backlog: a burst of 2,000 concurrent connects to `start_server`, every
//! byte echoed and checked, on each runtime flavour; and the backlog each listener is given
//! read back from the kernel (Linux `TCP_INFO` of a listening socket: `tcpi_sacked` is its
//! backlog), for the runtime's `bind`, `bind_with_backlog` and `ServerConfig::backlog`.

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use taskio::runtime::net::{TcpListener, UnixListener, DEFAULT_BACKLOG};
use taskio::runtime::{spawn, time, Builder};
use taskio::streams::{
    open_connection, start_server_with, ServerConfig, StreamReader, StreamWriter,
};
use taskio_tests::runtimes;

/// Clients connecting at once.
const CLIENTS: usize = 2_000;

/// Raises the soft descriptor limit to the hard one: the burst holds two descriptors per
/// client (both ends are in this process) plus the runtime's own.
fn raise_fd_limit() -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit` for the call's duration.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid `rlimit`; raising the soft limit up to the hard one is
        // allowed to any process.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
    lim.rlim_cur
}

/// Client `i`'s payload: distinct for each client, of a length that varies (1–8 KiB) so
/// that some need several reads.
fn payload(i: usize) -> Vec<u8> {
    let len = 1024 + (i * 7919) % (7 * 1024);
    let tag = format!("<client {i}>");
    tag.bytes().cycle().take(len).collect()
}

/// The echo handler: every chunk read is written back, then EOF is echoed as EOF.
async fn echo(mut r: StreamReader, w: StreamWriter) -> taskio::Result<()> {
    loop {
        let chunk = r.read(64 * 1024).await?;
        if chunk.is_empty() {
            break;
        }
        w.write(&chunk)?;
        w.drain().await?;
    }
    w.write_eof()?;
    w.drain().await
}

#[test]
fn burst_of_2000_connects_all_echoed() {
    let limit = raise_fd_limit();
    assert!(
        limit >= 2 * CLIENTS as libc::rlim_t + 256,
        "RLIMIT_NOFILE hard limit {limit} is too low for {CLIENTS} loopback connections"
    );
    for (name, rt) in runtimes() {
        eprintln!("-- {name}");
        rt.block_on(async {
            let server = start_server_with(echo, "127.0.0.1", 0, ServerConfig::new())
                .await
                .unwrap();
            let port = server.sockets()[0].as_inet().unwrap().port();
            // Every client is spawned before any runs: their connects arrive together.
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    spawn(async move {
                        let sent = payload(i);
                        let (mut r, w) = open_connection("127.0.0.1", port).await?;
                        w.write(&sent)?;
                        w.write_eof()?;
                        w.drain().await?;
                        let got = r.read_to_end().await?;
                        Ok::<_, taskio::Error>(got == sent)
                    })
                })
                .collect();
            // A bound, so that a lost connection fails the test instead of hanging it.
            let results = time::timeout(std::time::Duration::from_secs(120), async {
                let mut out = Vec::with_capacity(CLIENTS);
                for c in clients {
                    out.push(c.await.expect("client task panicked"));
                }
                out
            })
            .await
            .expect("the burst did not finish within its bound");
            let mut failed = Vec::new();
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Ok(true) => {}
                    Ok(false) => failed.push(format!("client {i}: echo differs")),
                    Err(e) => failed.push(format!("client {i}: {e}")),
                }
            }
            assert!(
                failed.is_empty(),
                "{} of {CLIENTS} clients failed: {:?}",
                failed.len(),
                &failed[..failed.len().min(10)]
            );
            server.close();
            server.wait_closed().await.unwrap();
        });
    }
}

/// The backlog the kernel holds for the listening TCP socket `fd` (`TCP_INFO`'s
/// `tcpi_sacked`, which Linux fills with `sk_max_ack_backlog` for a listener).
fn listen_backlog(fd: RawFd) -> u32 {
    // SAFETY: `tcp_info` is plain integers; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` and `len` are valid and writable for the call, `len` is `info`'s size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
    assert_eq!(info.tcpi_state, 10, "not a listening socket (TCP_LISTEN)");
    info.tcpi_sacked
}

/// The listening TCP socket of this process bound to `addr`, found among its descriptors.
fn listener_fd(addr: SocketAddr) -> Option<RawFd> {
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Ok(fd) = entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .parse::<RawFd>()
        else {
            continue;
        };
        // SAFETY: all-zero is a valid `sockaddr_storage`.
        let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `ss` and `len` are valid and writable for the call. `fd` may be any
        // descriptor (or closed meanwhile): then the call fails and it is skipped.
        let rc = unsafe {
            libc::getsockname(
                fd,
                (&mut ss as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        if rc != 0 || i32::from(ss.ss_family) != libc::AF_INET {
            continue;
        }
        // SAFETY: the family is `AF_INET`, so the storage holds a `sockaddr_in`.
        let sin = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
        let port = u16::from_be(sin.sin_port);
        let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
        if SocketAddr::from((ip, port)) != addr {
            continue;
        }
        let mut accepting: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `accepting` and `len` are valid and writable for the call.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ACCEPTCONN,
                (&mut accepting as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc == 0 && accepting != 0 {
            return Some(fd);
        }
    }
    None
}

#[test]
fn runtime_bind_listens_with_the_default_backlog() {
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            listen_backlog(listener.as_fd().as_raw_fd()),
            DEFAULT_BACKLOG.min(somaxconn)
        );
        let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 37)
            .await
            .unwrap();
        assert_eq!(listen_backlog(listener.as_fd().as_raw_fd()), 37);
        // Still an ordinary listener: a connection is accepted.
        let addr = listener.local_addr().unwrap();
        let client = taskio::runtime::net::TcpStream::connect(addr)
            .await
            .unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        // SO_REUSEADDR is set, as std sets it.
        let mut on: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `on` and `len` are valid and writable for the call.
        let rc = unsafe {
            libc::getsockopt(
                listener.as_fd().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&mut on as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_ne!(on, 0);
    });
}

#[test]
fn server_config_backlog_reaches_the_listener() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for (config, expect) in [
            (ServerConfig::new(), DEFAULT_BACKLOG),
            (ServerConfig::new().backlog(61), 61),
        ] {
            let server = start_server_with(echo, "127.0.0.1", 0, config)
                .await
                .unwrap();
            let addr = server.sockets()[0].as_inet().unwrap();
            let fd = listener_fd(addr).expect("the server's listening socket");
            let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert_eq!(listen_backlog(fd), expect.min(somaxconn));
            server.close();
            server.wait_closed().await.unwrap();
        }
    });
}

/// Connects a nonblocking Unix stream socket to `path`: `Ok` when queued, `EAGAIN` when the
/// listener's queue is full.
fn unix_connect_nonblocking(path: &std::path::Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: plain syscall; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: all-zero is a valid `sockaddr_un`.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    assert!(bytes.len() < sun.sun_path.len());
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: `sun` is a valid, NUL-terminated `sockaddr_un` of the size given.
    let rc = unsafe {
        libc::connect(
            fd,
            (&sun as *const libc::sockaddr_un).cast(),
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(owned)
}

#[test]
fn unix_bind_with_backlog_queues_that_many() {
    let dir = std::env::temp_dir().join(format!("taskio-burst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for backlog in [2u32, 9] {
            let path = dir.join(format!("backlog-{backlog}.sock"));
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind_with_backlog(&path, backlog).unwrap();
            // Nobody accepts: the queue fills. Linux queues `backlog + 1` connections of a
            // Unix stream socket, then a nonblocking connect fails with EAGAIN.
            let mut queued = Vec::new();
            let err = loop {
                match unix_connect_nonblocking(&path) {
                    Ok(fd) => queued.push(fd),
                    Err(e) => break e,
                }
                assert!(
                    queued.len() <= 64,
                    "the backlog of {backlog} was not applied"
                );
            };
            assert_eq!(err.raw_os_error(), Some(libc::EAGAIN), "{err}");
            assert_eq!(queued.len(), backlog as usize + 1);
            // Each queued connection is there to accept.
            for _ in 0..queued.len() {
                listener.accept().await.unwrap();
            }
            std::fs::remove_file(&path).unwrap();
        }
    });
    let _ = std::fs::remove_dir(&dir);
}
