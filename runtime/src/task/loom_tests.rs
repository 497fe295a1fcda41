//! loom models of the task state machine, with a stand-in scheduler (a queue that a
//! "worker" thread drains).
//!
//! Each model checks: a task is never polled twice at once, never polled after it
//! completed, its output reaches the `JoinHandle` or is dropped, and the cell is freed
//! exactly once (loom's leak checker fails a model that leaks an `Arc`/allocation it
//! tracks, and the drop counters below catch double drops).

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex};
use crate::loom::thread;
use crate::task::list::OwnedTasks;
use crate::task::{Id, JoinHandle, Notified, Schedule, Task, TaskData, TaskInit, TaskRef};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A scheduler stand-in: woken tasks go to a queue; `run_all` drains it.
struct Sched {
    queue: Mutex<VecDeque<Notified<Arc<Sched>>>>,
    owned: OwnedTasks<Arc<Sched>>,
}

impl Schedule for Arc<Sched> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.queue.lock().push_back(task);
    }
}

fn spawn<F>(sched: &Arc<Sched>, f: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (join, notified) = sched.owned.bind(f, sched.clone(), TaskInit::new());
    if let Some(n) = notified {
        sched.schedule(n);
    }
    join
}

/// Spawns a task carrying `data` (see `TaskRef`).
fn spawn_with<D, F>(sched: &Arc<Sched>, data: D, make: impl FnOnce(TaskRef<D>) -> F) -> TaskRef<D>
where
    D: TaskData,
    F: Future<Output = ()> + Send + 'static,
{
    let (task, notified) = sched
        .owned
        .bind_with_data(data, make, sched.clone(), TaskInit::new());
    if let Some(n) = notified {
        sched.schedule(n);
    }
    task
}

impl Sched {
    fn new() -> Arc<Sched> {
        Arc::new(Sched {
            queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(1),
        })
    }

    fn run_all(&self) {
        loop {
            let task = self.queue.lock().pop_front();
            match task {
                Some(t) => t.run(),
                None => return,
            }
        }
    }

    fn shutdown(&self) {
        self.owned.close_and_shutdown_all();
        let drained: Vec<_> = self.queue.lock().drain(..).collect();
        drop(drained);
    }
}

/// A future that returns Pending until `ready` is set, storing its waker where a "remote"
/// thread can wake it. Counts its polls, concurrent polls and drops.
struct Remote {
    shared: Arc<RemoteShared>,
}

struct RemoteShared {
    waker: Mutex<Option<Waker>>,
    ready: AtomicUsize,
    polling: AtomicUsize,
    drops: AtomicUsize,
}

impl RemoteShared {
    fn new() -> Arc<RemoteShared> {
        Arc::new(RemoteShared {
            waker: Mutex::new(None),
            ready: AtomicUsize::new(0),
            polling: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
        })
    }

    fn fire(&self) {
        self.ready.store(1, SeqCst);
        let w = self.waker.lock().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl Future for Remote {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        assert_eq!(
            self.shared.polling.fetch_add(1, SeqCst),
            0,
            "polled twice at once"
        );
        *self.shared.waker.lock() = Some(cx.waker().clone());
        let r = if self.shared.ready.load(SeqCst) == 1 {
            Poll::Ready(7)
        } else {
            Poll::Pending
        };
        self.shared.polling.fetch_sub(1, SeqCst);
        r
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        assert_eq!(
            self.shared.drops.fetch_add(1, SeqCst),
            0,
            "future dropped twice"
        );
    }
}

/// A wake from another thread while the task is being polled is never lost.
#[test]
fn wake_during_poll() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        let join = spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        );
        let s2 = shared.clone();
        let th = thread::spawn(move || s2.fire());
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        assert!(join_now(join).is_some(), "wake-up lost");
        assert_eq!(shared.drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// A waker used after the task completed does nothing and frees nothing twice.
#[test]
fn wake_after_complete() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        shared.ready.store(1, SeqCst);
        let join = spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        );
        let s2 = shared.clone();
        let th = thread::spawn(move || {
            // May run before, during or after the poll.
            let w = s2.waker.lock().take();
            if let Some(w) = w {
                w.wake();
            }
        });
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        assert_eq!(join_now(join).unwrap().unwrap(), 7);
        sched.shutdown();
    });
}

