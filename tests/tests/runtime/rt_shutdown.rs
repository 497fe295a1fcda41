//! Dropping a runtime: every live task is cancelled, its future dropped exactly once on a
//! runtime thread; join handles resolve; nothing runs or breaks afterwards.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;
use taskio_runtime::{spawn, yield_now, Handle, JoinHandle, Runtime};
use taskio_tests::{block_on, chan, poll_once, rt_tests, Counts, Flavor, Latch};

rt_tests! {
    drop_with_pending_tasks,
    drop_with_busy_tasks,
    destructor_spawns_task,
    join_handles_resolve_after_drop,
    shutdown_timeout_returns,
    shutdown_timeout_does_not_wait_for_blocked_worker,
    wake_after_shutdown,
    spawn_after_shutdown,
    spawn_racing_shutdown,
}

const WORKER_NAME: &str = "shutdown-worker";

fn named_rt(flavor: Flavor) -> Runtime {
    flavor.builder().thread_name(WORKER_NAME).build().unwrap()
}

/// Every future guard was dropped on a runtime thread: a worker (multi-thread) or the
/// thread that dropped the runtime (current-thread).
fn assert_dropped_on_runtime_threads(counts: &Counts, flavor: Flavor, dropper: Option<String>) {
    let threads = counts.drop_threads.lock().unwrap();
    let expected = match flavor {
        Flavor::MultiThread(_) => Some(WORKER_NAME.to_owned()),
        Flavor::CurrentThread => dropper,
    };
    for t in threads.iter() {
        assert_eq!(
            *t, expected,
            "a future was dropped off the runtime's threads"
        );
    }
}

/// Wakes every waker in the shared list when dropped: wakes during shutdown.
struct WakeAllOnDrop(Arc<Mutex<Vec<Waker>>>);

impl Drop for WakeAllOnDrop {
    fn drop(&mut self) {
        let wakers: Vec<Waker> = self.0.lock().unwrap().clone();
        for w in wakers {
            w.wake();
        }
    }
}

/// Pending forever; stores its waker in the shared list.
struct PendingRegister(Arc<Mutex<Vec<Waker>>>);

impl Future for PendingRegister {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.lock().unwrap().push(cx.waker().clone());
        Poll::Pending
    }
}

fn drop_with_pending_tasks(flavor: Flavor) {
    const N: usize = 200;
    let rt = named_rt(flavor);
    let counts = Counts::recording();
    let wakers = Arc::new(Mutex::new(Vec::new()));
    let started = Latch::new();
    let mut kept = Vec::new();
    for i in 0..N {
        let g = counts.fut_guard();
        let w = WakeAllOnDrop(wakers.clone());
        let reg = PendingRegister(wakers.clone());
        let s = started.clone();
        let h = rt.spawn(async move {
            let _g = g;
            let _w = w;
            s.add();
            reg.await;
        });
        if i % 2 == 0 {
            kept.push(h);
        }
    }
    // Half of them have been polled (on the current-thread runtime, via block_on).
    rt.block_on(async {
        while started.get() < N / 2 {
            yield_now().await;
        }
    });
    assert_eq!(counts.futs_dropped(), 0);
    let dropper = thread::current().name().map(str::to_owned);
    drop(rt);
    assert_eq!(
        counts.futs_dropped(),
        N,
        "every future dropped exactly once"
    );
    assert_dropped_on_runtime_threads(&counts, flavor, dropper);
    for h in kept {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    // The wakers left over wake dead tasks: nothing happens.
    let left: Vec<Waker> = std::mem::take(&mut *wakers.lock().unwrap());
    for w in left {
        w.wake();
    }
    assert_eq!(counts.futs_dropped(), N);
    assert_eq!(Arc::strong_count(&counts), 1, "a task's future leaked");
}

fn drop_with_busy_tasks(flavor: Flavor) {
    // Tasks always ready (yield loops), so that shutdown finds some running, some in the
    // LIFO slot, local queues and the injector.
    for round in 0..10 {
        let rt = named_rt(flavor);
        let counts = Counts::recording();
        let polls = Arc::new(AtomicUsize::new(0));
        let mut kept = Vec::new();
        for _ in 0..100 {
            let g = counts.fut_guard();
            let p = polls.clone();
            kept.push(rt.spawn(async move {
                let _g = g;
                loop {
                    p.fetch_add(1, SeqCst);
                    yield_now().await;
                }
            }));
        }
        rt.block_on(async {
            while polls.load(SeqCst) < 1000 {
                yield_now().await;
            }
        });
        let dropper = thread::current().name().map(str::to_owned);
        drop(rt);
        let after = polls.load(SeqCst);
        assert_eq!(counts.futs_dropped(), 100, "round {round}");
        assert_dropped_on_runtime_threads(&counts, flavor, dropper);
        for h in kept {
            assert!(block_on(h).unwrap_err().is_cancelled());
        }
        assert_eq!(
            polls.load(SeqCst),
            after,
            "a task was polled after shutdown"
        );
        assert_eq!(Arc::strong_count(&counts), 1);
    }
}

/// On drop, spawns a task (through `spawn` or a captured `Handle`) and sends its handle out.
struct SpawnOnDrop {
    handle: Option<Handle>,
    counts: Arc<Counts>,
    out: mpsc::Sender<JoinHandle<()>>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let g = self.counts.fut_guard();
        let fut = async move {
            let _g = g;
            std::future::pending::<()>().await;
        };
        let h = match &self.handle {
            Some(handle) => handle.spawn(fut),
            None => spawn(fut),
        };
        self.out.send(h).unwrap();
    }
}

