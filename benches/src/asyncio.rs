//! The asyncio fan-out programs (issue 4, "Speed"): the same program on taskio's asyncio layer
//! (`taskio::{gather, TaskGroup, Queue, Lock, Semaphore}` under a [`taskio::Runner`]), on
//! tokio (`JoinSet`, join handles awaited in order, `tokio::sync::{mpsc, Mutex, Semaphore}`),
//! and, in `benches/python/fanout.py`, on CPython's asyncio.
//!
//! Each program runs as the runner's main task: taskio's `Runner::run` spawns `main` and
//! blocks on it; the tokio side does `block_on(spawn(main))` so that both start from inside a
//! worker. Every program returns a checksum, checked against [`expected`].
//!
//! Used by the criterion bench `benches/asyncio.rs` and the `fanout` binary.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Gather sizes.
pub const GATHER_SMALL: u64 = 10_000;
/// Gather sizes.
pub const GATHER_LARGE: u64 = 100_000;
/// TaskGroup fan-out size.
pub const TASKGROUP_N: u64 = 10_000;
/// Queue: producers × items each, one consumer.
pub const QUEUE_PRODUCERS: u64 = 4;
/// Queue: items per producer.
pub const QUEUE_ITEMS: u64 = 25_000;
/// Bounded queue capacity (asyncio `maxsize`, tokio `mpsc::channel` buffer).
pub const QUEUE_BOUND: usize = 100;
/// Lock: tasks × acquisitions each.
pub const LOCK_TASKS: u64 = 8;
/// Lock: acquisitions per task.
pub const LOCK_ITERS: u64 = 10_000;
/// Semaphore: tasks, permits, acquisitions in total.
pub const SEM_TASKS: u64 = 100;
/// Semaphore permits.
pub const SEM_PERMITS: usize = 10;
/// Semaphore acquisitions in total (spread evenly over the tasks).
pub const SEM_ACQUISITIONS: u64 = 10_000;

/// Every program, in table order.
pub const PROGRAMS: &[&str] = &[
    "gather_10k",
    "gather_100k",
    "taskgroup_10k",
    "queue_bounded",
    "queue_unbounded",
    "lock",
    "semaphore",
];

/// Sum of `0..n`.
const fn tri(n: u64) -> u64 {
    n * (n - 1) / 2
}

/// The checksum each program must return.
pub fn expected(program: &str) -> u64 {
    match program {
        "gather_10k" | "taskgroup_10k" => tri(GATHER_SMALL),
        "gather_100k" => tri(GATHER_LARGE),
        "queue_bounded" | "queue_unbounded" => QUEUE_PRODUCERS * tri(QUEUE_ITEMS),
        "lock" => LOCK_TASKS * LOCK_ITERS,
        "semaphore" => SEM_ACQUISITIONS,
        _ => panic!("unknown program {program}"),
    }
}

/// The tokio variants of a program: the default (function id `tokio`) and, for gather, the
/// join-all over `JoinHandle`s (function id `tokio_join_all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokioVariant {
    /// `JoinSet` for fan-out; `mpsc`, `Mutex`, `Semaphore` for the others.
    Default,
    /// `Vec<JoinHandle>` awaited in order (gather only).
    JoinAll,
}

// ---------------------------------------------------------------------------------------
// taskio (asyncio layer)
// ---------------------------------------------------------------------------------------

/// taskio's asyncio layer under one [`taskio::Runner`].
pub struct TaskioAsyncio {
    runner: taskio::Runner,
}

impl std::fmt::Debug for TaskioAsyncio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskioAsyncio").finish_non_exhaustive()
    }
}

impl TaskioAsyncio {
    /// A runner with `workers` worker threads, or the current-thread scheduler for `None`.
    pub fn new(workers: Option<usize>) -> Self {
        Self::with_task_tree(workers, true)
    }

    /// As [`new`](Self::new), with the runner's task tree on or off
    /// (`RunnerBuilder::task_tree`).
    pub fn with_task_tree(workers: Option<usize>, tree: bool) -> Self {
        let mut b = taskio::Runner::builder();
        match workers {
            Some(n) => b.worker_threads(n),
            None => b.current_thread(),
        };
        b.task_tree(tree);
        TaskioAsyncio {
            runner: b.build().expect("runner"),
        }
    }

