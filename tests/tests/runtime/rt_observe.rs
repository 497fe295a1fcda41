//! Seeing inside a running runtime: task dumps (the spawn tree, states, what tasks await),
//! the counters, per-task poll times, and the slow-poll watchdog, on every flavour.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use taskio_runtime::dump::{TaskDump, TaskState};
use taskio_runtime::task::{Awaiting, Id};
use taskio_runtime::{spawn, yield_now, Handle};
use taskio_tests::{rt_tests, Flavor, Latch};

rt_tests! {
    dump_is_the_spawn_tree_with_states_and_what_each_awaits,
    dump_without_the_task_tree_lists_every_task_as_a_root,
    dump_from_another_thread_while_100k_tasks_live_and_others_run,
    metrics_count_spawns_polls_and_timers,
    poll_times_bound_a_long_poll,
    watchdog_reports_a_blocking_poll_while_it_blocks,
    watchdog_is_silent_on_a_healthy_run,
    watchdog_ignores_short_polls_of_one_task_and_idle_time,
}

/// Waits (yielding) until every task of `ids` is parked, and returns that dump.
async fn dump_when_parked(ids: &[Id]) -> TaskDump {
    loop {
        let dump = Handle::current().dump();
        if ids
            .iter()
            .all(|id| dump.get(*id).is_some_and(|t| t.state == TaskState::Waiting))
        {
            return dump;
        }
        yield_now().await;
    }
}

fn dump_is_the_spawn_tree_with_states_and_what_each_awaits(flavor: Flavor) {
    let rt = flavor.builder().task_tree(true).build().unwrap();
    rt.block_on(async {
        let (tx, rx) = mpsc::channel::<(Id, Id)>();
        let tx = Mutex::new(tx);
        let root_line = line!() + 1;
        let root = spawn(async move {
            for _ in 0..3 {
                let tx = tx.lock().unwrap().clone();
                let child = spawn(async move {
                    let sleeper = spawn(taskio_runtime::time::sleep(Duration::from_secs(3600)));
                    let sleeper_id = sleeper.id();
                    let _ = tx.send((taskio_runtime::task::id(), sleeper_id));
                    // Waits on its own child: the dump shows `Awaiting::Task(child)`.
                    let _ = sleeper.await;
                });
                std::mem::forget(child);
            }
            std::future::pending::<()>().await;
        });
        let root_id = root.id();
        let mut children = Vec::new();
        let mut sleepers = Vec::new();
        while children.len() < 3 {
            match rx.try_recv() {
                Ok((child, sleeper)) => {
                    children.push(child);
                    sleepers.push(sleeper);
                }
                Err(_) => yield_now().await,
            }
        }
        let all: Vec<Id> = [root_id]
            .into_iter()
            .chain(children.iter().copied())
            .chain(sleepers.iter().copied())
            .collect();
        let dump = dump_when_parked(&all).await;

        assert_eq!(dump.len(), 7, "{dump}");
        let r = dump.get(root_id).unwrap();
        assert_eq!(
            r.parent, None,
            "spawned from block_on's future, which is no task"
        );
        assert_eq!(r.spawned_at.unwrap().file(), file!());
        assert_eq!(r.spawned_at.unwrap().line(), root_line);
        assert!(r.polls >= 1);
        assert_eq!(
            r.awaiting, None,
            "parked on `pending`, which records nothing"
        );
        let mut kids: Vec<Id> = dump.children(root_id).map(|t| t.id).collect();
        kids.sort();
        let mut expected = children.clone();
        expected.sort();
        assert_eq!(kids, expected);
        for (child, sleeper) in children.iter().zip(&sleepers) {
            let c = dump.get(*child).unwrap();
            assert_eq!(c.parent, Some(root_id));
            assert_eq!(c.awaiting, Some(Awaiting::Task(*sleeper)));
            let s = dump.get(*sleeper).unwrap();
            assert_eq!(s.parent, Some(*child));
            match s.awaiting {
                Some(Awaiting::Sleep { until }) => {
                    assert!(until > Instant::now() + Duration::from_secs(3000))
                }
                other => panic!("sleeper awaits {other:?}"),
            }
            assert_eq!(dump.children(*sleeper).count(), 0);
        }
        assert_eq!(dump.roots().map(|t| t.id).collect::<Vec<_>>(), [root_id]);
        let text = dump.to_string();
        assert!(text.starts_with("7 tasks\n"), "{text}");
        assert_eq!(
            text.matches("├── ").count() + text.matches("└── ").count(),
            6
        );
        assert!(text.contains("on sleep ("), "{text}");

        // Aborting the root leaves its children: orphans, now roots of the tree.
        root.abort();
        let _ = root.await;
        let dump = Handle::current().dump();
        assert!(dump.get(root_id).is_none());
        for child in &children {
            assert!(dump.is_orphan(*child));
        }
        assert!(dump
            .to_string()
            .contains(&format!("(parent {root_id} gone)")));
    });
}