fn destructor_spawns_task(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (tx, rx) = mpsc::channel();
    for i in 0..20 {
        let d = SpawnOnDrop {
            handle: (i % 2 == 0).then(|| rt.handle().clone()),
            counts: counts.clone(),
            out: tx.clone(),
        };
        drop(rt.spawn(async move {
            let _d = d;
            std::future::pending::<()>().await;
        }));
    }
    drop(tx);
    rt.block_on(async {
        for _ in 0..10 {
            yield_now().await;
        }
    });
    drop(rt);
    // Each destructor spawned a task during shutdown: it was cancelled, its future dropped.
    let handles: Vec<JoinHandle<()>> = rx.iter().collect();
    assert_eq!(handles.len(), 20, "a destructor failed to spawn");
    for h in handles {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!(counts.fut_created.load(SeqCst), 20);
    assert_eq!(counts.futs_dropped(), 20);
    assert_eq!(Arc::strong_count(&counts), 1);
}

fn join_handles_resolve_after_drop(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let done = {
        let c = counts.clone();
        rt.spawn(async move { c.out(1) })
    };
    rt.block_on(async {
        while !done.is_finished() {
            yield_now().await;
        }
    });
    let (_tx, mut rx) = chan::<()>();
    let mut pending = rt.spawn(async move { rx.recv().await });
    assert!(poll_once(&mut pending).is_pending());
    let never_polled = rt.spawn(async { 5 });
    drop(rt);
    // Everything is finished once the runtime is gone; a late abort changes nothing.
    assert!(pending.is_finished());
    assert!(never_polled.is_finished());
    assert!(done.is_finished());
    done.abort();
    pending.abort();
    // Completed before the drop: the output is still there.
    assert_eq!(block_on(done).unwrap().value, 1);
    assert_eq!(counts.outs_dropped(), 1);
    // The rest resolve as cancelled (on the current-thread runtime `never_polled` never
    // ran; on a multi-thread one it may have completed).
    assert!(block_on(pending).unwrap_err().is_cancelled());
    match block_on(never_polled) {
        Ok(v) => {
            assert!(flavor.is_multi_thread());
            assert_eq!(v, 5);
        }
        Err(e) => assert!(e.is_cancelled()),
    }
}

fn shutdown_timeout_returns(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let started = Latch::new();
    let g = counts.fut_guard();
    let s = started.clone();
    let h = rt.spawn(async move {
        let _g = g;
        s.add();
        // Blocks its thread for a bounded time.
        thread::sleep(Duration::from_millis(300));
        yield_now().await;
        std::future::pending::<()>().await;
    });
    if flavor == Flavor::CurrentThread {
        // Nothing runs outside block_on there; let it start and block once.
        rt.block_on(async {
            while started.get() == 0 {
                yield_now().await;
            }
        });
    } else {
        started.wait_for(1);
    }
    rt.shutdown_timeout(Duration::from_millis(50));
    // Whatever the timing, the task ends cancelled and its future dropped once.
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!(counts.futs_dropped(), 1);
}

/// Says on which thread it was dropped.
struct ReportDrop(mpsc::Sender<Option<String>>);

impl Drop for ReportDrop {
    fn drop(&mut self) {
        let _ = self.0.send(thread::current().name().map(str::to_owned));
    }
}

fn shutdown_timeout_does_not_wait_for_blocked_worker(flavor: Flavor) {
    if flavor == Flavor::CurrentThread {
        // No worker to wait for: the task runs on the caller's thread.
        return;
    }
    let rt = named_rt(flavor);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (report_tx, report_rx) = mpsc::channel::<bool>();
    let (drop_tx, drop_rx) = mpsc::channel();
    let started = Latch::new();
    let s = started.clone();
    let d = ReportDrop(drop_tx);
    let h = rt.spawn(async move {
        let _d = d;
        s.add();
        // Blocks this worker until the test thread releases it, which it does only once
        // shutdown_timeout has returned. The 20 s bound only keeps a broken runtime from
        // hanging the suite: if shutdown_timeout waited for this worker, the wait ends by
        // timing out, and the report says so.
        let released = release_rx.recv_timeout(Duration::from_secs(20)).is_ok();
        report_tx.send(released).unwrap();
        yield_now().await;
    });
    started.wait_for(1);
    rt.shutdown_timeout(Duration::from_millis(50));
    let _ = release_tx.send(());
    assert!(
        report_rx.recv().unwrap(),
        "shutdown_timeout waited for the blocked worker (it only returned once the task \
         gave up waiting)"
    );
    // The worker finishes the poll, sees the cancellation and drops the future itself.
    assert_eq!(drop_rx.recv().unwrap().as_deref(), Some(WORKER_NAME));
    assert!(block_on(h).unwrap_err().is_cancelled());
}

fn wake_after_shutdown(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    // A std thread holds the wakers and uses them only after the runtime is gone.
    let waker_thread = thread::spawn(move || {
        let wakers: Vec<Waker> = waker_rx.iter().collect();
        go_rx.recv().unwrap();
        for w in &wakers {
            w.wake_by_ref();
            // A clone woken by value: the by-value path, whose reference goes with it.
            #[allow(clippy::waker_clone_wake)]
            w.clone().wake();
        }
        // Dropping them (some hold the last reference to their task) frees the tasks.
        drop(wakers);
    });
    let mut kept = Vec::new();
    for i in 0..50 {
        let g = counts.fut_guard();
        let wtx = waker_tx.clone();
        let mut sent = false;
        let h = rt.spawn(async move {
            let _g = g;
            std::future::poll_fn(move |cx| {
                if !sent {
                    sent = true;
                    wtx.send(cx.waker().clone()).unwrap();
                }
                Poll::<()>::Pending
            })
            .await;
        });
        if i % 2 == 0 {
            kept.push(h);
        }
    }
    drop(waker_tx);
    rt.block_on(async {
        for _ in 0..10 {
            yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(counts.futs_dropped(), 50);
    go_tx.send(()).unwrap();
    waker_thread.join().expect("a wake after shutdown panicked");
    for h in kept {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!(counts.futs_dropped(), 50);
    assert_eq!(Arc::strong_count(&counts), 1);
}

fn spawn_after_shutdown(flavor: Flavor) {
    let rt = flavor.rt();
    let handle = rt.handle().clone();
    drop(rt);
    let counts = Counts::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let g = counts.fut_guard();
    let p = polls.clone();
    let h = handle.spawn(async move {
        let _g = g;
        p.fetch_add(1, SeqCst);
    });
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!(polls.load(SeqCst), 0);
    assert_eq!(counts.futs_dropped(), 1);
    // Entering a dead runtime and spawning: the same.
    let _e = handle.enter();
    let h = spawn(async { 1 });
    assert!(block_on(h).unwrap_err().is_cancelled());
}

fn spawn_racing_shutdown(flavor: Flavor) {
    for _ in 0..5 {
        let rt = flavor.rt();
        let counts = Counts::new();
        let spawned = Latch::new();
        let spawners: Vec<_> = (0..2)
            .map(|_| {
                let handle = rt.handle().clone();
                let counts = counts.clone();
                let spawned = spawned.clone();
                thread::spawn(move || {
                    let mut hs = Vec::new();
                    for i in 0..2000u64 {
                        let g = counts.fut_guard();
                        let c = counts.clone();
                        hs.push(handle.spawn(async move {
                            let _g = g;
                            if i % 2 == 0 {
                                std::future::pending::<()>().await;
                            }
                            yield_now().await;
                            c.out(i)
                        }));
                        spawned.add();
                    }
                    hs
                })
            })
            .collect();
        spawned.wait_for(500);
        drop(rt);
        let mut ok = 0;
        let mut cancelled = 0;
        for t in spawners {
            for h in t.join().unwrap() {
                match block_on(h) {
                    Ok(out) => {
                        assert!(out.value % 2 == 1);
                        ok += 1;
                    }
                    Err(e) => {
                        assert!(e.is_cancelled(), "{e:?}");
                        cancelled += 1;
                    }
                }
            }
        }
        assert_eq!(ok + cancelled, 4000);
        assert_eq!(counts.fut_created.load(SeqCst), 4000);
        assert_eq!(
            counts.futs_dropped(),
            4000,
            "a future leaked or was dropped twice"
        );
        assert_eq!(counts.outs_dropped(), ok);
        assert_eq!(counts.out_created.load(SeqCst), ok);
        assert_eq!(Arc::strong_count(&counts), 1);
    }
}
