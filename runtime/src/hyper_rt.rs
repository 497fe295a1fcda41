//! hyper 1.x on this runtime with no glue (feature `hyper`): the runtime's streams are
//! [`hyper::rt::Read`] and [`hyper::rt::Write`] themselves, and this module has the
//! [`Executor`] and [`Timer`] hyper's connection builders ask for.
//!
//! | hyper wants | here |
//! |---|---|
//! | `T: hyper::rt::Read + hyper::rt::Write` | [`TcpStream`], [`UnixStream`] (no `TokioIo`-style wrapper) |
//! | `.executor(E)` (HTTP/2, `hyper-util`'s pools) | [`Executor`]: spawns on the runtime |
//! | `.timer(T)` (header read timeout, keep-alive) | [`Timer`]: the runtime's timer wheel |
//!
//! Reads go straight into hyper's uninitialised `ReadBuf` ([`TcpStream::poll_read_uninit`]):
//! nothing is zeroed first. Writes are the streams' `futures_io::AsyncWrite` ones;
//! `poll_flush` has nothing to do, `poll_shutdown` shuts the write side down.
//!
//! # Examples
//!
//! The two I/O traits over a loopback connection (hyper's own `http1` client and server use
//! them the same way; see `taskio`'s `http_server` example):
//!
//! ```
//! use std::future::poll_fn;
//! use std::mem::MaybeUninit;
//! use std::pin::Pin;
//! use hyper::rt::{Read, ReadBuf, Write};
//! use taskio_runtime::net::{TcpListener, TcpStream};
//!
//! taskio_runtime::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     let n = poll_fn(|cx| Write::poll_write(Pin::new(&mut client), cx, b"GET / HTTP/1.1\r\n")).await?;
//!     assert_eq!(n, 16);
//!     let mut storage = [MaybeUninit::<u8>::uninit(); 64];
//!     let mut buf = ReadBuf::uninit(&mut storage);
//!     while buf.filled().len() < n {
//!         poll_fn(|cx| Read::poll_read(Pin::new(&mut server), cx, buf.unfilled())).await?;
//!     }
//!     assert_eq!(buf.filled(), b"GET / HTTP/1.1\r\n");
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use crate::net::{tcp, unix, TcpStream, UnixStream};
use crate::time::Instant;
use crate::Handle;

