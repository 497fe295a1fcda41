//! Tasks spawned with data (`Handle::spawn_with`, the cell behind `taskio`'s tasks): the data
//! lives as long as a `TaskRef` to it, its future can reach it (even in its destructor), and
//! it is dropped exactly once, whichever of completion, abort, shutdown and the last
//! `TaskRef` comes last.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use taskio_runtime::task::{TaskData, TaskRef};
use taskio_runtime::{yield_now, Handle, Runtime};
use taskio_tests::{chan, rt_tests, Counts, Flavor, FutGuard};

rt_tests! {
    destructors_data_dropped_once_handle_dropped_last,
    destructors_data_dropped_once_handle_dropped_first,
    destructors_data_dropped_once_when_aborted,
    destructors_data_dropped_once_when_aborted_before_first_poll,
    destructors_data_dropped_once_at_shutdown,
    destructors_data_dropped_once_at_shutdown_handle_dropped_first,
    destructors_data_dropped_once_spawned_after_shutdown,
    destructors_data_dropped_once_when_make_panics,
    future_reaches_its_data_until_dropped,
    stress_many_tasks_with_data,
    listing_finds_exactly_the_live_tasks_with_that_view,
    listing_while_tasks_complete_on_workers,
    task_ref_handle_spawns_on_the_same_runtime,
}

/// Another view type: only tasks whose data has it are listed under it.
struct Other(u8);

impl TaskData for Other {
    type View = u8;

    fn view(&self) -> &u8 {
        &self.0
    }
}

/// Data whose drop is counted; the future bumps `polls` through its own `TaskRef`.
struct Data {
    dropped: Arc<AtomicUsize>,
    polls: AtomicUsize,
}

impl Drop for Data {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, SeqCst);
    }
}

impl TaskData for Data {
    type View = Data;

    fn view(&self) -> &Data {
        self
    }
}

fn data() -> (Data, Arc<AtomicUsize>) {
    let dropped = Arc::new(AtomicUsize::new(0));
    (counted(&dropped), dropped)
}

/// Data whose drop counts in `dropped` (shared by many tasks).
fn counted(dropped: &Arc<AtomicUsize>) -> Data {
    Data {
        dropped: dropped.clone(),
        polls: AtomicUsize::new(0),
    }
}

/// Waits (on a plain thread) until `cond` holds: a worker may still be finishing a task's
/// completion (dropping its references) right after the task is seen finished.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never happened: {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `rt` (a current-thread runtime runs tasks only inside `block_on`) until `cond`.
fn drive(rt: &Runtime, what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    rt.block_on(async {
        while !cond() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never happened: {what}"
            );
            yield_now().await;
        }
    });
}

fn wait_finished<D: ?Sized>(rt: &Runtime, task: &TaskRef<D>) {
    drive(rt, "task finished", || TaskRef::is_finished(task));
}

fn destructors_data_dropped_once_handle_dropped_last(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    let task = rt.handle().spawn_with(d, move |me| async move {
        let _g = g;
        me.polls.fetch_add(1, SeqCst);
    });
    wait_finished(&rt, &task);
    eventually("future dropped", || counts.futs_dropped() == 1);
    assert_eq!(task.polls.load(SeqCst), 1);
    // Finished, but this reference keeps the data.
    thread::sleep(Duration::from_millis(5));
    assert_eq!(dropped.load(SeqCst), 0);
    let clone = task.clone();
    drop(task);
    assert_eq!(clone.polls.load(SeqCst), 1);
    drop(clone);
    eventually("data dropped", || dropped.load(SeqCst) == 1);
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
}

fn destructors_data_dropped_once_handle_dropped_first(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (tx, mut rx) = chan::<()>();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    let task = rt.handle().spawn_with(d, move |me| async move {
        let _g = g;
        rx.recv().await;
        me.polls.fetch_add(1, SeqCst);
    });
    drop(task);
    assert_eq!(dropped.load(SeqCst), 0);
    tx.send(());
    drive(&rt, "future dropped", || counts.futs_dropped() == 1);
    eventually("data dropped", || dropped.load(SeqCst) == 1);
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
}

fn destructors_data_dropped_once_when_aborted(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    let task = rt.handle().spawn_with(d, move |me| async move {
        let _g = g;
        me.polls.fetch_add(1, SeqCst);
        std::future::pending::<()>().await;
    });
    drive(&rt, "first poll", || task.polls.load(SeqCst) == 1);
    TaskRef::abort(&task);
    wait_finished(&rt, &task);
    eventually("future dropped", || counts.futs_dropped() == 1);
    TaskRef::abort(&task); // aborting a finished task does nothing
    assert_eq!(dropped.load(SeqCst), 0);
    drop(task);
    eventually("data dropped", || dropped.load(SeqCst) == 1);
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
    assert_eq!(counts.futs_dropped(), 1);
}