fn dump_without_the_task_tree_lists_every_task_as_a_root(flavor: Flavor) {
    let rt = flavor.rt(); // `task_tree` is off by default
    rt.block_on(async {
        let outer = spawn(async {
            // Detached: it outlives this task's view of it.
            std::mem::forget(spawn(taskio_runtime::time::sleep(Duration::from_secs(
                3600,
            ))));
            std::future::pending::<()>().await;
        });
        let dump = loop {
            let dump = Handle::current().dump();
            if dump.len() == 2 && dump.iter().all(|t| t.state == TaskState::Waiting) {
                break dump;
            }
            yield_now().await;
        };
        assert_eq!(dump.roots().count(), 2);
        for t in &dump {
            assert_eq!((t.parent, t.spawned_at), (None, None));
            assert!(t.polls >= 1);
        }
        assert!(dump
            .iter()
            .any(|t| matches!(t.awaiting, Some(Awaiting::Sleep { .. }))));
        outer.abort();
    });
}

fn dump_from_another_thread_while_100k_tasks_live_and_others_run(flavor: Flavor) {
    const SPAWNERS: usize = 4;
    const PER_SPAWNER: usize = 25_000;
    let rt = flavor.builder().task_tree(true).build().unwrap();
    let handle = rt.handle().clone();
    let parked = Latch::new();
    rt.block_on(async {
        let stop = Arc::new(AtomicUsize::new(0));
        // Tasks that keep running (and spawning short-lived tasks) during the dumps.
        let mut churn = Vec::new();
        for _ in 0..2 {
            let stop = stop.clone();
            churn.push(spawn(async move {
                while stop.load(SeqCst) == 0 {
                    let _ = spawn(async {}).await;
                    yield_now().await;
                }
            }));
        }
        let mut spawners = Vec::new();
        for _ in 0..SPAWNERS {
            let parked = parked.clone();
            spawners.push(spawn(async move {
                let mut kids = Vec::with_capacity(PER_SPAWNER);
                for _ in 0..PER_SPAWNER {
                    kids.push(spawn(std::future::pending::<()>()));
                }
                parked.add();
                std::future::pending::<()>().await;
                drop(kids);
            }));
        }
        let spawner_ids: HashSet<Id> = spawners.iter().map(|s| s.id()).collect();
        // The dumps run on a plain thread while the runtime's tasks run.
        let dumper = std::thread::spawn({
            let parked = parked.clone();
            move || {
                let during = handle.dump(); // while spawning
                parked.wait_for(SPAWNERS);
                let after = handle.dump();
                (during, after)
            }
        });
        while !dumper.is_finished() {
            yield_now().await;
        }
        let (during, after) = dumper.join().unwrap();
        stop.store(1, SeqCst);
        for c in churn {
            c.await.unwrap();
        }
        for dump in [&during, &after] {
            let ids: HashSet<Id> = dump.iter().map(|t| t.id).collect();
            assert_eq!(ids.len(), dump.len(), "a task listed twice");
        }
        // Every spawned child is in the second dump, once, under its live spawner.
        let kids = after
            .iter()
            .filter(|t| t.parent.is_some_and(|p| spawner_ids.contains(&p)))
            .count();
        assert_eq!(kids, SPAWNERS * PER_SPAWNER);
        for s in &spawner_ids {
            assert!(after.get(*s).is_some());
            assert_eq!(after.children(*s).count(), PER_SPAWNER);
        }
        for t in &after {
            if let Some(p) = t.parent {
                assert!(
                    after.get(p).is_some() || !spawner_ids.contains(&p),
                    "a live spawner's child lost its parent"
                );
            }
        }
        for s in spawners {
            s.abort();
        }
    });
}

