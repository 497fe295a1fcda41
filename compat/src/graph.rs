//! asyncio 3.14's call graphs (`asyncio.capture_call_graph`, `format_call_graph`,
//! `print_call_graph`), and a dump of every task of the runtime (`python -m asyncio pstree`).
//!
//! A task's call graph is the task and, recursively, the tasks that await it. A task awaits
//! another when it is parked on that task (`task.await`), or on a `gather`, a `wait` or a
//! [`TaskGroup`](crate::TaskGroup) whose children it created (the usual case, and the only
//! one a dump can tell: a gather of tasks created elsewhere shows no awaiter).
//!
//! Rust's futures keep no frames, so a task's "call stack" is what the runtime records: the
//! checkpoint it is parked at (a sleep, a lock, a queue, a task, ...) and where it was
//! created.
//!
//! Both work on every runtime flavour, from any task, while the other tasks run: they read
//! the runtime's task list ([`taskio_runtime::Handle::dump`]), a shard at a time.
//!
//! # Examples
//!
//! ```
//! taskio::run(async {
//!     let child = taskio::create_task(async {
//!         let graph = taskio::capture_call_graph(None).unwrap();
//!         // The main task awaits this one.
//!         assert_eq!(graph.awaited_by.len(), 1);
//!         assert_eq!(graph.awaited_by[0].task.name.as_deref(), Some("Task-1"));
//!         Ok(graph.to_string())
//!     });
//!     let text = child.await?;
//!     assert!(text.starts_with("* Task(name='Task-2'"));
//!     assert!(text.contains("+ Awaited by:"));
//!     Ok(())
//! })
//! .unwrap();
//! ```

use crate::tasks::AnyTask;
use std::collections::HashSet;
use std::fmt;
use taskio_runtime::dump::{TaskDump, TaskSnapshot};
use taskio_runtime::task::{Awaiting, Id};
use taskio_runtime::Handle;

/// A task and the tasks awaiting it, recursively: asyncio's `FutureCallGraph`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallGraph {
    /// The task, as the runtime's dump saw it.
    pub task: TaskSnapshot,
    /// The tasks awaiting it, each with its own awaiters.
    pub awaited_by: Vec<CallGraph>,
}

/// Every live task of the current runtime, as a tree of who created whom with what each is
/// doing (`Display` draws it): asyncio's `python -m asyncio pstree`, from inside the
/// program. Empty outside a runtime. Tasks made with `taskio_runtime::spawn` are in it too;
/// [`all_tasks`](crate::all_tasks) lists taskio's own.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let ev = std::sync::Arc::new(taskio::Event::new());
///     let waiter = taskio::create_task({
///         let ev = ev.clone();
///         async move { ev.wait().await.map(|_| ()) }
///     });
///     taskio::sleep(0.0).await?; // let it park
///     let dump = taskio::dump_tasks();
///     let w = dump.iter().find(|t| t.id.as_u64() == waiter.id()).unwrap();
///     assert!(matches!(w.awaiting, Some(taskio::runtime::task::Awaiting::Event(_))));
///     println!("{dump}");
///     ev.set();
///     waiter.await
/// })
/// .unwrap();
/// ```
pub fn dump_tasks() -> TaskDump {
    Handle::try_current().map(|h| h.dump()).unwrap_or_default()
}

/// The call graph of `task`, or of the current task if `None`: the task and every task
/// awaiting it, transitively. `None` if there is no current task, or the task is no longer
/// live.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let t = taskio::create_task(taskio::sleep(3600.0));
///     taskio::sleep(0.0).await?;
///     let g = taskio::capture_call_graph(Some(&t.as_any())).unwrap();
///     assert!(matches!(
///         g.task.awaiting,
///         Some(taskio::runtime::task::Awaiting::Sleep { .. })
///     ));
///     assert!(g.awaited_by.is_empty()); // nobody awaits it yet
///     t.cancel(None);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn capture_call_graph(task: Option<&AnyTask>) -> Option<CallGraph> {
    let id = match task {
        Some(t) => Id::from_u64(t.id())?,
        None => taskio_runtime::task::try_id()?,
    };
    let dump = dump_tasks();
    let mut seen = HashSet::new();
    graph_of(&dump, id, &mut seen)
}

fn graph_of(dump: &TaskDump, id: Id, seen: &mut HashSet<Id>) -> Option<CallGraph> {
    let task = dump.get(id)?.clone();
    seen.insert(id);
    let awaiters: Vec<Id> = dump
        .iter()
        .filter(|w| !seen.contains(&w.id))
        .filter(|w| match w.awaiting {
            Some(Awaiting::Task(t)) => t == id,
            Some(Awaiting::Tasks | Awaiting::TaskGroup) => task.parent == Some(w.id),
            _ => false,
        })
        .map(|w| w.id)
        .collect();
    let awaited_by = awaiters
        .into_iter()
        .filter_map(|w| graph_of(dump, w, seen))
        .collect();
    Some(CallGraph { task, awaited_by })
}

/// [`capture_call_graph`], formatted as asyncio's `format_call_graph` does; empty if there
/// is no such task.
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     let text = taskio::format_call_graph(None);
///     assert!(text.starts_with("* Task(name='Task-1'"));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn format_call_graph(task: Option<&AnyTask>) -> String {
    capture_call_graph(task).map_or_else(String::new, |g| g.to_string())
}

/// Prints [`format_call_graph`] on standard output (asyncio's `print_call_graph`).
///
/// # Examples
///
/// ```
/// taskio::run(async {
///     taskio::print_call_graph(None);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn print_call_graph(task: Option<&AnyTask>) {
    print!("{}", format_call_graph(task));
}

impl CallGraph {
    /// asyncio's layout (`asyncio.graph.format_call_graph`): four spaces per level of
    /// awaiters, the task's own lines two more.
    fn write(&self, f: &mut fmt::Formatter<'_>, level: usize) -> fmt::Result {
        let pad = "    ".repeat(level);
        let t = &self.task;
        match &t.name {
            Some(name) => writeln!(f, "{pad}* Task(name='{name}', id={})", t.id)?,
            None => writeln!(f, "{pad}* Task(id={})", t.id)?,
        }
        writeln!(f, "{pad}  + Call stack:")?;
        match t.awaiting {
            Some(what) => writeln!(f, "{pad}  |   awaiting {what}")?,
            None => writeln!(f, "{pad}  |   {}", t.state)?,
        }
        if let Some(site) = t.spawned_at {
            writeln!(f, "{pad}  |   created at {site}")?;
        }
        if !self.awaited_by.is_empty() {
            writeln!(f, "{pad}  + Awaited by:")?;
            for a in &self.awaited_by {
                a.write(f, level + 1)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for CallGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}