fn destructors_data_dropped_once_when_aborted_before_first_poll(flavor: Flavor) {
    let rt = flavor.rt();
    let (d, dropped) = data();
    let task = rt.block_on(async {
        // Aborted from its own `make`, and by the spawner before it ever runs.
        let task = Handle::current().spawn_with(d, |me| {
            TaskRef::abort(&me);
            async move {
                me.polls.fetch_add(1, SeqCst);
            }
        });
        TaskRef::abort(&task);
        while !TaskRef::is_finished(&task) {
            yield_now().await;
        }
        task
    });
    assert_eq!(task.polls.load(SeqCst), 0, "an aborted task never runs");
    drop(task);
    eventually("data dropped", || dropped.load(SeqCst) == 1);
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
}

fn destructors_data_dropped_once_at_shutdown(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let mut tasks = Vec::new();
    let mut drops = Vec::new();
    for _ in 0..20 {
        let (d, dropped) = data();
        let g = counts.fut_guard();
        tasks.push(rt.handle().spawn_with(d, move |me| async move {
            let _g = g;
            me.polls.fetch_add(1, SeqCst);
            std::future::pending::<()>().await;
        }));
        drops.push(dropped);
    }
    drop(rt);
    assert_eq!(counts.futs_dropped(), 20);
    for (task, dropped) in tasks.into_iter().zip(&drops) {
        assert!(TaskRef::is_finished(&task));
        assert_eq!(dropped.load(SeqCst), 0);
        drop(task);
        assert_eq!(
            dropped.load(SeqCst),
            1,
            "the runtime is gone: ours was the last"
        );
    }
}

fn destructors_data_dropped_once_at_shutdown_handle_dropped_first(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    drop(rt.handle().spawn_with(d, move |_me| async move {
        let _g = g;
        std::future::pending::<()>().await;
    }));
    assert_eq!(dropped.load(SeqCst), 0);
    drop(rt);
    assert_eq!(counts.futs_dropped(), 1);
    assert_eq!(dropped.load(SeqCst), 1);
}

fn destructors_data_dropped_once_spawned_after_shutdown(flavor: Flavor) {
    let rt = flavor.rt();
    let handle = rt.handle().clone();
    drop(rt);
    let counts = Counts::new();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    let task = handle.spawn_with(d, move |me| async move {
        let _g = g;
        me.polls.fetch_add(1, SeqCst);
    });
    // Cancelled at once, on this thread.
    assert!(TaskRef::is_finished(&task));
    assert_eq!(counts.futs_dropped(), 1);
    assert_eq!(task.polls.load(SeqCst), 0);
    assert_eq!(dropped.load(SeqCst), 0);
    drop(task);
    assert_eq!(dropped.load(SeqCst), 1);
}

fn destructors_data_dropped_once_when_make_panics(flavor: Flavor) {
    let rt = flavor.rt();
    let (d, dropped) = data();
    let res = catch_unwind(AssertUnwindSafe(|| {
        rt.handle().spawn_with(d, |me| -> std::future::Ready<()> {
            assert_eq!(me.polls.load(SeqCst), 0);
            panic!("make fails");
        })
    }));
    assert!(res.is_err());
    assert_eq!(dropped.load(SeqCst), 1);
    // The runtime is unaffected.
    let (d, dropped) = data();
    let task = rt.handle().spawn_with(d, |me| async move {
        me.polls.fetch_add(1, SeqCst);
    });
    wait_finished(&rt, &task);
    assert_eq!(task.polls.load(SeqCst), 1);
    drop(task);
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
}

/// Reads its task's data in its destructor: the data outlives the future.
struct ReadsDataOnDrop {
    me: TaskRef<Data>,
    _g: FutGuard,
}

impl Drop for ReadsDataOnDrop {
    fn drop(&mut self) {
        assert_eq!(self.me.dropped.load(SeqCst), 0);
        self.me.polls.fetch_add(100, SeqCst);
    }
}

fn future_reaches_its_data_until_dropped(flavor: Flavor) {
    let rt = flavor.rt();
    let counts = Counts::new();
    let (tx, mut rx) = chan::<()>();
    let (d, dropped) = data();
    let g = counts.fut_guard();
    let task = rt.handle().spawn_with(d, move |me| async move {
        let guard = ReadsDataOnDrop { me, _g: g };
        guard.me.polls.fetch_add(1, SeqCst);
        rx.recv().await;
        guard.me.polls.fetch_add(1, SeqCst);
    });
    let erased: TaskRef<dyn Send + Sync> = TaskRef::map(task.clone(), |d| d as &(dyn Send + Sync));
    tx.send(());
    wait_finished(&rt, &task);
    eventually("future dropped", || counts.futs_dropped() == 1);
    assert_eq!(task.polls.load(SeqCst), 102);
    let polls: TaskRef<AtomicUsize> = TaskRef::map(task, |d| &d.polls);
    assert_eq!(polls.load(SeqCst), 102);
    assert_eq!(TaskRef::id(&polls), TaskRef::id(&erased));
    drop(polls);
    assert_eq!(dropped.load(SeqCst), 0);
    drop(erased);
    eventually("data dropped", || dropped.load(SeqCst) == 1);
    drop(rt);
}