fn metrics_count_spawns_polls_and_timers(flavor: Flavor) {
    const N: u64 = 1000;
    let rt = flavor.rt();
    let before = rt.handle().metrics();
    assert_eq!(before.spawned_tasks, 0);
    assert_eq!(before.alive_tasks, 0);
    rt.block_on(async {
        let tasks: Vec<_> = (0..N).map(|_| spawn(async { yield_now().await })).collect();
        for t in tasks {
            t.await.unwrap();
        }
        let _sleeper = spawn(taskio_runtime::time::sleep(Duration::from_secs(3600)));
        // A joined task leaves the runtime's list just after its output is taken.
        while Handle::current().metrics().timers == 0 || Handle::current().metrics().alive_tasks > 1
        {
            yield_now().await;
        }
        let m = Handle::current().metrics();
        assert_eq!(m.spawned_tasks, N + 1);
        assert_eq!(m.alive_tasks, 1);
        assert_eq!(m.timers, 1);
    });
    let m = rt.handle().metrics();
    // Each task was polled twice (it yields once).
    assert!(m.total_polls() >= 2 * N, "{m:?}");
    let workers = match flavor {
        Flavor::CurrentThread => 1,
        Flavor::MultiThread(n) => n,
    };
    assert_eq!(m.workers.len(), workers);
    assert!(m.workers.iter().map(|w| w.busy).sum::<Duration>() > Duration::ZERO);
}