    /// Runs `program` once and returns its checksum.
    pub fn run(&self, program: &str) -> u64 {
        let r = match program {
            "gather_10k" => self.runner.run(taskio_gather(GATHER_SMALL)),
            "gather_100k" => self.runner.run(taskio_gather(GATHER_LARGE)),
            "taskgroup_10k" => self.runner.run(taskio_taskgroup(TASKGROUP_N)),
            "queue_bounded" => self.runner.run(taskio_queue(QUEUE_BOUND)),
            "queue_unbounded" => self.runner.run(taskio_queue(0)),
            "lock" => self.runner.run(taskio_lock()),
            "semaphore" => self.runner.run(taskio_semaphore()),
            _ => panic!("unknown program {program}"),
        };
        r.expect("program failed")
    }
}

/// `await asyncio.gather(*(work(i) for i in range(n)))`.
async fn taskio_gather(n: u64) -> taskio::Result<u64> {
    let out = taskio::gather((0..n).map(|i| taskio::create_task(async move { Ok(i) }))).await?;
    Ok(out.iter().sum())
}

/// `async with TaskGroup() as tg: for i in range(n): tg.create_task(work(i))`.
async fn taskio_taskgroup(n: u64) -> taskio::Result<u64> {
    let sum = Arc::new(AtomicU64::new(0));
    let s = sum.clone();
    taskio::TaskGroup::run(|tg| async move {
        for i in 0..n {
            let s = s.clone();
            tg.create_task(async move {
                s.fetch_add(i, Ordering::Relaxed);
                Ok(())
            })?;
        }
        Ok(())
    })
    .await?;
    Ok(sum.load(Ordering::Relaxed))
}

