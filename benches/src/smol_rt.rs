//! smol's runtime pieces behind [`Smol`](crate::Smol): an `async_executor::Executor` (through
//! `smol::Executor`) run by worker threads or by `block_on`'s thread, smol's tasks as join
//! handles, async-io's reactor and timers.
//!
//! smol has no ambient runtime: a spawned future goes to an executor the caller names. The
//! free [`Rt::spawn`](crate::Rt::spawn) needs one, so the executor a thread works for is kept
//! in a thread-local (`enter`): set on every worker thread, and on `block_on`'s thread
//! while `block_on` runs (as tokio's runtime context is).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;

use smol::Executor;

thread_local! {
    /// The executor the free `spawn` of this thread spawns on.
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// Makes `ex` this thread's executor until the guard drops (then the previous one is back).
fn enter(ex: &Arc<Executor<'static>>) -> Enter {
    Enter(CURRENT.with(|c| c.replace(Some(ex.clone()))))
}

/// Restores the thread's previous executor on drop (see [`enter`]).
struct Enter(Option<Arc<Executor<'static>>>);

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// Spawns `f` on this thread's executor; panics outside a runtime, as `tokio::spawn` does.
pub(crate) fn spawn<F>(f: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    CURRENT.with(|c| {
        let c = c.borrow();
        let ex = c
            .as_ref()
            .expect("Smol::spawn called outside a smol runtime (no executor on this thread)");
        JoinHandle::new(ex.spawn(f))
    })
}

/// A smol runtime: one `Executor`, and either `workers` threads running it (multi-thread) or
/// none, `block_on` running it on the calling thread (current-thread).
///
/// Multi-thread: each worker runs `smol::block_on(ex.run(stop))`; async-io's `block_on`
/// drives the reactor (I/O, timers) on whichever blocked thread gets to it first. `block_on`
/// runs its future on the calling thread, which is no worker (as tokio's multi-thread
/// `block_on`): tasks spawned from it go to the workers.
///
/// Current-thread: `block_on` is `smol::block_on(ex.run(f))` on the calling thread, with an
/// executor no other thread runs, so spawned tasks run only while a `block_on` is driving
/// (as on tokio's current-thread runtime).
///
/// Dropping the runtime stops the workers (closes the channel their `run` waits on), joins
/// them, then drops the executor, which drops every task not done.
pub struct Runtime {
    ex: Arc<Executor<'static>>,
    /// Dropped to stop the workers: their `stop.recv()` returns once every sender is gone.
    stop: Option<smol::channel::Sender<()>>,
    workers: Vec<thread::JoinHandle<()>>,
    /// Current-thread: `block_on` runs the executor.
    current_thread: bool,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("smol_rt::Runtime")
            .field("workers", &self.workers.len())
            .field("current_thread", &self.current_thread)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A multi-thread runtime: `workers` threads run the executor.
    pub fn multi_thread(workers: usize) -> Runtime {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let workers = (0..workers)
            .map(|i| {
                let ex = ex.clone();
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let _enter = enter(&ex);
                        smol::block_on(ex.run(async {
                            // Err once the runtime dropped its sender; nothing is ever sent.
                            let _ = stopped.recv().await;
                        }));
                    })
                    .expect("spawn a smol worker thread")
            })
            .collect();
        Runtime {
            ex,
            stop: Some(stop),
            workers,
            current_thread: false,
        }
    }

    /// A current-thread runtime: `block_on` runs the executor on its own thread.
    pub fn current_thread() -> Runtime {
        Runtime {
            ex: Arc::new(Executor::new()),
            stop: None,
            workers: Vec::new(),
            current_thread: true,
        }
    }

    /// Runs `f` to completion on the calling thread (see the type's docs), this runtime's
    /// executor being the free `spawn`'s meanwhile.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        let _enter = enter(&self.ex);
        if self.current_thread {
            smol::block_on(self.ex.run(f))
        } else {
            smol::block_on(f)
        }
    }

    /// The executor, which spawns from any thread (the [`Rt::Handle`](crate::Rt::Handle)).
    pub fn handle(&self) -> &Arc<Executor<'static>> {
        &self.ex
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take());
        for w in self.workers.drain(..) {
            if w.join().is_err() && !thread::panicking() {
                panic!("a smol worker thread panicked");
            }
        }
    }
}

/// A join handle over `smol::Task`: awaiting it gives the task's output; dropping it
/// detaches the task, as dropping tokio's `JoinHandle` does (dropping a `smol::Task` itself
/// cancels the task).
///
/// Errors: the `Err` side is [`std::convert::Infallible`]. A task's panic resumes in the
/// awaiter (smol's executor catches it and hands it over), and awaiting a task its dropped
/// executor cancelled panics too; the workloads await no task past its runtime.
/// (`Task::fallible` would report the cancellation, but its type is not re-exported by smol.)
#[derive(Debug)]
pub struct JoinHandle<T>(Option<smol::Task<T>>);

impl<T> JoinHandle<T> {
    /// Wraps `task`, to be detached on drop.
    pub fn new(task: smol::Task<T>) -> Self {
        JoinHandle(Some(task))
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self.0.as_mut().expect("JoinHandle polled after completion");
        let out = std::task::ready!(Pin::new(task).poll(cx));
        // Done: nothing left to detach on drop.
        self.0 = None;
        Poll::Ready(Ok(out))
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}
