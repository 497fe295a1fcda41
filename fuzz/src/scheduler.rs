//! The `scheduler` target: an arbitrary sequence of spawn / wake / abort / yield / join /
//! detach on a current-thread runtime, checked against a model of each task's fate.
//!
//! The model, for each task (children spawned by tasks included):
//!
//! - Its future is dropped exactly once (by the end, when the runtime is dropped), whether it
//!   completed, panicked, was aborted or was detached; its body finishes at most once.
//! - Aborted before its first poll: it ends Cancelled and its body never runs. Aborted after
//!   its body finished: the abort does nothing and the join gives its result. Aborted while
//!   suspended: Cancelled. (Exact on the current-thread runtime: nothing else runs while the
//!   main task decides.)
//! - Not aborted: joining it gives its value (after the signal it waits for is fired), or a
//!   panic error for a panicking body. No wake-up is lost, including wakes from other threads.
//! - First polls happen in spawn order (the current-thread run queue is FIFO).

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use arbitrary::Arbitrary;
use taskio_runtime::{spawn, yield_now, Builder, JoinHandle};

const SIGNALS: usize = 4;
const MAX_TASKS: usize = 64;
const EXPECTED_PANIC: &str = "taskio-fuzz: expected panic";

/// What a spawned task does.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Body {
    /// Returns the value at once.
    Ready(u32),
    /// Yields `n % 8` times, then returns the value.
    Yields(u8, u32),
    /// Waits for signal `s % 4`, then returns the value.
    WaitSignal(u8, u32),
    /// Spawns a child (which yields once and returns `v ^ 1`), awaits it, returns `v`.
    SpawnChild(u32),
    /// Panics.
    Panic,
}

/// One step of the main task.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum FuzzOp {
    /// Spawns a task.
    Spawn(Body),
    /// Fires signal `s % 4` from the main task.
    Wake(u8),
    /// Fires signal `s % 4` from another OS thread.
    WakeFromThread(u8),
    /// Aborts task `i % len`.
    Abort(u8),
    /// The main task yields `n % 8` times.
    Yield(u8),
    /// Awaits task `i % len` (if its handle is still held).
    Join(u8),
    /// Drops the handle of task `i % len`.
    Detach(u8),
}

/// An event: once fired, stays fired; wakes every waiter.
#[derive(Default)]
struct Signal {
    fired: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Signal {
    fn fire(&self) {
        self.fired.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap());
        for w in wakers {
            w.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.fired.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            self.wakers.lock().unwrap().push(cx.waker().clone());
            if self.fired.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// What a task reports about itself.
#[derive(Default)]
struct Probe {
    spawn_seq: usize,
    /// `usize::MAX` until the first poll.
    start_seq: AtomicUsize,
    finished: AtomicUsize,
    drops: AtomicUsize,
}

/// Counts the drop of the task's future (it is captured by the future, so it drops even if
/// the future was never polled).
struct DropGuard(Arc<Probe>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, Ordering::SeqCst);
    }
}

struct World {
    signals: [Signal; SIGNALS],
    probes: Mutex<Vec<Arc<Probe>>>,
    spawns: AtomicUsize,
    starts: AtomicUsize,
}

impl World {
    fn new_probe(&self) -> Arc<Probe> {
        let probe = Arc::new(Probe {
            spawn_seq: self.spawns.fetch_add(1, Ordering::SeqCst),
            start_seq: AtomicUsize::new(usize::MAX),
            ..Probe::default()
        });
        self.probes.lock().unwrap().push(probe.clone());
        probe
    }
}

fn spawn_body(world: &Arc<World>, body: Body) -> (JoinHandle<u32>, Arc<Probe>) {
    let probe = world.new_probe();
    let guard = DropGuard(probe.clone());
    let world = world.clone();
    let handle = spawn(async move {
        let guard = guard;
        let probe = &guard.0;
        let seq = world.starts.fetch_add(1, Ordering::SeqCst);
        probe.start_seq.store(seq, Ordering::SeqCst);
        let v = match body {
            Body::Ready(v) => v,
            Body::Yields(n, v) => {
                for _ in 0..n % 8 {
                    yield_now().await;
                }
                v
            }
            Body::WaitSignal(s, v) => {
                world.signals[usize::from(s) % SIGNALS].wait().await;
                v
            }
            Body::SpawnChild(v) => {
                let (child, _) = spawn_body(&world, Body::Yields(1, v ^ 1));
                assert_eq!(child.await.expect("a child is never aborted"), v ^ 1);
                v
            }
            Body::Panic => {
                probe.finished.fetch_add(1, Ordering::SeqCst);
                std::panic::panic_any(EXPECTED_PANIC);
            }
        };
        probe.finished.fetch_add(1, Ordering::SeqCst);
        v
    });
    (handle, probe)
}

/// What the model expects when a task is joined.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Value(u32),
    Panic,
    Cancelled,
}

struct Task {
    body: Body,
    probe: Arc<Probe>,
    handle: Option<JoinHandle<u32>>,
    /// Fixed at abort time.
    aborted: Option<Expect>,
    /// Aborted before its first poll: its body must never run.
    aborted_unstarted: bool,
}

