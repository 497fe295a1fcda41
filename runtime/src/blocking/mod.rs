//! The blocking pool: threads for work that blocks (file I/O, CPU-heavy calls, C libraries),
//! behind [`spawn_blocking`](crate::spawn_blocking).
//!
//! Work goes through a crossbeam channel. The pool starts a thread when work arrives and no
//! thread is idle, up to `max_blocking_threads`; beyond that, work waits in the channel. An
//! idle thread exits after `thread_keep_alive` without work.
//!
//! No lost work: a thread counts itself idle (under `state`) before waiting on the channel,
//! and a submitter sends *before* reading that count (under `state`). A thread that times
//! out re-checks the channel under `state` before it retires. So either the submitter sees
//! no idle thread and starts one, or an idle thread sees the work.
//!
//! Shutdown: queued work that has not started is cancelled (its `JoinHandle` resolves as
//! cancelled); work already running is waited for, up to the runtime's shutdown timeout.

// Not modelled by loom (crossbeam-channel is not loom-aware): plain std/parking_lot.
use crate::driver;
use crate::runtime::context;
use crate::scheduler;
use crate::task::{self, JoinHandle, Notified, Schedule, Task, TaskInit, UnownedTask};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A handle to the pool; cloned into every scheduler handle.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Sender<UnownedTask<BlockingSchedule>>,
    rx: Receiver<UnownedTask<BlockingSchedule>>,
    state: Mutex<State>,
    /// Signalled when a thread exits.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: std::sync::Arc<dyn Fn() -> String + Send + Sync>,
    stack_size: Option<usize>,
}

struct State {
    num_threads: usize,
    num_idle: usize,
    shutdown: bool,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Blocking tasks are never woken (they finish in their first poll) and belong to no list.
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }

    fn schedule(&self, task: Notified<Self>) {
        // A blocking task finishes in its first poll and is never idle-and-unnotified, so
        // nothing should wake it into a queue; if something does, the reference is dropped.
        debug_assert!(false, "a blocking task was scheduled");
        drop(task);
    }
}

/// The future a blocking closure runs in.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

impl Spawner {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: std::sync::Arc<dyn Fn() -> String + Send + Sync>,
        stack_size: Option<usize>,
    ) -> Spawner {
        let (tx, rx) = crossbeam_channel::unbounded();
        Spawner {
            inner: Arc::new(Inner {
                tx,
                rx,
                state: Mutex::new(State {
                    num_threads: 0,
                    num_idle: 0,
                    shutdown: false,
                    threads: Vec::new(),
                }),
                exited: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
                thread_name,
                stack_size,
            }),
        }
    }

    /// (threads, idle threads) of the pool.
    pub(crate) fn thread_counts(&self) -> (usize, usize) {
        let state = self.inner.state.lock();
        (state.num_threads, state.num_idle)
    }

    /// Runs `f` on a pool thread.
    #[track_caller]
    pub(crate) fn spawn_blocking<F, R>(&self, handle: &scheduler::Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, join) = task::unowned(BlockingTask(Some(f)), BlockingSchedule, TaskInit::new());
        if self.inner.state.lock().shutdown {
            task.shutdown();
            return join;
        }
        // Send first, then look at the idle count (see the module docs).
        if let Err(e) = self.inner.tx.send(task) {
            e.into_inner().shutdown();
            return join;
        }
        let mut state = self.inner.state.lock();
        if state.shutdown {
            // The pool's threads cancel what they find after the flag; nothing to do.
            return join;
        }
        if state.num_idle == 0 && state.num_threads < self.inner.max_threads {
            state.num_threads += 1;
            let inner = self.inner.clone();
            let handle = handle.clone();
            let driver = handle.driver().clone();
            let mut builder = std::thread::Builder::new().name((self.inner.thread_name)());
            if let Some(size) = self.inner.stack_size {
                builder = builder.stack_size(size);
            }
            match builder.spawn(move || {
                let _current = context::set_current(&handle);
                drop(handle);
                inner.run(&driver)
            }) {
                Ok(t) => state.threads.push(t),
                Err(_) => {
                    // No thread now: the work waits for an existing thread, or for the next
                    // submission to try again.
                    state.num_threads -= 1;
                    if state.num_threads == 0 {
                        drop(state);
                        while let Ok(task) = self.inner.rx.try_recv() {
                            task.shutdown();
                        }
                    }
                }
            }
        }
        join
    }

    /// Cancels queued work and waits up to `timeout` (`None`: no limit) for running work.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.inner.state.lock();
        state.shutdown = true;
        drop(state);
        // Cancel what no thread has picked up yet.
        while let Ok(task) = self.inner.rx.try_recv() {
            task.shutdown();
        }
        let mut state = self.inner.state.lock();
        // Wake idle threads so they see the flag now rather than at their keep-alive.
        for _ in 0..state.num_idle {
            let _ = self.inner.tx.try_send(wakeup_task());
        }
        while state.num_threads > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .inner
                        .exited
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        break;
                    }
                }
                None => self.inner.exited.wait(&mut state),
            }
        }
        let threads = std::mem::take(&mut state.threads);
        let all_exited = state.num_threads == 0;
        drop(state);
        if all_exited {
            for t in threads {
                let _ = t.join();
            }
        }
    }

    /// Number of blocking tasks running or queued (for the paused clock: time must not jump
    /// while blocking work is in flight).
    pub(crate) fn busy(&self) -> bool {
        let state = self.inner.state.lock();
        state.num_threads > state.num_idle || !self.inner.rx.is_empty()
    }
}

/// A no-op task used to wake idle threads at shutdown.
fn wakeup_task() -> UnownedTask<BlockingSchedule> {
    task::unowned(BlockingTask(Some(|| ())), BlockingSchedule, TaskInit::new()).0
}

impl Inner {
    /// A pool thread's loop. `driver` is its runtime's: when the last busy thread goes idle
    /// with nothing queued, a paused clock may move again (see [`Inner::went_quiet`]).
    fn run(self: Arc<Inner>, driver: &driver::Handle) {
        let mut state = self.state.lock();
        let mut ran = false;
        loop {
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            let quiet = ran && self.went_quiet(&state);
            drop(state);
            if quiet && driver.is_paused() {
                // The workers may all be parked, waiting for this work before moving the
                // paused clock; nobody awaits a detached task's `JoinHandle` to wake them.
                driver.unpark();
            }
            ran = false;
            let received = self.rx.recv_timeout(self.keep_alive);
            state = self.state.lock();
            state.num_idle -= 1;
            match received {
                Ok(task) => {
                    if state.shutdown {
                        drop(state);
                        task.shutdown();
                        state = self.state.lock();
                        continue;
                    }
                    drop(state);
                    task.run();
                    ran = true;
                    state = self.state.lock();
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.rx.is_empty() {
                        break;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        state.num_threads -= 1;
        drop(state);
        self.exited.notify_all();
    }

    /// True when [`Spawner::busy`] has just become false: every thread is idle (the caller
    /// counted itself idle under the same lock) and nothing is queued. A worker checks `busy`
    /// under this lock before it lets the paused clock jump, so either it sees the pool quiet,
    /// or it parks and the caller's `unpark` (after this) wakes it to look again.
    fn went_quiet(&self, state: &State) -> bool {
        state.num_idle == state.num_threads && self.rx.is_empty()
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("blocking::Spawner")
            .field("threads", &state.num_threads)
            .field("idle", &state.num_idle)
            .finish()
    }
}
