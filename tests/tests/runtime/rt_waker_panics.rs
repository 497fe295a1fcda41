//! Wakers that panic, called by the drivers: the timer wheel firing a batch of sleeps and the
//! I/O driver dispatching readiness. A waker that panics in `wake()` loses its own wake-up
//! only; every other waiter of the same batch is still woken, nothing escapes into the
//! worker (or into `block_on` on the current-thread runtime), and the runtime keeps running
//! and shuts down.
//!
//! The broken wakers are registered first, so the dispatch reaches them before the real
//! tasks' wakers; each real task says when its first poll has registered it, and the event
//! is produced only after that.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use taskio_runtime::net::UnixStream;
use taskio_runtime::time::{self, Duration, Instant};
use taskio_runtime::{spawn, task};
use taskio_tests::io::write_all;
use taskio_tests::{rt_tests, Flavor, PanickingWaker};

rt_tests!(
    a_timer_batch_survives_wakers_that_panic,
    a_readiness_batch_survives_wakers_that_panic,
);

/// Polls `fut` once with a waker that panics, expecting it to wait.
fn register_broken<F: Future + ?Sized>(fut: Pin<&mut F>, calls: &Arc<AtomicUsize>) {
    let waker = Waker::from(Arc::new(PanickingWaker(calls.clone())));
    assert!(
        fut.poll(&mut Context::from_waker(&waker)).is_pending(),
        "expected the broken waiter to wait"
    );
}

/// `inner`, raising `registered` once a poll of it has returned `Pending` (its waker is
/// stored by then).
struct Registered<F> {
    inner: Pin<Box<F>>,
    registered: Arc<AtomicBool>,
}

impl<F: Future> Future for Registered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let out = self.inner.as_mut().poll(cx);
        if out.is_pending() {
            self.registered.store(true, SeqCst);
        }
        out
    }
}

/// Spawns `fut` and returns its handle and its "has registered" flag.
fn spawn_registered<F>(fut: F) -> (task::JoinHandle<F::Output>, Arc<AtomicBool>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let registered = Arc::new(AtomicBool::new(false));
    let h = spawn(Registered {
        inner: Box::pin(fut),
        registered: registered.clone(),
    });
    (h, registered)
}

/// Yields until every flag is up (the watchdog fails the test if that never happens).
async fn until_all(flags: &[Arc<AtomicBool>]) {
    while !flags.iter().all(|f| f.load(SeqCst)) {
        task::yield_now().await;
    }
}

/// Yields until `calls` reaches `n`.
async fn until_called(calls: &AtomicUsize, n: usize) {
    while calls.load(SeqCst) < n {
        task::yield_now().await;
    }
}

fn a_timer_batch_survives_wakers_that_panic(flavor: Flavor) {
    let rt = flavor.rt();
    rt.block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        for round in 0..3 {
            // One deadline for everybody: one wheel slot, fired in one batch.
            let deadline = Instant::now() + Duration::from_millis(30);
            let mut broken = Vec::new();
            let mut real = Vec::new();
            let mut flags = Vec::new();
            for _ in 0..4 {
                let mut s = Box::pin(time::sleep_until(deadline));
                register_broken(s.as_mut(), &calls);
                broken.push(s);
                for _ in 0..4 {
                    let (h, flag) = spawn_registered(time::sleep_until(deadline));
                    real.push(h);
                    flags.push(flag);
                }
            }
            until_all(&flags).await;
            for h in real {
                h.await.expect("a real sleeper completes");
            }
            until_called(&calls, 4 * (round + 1)).await;
            // The broken sleeps fired too: polled again, they are done.
            for s in &mut broken {
                assert!(task_poll_noop(s.as_mut()).is_ready());
            }
        }
        // The timer keeps working after the faults.
        time::sleep(Duration::from_millis(1)).await;
    });
    drop(rt);
}

fn a_readiness_batch_survives_wakers_that_panic(flavor: Flavor) {
    let rt = flavor.rt();
    rt.block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut pairs = Vec::new();
        for _ in 0..4 {
            let (a, b) = UnixStream::pair().unwrap();
            // A new source is assumed readable until a read says otherwise.
            let err = a.try_read(&mut [0; 8]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
            pairs.push((Arc::new(a), b));
        }
        // On each source: a broken reader first, then a real one waiting on the same
        // direction of the same source (the driver wakes both from one event).
        let mut broken = Vec::new();
        let mut real = Vec::new();
        let mut flags = Vec::new();
        for (a, _) in &pairs {
            let mut fut = Box::pin({
                let a = a.clone();
                async move { a.readable().await }
            });
            register_broken(fut.as_mut(), &calls);
            broken.push(fut);
            let a2 = a.clone();
            let (h, flag) = spawn_registered(async move { a2.readable().await });
            real.push(h);
            flags.push(flag);
        }
        until_all(&flags).await;
        // Every source becomes readable at once: one driver turn is likely to see them all.
        for (_, b) in &mut pairs {
            write_all(b, b"x").await.unwrap();
        }
        for h in real {
            h.await.unwrap().expect("a real reader sees readiness");
        }
        until_called(&calls, pairs.len()).await;
        for fut in &mut broken {
            assert!(matches!(task_poll_noop(fut.as_mut()), Poll::Ready(Ok(()))));
        }
        // The driver keeps dispatching after the faults.
        let (a, mut b) = UnixStream::pair().unwrap();
        write_all(&mut b, b"y").await.unwrap();
        a.readable().await.unwrap();
    });
    drop(rt);
}

/// One poll with a waker that does nothing.
fn task_poll_noop<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}