/// 4 producers `await q.put(i)`, the main task `await q.get()` for every item.
async fn taskio_queue(maxsize: usize) -> taskio::Result<u64> {
    let q = Arc::new(taskio::Queue::<u64>::new(maxsize));
    let producers: Vec<_> = (0..QUEUE_PRODUCERS)
        .map(|_| {
            let q = q.clone();
            taskio::create_task(async move {
                for i in 0..QUEUE_ITEMS {
                    if q.put(i).await.is_err() {
                        return Err(taskio::Error::runtime("put failed"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    let mut sum = 0;
    for _ in 0..QUEUE_PRODUCERS * QUEUE_ITEMS {
        sum += q.get().await?;
    }
    for p in producers {
        p.await?;
    }
    Ok(sum)
}

/// 8 tasks × 10k `async with lock: counter += 1`.
async fn taskio_lock() -> taskio::Result<u64> {
    let lock = Arc::new(taskio::Lock::new());
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..LOCK_TASKS)
        .map(|_| {
            let (lock, counter) = (lock.clone(), counter.clone());
            taskio::create_task(async move {
                for _ in 0..LOCK_ITERS {
                    let _g = lock.acquire().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    taskio::gather(tasks).await?;
    Ok(counter.load(Ordering::Relaxed))
}

/// 100 tasks, `Semaphore(10)`, 10k `async with sem: counter += 1` in total.
async fn taskio_semaphore() -> taskio::Result<u64> {
    let sem = Arc::new(taskio::Semaphore::new(SEM_PERMITS));
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..SEM_TASKS)
        .map(|_| {
            let (sem, counter) = (sem.clone(), counter.clone());
            taskio::create_task(async move {
                for _ in 0..SEM_ACQUISITIONS / SEM_TASKS {
                    let _p = sem.acquire().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    taskio::gather(tasks).await?;
    Ok(counter.load(Ordering::Relaxed))
}

// ---------------------------------------------------------------------------------------
// taskio runtime alone (no asyncio layer): the floor the asyncio layer adds to
// ---------------------------------------------------------------------------------------

/// `n` `taskio_runtime::spawn`s, join handles awaited in order: the runtime cost of a gather
/// without the asyncio layer (function id `taskio_rt` in the gather groups).
pub fn taskio_rt_gather(rt: &taskio_runtime::Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        rt_spawn_main(async move {
            let hs: Vec<_> = (0..n)
                .map(|i| taskio_runtime::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.expect("join");
            }
            sum
        })
        .await
    })
}

async fn rt_spawn_main<F>(f: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    taskio_runtime::spawn(f).await.expect("join")
}

/// A taskio runtime like the Runner's (multi-thread, `workers`, drivers on).
pub fn taskio_rt(workers: usize) -> taskio_runtime::Runtime {
    taskio_runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------------------
// tokio
// ---------------------------------------------------------------------------------------

/// A tokio multi-thread runtime (drivers on, like the Runner's).
#[derive(Debug)]
pub struct TokioAsyncio {
    rt: tokio::runtime::Runtime,
}

impl TokioAsyncio {
    /// `workers` worker threads, or the current-thread runtime for `None`.
    pub fn new(workers: Option<usize>) -> Self {
        let mut b = match workers {
            Some(n) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
            None => tokio::runtime::Builder::new_current_thread(),
        };
        TokioAsyncio {
            rt: b.enable_all().build().expect("runtime"),
        }
    }

    /// Runs `program` (tokio `variant`) once and returns its checksum.
    pub fn run(&self, program: &str, variant: TokioVariant) -> u64 {
        let program = program.to_string();
        self.rt.block_on(async move {
            tokio::spawn(async move {
                match (program.as_str(), variant) {
                    ("gather_10k", TokioVariant::Default) => tokio_joinset(GATHER_SMALL).await,
                    ("gather_10k", TokioVariant::JoinAll) => tokio_join_all(GATHER_SMALL).await,
                    ("gather_100k", TokioVariant::Default) => tokio_joinset(GATHER_LARGE).await,
                    ("gather_100k", TokioVariant::JoinAll) => tokio_join_all(GATHER_LARGE).await,
                    ("taskgroup_10k", _) => tokio_joinset(TASKGROUP_N).await,
                    ("queue_bounded", _) => tokio_mpsc_bounded().await,
                    ("queue_unbounded", _) => tokio_mpsc_unbounded().await,
                    ("lock", _) => tokio_mutex().await,
                    ("semaphore", _) => tokio_semaphore().await,
                    (p, v) => panic!("unknown program {p} / {v:?}"),
                }
            })
            .await
            .expect("join")
        })
    }
}

async fn tokio_joinset(n: u64) -> u64 {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(async move { i });
    }
    let mut sum = 0;
    while let Some(r) = set.join_next().await {
        sum += r.expect("join");
    }
    sum
}

async fn tokio_join_all(n: u64) -> u64 {
    let hs: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let mut sum = 0;
    for h in hs {
        sum += h.await.expect("join");
    }
    sum
}

async fn tokio_mpsc_bounded() -> u64 {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(QUEUE_BOUND);
    let producers: Vec<_> = (0..QUEUE_PRODUCERS)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..QUEUE_ITEMS {
                    tx.send(i).await.expect("send");
                }
            })
        })
        .collect();
    drop(tx);
    let mut sum = 0;
    for _ in 0..QUEUE_PRODUCERS * QUEUE_ITEMS {
        sum += rx.recv().await.expect("recv");
    }
    for p in producers {
        p.await.expect("join");
    }
    sum
}

async fn tokio_mpsc_unbounded() -> u64 {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let producers: Vec<_> = (0..QUEUE_PRODUCERS)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..QUEUE_ITEMS {
                    tx.send(i).expect("send");
                }
            })
        })
        .collect();
    drop(tx);
    let mut sum = 0;
    for _ in 0..QUEUE_PRODUCERS * QUEUE_ITEMS {
        sum += rx.recv().await.expect("recv");
    }
    for p in producers {
        p.await.expect("join");
    }
    sum
}

async fn tokio_mutex() -> u64 {
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..LOCK_TASKS)
        .map(|_| {
            let (lock, counter) = (lock.clone(), counter.clone());
            tokio::spawn(async move {
                for _ in 0..LOCK_ITERS {
                    let _g = lock.lock().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
    counter.load(Ordering::Relaxed)
}

async fn tokio_semaphore() -> u64 {
    let sem = Arc::new(tokio::sync::Semaphore::new(SEM_PERMITS));
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..SEM_TASKS)
        .map(|_| {
            let (sem, counter) = (sem.clone(), counter.clone());
            tokio::spawn(async move {
                for _ in 0..SEM_ACQUISITIONS / SEM_TASKS {
                    let _p = sem.acquire().await.expect("acquire");
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
    counter.load(Ordering::Relaxed)
}