fn stress_many_tasks_with_data(flavor: Flavor) {
    const N: usize = 2_000;
    let rt: Runtime = flavor.rt();
    let dropped = Arc::new(AtomicUsize::new(0));
    let total = rt.block_on(async {
        let mut tasks = Vec::with_capacity(N);
        for i in 0..N {
            let d = counted(&dropped);
            let task = Handle::current().spawn_with(d, move |me| async move {
                if i % 3 == 0 {
                    yield_now().await;
                }
                me.polls.fetch_add(1, SeqCst);
            });
            if i % 7 == 0 {
                TaskRef::abort(&task);
            }
            if i % 5 == 0 {
                drop(task); // detached
            } else {
                tasks.push(task);
            }
        }
        let mut total = 0;
        for t in &tasks {
            while !TaskRef::is_finished(t) {
                yield_now().await;
            }
            total += t.polls.load(SeqCst);
        }
        total
    });
    assert!(total > 0);
    drop(rt);
    assert_eq!(
        dropped.load(SeqCst),
        N,
        "every task's data dropped exactly once"
    );
}

fn listing_finds_exactly_the_live_tasks_with_that_view(flavor: Flavor) {
    let rt = flavor.rt();
    let dropped = Arc::new(AtomicUsize::new(0));
    let h = rt.handle();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let d = counted(&dropped);
        tasks.push(h.spawn_with(d, |_me| std::future::pending::<()>()));
    }
    let other = h.spawn_with(Other(7), |_me| std::future::pending::<()>());
    let plain = h.spawn(std::future::pending::<()>());
    let ids = |v: &[TaskRef<Data>]| {
        let mut ids: Vec<_> = v.iter().map(TaskRef::id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&h.tasks_with_view::<Data>()), ids(&tasks));
    let others = h.tasks_with_view::<u8>();
    assert_eq!(others.len(), 1);
    assert_eq!(*others[0], 7);
    assert_eq!(TaskRef::id(&others[0]), TaskRef::id(&other));
    // Completed tasks leave the list (a completed task is released after it completes).
    for t in tasks.iter().step_by(2) {
        TaskRef::abort(t);
    }
    for t in tasks.iter().step_by(2) {
        wait_finished(&rt, t);
    }
    let live: Vec<_> = tasks.iter().skip(1).step_by(2).cloned().collect();
    drive(&rt, "aborted tasks released", || {
        ids(&h.tasks_with_view::<Data>()) == ids(&live)
    });
    // A listed reference keeps the data alive like any other.
    let listed = h.tasks_with_view::<Data>();
    drop((tasks, live));
    assert_eq!(dropped.load(SeqCst), 5);
    drop(rt); // shuts the pending ones down
    assert_eq!(
        dropped.load(SeqCst),
        5,
        "the listed references hold the rest"
    );
    drop(listed);
    assert_eq!(dropped.load(SeqCst), 10);
    drop((others, other, plain));
}

fn listing_while_tasks_complete_on_workers(flavor: Flavor) {
    const N: usize = 2_000;
    let rt = flavor.rt();
    let dropped = Arc::new(AtomicUsize::new(0));
    let listed_total = rt.block_on(async {
        let h = Handle::current();
        let mut tasks = Vec::with_capacity(N);
        let mut listed_total = 0;
        for i in 0..N {
            let d = counted(&dropped);
            tasks.push(h.spawn_with(d, move |me| async move {
                if i % 2 == 0 {
                    yield_now().await;
                }
                me.polls.fetch_add(1, SeqCst);
            }));
            if i % 100 == 0 {
                // Every listed task is one of ours, alive while listed.
                let listed = h.tasks_with_view::<Data>();
                assert!(listed.len() <= i + 1);
                for r in &listed {
                    assert!(r.polls.load(SeqCst) <= 1);
                }
                listed_total += listed.len();
                yield_now().await;
            }
        }
        for t in &tasks {
            while !TaskRef::is_finished(t) {
                yield_now().await;
            }
            assert_eq!(t.polls.load(SeqCst), 1);
        }
        listed_total
    });
    assert!(
        listed_total > 0,
        "the spawning task always finds its newest task"
    );
    drop(rt);
    assert_eq!(dropped.load(SeqCst), N);
}

fn task_ref_handle_spawns_on_the_same_runtime(flavor: Flavor) {
    let rt = flavor.rt();
    let (d, _dropped) = data();
    let task = rt
        .handle()
        .spawn_with(d, |_me| std::future::pending::<()>());
    let h = TaskRef::handle(&task).expect("a runtime task has a handle");
    let out = rt.block_on(async move {
        let j = h.spawn(async { Handle::current().spawn(async { 40 + 2 }).await.unwrap() });
        j.await.unwrap()
    });
    assert_eq!(out, 42);
    TaskRef::abort(&task);
    wait_finished(&rt, &task);
}