/// `abort` racing a poll: the task ends exactly once, as cancelled or with its output.
#[test]
fn abort_racing_poll() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        let join = spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        );
        let join = Arc::new(join);
        let j2 = join.clone();
        let th = thread::spawn(move || j2.abort());
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        let join = Arc::try_unwrap(join).unwrap();
        let out = join_now(join).expect("aborted task did not finish");
        assert!(out.unwrap_err().is_cancelled());
        assert_eq!(shared.drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// Dropping the `JoinHandle` while the task completes on another thread: the output is
/// dropped exactly once and the cell freed once.
#[test]
fn join_handle_dropped_racing_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let out_drops = Arc::new(AtomicUsize::new(0));
        let join = spawn(&sched, {
            let out_drops = out_drops.clone();
            async move { DropCounter(out_drops) }
        });
        let s2 = sched.clone();
        let th = thread::spawn(move || s2.run_all());
        drop(join);
        th.join().unwrap();
        assert_eq!(out_drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// The `JoinHandle` registering its waker while the task completes elsewhere: it is either
/// woken or sees the output at once.
#[test]
fn join_waker_racing_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let join = spawn(&sched, async { 5 });
        let s2 = sched.clone();
        let th = thread::spawn(move || s2.run_all());
        let woken = Arc::new(Flag(AtomicUsize::new(0)));
        let waker = Waker::from_flag(woken.clone());
        let mut join = join;
        let mut cx = Context::from_waker(&waker);
        let first = Pin::new(&mut join).poll(&mut cx);
        th.join().unwrap();
        assert_ready_or_woken(first, &mut join, &woken, &mut cx, 5);
        sched.shutdown();
    });
}

/// The `JoinHandle` replacing its stored waker (polled again from another task) while the
/// task completes and wakes the old one: the swap must see the completion and report the
/// output, or leave the new waker where completion will wake it. This raced a debug
/// assertion in `unset_join_waker` (JOIN_WAKER already handed back on completion).
#[test]
fn join_waker_replaced_racing_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let mut join = spawn(&sched, async { 7 });
        let first = Arc::new(Flag(AtomicUsize::new(0)));
        let first_waker = Waker::from_flag(first.clone());
        assert!(Pin::new(&mut join)
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending());
        let s2 = sched.clone();
        let th = thread::spawn(move || s2.run_all());
        let second = Arc::new(Flag(AtomicUsize::new(0)));
        let second_waker = Waker::from_flag(second.clone());
        let mut cx = Context::from_waker(&second_waker);
        let polled = Pin::new(&mut join).poll(&mut cx);
        th.join().unwrap();
        assert_ready_or_woken(polled, &mut join, &second, &mut cx, 7);
        sched.shutdown();
    });
}

/// After the task ran to completion: a poll that returned `Ready` had `want`; one that
/// returned `Pending` left a waker that completion woke (once), and polling again is `Ready`.
fn assert_ready_or_woken(
    polled: Poll<Result<i32, crate::JoinError>>,
    join: &mut JoinHandle<i32>,
    woken: &Flag,
    cx: &mut Context<'_>,
    want: i32,
) {
    match polled {
        Poll::Ready(v) => assert_eq!(v.unwrap(), want),
        Poll::Pending => {
            assert_eq!(woken.0.load(SeqCst), 1, "JoinHandle's waker not woken");
            match Pin::new(join).poll(cx) {
                Poll::Ready(v) => assert_eq!(v.unwrap(), want),
                Poll::Pending => panic!("woken but not ready"),
            }
        }
    }
}

/// Shutdown racing a wake from another thread: the future is dropped once, nothing leaks.
#[test]
fn shutdown_racing_wake() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        let join = spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        );
        sched.run_all();
        let s2 = shared.clone();
        let th = thread::spawn(move || s2.fire());
        sched.shutdown();
        th.join().unwrap();
        sched.shutdown();
        assert_eq!(shared.drops.load(SeqCst), 1);
        let out = join_now(join).expect("shut-down task did not finish");
        // Either it completed before the shutdown or it was cancelled by it.
        if let Err(e) = out {
            assert!(e.is_cancelled());
        }
    });
}

