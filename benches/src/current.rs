//! Workloads of tokio's `benches/rt_current_thread.rs`, generic over [`Rt`].
//!
//! Constants are tokio's (note: `NUM_SPAWN` is 1_000 here, 10_000 in the multi-thread suite).

use std::hint::black_box;

use crate::{Rt, Workload};

/// Tasks spawned per iteration.
pub const NUM_SPAWN: usize = 1_000;
/// `yield_many_single_task`: yields per iteration.
pub const NUM_YIELD: usize = 10_000;

/// Names of the workloads, in tokio's order.
pub const WORKLOADS: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy",
    "yield_many_single_task",
];

/// Builds the workload called `name` on runtime `R`.
pub fn workload<R: Rt>(name: &str) -> Option<Box<dyn Workload>> {
    Some(match name {
        "spawn_many_local" => Box::new(SpawnManyLocal::<R>::new()),
        "spawn_many_remote_idle" => Box::new(SpawnManyRemote::<R>::new(false)),
        "spawn_many_remote_busy" => Box::new(SpawnManyRemote::<R>::new(true)),
        "yield_many_single_task" => Box::new(YieldManySingleTask::<R>::new()),
        _ => return None,
    })
}

/// Spawns `NUM_SPAWN` empty tasks inside `block_on`, then joins them all. Guards the
/// local spawn path, the run queue and the join handle.
#[derive(Debug)]
pub struct SpawnManyLocal<R: Rt> {
    rt: R::Runtime,
    handles: Vec<R::JoinHandle<()>>,
}

impl<R: Rt> SpawnManyLocal<R> {
    /// Builds the runtime.
    pub fn new() -> Self {
        SpawnManyLocal {
            rt: R::current_thread(),
            handles: Vec::with_capacity(NUM_SPAWN),
        }
    }
}

impl<R: Rt> Default for SpawnManyLocal<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Rt> Workload for SpawnManyLocal<R> {
    fn run(&mut self) {
        let handles = &mut self.handles;
        R::block_on(&self.rt, async {
            for _ in 0..NUM_SPAWN {
                handles.push(R::spawn(async move {}));
            }
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        });
    }
}

/// Spawns `NUM_SPAWN` empty tasks through a `Handle` from outside `block_on`, then joins
/// them in `block_on`. With `busy`, a never-ending chain of self-respawning tasks competes
/// for the thread. Guards the remote spawn path (`spawn_many_remote_idle`,
/// `spawn_many_remote_busy`).
#[derive(Debug)]
pub struct SpawnManyRemote<R: Rt> {
    rt: R::Runtime,
    handle: R::Handle,
    handles: Vec<R::JoinHandle<()>>,
}

fn forever<R: Rt>() {
    drop(R::spawn(async { forever::<R>() }));
}

impl<R: Rt> SpawnManyRemote<R> {
    /// Builds the runtime; with `busy`, starts the background chain.
    pub fn new(busy: bool) -> Self {
        let rt = R::current_thread();
        if busy {
            drop(R::rt_spawn(&rt, async { forever::<R>() }));
        }
        SpawnManyRemote {
            handle: R::handle(&rt),
            rt,
            handles: Vec::with_capacity(NUM_SPAWN),
        }
    }
}

impl<R: Rt> Workload for SpawnManyRemote<R> {
    fn run(&mut self) {
        for _ in 0..NUM_SPAWN {
            self.handles.push(R::handle_spawn(&self.handle, async {}));
        }
        let handles = &mut self.handles;
        R::block_on(&self.rt, async {
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        });
    }
}

/// One `block_on` future yields `NUM_YIELD` times. Guards the yield path and
/// `block_on`'s own wake-up.
#[derive(Debug)]
pub struct YieldManySingleTask<R: Rt> {
    rt: R::Runtime,
}

impl<R: Rt> YieldManySingleTask<R> {
    /// Builds the runtime.
    pub fn new() -> Self {
        YieldManySingleTask {
            rt: R::current_thread(),
        }
    }
}

impl<R: Rt> Default for YieldManySingleTask<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Rt> Workload for YieldManySingleTask<R> {
    fn run(&mut self) {
        R::block_on(&self.rt, async {
            for _ in 0..black_box(NUM_YIELD) {
                R::yield_now().await;
            }
        });
    }
}
