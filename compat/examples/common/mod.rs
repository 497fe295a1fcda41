//! Small helpers shared by the examples (included with `#[path]`, not an example itself).
//!
//! `as_completed` and `wait_for` are written here on top of [`taskio::wait::wait`] until the
//! crate ships its own (the asyncio branch has not landed them yet); they follow asyncio's
//! rules: completion order, and on a timeout the inner task is cancelled (and has finished
//! cancelling) before Timeout is returned.

use std::time::{Duration, Instant};

use taskio::wait::{wait, ALL_COMPLETED, FIRST_COMPLETED};
use taskio::{Error, Result, Task};

/// The examples' sleeps are the tutorials' times multiplied by this factor.
#[derive(Clone, Copy, Debug)]
pub struct Scale(pub f64);

impl Scale {
    /// `secs` tutorial seconds, scaled.
    pub fn secs(self, secs: f64) -> f64 {
        secs * self.0
    }

    /// A note for the output when the sleeps are shortened.
    pub fn note(self) -> String {
        if (self.0 - 1.0).abs() < f64::EPSILON {
            "sleeps as in the tutorial".to_owned()
        } else {
            format!(
                "sleeps are {} x the tutorial's: waiting longer shows nothing more",
                self.0
            )
        }
    }
}

/// Seconds since `start`, for the output.
pub fn since(start: Instant) -> String {
    format!("{:.2} s", start.elapsed().as_secs_f64())
}

/// The wall clock as asyncio's tutorials print it (`time.strftime('%X')`), UTC.
pub fn clock() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let s = now.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        now.subsec_millis()
    )
}

/// asyncio's `as_completed(tasks)`: each `next()` gives the next result to finish.
pub struct AsCompleted<T: Send + 'static> {
    pending: Vec<Task<T>>,
    ready: std::collections::VecDeque<Task<T>>,
}

pub fn as_completed<T: Send + 'static>(tasks: impl IntoIterator<Item = Task<T>>) -> AsCompleted<T> {
    let mut pending: Vec<Task<T>> = Vec::new();
    for t in tasks {
        if !pending.contains(&t) {
            pending.push(t);
        }
    }
    AsCompleted {
        pending,
        ready: Default::default(),
    }
}

impl<T: Clone + Send + 'static> AsCompleted<T> {
    /// The next result in completion order; `None` once every task has been yielded.
    pub async fn next(&mut self) -> Option<Result<T>> {
        if self.ready.is_empty() {
            if self.pending.is_empty() {
                return None;
            }
            let pending = std::mem::take(&mut self.pending);
            match wait(pending.clone(), None, FIRST_COMPLETED).await {
                Ok((done, still)) => {
                    self.ready.extend(done);
                    self.pending = still;
                }
                Err(e) => return Some(Err(e)),
            }
        }
        let task = self.ready.pop_front()?;
        Some(task.result())
    }
}

/// asyncio's `wait_for(task, timeout)`.
pub async fn wait_for<T: Clone + Send + 'static>(task: Task<T>, timeout: Duration) -> Result<T> {
    let (_, pending) = wait([task.clone()], Some(timeout), ALL_COMPLETED).await?;
    if pending.is_empty() {
        return task.await;
    }
    task.cancel(None);
    let _ = task.clone().await; // its cancellation has finished
    Err(Error::timeout())
}
