//! tokio's `benches/spawn_blocking.rs` workload, generic over [`Rt`].
//!
//! `num_tasks` async tasks each run [`NUM_BATCHES`] batches of [`BATCH_SIZE`] no-op
//! `spawn_blocking` calls, awaiting each batch before the next. Guards the blocking pool's
//! hand-off (queue, thread wake-up, completion wake-up) under concurrency. tokio's uses
//! `JoinSet`s; taskio has none in the runtime, so both sides await a `Vec` of join handles.

use std::hint::black_box;

use crate::Rt;

/// Batches per task (tokio's).
pub const NUM_BATCHES: usize = 100;
/// `spawn_blocking` calls per batch (tokio's).
pub const BATCH_SIZE: usize = 16;
/// tokio's concurrency levels (capped at the machine's parallelism).
pub const CONCURRENCY: &[usize] = &[1, 2, 4, 8, 16, 32, 64];

/// One iteration, run inside `block_on`.
pub async fn spawn_blocking_batches<R: Rt>(num_tasks: usize) {
    let mut tasks = Vec::with_capacity(num_tasks);
    for _ in 0..num_tasks {
        tasks.push(R::spawn(async {
            let mut batch = Vec::with_capacity(BATCH_SIZE);
            for _ in 0..NUM_BATCHES {
                for _ in 0..BATCH_SIZE {
                    batch.push(R::spawn_blocking(|| black_box(0)));
                }
                for h in batch.drain(..) {
                    h.await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The machine's parallelism (tokio's runtime default worker count).
pub fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |p| p.get())
}
