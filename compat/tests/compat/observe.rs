//! Seeing inside a taskio program: the task tree of nested TaskGroups, a gather and a server
//! with a live connection, what each task awaits, asyncio 3.14's call graphs, and the error
//! hook, on the current thread and on 1 and 4 workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use taskio::runtime::dump::{TaskDump, TaskState};
use taskio::runtime::task::{Awaiting, Id};
use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
use taskio::{gather, sleep, Event, Lock, Queue, TaskGroup};

fn id(task_id: u64) -> Id {
    Id::from_u64(task_id).unwrap()
}

/// Yields until each of `ids` is parked on a recorded checkpoint; returns that dump.
async fn parked(ids: &[u64]) -> taskio::Result<TaskDump> {
    loop {
        let dump = taskio::dump_tasks();
        let all = ids.iter().all(|i| {
            dump.get(id(*i))
                .is_some_and(|t| t.state == TaskState::Waiting && t.awaiting.is_some())
        });
        if all {
            return Ok(dump);
        }
        sleep(0.0).await?;
    }
}

flavours!(
    tree_of_groups_gather_and_server_matches_the_program,
    false,
    || async {
        let ids: Arc<Mutex<HashMap<&'static str, u64>>> = Arc::default();
        let note = {
            let ids = ids.clone();
            move |what: &'static str| {
                let me = taskio::current_task().unwrap().id();
                ids.lock().unwrap().insert(what, me);
            }
        };
        let lock = Arc::new(Lock::new());
        let held = lock.clone().acquire_owned().await?;
        let event = Arc::new(Event::new());
        let queue: Arc<Queue<u32>> = Arc::new(Queue::new(0));
        let server = start_server(
            {
                let note = note.clone();
                move |mut r: StreamReader, _w: StreamWriter| {
                    let note = note.clone();
                    async move {
                        note("handler");
                        r.readline().await.map(drop)
                    }
                }
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let port = server.sockets()[0].as_inet().unwrap().port();
        let (_client_r, client_w) = open_connection("127.0.0.1", port).await?;
        let main = taskio::current_task().unwrap().id();

        let outer = taskio::tasks::create_task_named("outer", {
            let (note, lock, event, queue) =
                (note.clone(), lock.clone(), event.clone(), queue.clone());
            async move {
                note("outer");
                TaskGroup::run(|tg| {
                    let note = note.clone();
                    async move {
                        tg.create_task({
                            let note = note.clone();
                            async move {
                                note("locker");
                                let _g = lock.acquire().await?;
                                Ok(())
                            }
                        })?;
                        tg.create_task({
                            let note = note.clone();
                            async move {
                                note("inner body");
                                TaskGroup::run(|inner| async move {
                                    for _ in 0..2 {
                                        let (note, event) = (note.clone(), event.clone());
                                        inner.create_task(async move {
                                            note("event waiter");
                                            event.wait().await.map(drop)
                                        })?;
                                    }
                                    Ok(())
                                })
                                .await
                            }
                        })?;
                        tg.create_task({
                            let note = note.clone();
                            async move {
                                note("gatherer");
                                let getters = (0..2).map(|_| {
                                    let queue = queue.clone();
                                    async move { queue.get().await }
                                });
                                gather(getters).await.map(drop)
                            }
                        })?;
                        Ok(())
                    }
                })
                .await
            }
        });

        // Every task of the program, parked where it should be.
        let named = |what: &str| ids.lock().unwrap().get(what).copied();
        while ["outer", "locker", "inner body", "gatherer", "handler"]
            .iter()
            .any(|w| named(w).is_none())
        {
            sleep(0.0).await?;
        }
        let (outer_id, locker, inner_body, gatherer, handler) = (
            outer.id(),
            named("locker").unwrap(),
            named("inner body").unwrap(),
            named("gatherer").unwrap(),
            named("handler").unwrap(),
        );
        assert_eq!(named("outer"), Some(outer_id));
        let dump = parked(&[outer_id, locker, inner_body, gatherer, handler]).await?;

        let t = |i: u64| dump.get(id(i)).unwrap();
        assert_eq!(t(outer_id).name.as_deref(), Some("outer"));
        assert_eq!(t(outer_id).parent, Some(id(main)));
        assert_eq!(t(outer_id).awaiting, Some(Awaiting::TaskGroup));
        for child in [locker, inner_body, gatherer] {
            assert_eq!(t(child).parent, Some(id(outer_id)), "{dump}");
        }
        assert!(matches!(t(locker).awaiting, Some(Awaiting::Lock(_))));
        assert_eq!(t(inner_body).awaiting, Some(Awaiting::TaskGroup));
        let waiters: Vec<_> = dump.children(id(inner_body)).collect();
        assert_eq!(waiters.len(), 2);
        let wait_ids: Vec<u64> = waiters.iter().map(|w| w.id.as_u64()).collect();
        let dump2 = parked(&wait_ids).await?;
        let mut event_addrs = Vec::new();
        for w in &wait_ids {
            match dump2.get(id(*w)).unwrap().awaiting {
                Some(Awaiting::Event(a)) => event_addrs.push(a),
                other => panic!("an event waiter awaits {other:?}"),
            }
        }
        assert_eq!(event_addrs[0], event_addrs[1], "the same event");
        assert_eq!(t(gatherer).awaiting, Some(Awaiting::Tasks));
        let getters: Vec<u64> = dump.children(id(gatherer)).map(|g| g.id.as_u64()).collect();
        assert_eq!(getters.len(), 2);
        let dump3 = parked(&getters).await?;
        for g in &getters {
            assert!(matches!(
                dump3.get(id(*g)).unwrap().awaiting,
                Some(Awaiting::Queue(_))
            ));
        }
        let h = t(handler);
        assert!(h
            .name
            .as_deref()
            .unwrap()
            .starts_with("connection from 127.0.0.1:"));
        assert_eq!(h.awaiting, Some(Awaiting::Io));
        assert!(h.parent.is_some(), "spawned by the server's accept loop");

        // asyncio's call graph from a leaf: event waiter <- inner body <- outer <- main.
        let leaf = taskio::all_tasks()
            .into_iter()
            .find(|t| t.id() == wait_ids[0])
            .unwrap();
        let graph = taskio::capture_call_graph(Some(&leaf)).unwrap();
        assert_eq!(graph.task.id.as_u64(), wait_ids[0]);
        let up1 = &graph.awaited_by;
        assert_eq!(up1.len(), 1);
        assert_eq!(up1[0].task.id.as_u64(), inner_body);
        assert_eq!(up1[0].awaited_by[0].task.id.as_u64(), outer_id);
        let text = graph.to_string();
        assert!(text.contains("awaiting event 0x"), "{text}");
        assert!(text.contains("* Task(name='outer'"), "{text}");
        let tree = dump.to_string();
        assert!(
            tree.contains("\"outer\" [waiting on its task group]"),
            "{tree}"
        );

        // Let everything finish.
        drop(held);
        event.set();
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        outer.await?;
        client_w.close();
        server.close();
        server.wait_closed().await?;
        Ok(())
    }
);

flavours!(error_hook_receives_a_broken_callback, false, || async {
    // The error hook is the process's: the tests that set it take turns.
    let _turn = taskio_tests::ErrorHookTurn::take();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let previous = taskio::set_error_hook({
        let seen = seen.clone();
        move |r| seen.lock().unwrap().push(r.to_string())
    });
    let task = taskio::tasks::create_task_named("callbacked", async { Ok(()) });
    task.add_done_callback(|_: &taskio::Task<()>| panic!("broken callback"));
    task.await?;
    let mine = |seen: &[String]| -> Vec<String> {
        seen.iter()
            .filter(|r| r.contains("callbacked"))
            .cloned()
            .collect()
    };
    while mine(&seen.lock().unwrap()).is_empty() {
        sleep(0.0).await?;
    }
    taskio::reset_error_hook(previous);
    let got = mine(&seen.lock().unwrap());
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("a done callback of callbacked panicked"),
        "{got:?}"
    );
    assert!(got[0].contains("broken callback"), "{got:?}");
    Ok(())
});

/// `RunnerBuilder::task_tree(false)`: the dump still lists every live task with what it
/// awaits, but records no parent.
#[test]
fn a_runner_without_the_task_tree_lists_its_tasks_as_roots() {
    for tree in [true, false] {
        let r = taskio::Runner::builder()
            .worker_threads(2)
            .task_tree(tree)
            .build()
            .unwrap();
        let (main, child, parent) = r
            .run(async {
                let main = taskio::current_task().unwrap().id();
                let event = Arc::new(Event::new());
                let e = event.clone();
                let task = taskio::create_task(async move { e.wait().await });
                let child = task.id();
                let dump = parked(&[child]).await?;
                let parent = dump.get(id(child)).unwrap().parent;
                event.set();
                task.await?;
                Ok((main, child, parent))
            })
            .unwrap();
        assert_ne!(main, child);
        if tree {
            assert_eq!(parent, Some(id(main)));
        } else {
            assert_eq!(parent, None);
        }
    }
}
