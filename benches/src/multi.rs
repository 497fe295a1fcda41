//! Workloads of tokio's `benches/rt_multi_threaded.rs`, generic over [`Rt`].
//!
//! Constants are tokio's. tokio runs them at 4 workers; we run them at any worker count
//! (the benches use 2, this machine's cores, and 4, tokio's setting).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::{Rt, Workload};

/// Tasks spawned per iteration by `spawn_many_local` and `spawn_many_remote_*` (busy2: 1_000).
pub const NUM_SPAWN: usize = 10_000;
/// Tasks spawned per iteration by `spawn_many_remote_busy2`.
pub const NUM_SPAWN_BUSY2: usize = 1_000;
/// CPU time each background task burns between yields/spawns in the busy workloads.
pub const STALL_DUR: Duration = Duration::from_micros(10);
/// `yield_many`: yields per task.
pub const NUM_YIELD: usize = 1_000;
/// `yield_many`: tasks per iteration.
pub const YIELD_TASKS: usize = 200;
/// `ping_pong`: ping-pong pairs per iteration.
pub const NUM_PINGS: usize = 1_000;
/// `chained_spawn`: length of the spawn chain.
pub const CHAIN_ITER: usize = 1_000;

/// Names of the workloads, in tokio's order.
pub const WORKLOADS: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy1",
    "spawn_many_remote_busy2",
    "ping_pong",
    "yield_many",
    "chained_spawn",
];

/// Builds the workload called `name` on runtime `R` with `workers` workers.
pub fn workload<R: Rt>(name: &str, workers: usize) -> Option<Box<dyn Workload>> {
    Some(match name {
        "spawn_many_local" => Box::new(SpawnManyLocal::<R>::new(workers)),
        "spawn_many_remote_idle" => Box::new(SpawnManyRemoteIdle::<R>::new(workers)),
        "spawn_many_remote_busy1" => Box::new(SpawnManyRemoteBusy1::<R>::new(workers)),
        "spawn_many_remote_busy2" => Box::new(SpawnManyRemoteBusy2::<R>::new(workers)),
        "ping_pong" => Box::new(PingPong::<R>::new(workers)),
        "yield_many" => Box::new(YieldMany::<R>::new(workers)),
        "chained_spawn" => Box::new(ChainedSpawn::<R>::new(workers)),
        _ => return None,
    })
}

/// Burns [`STALL_DUR`] of wall time, yielding the OS thread meanwhile (as tokio's does).
fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

/// Spawns `NUM_SPAWN` empty-ish tasks from inside `block_on`; the last one to finish
/// signals a std channel that `block_on`'s thread waits on. Guards the spawn path from
/// a non-worker thread inside the runtime context, and task run + drop.
#[derive(Debug)]
pub struct SpawnManyLocal<R: Rt> {
    rt: R::Runtime,
    tx: mpsc::SyncSender<()>,
    rx: mpsc::Receiver<()>,
    rem: Arc<AtomicUsize>,
}