/// `hyper::rt::Read` by reading into the cursor's uninitialised space, then advancing it.
macro_rules! hyper_read {
    ($($ty:ty),*) => {$(
        impl hyper::rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: hyper::rt::ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: `poll_read_uninit` only writes bytes into the slice (it never
                // de-initialises any: `read(2)` stores what it read).
                let spare = unsafe { buf.as_mut() };
                let n = ready!(self.poll_read_uninit(cx, spare))?;
                // SAFETY: on `Ok(n)`, `poll_read_uninit` has initialised the first `n` bytes
                // of the slice (its contract), which starts at the cursor.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

hyper_read!(
    TcpStream,
    UnixStream,
    tcp::OwnedReadHalf,
    unix::OwnedReadHalf
);

/// `hyper::rt::Write` through the stream's `futures_io::AsyncWrite`.
macro_rules! hyper_write {
    ($($ty:ty),*) => {$(
        impl hyper::rt::Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }
        }
    )*};
}

hyper_write!(
    TcpStream,
    UnixStream,
    tcp::OwnedWriteHalf,
    unix::OwnedWriteHalf
);

/// hyper's executor on this runtime: [`execute`](hyper::rt::Executor::execute) spawns the
/// future as a runtime task (detached: its join handle is dropped). Holds a [`Handle`], so it
/// also works where no runtime is current.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor as _;
/// use taskio_runtime::hyper_rt::Executor;
///
/// taskio_runtime::Runtime::new().unwrap().block_on(async {
///     let exec = Executor::current();
///     let (tx, rx) = std::sync::mpsc::channel();
///     exec.execute(async move { tx.send(7).unwrap() });
///     let got = taskio_runtime::spawn_blocking(move || rx.recv().unwrap()).await.unwrap();
///     assert_eq!(got, 7);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Executor {
    handle: Handle,
}

impl Executor {
    /// An executor spawning on `handle`'s runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let exec = taskio_runtime::hyper_rt::Executor::new(rt.handle().clone());
    /// # drop(exec);
    /// ```
    pub fn new(handle: Handle) -> Executor {
        Executor { handle }
    }

    /// An executor spawning on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let _exec = taskio_runtime::hyper_rt::Executor::current();
    /// });
    /// ```
    pub fn current() -> Executor {
        Executor::new(Handle::current())
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        drop(self.handle.spawn(fut));
    }
}

/// hyper's timer on this runtime's timer wheel: its sleeps are [`crate::time::Sleep`]s, and
/// its clock ([`now`](hyper::rt::Timer::now)) is the runtime's, so hyper's timeouts follow a
/// paused clock too. Holds a [`Handle`]: sleeps are made on that runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer as _;
/// use taskio_runtime::hyper_rt::Timer;
/// use taskio_runtime::time::Instant;
///
/// let rt = taskio_runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let timer = Timer::current();
///     let start = Instant::now();
///     timer.sleep(Duration::from_secs(30)).await; // the paused clock jumps
///     assert_eq!(Instant::now() - start, Duration::from_secs(30));
///     assert_eq!(Instant::from_std(timer.now()), Instant::now());
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Timer {
    handle: Handle,
}

impl Timer {
    /// A timer on `handle`'s runtime (which must have timers enabled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = taskio_runtime::Runtime::new().unwrap();
    /// let timer = taskio_runtime::hyper_rt::Timer::new(rt.handle().clone());
    /// # drop(timer);
    /// ```
    pub fn new(handle: Handle) -> Timer {
        Timer { handle }
    }

    /// A timer on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio_runtime::Runtime::new().unwrap().block_on(async {
    ///     let _timer = taskio_runtime::hyper_rt::Timer::current();
    /// });
    /// ```
    pub fn current() -> Timer {
        Timer::new(Handle::current())
    }
}

/// A runtime [`Sleep`](crate::time::Sleep) as hyper's `Sleep`.
struct HyperSleep(crate::time::Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl Timer {
    /// Runs `f` with the timer's runtime current: as it is already on that runtime's
    /// workers (where hyper calls the timer from, once per request), so only a call from
    /// elsewhere pays for entering it.
    #[inline]
    fn in_runtime<R>(&self, f: impl FnOnce() -> R) -> R {
        if crate::runtime::context::is_current(&self.handle.inner) {
            f()
        } else {
            let _enter = self.handle.enter();
            f()
        }
    }
}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.in_runtime(|| Box::pin(HyperSleep(crate::time::sleep(duration))))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.in_runtime(|| {
            Box::pin(HyperSleep(crate::time::sleep_until(Instant::from_std(
                deadline,
            ))))
        })
    }

    fn now(&self) -> std::time::Instant {
        self.in_runtime(|| Instant::now().into_std())
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(mut s) => Pin::new(&mut s.0).reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    fn _assert_send_sync() {
        fn is<T: Send + Sync>() {}
        is::<Executor>();
        is::<Timer>();
        is::<HyperSleep>();
    }

    fn paused() -> crate::Runtime {
        crate::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[test]
    fn reset_moves_the_deadline_in_place() {
        paused().block_on(async {
            let timer = Timer::current();
            let start = Instant::now();
            let mut sleep = timer.sleep_until((start + Duration::from_secs(60)).into_std());
            timer.reset(&mut sleep, (start + Duration::from_secs(2)).into_std());
            // Still the same (runtime) sleep, not a new one.
            assert!(sleep.as_ref().get_ref().is::<HyperSleep>());
            sleep.await;
            assert_eq!(Instant::now() - start, Duration::from_secs(2));
        });
    }

    #[test]
    fn deadlines_are_on_the_runtime_clock() {
        paused().block_on(async {
            let timer = Timer::current();
            crate::time::advance(Duration::from_secs(3600)).await;
            // hyper computes deadlines as `timer.now() + d`: on a paused clock that moved, a
            // deadline 1 s ahead of the timer's clock is 1 s ahead of the runtime's.
            let start = Instant::now();
            assert_eq!(Instant::from_std(timer.now()), start);
            timer
                .sleep_until(timer.now() + Duration::from_secs(1))
                .await;
            assert_eq!(Instant::now() - start, Duration::from_secs(1));
        });
    }

    #[test]
    fn a_timer_reads_its_own_runtime_clock_inside_another_runtime() {
        let other = paused();
        other.block_on(crate::time::advance(Duration::from_secs(3600)));
        let timer = Timer::new(other.handle().clone());
        paused().block_on(async {
            // This runtime's clock did not move; the timer's runtime's did, by an hour.
            let here = Instant::now();
            let there = Instant::from_std(timer.now());
            assert!(
                there - here >= Duration::from_secs(3599),
                "{:?}",
                there - here
            );
        });
    }

    #[test]
    fn made_on_its_handle_outside_the_runtime() {
        let rt = paused();
        let timer = Timer::new(rt.handle().clone());
        // Created here, on a thread with no current runtime; awaited inside.
        let sleep = timer.sleep(Duration::from_millis(5));
        rt.block_on(sleep);
    }
}