fn natural(body: Body) -> Expect {
    match body {
        Body::Ready(v) | Body::Yields(_, v) | Body::WaitSignal(_, v) | Body::SpawnChild(v) => {
            Expect::Value(v)
        }
        Body::Panic => Expect::Panic,
    }
}

async fn join(world: &World, task: &mut Task) {
    let Some(handle) = task.handle.take() else {
        return;
    };
    let expect = match task.aborted {
        Some(e) => e,
        None => {
            if let Body::WaitSignal(s, _) = task.body {
                world.signals[usize::from(s) % SIGNALS].fire();
            }
            natural(task.body)
        }
    };
    let got = match handle.await {
        Ok(v) => Expect::Value(v),
        Err(e) if e.is_panic() => Expect::Panic,
        Err(e) if e.is_cancelled() => Expect::Cancelled,
        Err(e) => panic!("unexpected join error {e:?}"),
    };
    assert_eq!(got, expect, "task with {:?}", task.body);
    let finished = task.probe.finished.load(Ordering::SeqCst);
    match got {
        Expect::Value(_) | Expect::Panic => assert_eq!(finished, 1),
        Expect::Cancelled => assert_eq!(finished, 0),
    }
    if task.aborted_unstarted {
        assert_eq!(
            task.probe.start_seq.load(Ordering::SeqCst),
            usize::MAX,
            "a task aborted before its first poll was polled"
        );
    }
}

/// Makes the panics of `Body::Panic` silent (libfuzzer's hook would abort on them; they are
/// caught by the runtime). Every other panic still goes to the previous hook.
pub fn silence_expected_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&EXPECTED_PANIC) {
            previous(info);
        }
    }));
}

/// Runs `ops` on a fresh current-thread runtime; panics if the runtime differs from the model.
pub fn run(ops: &[FuzzOp]) {
    let rt = Builder::new_current_thread().build().unwrap();
    let world = Arc::new(World {
        signals: Default::default(),
        probes: Mutex::new(Vec::new()),
        spawns: AtomicUsize::new(0),
        starts: AtomicUsize::new(0),
    });
    let w = world.clone();
    let ops = ops.to_vec();
    rt.block_on(async move {
        let world = w;
        let mut tasks: Vec<Task> = Vec::new();
        for op in ops {
            let pick = |i: u8, len: usize| usize::from(i) % len.max(1);
            match op {
                FuzzOp::Spawn(body) if tasks.len() < MAX_TASKS => {
                    let (handle, probe) = spawn_body(&world, body);
                    tasks.push(Task {
                        body,
                        probe,
                        handle: Some(handle),
                        aborted: None,
                        aborted_unstarted: false,
                    });
                }
                FuzzOp::Spawn(_) => {}
                FuzzOp::Wake(s) => world.signals[usize::from(s) % SIGNALS].fire(),
                FuzzOp::WakeFromThread(s) => {
                    let world = world.clone();
                    std::thread::spawn(move || world.signals[usize::from(s) % SIGNALS].fire())
                        .join()
                        .unwrap();
                }
                FuzzOp::Yield(n) => {
                    for _ in 0..n % 8 {
                        yield_now().await;
                    }
                }
                FuzzOp::Abort(i) if !tasks.is_empty() => {
                    let n = tasks.len();
                    let t = &mut tasks[pick(i, n)];
                    if let Some(h) = &t.handle {
                        // Fixed by the first abort: a finished task keeps its result; an
                        // unstarted or suspended one ends Cancelled.
                        if t.aborted.is_none() {
                            t.aborted_unstarted =
                                t.probe.start_seq.load(Ordering::SeqCst) == usize::MAX;
                            let finished = t.probe.finished.load(Ordering::SeqCst) > 0;
                            t.aborted = Some(if finished {
                                natural(t.body)
                            } else {
                                Expect::Cancelled
                            });
                        }
                        h.abort();
                    }
                }
                FuzzOp::Join(i) if !tasks.is_empty() => {
                    let n = tasks.len();
                    join(&world, &mut tasks[pick(i, n)]).await;
                }
                FuzzOp::Detach(i) if !tasks.is_empty() => {
                    let n = tasks.len();
                    tasks[pick(i, n)].handle = None;
                }
                FuzzOp::Abort(_) | FuzzOp::Join(_) | FuzzOp::Detach(_) => {}
            }
        }
        for s in &world.signals {
            s.fire();
        }
        for t in &mut tasks {
            join(&world, t).await;
        }
    });
    drop(rt);
    let probes = world.probes.lock().unwrap();
    for p in probes.iter() {
        assert_eq!(
            p.drops.load(Ordering::SeqCst),
            1,
            "a future dropped other than once"
        );
        assert!(
            p.finished.load(Ordering::SeqCst) <= 1,
            "a body finished twice"
        );
    }
    let mut started: Vec<_> = probes
        .iter()
        .filter(|p| p.start_seq.load(Ordering::SeqCst) != usize::MAX)
        .map(|p| (p.spawn_seq, p.start_seq.load(Ordering::SeqCst)))
        .collect();
    started.sort_unstable();
    for pair in started.windows(2) {
        assert!(
            pair[0].1 < pair[1].1,
            "first polls out of spawn order: {started:?}"
        );
    }
}