/// Spawning after shutdown: the task is cancelled at once, its future dropped.
#[test]
fn spawn_racing_shutdown() {
    loom::model(|| {
        let sched = Sched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let s2 = sched.clone();
        let d2 = drops.clone();
        let th = thread::spawn(move || {
            let guard = DropCounter(d2);
            spawn(&s2, async move {
                let _g = guard;
            })
        });
        sched.shutdown();
        let join = th.join().unwrap();
        sched.run_all();
        sched.shutdown();
        assert_eq!(drops.load(SeqCst), 1);
        assert!(join_now(join).is_some());
    });
}

/// The data of a task spawned with `spawn_with`: counts its drops, and the future's reads.
struct Data {
    drops: Arc<AtomicUsize>,
    reads: AtomicUsize,
}

impl Drop for Data {
    fn drop(&mut self) {
        assert_eq!(self.drops.fetch_add(1, SeqCst), 0, "data dropped twice");
    }
}

impl TaskData for Data {
    type View = AtomicUsize;

    fn view(&self) -> &AtomicUsize {
        &self.reads
    }

    fn name(&self) -> Option<String> {
        Some(format!("data read {} times", self.reads.load(SeqCst)))
    }
}

fn data() -> (Data, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    (
        Data {
            drops: drops.clone(),
            reads: AtomicUsize::new(0),
        },
        drops,
    )
}

/// `Remote`, holding its own task's `TaskRef` and reading the data on every poll.
fn remote_with_data(
    shared: Arc<RemoteShared>,
) -> impl FnOnce(TaskRef<Data>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move |me| {
        // Made here, not in the async block, so that it is dropped even if never polled.
        let remote = Remote { shared };
        Box::pin(async move {
            let out = remote.await;
            me.reads.fetch_add(out, SeqCst);
        })
    }
}

/// A scheduler with one task spawned with `Data`, its future a `Remote` (not polled yet):
/// the scheduler, the `Remote`'s shared state, the spawner's `TaskRef`, the data's drops.
fn data_task() -> (
    Arc<Sched>,
    Arc<RemoteShared>,
    TaskRef<Data>,
    Arc<AtomicUsize>,
) {
    let sched = Sched::new();
    let shared = RemoteShared::new();
    let (d, drops) = data();
    let task = spawn_with(&sched, d, remote_with_data(shared.clone()));
    (sched, shared, task, drops)
}

