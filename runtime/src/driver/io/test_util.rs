//! A tiny executor for testing the reactor without the scheduler: futures are polled on the
//! test thread, which parks in the driver when none is ready.

use crate::driver::{self, Cfg, Driver, Handle};
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Arc;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long a test may run before the harness declares a lost wake-up / hang.
const DEADLINE: Duration = Duration::from_secs(30);

/// A driver with I/O enabled, and its handle.
pub(crate) fn io_driver() -> (Driver, Arc<Handle>) {
    let (d, h) = Driver::new(Cfg {
        enable_io: true,
        enable_time: false,
        start_paused: false,
    })
    .expect("driver");
    (d, Arc::new(h))
}

struct TaskWaker {
    woken: AtomicBool,
    handle: Arc<Handle>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.handle.unpark();
    }
}

type Task<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs every future to completion, round-robin, on this thread with `driver` entered.
/// Panics if they are not all done within [`DEADLINE`] (a lost wake-up shows up that way).
pub(crate) fn run_all<'a>(driver: &mut Driver, handle: &Arc<Handle>, futs: Vec<Task<'a>>) {
    let _enter = driver::enter(handle.clone());
    let mut tasks: Vec<(Option<Task<'a>>, Arc<TaskWaker>)> = futs
        .into_iter()
        .map(|f| {
            let w = Arc::new(TaskWaker {
                woken: AtomicBool::new(true),
                handle: handle.clone(),
            });
            (Some(f), w)
        })
        .collect();
    let mut left = tasks.len();
    let start = Instant::now();
    while left > 0 {
        let mut progressed = false;
        for (slot, w) in tasks.iter_mut() {
            let Some(fut) = slot else { continue };
            if !w.woken.swap(false, Ordering::AcqRel) {
                continue;
            }
            progressed = true;
            let waker = Waker::from(w.clone());
            if let Poll::Ready(()) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                *slot = None;
                left -= 1;
            }
        }
        if left == 0 {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "tasks did not finish: lost wake-up?"
        );
        if !progressed {
            driver.park(handle, Some(Duration::from_millis(500)));
        } else {
            driver.poll_events(handle);
        }
    }
}

/// Runs one future to completion (see [`run_all`]) and returns its output.
pub(crate) fn block_on<F: Future>(driver: &mut Driver, handle: &Arc<Handle>, fut: F) -> F::Output {
    let mut out = None;
    run_all(
        driver,
        handle,
        vec![Box::pin(async {
            out = Some(fut.await);
        })],
    );
    out.expect("future completed")
}

/// A fresh driver, `f`'s future run on it.
pub(crate) fn run<F: Future>(fut: F) -> F::Output {
    let (mut d, h) = io_driver();
    block_on(&mut d, &h, fut)
}

/// Reads exactly `buf.len()` bytes.
pub(crate) async fn read_exact<R: futures_io::AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
) -> std::io::Result<()> {
    let mut off = 0;
    while off < buf.len() {
        let n = std::future::poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf[off..])).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        off += n;
    }
    Ok(())
}

/// Reads once.
pub(crate) async fn read<R: futures_io::AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf)).await
}

/// Reads to end-of-file.
pub(crate) async fn read_to_end<R: futures_io::AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = read(r, &mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Writes all of `buf`.
pub(crate) async fn write_all<W: futures_io::AsyncWrite + Unpin>(
    w: &mut W,
    buf: &[u8],
) -> std::io::Result<()> {
    let mut off = 0;
    while off < buf.len() {
        let n = std::future::poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, &buf[off..])).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        off += n;
    }
    Ok(())
}

/// `poll_close`.
pub(crate) async fn close<W: futures_io::AsyncWrite + Unpin>(w: &mut W) -> std::io::Result<()> {
    std::future::poll_fn(|cx| Pin::new(&mut *w).poll_close(cx)).await
}

/// Yields once (Pending, woken at once).
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
