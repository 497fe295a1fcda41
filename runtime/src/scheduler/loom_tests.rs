//! loom models of the schedulers, run whole: worker loops, queues (the loom stand-in for
//! crossbeam-deque), the LIFO slot, stealing, the searching/parking protocol, the parker
//! and shutdown.
//!
//! Each model ends with the runtime dropped: loom fails a model whose threads do not all
//! finish (a lost wake-up leaves a worker or `block_on` parked forever: loom reports a
//! deadlock) or that leaks a tracked object.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex};
use crate::loom::thread;
use crate::{Builder, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// A one-shot signal fired from a plain (modelled) thread.
#[derive(Clone)]
struct Signal(Arc<SignalInner>);

struct SignalInner {
    fired: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    fn new() -> Signal {
        Signal(Arc::new(SignalInner {
            fired: AtomicUsize::new(0),
            waker: Mutex::new(None),
        }))
    }

    fn fire(&self) {
        self.0.fired.store(1, SeqCst);
        let w = self.0.waker.lock().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl Future for Signal {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.load(SeqCst) == 1 {
            return Poll::Ready(());
        }
        *self.0.waker.lock() = Some(cx.waker().clone());
        if self.0.fired.load(SeqCst) == 1 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// A task pushed into the injector from outside while the workers go to sleep runs.
#[test]
fn spawn_from_outside_while_workers_park() {
    loom::model(|| {
        let rt = multi(2);
        let h = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(h).unwrap(), 7);
        drop(rt);
    });
}

/// A task woken from a plain thread while its worker parks is not lost.
#[test]
fn remote_wake_while_parking() {
    loom::model(|| {
        let rt = multi(1);
        let signal = Signal::new();
        let h = rt.spawn({
            let signal = signal.clone();
            async move {
                signal.await;
                1
            }
        });
        let th = thread::spawn(move || signal.fire());
        assert_eq!(rt.block_on(h).unwrap(), 1);
        th.join().unwrap();
        drop(rt);
    });
}

/// Tasks spawned on a worker (LIFO slot, local queue) run exactly once each, whichever
/// worker runs or steals them.
#[test]
fn local_spawns_run_once_with_stealing() {
    loom::model(|| {
        let rt = multi(2);
        let runs = Arc::new(AtomicUsize::new(0));
        let h = rt.spawn({
            let runs = runs.clone();
            async move {
                let a = crate::spawn({
                    let runs = runs.clone();
                    async move {
                        runs.fetch_add(1, SeqCst);
                    }
                });
                let b = crate::spawn({
                    let runs = runs.clone();
                    async move {
                        runs.fetch_add(10, SeqCst);
                    }
                });
                a.await.unwrap();
                b.await.unwrap();
            }
        });
        rt.block_on(h).unwrap();
        assert_eq!(runs.load(SeqCst), 11);
        drop(rt);
    });
}

/// Shutdown racing a spawn from another thread: the future is dropped exactly once and the
/// `JoinHandle` resolves.
#[test]
fn shutdown_racing_spawn() {
    loom::model(|| {
        let rt = multi(1);
        let handle = rt.handle().clone();
        let drops = Arc::new(AtomicUsize::new(0));
        let th = thread::spawn({
            let drops = drops.clone();
            move || {
                let guard = DropCounter(drops);
                handle.spawn(async move {
                    let _g = guard;
                    std::future::pending::<()>().await
                })
            }
        });
        drop(rt);
        let join = th.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        let mut join = join;
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut join).poll(&mut cx) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("JoinHandle after shutdown: {other:?}"),
        }
    });
}

/// The current-thread runtime: a wake from another thread while `block_on` parks.
#[test]
fn current_thread_remote_wake() {
    loom::model(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        let signal = Signal::new();
        let h = rt.spawn({
            let signal = signal.clone();
            async move {
                signal.await;
                2
            }
        });
        let th = thread::spawn(move || signal.fire());
        assert_eq!(rt.block_on(h).unwrap(), 2);
        th.join().unwrap();
        drop(rt);
    });
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}