/// The last `TaskRef` dropped on another thread while the task completes (its own
/// reference goes with its future): the data is dropped exactly once, after the future.
#[test]
fn task_ref_dropped_racing_completion() {
    loom::model(|| {
        let (sched, shared, task, drops) = data_task();
        sched.run_all();
        let s2 = shared.clone();
        let th = thread::spawn(move || {
            s2.fire();
            assert!(task.reads.load(SeqCst) <= 7);
            drop(task);
        });
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        assert_eq!(shared.drops.load(SeqCst), 1);
        // The last poll's waker (a reference) is still stored.
        drop(shared.waker.lock().take());
        assert_eq!(drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// `TaskRef::abort` racing the first poll, the aborter then dropping its reference: the
/// future and the data are each dropped exactly once.
#[test]
fn task_ref_abort_racing_poll() {
    loom::model(|| {
        let (sched, shared, task, drops) = data_task();
        let t2 = task.clone();
        let th = thread::spawn(move || {
            TaskRef::abort(&t2);
            drop(t2);
        });
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        assert!(TaskRef::is_finished(&task));
        assert_eq!(shared.drops.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 0, "a TaskRef still holds the data");
        drop(shared.waker.lock().take()); // a reference too, if the task was polled
        drop(task);
        assert_eq!(drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// Shutdown racing the last `TaskRef`'s drop on another thread, with the task pending: the
/// data is dropped exactly once, by whichever side drops the last reference.
#[test]
fn task_ref_dropped_racing_shutdown() {
    loom::model(|| {
        let (sched, shared, task, drops) = data_task();
        sched.run_all();
        let th = thread::spawn(move || drop(task));
        sched.shutdown();
        th.join().unwrap();
        assert_eq!(shared.drops.load(SeqCst), 1);
        drop(shared.waker.lock().take()); // the first poll's waker: a reference
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// Listing the tasks with data (`OwnedTasks::views`, behind `taskio`'s `all_tasks`) on one
/// thread while the task completes and leaves the list on another, the spawner's `TaskRef`
/// dropped meanwhile: a listed reference is always to a live cell, and the data is dropped
/// exactly once, after the last reference (listed or not) is gone.
#[test]
fn task_listed_racing_completion() {
    loom::model(|| {
        let (sched, shared, task, drops) = data_task();
        sched.run_all();
        let s2 = sched.clone();
        let th = thread::spawn(move || {
            let listed = s2.owned.views::<AtomicUsize>();
            assert!(listed.len() <= 1);
            for r in &listed {
                // The view is the data's `reads`: readable however far completion got.
                assert!(r.load(SeqCst) <= 7);
            }
            listed
        });
        shared.fire();
        drop(task);
        sched.run_all();
        let listed = th.join().unwrap();
        assert_eq!(shared.drops.load(SeqCst), 1);
        drop(shared.waker.lock().take());
        // Only a listed reference can still hold the data.
        assert_eq!(drops.load(SeqCst), usize::from(listed.is_empty()));
        drop(listed);
        assert_eq!(drops.load(SeqCst), 1);
        assert!(sched.owned.views::<AtomicUsize>().is_empty());
        sched.shutdown();
    });
}

/// A dump (`OwnedTasks::snapshot`, behind `Handle::dump`) on one thread while the task
/// completes and leaves the list on another, the spawner's `TaskRef` dropped meanwhile: the
/// dump reads only live cells (its own reference keeps a task alive while its name is asked,
/// outside the lock), and the data is dropped exactly once, by whoever drops the last
/// reference, the dumping thread included.
#[test]
fn task_dumped_racing_completion() {
    loom::model(|| {
        let (sched, shared, task, drops) = data_task();
        sched.run_all();
        let s2 = sched.clone();
        let th = thread::spawn(move || {
            let mut out = Vec::new();
            s2.owned.snapshot(&mut out);
            assert!(out.len() <= 1);
            for t in &out {
                assert!(t
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("data read")));
            }
            out.len()
        });
        shared.fire();
        drop(task);
        sched.run_all();
        let _listed = th.join().unwrap();
        assert_eq!(shared.drops.load(SeqCst), 1);
        drop(shared.waker.lock().take());
        assert_eq!(drops.load(SeqCst), 1, "the dump keeps no reference");
        let mut out = Vec::new();
        sched.owned.snapshot(&mut out);
        assert!(out.is_empty());
        sched.shutdown();
    });
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

struct Flag(AtomicUsize);

trait FromFlag {
    fn from_flag(flag: Arc<Flag>) -> Waker;
}

impl FromFlag for Waker {
    fn from_flag(flag: Arc<Flag>) -> Waker {
        use std::task::{RawWaker, RawWakerVTable};
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_w);
        unsafe fn clone(p: *const ()) -> RawWaker {
            // SAFETY: `p` came from `Arc::into_raw` of an `Arc<Flag>` that is still alive.
            unsafe { Arc::increment_strong_count(p as *const Flag) };
            RawWaker::new(p, &VTABLE)
        }
        unsafe fn wake(p: *const ()) {
            // SAFETY: as in `clone`; this consumes the waker's count.
            let f = unsafe { Arc::from_raw(p as *const Flag) };
            f.0.fetch_add(1, SeqCst);
        }
        unsafe fn wake_by_ref(p: *const ()) {
            // SAFETY: as in `clone`.
            let f = unsafe { &*(p as *const Flag) };
            f.0.fetch_add(1, SeqCst);
        }
        unsafe fn drop_w(p: *const ()) {
            // SAFETY: as in `clone`; this consumes the waker's count.
            drop(unsafe { Arc::from_raw(p as *const Flag) });
        }
        let raw = RawWaker::new(Arc::into_raw(flag) as *const (), &VTABLE);
        // SAFETY: the vtable keeps the `Arc` count balanced.
        unsafe { Waker::from_raw(raw) }
    }
}

/// Polls the handle once with a no-op waker.
fn join_now<T>(mut join: JoinHandle<T>) -> Option<Result<T, crate::JoinError>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut join).poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

// ===== delivered cancellation (`cancel.rs`) =====

/// A checkpoint that waits forever: each poll delivers a pending request (counted) or waits.
/// With `swallow`, it goes on waiting after a delivery; else it returns the delivery.
struct Checkpoint {
    delivered: Arc<AtomicUsize>,
    swallow: bool,
    drops: Arc<AtomicUsize>,
}

impl Future for Checkpoint {
    type Output = Result<(), crate::task::Cancelled>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        match crate::task::take_cancel() {
            Some(c) => {
                self.delivered.fetch_add(1, SeqCst);
                if self.swallow {
                    Poll::Pending
                } else {
                    Poll::Ready(Err(c))
                }
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        assert_eq!(self.drops.fetch_add(1, SeqCst), 0, "dropped twice");
    }
}

fn checkpoint(swallow: bool) -> (Checkpoint, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (delivered, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let c = Checkpoint {
        delivered: delivered.clone(),
        swallow,
        drops: drops.clone(),
    };
    (c, delivered, drops)
}

/// A request from another thread racing the task's poll at a checkpoint is delivered
/// exactly once: never lost, never twice.
#[test]
fn cancel_request_racing_a_checkpoint_poll() {
    loom::model(|| {
        let sched = Sched::new();
        let (fut, delivered, drops) = checkpoint(false);
        let join = Arc::new(spawn(&sched, fut));
        sched.run_all(); // first poll: parked at the checkpoint
        let j2 = join.clone();
        let th = thread::spawn(move || assert!(j2.cancel()));
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        let join = Arc::try_unwrap(join).unwrap();
        assert_eq!(
            join_now(join).expect("request lost").unwrap(),
            Err(crate::task::Cancelled)
        );
        assert_eq!(delivered.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// A request racing the task's completion (woken by another thread): the task ends once,
/// with its value or with the delivered cancellation, and its future is dropped once.
#[test]
fn cancel_request_racing_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        let join = Arc::new(spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        ));
        sched.run_all();
        let (s2, j2) = (shared.clone(), join.clone());
        let fire = thread::spawn(move || s2.fire());
        let cancel = thread::spawn(move || {
            j2.cancel();
        });
        sched.run_all();
        fire.join().unwrap();
        cancel.join().unwrap();
        sched.run_all();
        let join = Arc::try_unwrap(join).unwrap();
        // `Remote` is no checkpoint: either its value, or the drop fallback.
        match join_now(join).expect("the task ends") {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(shared.drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// A request to a task parked on no checkpoint ends it by the drop fallback, whichever way
/// the request and the poll interleave.
#[test]
fn cancel_request_racing_the_drop_fallback() {
    loom::model(|| {
        let sched = Sched::new();
        let shared = RemoteShared::new();
        let join = Arc::new(spawn(
            &sched,
            Remote {
                shared: shared.clone(),
            },
        ));
        let j2 = join.clone();
        let th = thread::spawn(move || assert!(j2.cancel()));
        sched.run_all();
        th.join().unwrap();
        sched.run_all();
        let join = Arc::try_unwrap(join).unwrap();
        let (st, cw) = (join.raw().state().load(), join.raw().header().cancel.load());
        assert!(join_now(join)
            .unwrap_or_else(|| panic!("request lost {st:?} {cw:?}"))
            .unwrap_err()
            .is_cancelled());
        assert_eq!(shared.drops.load(SeqCst), 1);
        sched.shutdown();
    });
}

/// A request racing shutdown: the task ends once (dropped), nothing leaks.
#[test]
fn cancel_request_racing_shutdown() {
    loom::model(|| {
        let sched = Sched::new();
        let (fut, delivered, drops) = checkpoint(true);
        let join = Arc::new(spawn(&sched, fut));
        sched.run_all();
        let j2 = join.clone();
        let th = thread::spawn(move || {
            j2.cancel();
        });
        sched.shutdown();
        th.join().unwrap();
        sched.run_all();
        let join = Arc::try_unwrap(join).unwrap();
        assert!(join_now(join)
            .expect("ends at shutdown")
            .unwrap_err()
            .is_cancelled());
        assert!(delivered.load(SeqCst) <= 1);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// Two requests and a withdrawal from three threads: the count and the pending bit stay one
/// consistent word (no withdrawn-to-zero count with a request still pending, no request lost
/// while the count says it is there), and each request is delivered at most once.
#[test]
fn cancel_requests_racing_uncancel() {
    loom::model(|| {
        let sched = Sched::new();
        let (fut, delivered, drops) = checkpoint(true);
        let join = Arc::new(spawn(&sched, fut));
        sched.run_all();
        let (j1, j2) = (join.clone(), join.clone());
        let a = thread::spawn(move || {
            j1.cancel();
        });
        let b = thread::spawn(move || {
            j2.uncancel();
        });
        join.cancel();
        sched.run_all();
        a.join().unwrap();
        b.join().unwrap();
        sched.run_all();
        let word = join.raw().header().cancel.load();
        // The withdrawal took one of the two requests, or came first and took none.
        assert!(matches!(word.count(), 1 | 2), "{word:?}");
        // Once the queue is drained, every request still counted was delivered.
        assert!(
            !word.is_pending(),
            "a counted request was never delivered: {:?} {word:?} delivered {}",
            join.raw().state().load(),
            delivered.load(SeqCst)
        );
        assert!((1..=2).contains(&delivered.load(SeqCst)));
        sched.shutdown();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

// ===== shields (`cancel.rs`, step 8) =====

/// A task whose future runs a checkpoint inside a shield, then one outside.
struct ShieldedThenOuter {
    shield: Arc<Mutex<Option<std::sync::Arc<crate::task::CancelShield>>>>,
    inner: Option<Pin<Box<Checkpoint>>>,
    inner_out: Option<Result<(), crate::task::Cancelled>>,
}

impl Future for ShieldedThenOuter {
    type Output = (Result<(), crate::task::Cancelled>, bool);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        use crate::task::{CancelShield, Shielded};
        let shield = self
            .shield
            .lock()
            .get_or_insert_with(|| std::sync::Arc::new(CancelShield::new().unwrap()))
            .clone();
        if self.inner_out.is_none() {
            let inner = self.inner.as_mut().unwrap().as_mut();
            match shield.poll(inner, cx) {
                Shielded::Ready(r) => self.inner_out = Some(r),
                Shielded::Pending => return Poll::Pending,
                Shielded::Stuck => panic!("a checkpoint is never stuck"),
            }
        }
        match crate::task::take_cancel() {
            Some(_) => Poll::Ready((self.inner_out.unwrap(), true)),
            None => Poll::Pending,
        }
    }
}

/// A request on the task and one on a shield inside it, from two threads racing the task's
/// polls: the shield's request is delivered inside (once), the task's is held back there
/// (no drop fallback) and delivered at the first checkpoint outside. Neither is lost.
#[test]
fn shield_holds_the_task_request_and_delivers_its_own() {
    loom::model(|| {
        let sched = Sched::new();
        let (fut, delivered, drops) = checkpoint(false);
        let slot = Arc::new(Mutex::new(None));
        let join = Arc::new(spawn(
            &sched,
            ShieldedThenOuter {
                shield: slot.clone(),
                inner: Some(Box::pin(fut)),
                inner_out: None,
            },
        ));
        sched.run_all(); // parked inside the shield
        let j2 = join.clone();
        let task_req = thread::spawn(move || assert!(j2.cancel()));
        let s2 = slot.clone();
        let shield_req = thread::spawn(move || {
            let shield = s2.lock().clone().unwrap();
            assert!(shield.cancel());
        });
        sched.run_all();
        task_req.join().unwrap();
        shield_req.join().unwrap();
        sched.run_all();
        drop(slot);
        let join = Arc::try_unwrap(join).unwrap();
        let (inner, outer) = join_now(join).expect("a request was lost").unwrap();
        assert_eq!(inner, Err(crate::task::Cancelled));
        assert!(outer);
        assert_eq!(delivered.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 1);
        sched.shutdown();
    });
}