#[test]
fn metrics_count_steals_when_one_worker_spawns_for_two() {
    taskio_tests::watchdog("steals", || {
        let rt = Flavor::MultiThread(2).rt();
        let ran_on = Arc::new(Mutex::new(HashSet::new()));
        rt.block_on(rt.spawn({
            let ran_on = ran_on.clone();
            async move {
                let mut tasks = Vec::new();
                for _ in 0..2000 {
                    let ran_on = ran_on.clone();
                    tasks.push(spawn(async move {
                        // Some work, so the spawning worker's queue does not drain at once.
                        let start = Instant::now();
                        while start.elapsed() < Duration::from_micros(20) {
                            std::hint::spin_loop();
                        }
                        ran_on.lock().unwrap().insert(std::thread::current().id());
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
        }))
        .unwrap();
        let m = rt.handle().metrics();
        assert!(m.total_steals() > 0, "{m:?}");
        let stolen: u64 = m.workers.iter().map(|w| w.stolen_tasks).sum();
        assert!(stolen >= m.total_steals());
        assert_eq!(ran_on.lock().unwrap().len(), 2);
    });
}

fn poll_times_bound_a_long_poll(flavor: Flavor) {
    let rt = flavor.builder().task_poll_times(true).build().unwrap();
    rt.block_on(async {
        let task = spawn(async {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(5) {
                std::hint::spin_loop();
            }
            yield_now().await;
            std::future::pending::<()>().await;
        });
        let id = task.id();
        let dump = dump_when_parked(&[id]).await;
        let t = dump.get(id).unwrap();
        let times = t.poll_times.expect("poll times are kept");
        assert_eq!(t.polls, 2);
        assert!(times.max >= Duration::from_millis(5), "{times:?}");
        assert!(times.total >= times.max);
        assert!(times.first_poll_delay.is_some());
        task.abort();
    });
    // Off by default.
    let rt = flavor.rt();
    rt.block_on(async {
        let task = spawn(std::future::pending::<()>());
        let dump = dump_when_parked(&[task.id()]).await;
        assert_eq!(dump.get(task.id()).unwrap().poll_times, None);
        task.abort();
    });
}

fn watchdog_reports_a_blocking_poll_while_it_blocks(flavor: Flavor) {
    let threshold = Duration::from_millis(30);
    let (tx, rx) = mpsc::channel::<taskio_runtime::SlowPoll>();
    let tx = Mutex::new(tx);
    let rt = flavor
        .builder()
        .task_tree(true)
        .on_slow_poll(threshold, move |slow| {
            let _ = tx.lock().unwrap().send(slow.clone());
        })
        .build()
        .unwrap();
    let rx = Arc::new(Mutex::new(rx));
    let line = line!() + 1;
    let task = rt.spawn({
        let rx = rx.clone();
        async move {
            // Blocks its worker until the watchdog has reported this very poll.
            rx.lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(60))
                .expect("the watchdog reported the blocked poll")
        }
    });
    let id = task.id();
    let report = rt.block_on(task).unwrap();
    assert_eq!(report.task, Some(id));
    assert!(report.elapsed >= threshold);
    let site = report.spawned_at.unwrap();
    assert_eq!((site.file(), site.line()), (file!(), line));
    let text = report.to_string();
    assert!(text.contains(&format!("task {id}")), "{text}");
    // Reported once per slow poll.
    assert!(rx.lock().unwrap().try_recv().is_err());
    if flavor == Flavor::MultiThread(4) {
        // The tasks queued behind a blocked worker run on the others meanwhile.
        let latch = Latch::new();
        let blocker = rt.spawn({
            let latch = latch.clone();
            let rx = rx.clone();
            async move {
                for _ in 0..20 {
                    let latch = latch.clone();
                    std::mem::forget(spawn(async move { latch.add() }));
                }
                let report = rx.lock().unwrap().recv_timeout(Duration::from_secs(60));
                // Still inside the blocking poll: the queued tasks ran elsewhere (the LIFO
                // slot's one task may wait for this poll to end).
                latch.wait_for(19);
                report.expect("reported")
            }
        });
        let report = rt.block_on(blocker).unwrap();
        assert!(report.free_workers >= 1, "{report:?}");
    }
}

fn watchdog_is_silent_on_a_healthy_run(flavor: Flavor) {
    let reports = Arc::new(AtomicUsize::new(0));
    let rt = flavor
        .builder()
        .on_slow_poll(Duration::from_secs(5), {
            let reports = reports.clone();
            move |_| {
                reports.fetch_add(1, SeqCst);
            }
        })
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..20 {
            let tasks: Vec<_> = (0..500)
                .map(|_| spawn(async { yield_now().await }))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    drop(rt); // stops and joins the watchdog
    assert_eq!(reports.load(SeqCst), 0);
}

/// One task polled again and again (the same id on the same worker) for longer than the
/// threshold, then a worker idle for longer than it: neither is a slow poll. A report here
/// would need a single poll (or an OS stall of a thread) of 200 ms.
fn watchdog_ignores_short_polls_of_one_task_and_idle_time(flavor: Flavor) {
    let threshold = Duration::from_millis(200);
    let reports = Arc::new(Mutex::new(Vec::new()));
    let rt = flavor
        .builder()
        .enable_time()
        .on_slow_poll(threshold, {
            let reports = reports.clone();
            move |slow| reports.lock().unwrap().push(slow.clone())
        })
        .build()
        .unwrap();
    let polls = rt.block_on(async move {
        let task = spawn(async move {
            let start = Instant::now();
            let mut polls = 0u64;
            while start.elapsed() < threshold * 3 {
                yield_now().await;
                polls += 1;
            }
            polls
        });
        let polls = task.await.unwrap();
        taskio_runtime::time::sleep(threshold * 2).await;
        polls
    });
    let metrics = rt.handle().metrics();
    drop(rt); // stops and joins the watchdog
    assert!(polls > 10, "{polls}");
    assert!(metrics.total_polls() > polls, "{metrics:?}");
    let reports = reports.lock().unwrap();
    assert!(reports.is_empty(), "{reports:?}");
}
