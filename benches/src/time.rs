//! Timer workloads, generic over [`Rt`]:
//!
//! - tokio's `benches/time_timeout.rs` (`timeout` around a ready future; creating and
//!   dropping an unpolled `sleep`), same shape and constants: `procs` tasks share `iters`.
//! - [`lateness`]: how late sleeps fire (the `timer_precision` binary).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::Rt;

/// The duration of every `timeout` / `sleep` in the `time_timeout` workloads (tokio's: 1 s,
/// never reached).
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// A very quick job that could time out (tokio's `quick_job`).
async fn quick_job() -> usize {
    1
}

/// tokio's `spawn_timeout_job`: `procs` tasks each await `iters / procs` timeouts around
/// `quick_job`. Guards the cost of registering and cancelling a timer on the fast path.
pub async fn spawn_timeout_job<R: Rt>(iters: usize, procs: usize) {
    let mut handles = Vec::with_capacity(procs);
    for _ in 0..procs {
        handles.push(R::spawn(async move {
            for _ in 0..iters / procs {
                let h = R::timeout(TIMEOUT, quick_job());
                assert_eq!(black_box(h.await.unwrap()), 1);
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

/// tokio's `spawn_sleep_job`: `procs` tasks each create and drop `iters / procs` unpolled
/// sleeps. Guards the cost of constructing/dropping a `Sleep` that never registers.
pub async fn spawn_sleep_job<R: Rt>(iters: usize, procs: usize) {
    let mut handles = Vec::with_capacity(procs);
    for _ in 0..procs {
        handles.push(R::spawn(async move {
            for _ in 0..iters / procs {
                let _h = black_box(R::sleep(TIMEOUT));
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

/// The runtime of the `time_timeout` workloads: current-thread for 1 worker (as tokio's).
pub fn time_runtime<R: Rt>(workers: usize) -> R::Runtime {
    if workers == 1 {
        R::current_thread_all()
    } else {
        R::multi_thread_all(workers)
    }
}

/// A small deterministic PRNG (xorshift64*), so both runtimes get the same delays.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded generator (seed 0 is replaced).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Spawns one task per delay, all at once from `block_on`; each takes its deadline as
/// `now + delay` when first polled, `sleep_until`s it, and reports `Instant::now() -
/// deadline` (the lateness: timer resolution + wake-up + scheduling delay).
pub fn lateness<R: Rt>(rt: &R::Runtime, delays: &[Duration]) -> Vec<Duration> {
    R::block_on(rt, async {
        let handles: Vec<_> = delays
            .iter()
            .map(|&delay| {
                R::spawn(async move {
                    let deadline = Instant::now() + delay;
                    R::sleep_until(deadline).await;
                    Instant::now().saturating_duration_since(deadline)
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    })
}

/// The `q` quantile (0..=1) of sorted `v`.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Which of taskio's deadline scopes [`scope_timeout_job`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// `move_on_after(TIMEOUT, quick_job)`: trio's cancel scope.
    MoveOnAfter,
    /// `timeout(Some(TIMEOUT)).run(quick_job)`: asyncio's `timeout()`.
    Timeout,
}

/// The cancel-scope counterpart of [`spawn_timeout_job`], on taskio's asyncio layer: `procs`
/// taskio tasks each run `iters / procs` deadline scopes of `kind` around `quick_job`
/// (registering and cancelling the deadline on the fast path, plus the scope's own
/// bookkeeping: a cancellation domain, the request count). Compare with
/// `spawn_timeout_job::<Tokio>` (tokio's `timeout`).
pub fn scope_timeout_job(runner: &taskio::Runner, iters: usize, procs: usize, kind: ScopeKind) {
    runner
        .run(async move {
            let tasks: Vec<_> = (0..procs)
                .map(|_| {
                    taskio::create_task(async move {
                        for _ in 0..iters / procs {
                            let v = match kind {
                                ScopeKind::MoveOnAfter => {
                                    taskio::move_on_after(TIMEOUT, async { Ok(quick_job().await) })
                                        .await?
                                        .expect("no deadline passes")
                                }
                                ScopeKind::Timeout => {
                                    taskio::timeout(Some(TIMEOUT))
                                        .run(async { Ok(quick_job().await) })
                                        .await?
                                }
                            };
                            assert_eq!(black_box(v), 1);
                        }
                        Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await?;
            }
            Ok(())
        })
        .expect("scope job");
}

/// The runner of [`scope_timeout_job`]: current-thread for 1 worker.
pub fn scope_runner(workers: usize) -> taskio::Runner {
    let mut b = taskio::Runner::builder();
    if workers == 1 {
        b.current_thread();
    } else {
        b.worker_threads(workers);
    }
    b.build().expect("runner")
}