impl<R: Rt> SpawnManyLocal<R> {
    /// Builds the runtime and channels.
    pub fn new(workers: usize) -> Self {
        let (tx, rx) = mpsc::sync_channel(1000);
        SpawnManyLocal {
            rt: R::multi_thread(workers),
            tx,
            rx,
            rem: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl<R: Rt> Workload for SpawnManyLocal<R> {
    fn run(&mut self) {
        let SpawnManyLocal { rt, tx, rx, rem } = self;
        rem.store(NUM_SPAWN, Relaxed);
        R::block_on(rt, async {
            for _ in 0..NUM_SPAWN {
                let tx = tx.clone();
                let rem = rem.clone();
                drop(R::spawn(async move {
                    if 1 == rem.fetch_sub(1, Relaxed) {
                        tx.send(()).unwrap();
                    }
                }));
            }
            rx.recv().unwrap();
        });
    }
}

/// Spawns `n` empty tasks through `spawn`, then awaits every join handle in `block_on`.
fn spawn_remote_and_join<R: Rt>(
    rt: &R::Runtime,
    handles: &mut Vec<R::JoinHandle<()>>,
    n: usize,
    spawn: impl Fn() -> R::JoinHandle<()>,
) {
    for _ in 0..n {
        handles.push(spawn());
    }
    R::block_on(rt, async {
        for handle in handles.drain(..) {
            handle.await.unwrap();
        }
    });
}

/// Spawns `NUM_SPAWN` empty tasks from outside the runtime onto idle workers, then joins
/// them. Guards the injector path and unparking idle workers.
#[derive(Debug)]
pub struct SpawnManyRemoteIdle<R: Rt> {
    rt: R::Runtime,
    handles: Vec<R::JoinHandle<()>>,
}

impl<R: Rt> SpawnManyRemoteIdle<R> {
    /// Builds the runtime.
    pub fn new(workers: usize) -> Self {
        SpawnManyRemoteIdle {
            rt: R::multi_thread(workers),
            handles: Vec::with_capacity(NUM_SPAWN),
        }
    }
}

impl<R: Rt> Workload for SpawnManyRemoteIdle<R> {
    fn run(&mut self) {
        let rt = &self.rt;
        spawn_remote_and_join::<R>(rt, &mut self.handles, NUM_SPAWN, || {
            R::rt_spawn(rt, async {})
        });
    }
}

/// As `spawn_many_remote_idle`, while `2 * workers` background tasks burn CPU and
/// yield. Guards injector fairness against yielded tasks (a lower notification priority).
#[derive(Debug)]
pub struct SpawnManyRemoteBusy1<R: Rt> {
    rt: R::Runtime,
    handle: R::Handle,
    handles: Vec<R::JoinHandle<()>>,
    flag: Arc<AtomicBool>,
}

impl<R: Rt> SpawnManyRemoteBusy1<R> {
    /// Builds the runtime and starts the background load.
    pub fn new(workers: usize) -> Self {
        let rt = R::multi_thread(workers);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..(2 * workers) {
            let flag = flag.clone();
            drop(R::rt_spawn(&rt, async move {
                while flag.load(Relaxed) {
                    R::yield_now().await;
                    stall();
                }
            }));
        }
        SpawnManyRemoteBusy1 {
            handle: R::handle(&rt),
            rt,
            handles: Vec::with_capacity(NUM_SPAWN),
            flag,
        }
    }
}

impl<R: Rt> Workload for SpawnManyRemoteBusy1<R> {
    fn run(&mut self) {
        let h = &self.handle;
        spawn_remote_and_join::<R>(&self.rt, &mut self.handles, NUM_SPAWN, || {
            R::handle_spawn(h, async {})
        });
    }
}

impl<R: Rt> Drop for SpawnManyRemoteBusy1<R> {
    fn drop(&mut self) {
        self.flag.store(false, Relaxed);
    }
}

/// As `spawn_many_remote_idle` (with `NUM_SPAWN_BUSY2` tasks), while `workers` chains of
/// background tasks burn CPU and spawn their successor. Guards injector fairness against
/// locally spawned tasks (LIFO slot / local queue).
#[derive(Debug)]
pub struct SpawnManyRemoteBusy2<R: Rt> {
    rt: R::Runtime,
    handle: R::Handle,
    handles: Vec<R::JoinHandle<()>>,
    flag: Arc<AtomicBool>,
}

fn busy_chain<R: Rt>(flag: Arc<AtomicBool>) {
    drop(R::spawn(async {
        if flag.load(Relaxed) {
            stall();
            busy_chain::<R>(flag);
        }
    }));
}

impl<R: Rt> SpawnManyRemoteBusy2<R> {
    /// Builds the runtime and starts the background load.
    pub fn new(workers: usize) -> Self {
        let rt = R::multi_thread(workers);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..workers {
            let flag = flag.clone();
            drop(R::rt_spawn(&rt, async {
                busy_chain::<R>(flag);
            }));
        }
        SpawnManyRemoteBusy2 {
            handle: R::handle(&rt),
            rt,
            handles: Vec::with_capacity(NUM_SPAWN_BUSY2),
            flag,
        }
    }
}

impl<R: Rt> Workload for SpawnManyRemoteBusy2<R> {
    fn run(&mut self) {
        let h = &self.handle;
        spawn_remote_and_join::<R>(&self.rt, &mut self.handles, NUM_SPAWN_BUSY2, || {
            R::handle_spawn(h, async {})
        });
    }
}

impl<R: Rt> Drop for SpawnManyRemoteBusy2<R> {
    fn drop(&mut self) {
        self.flag.store(false, Relaxed);
    }
}

/// `YIELD_TASKS` tasks spawned from outside each yield `NUM_YIELD` times, then signal a
/// std channel. Guards the yield path (re-schedule to the back) and stealing.
#[derive(Debug)]
pub struct YieldMany<R: Rt> {
    rt: R::Runtime,
    tx: mpsc::SyncSender<()>,
    rx: mpsc::Receiver<()>,
}

impl<R: Rt> YieldMany<R> {
    /// Builds the runtime and channel.
    pub fn new(workers: usize) -> Self {
        let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
        YieldMany {
            rt: R::multi_thread(workers),
            tx,
            rx,
        }
    }
}

impl<R: Rt> Workload for YieldMany<R> {
    fn run(&mut self) {
        for _ in 0..YIELD_TASKS {
            let tx = self.tx.clone();
            drop(R::rt_spawn(&self.rt, async move {
                for _ in 0..NUM_YIELD {
                    R::yield_now().await;
                }
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..YIELD_TASKS {
            self.rx.recv().unwrap();
        }
    }
}

/// One task spawns `NUM_PINGS` tasks; each spawns a partner and they exchange two
/// `oneshot` messages. Guards wake-ups between tasks (LIFO slot, waker paths).
#[derive(Debug)]
pub struct PingPong<R: Rt> {
    rt: R::Runtime,
    done_tx: mpsc::SyncSender<()>,
    done_rx: mpsc::Receiver<()>,
    rem: Arc<AtomicUsize>,
}

impl<R: Rt> PingPong<R> {
    /// Builds the runtime and channels.
    pub fn new(workers: usize) -> Self {
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        PingPong {
            rt: R::multi_thread(workers),
            done_tx,
            done_rx,
            rem: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl<R: Rt> Workload for PingPong<R> {
    fn run(&mut self) {
        let done_tx = self.done_tx.clone();
        let rem = self.rem.clone();
        rem.store(NUM_PINGS, Relaxed);
        let done_rx = &self.done_rx;
        R::block_on(&self.rt, async {
            drop(R::spawn(async move {
                for _ in 0..NUM_PINGS {
                    let rem = rem.clone();
                    let done_tx = done_tx.clone();
                    drop(R::spawn(async move {
                        let (tx1, rx1) = oneshot::channel();
                        let (tx2, rx2) = oneshot::channel();
                        drop(R::spawn(async move {
                            rx1.await.unwrap();
                            tx2.send(()).unwrap();
                        }));
                        tx1.send(()).unwrap();
                        rx2.await.unwrap();
                        if 1 == rem.fetch_sub(1, Relaxed) {
                            done_tx.send(()).unwrap();
                        }
                    }));
                }
            }));
            done_rx.recv().unwrap();
        });
    }
}

/// A chain of `CHAIN_ITER` tasks, each spawning the next. Guards the spawn-from-worker
/// path (LIFO slot) and task run + drop latency.
#[derive(Debug)]
pub struct ChainedSpawn<R: Rt> {
    rt: R::Runtime,
    done_tx: mpsc::SyncSender<()>,
    done_rx: mpsc::Receiver<()>,
}

fn chain<R: Rt>(done_tx: mpsc::SyncSender<()>, n: usize) {
    if n == 0 {
        done_tx.send(()).unwrap();
    } else {
        drop(R::spawn(async move {
            chain::<R>(done_tx, n - 1);
        }));
    }
}

impl<R: Rt> ChainedSpawn<R> {
    /// Builds the runtime and channel.
    pub fn new(workers: usize) -> Self {
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        ChainedSpawn {
            rt: R::multi_thread(workers),
            done_tx,
            done_rx,
        }
    }
}

impl<R: Rt> Workload for ChainedSpawn<R> {
    fn run(&mut self) {
        let done_tx = self.done_tx.clone();
        let done_rx = &self.done_rx;
        R::block_on(&self.rt, async {
            drop(R::spawn(async move {
                chain::<R>(done_tx, CHAIN_ITER);
            }));
            done_rx.recv().unwrap();
        });
    }
}
