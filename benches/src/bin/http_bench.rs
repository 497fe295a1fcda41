//! HTTP/1.1 keep-alive hello-world: the same hyper 1.x service on taskio (the runtime's
//! `hyper` feature, no glue) and on tokio (hyper-util's `TokioIo`, as tokio users write it),
//! each a server process of its own, driven by the same load generator, alternately.
//!
//! `cargo run --release -p taskio-benches --bin http_bench -- [--conns 64] [--secs 5]
//! [--rounds 3] [--workers 2]`
//!
//! Each round starts the taskio server, loads it for `--secs`, stops it, then the same for
//! tokio (the order flips every round). The load generator is this process: `--conns`
//! threads, each with one kept-alive connection, sending `GET /` and reading the whole
//! response before the next request. It prints, per runtime, the medians over the rounds of
//! requests per second, p50 and p99 latency, and the server's CPU time per request (from
//! `/proc/PID/stat`, user + system, over the load window), then taskio / tokio ratios.
//! Linux only (the CPU figures come from procfs).
//!
//! `http_bench --serve taskio|tokio` runs a server alone (it prints `PORT N`), and
//! `http_bench --load-port N` loads it: to count a server's system calls per request under
//! `strace -f -c`, or its wake-ups under `perf stat`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream as StdStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!\n",
    ))))
}

fn serve_taskio(workers: usize) {
    let rt = taskio_runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = taskio_runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            taskio_runtime::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(taskio_runtime::hyper_rt::Timer::current())
                    .serve_connection(stream, hyper::service::service_fn(hello))
                    .await;
            });
        }
    });
}

fn serve_tokio(workers: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper::service::service_fn(hello),
                    )
                    .await;
            });
        }
    });
}

/// A server process and its port.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(rt: &str, workers: usize) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--serve", rt, "--workers", &workers.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the server said {line:?}"));
        Server { child, port }
    }

    /// User + system CPU time of the server process so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which may hold spaces, inside parentheses).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 11 and 12 of `rest`.
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_nanos(ticks * 1_000_000_000 / hz)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Sends one request and reads the whole response (headers, then `content-length` bytes).
fn round_trip(conn: &mut BufReader<StdStream>, buf: &mut Vec<u8>) -> std::io::Result<()> {
    conn.get_mut().write_all(REQUEST)?;
    let mut len = None;
    loop {
        buf.clear();
        if conn.read_until(b'\n', buf)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if buf == b"\r\n" {
            break;
        }
        let line = std::str::from_utf8(buf).unwrap_or("");
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                len = value.trim().parse::<usize>().ok();
            }
        }
    }
    let len = len.expect("a content-length");
    buf.resize(len, 0);
    conn.read_exact(buf)?;
    assert_eq!(&buf[..], b"Hello, world!\n");
    Ok(())
}

struct Load {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    server_cpu: Duration,
}

/// Loads the server at `port` for `secs` seconds; the CPU figure comes from `server`, if this
/// process started it.
fn load(port: u16, server: Option<&Server>, conns: usize, secs: f64) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    // Connect and warm every connection first, so the window measures requests only.
    let mut streams = Vec::new();
    for _ in 0..conns {
        let s = StdStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        let mut conn = BufReader::new(s);
        round_trip(&mut conn, &mut Vec::new()).unwrap();
        streams.push(conn);
    }
    let cpu = || server.map_or(Duration::ZERO, Server::cpu);
    let cpu0 = cpu();
    let start = Instant::now();
    let threads: Vec<_> = streams
        .into_iter()
        .map(|mut conn| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut buf = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    round_trip(&mut conn, &mut buf).unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for t in threads {
        latencies.extend(t.join().unwrap());
    }
    let elapsed = start.elapsed();
    let server_cpu = cpu().saturating_sub(cpu0);
    latencies.sort();
    Load {
        requests: latencies.len(),
        elapsed,
        latencies,
        server_cpu,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[derive(Default)]
struct Figures {
    rps: Vec<f64>,
    p50_us: Vec<f64>,
    p99_us: Vec<f64>,
    cpu_us: Vec<f64>,
}

impl Figures {
    fn add(&mut self, l: &Load) {
        let q = |p: f64| {
            l.latencies[((l.latencies.len() as f64 * p) as usize).min(l.latencies.len() - 1)]
        };
        self.rps.push(l.requests as f64 / l.elapsed.as_secs_f64());
        self.p50_us.push(q(0.50).as_secs_f64() * 1e6);
        self.p99_us.push(q(0.99).as_secs_f64() * 1e6);
        self.cpu_us
            .push(l.server_cpu.as_secs_f64() * 1e6 / l.requests as f64);
    }

    fn medians(&self) -> [f64; 4] {
        [
            median(self.rps.clone()),
            median(self.p50_us.clone()),
            median(self.p99_us.clone()),
            median(self.cpu_us.clone()),
        ]
    }
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workers: usize = arg(&args, "--workers", "2").parse().unwrap();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        match args[i + 1].as_str() {
            "taskio" => serve_taskio(workers),
            "tokio" => serve_tokio(workers),
            other => panic!("--serve taskio|tokio, not {other}"),
        }
        return;
    }
    let conns: usize = arg(&args, "--conns", "64").parse().unwrap();
    let secs: f64 = arg(&args, "--secs", "5").parse().unwrap();
    if let Some(i) = args.iter().position(|a| a == "--load-port") {
        // Load a server started by hand (e.g. under `strace -c` or `perf stat`).
        let port: u16 = args[i + 1].parse().unwrap();
        let l = load(port, None, conns, secs);
        println!("{} requests in {:.2?}", l.requests, l.elapsed);
        return;
    }
    let rounds: usize = arg(&args, "--rounds", "3").parse().unwrap();
    let mut taskio = Figures::default();
    let mut tokio = Figures::default();
    for round in 0..rounds {
        let order: [&str; 2] = if round % 2 == 0 {
            ["taskio", "tokio"]
        } else {
            ["tokio", "taskio"]
        };
        for rt in order {
            let server = Server::start(rt, workers);
            let l = load(server.port, Some(&server), conns, secs);
            eprintln!(
                "round {round} {rt}: {} requests in {:.2?}, server CPU {:.2?}",
                l.requests, l.elapsed, l.server_cpu
            );
            match rt {
                "taskio" => taskio.add(&l),
                _ => tokio.add(&l),
            }
        }
    }
    let a = taskio.medians();
    let b = tokio.medians();
    println!(
        "hello world, HTTP/1.1 keep-alive, {conns} connections, {workers} server workers, {rounds} rounds of {secs} s, medians:\n"
    );
    println!("| | taskio | tokio | taskio / tokio |");
    println!("|---|---|---|---|");
    let names = [
        "requests/s",
        "p50 latency (µs)",
        "p99 latency (µs)",
        "server CPU per request (µs)",
    ];
    for i in 0..4 {
        println!(
            "| {} | {:.1} | {:.1} | {:.3} |",
            names[i],
            a[i],
            b[i],
            a[i] / b[i]
        );
    }
}
