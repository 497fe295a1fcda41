//! Task dumps: every live task of a runtime, with its parent, name, spawn site, state, what
//! it awaits and its counters, taken from any thread while the runtime runs.
//!
//! [`Handle::dump`](crate::Handle::dump) walks the runtime's list of live tasks (the one it
//! keeps to cancel them at shutdown) a shard at a time. Each shard's lock is held only while
//! that shard's tasks are read; nothing else stops, on any flavour. Each task appears once.
//! A task spawned or completed during the walk may or may not be in it, so a parent can be
//! missing (it ended, or was spawned after its shard was read): such a task is a root of the
//! tree, marked as an orphan by [`TaskDump::is_orphan`].
//!
//! The tree is the *spawn* tree: a task's parent is the task that was being polled where it
//! was spawned (none for a task spawned from outside the runtime's tasks, such as the future
//! given to `block_on`).
//!
//! # Examples
//!
//! ```
//! use taskio_runtime::dump::TaskState;
//!
//! let rt = taskio_runtime::Builder::new_multi_thread().task_tree(true).build().unwrap();
//! rt.block_on(async {
//!     let parent = taskio_runtime::spawn(async {
//!         let child = taskio_runtime::spawn(std::future::pending::<()>());
//!         let id = child.id();
//!         std::mem::forget(child); // detached, still running
//!         id
//!     });
//!     let parent_id = parent.id();
//!     let child_id = parent.await.unwrap();
//!     // A joined task leaves the list just after its output is taken.
//!     let dump = loop {
//!         let dump = taskio_runtime::Handle::current().dump();
//!         if dump.get(parent_id).is_none() {
//!             break dump;
//!         }
//!         taskio_runtime::yield_now().await;
//!     };
//!     let child = dump.get(child_id).unwrap();
//!     assert_eq!(child.parent, Some(parent_id));
//!     assert!(dump.is_orphan(child_id)); // the parent has completed
//!     assert!(matches!(child.state, TaskState::Waiting | TaskState::Scheduled | TaskState::Running));
//!     println!("{dump}");
//! });
//! ```

use crate::task::list::Origin;
use crate::task::Header;
use crate::task::{Awaiting, Id, PollTimes};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;

/// Where a task is in its life, at the instant it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled by a worker.
    Running,
    /// Woken, in a run queue, waiting for a worker.
    Scheduled,
    /// Parked until something wakes it ([`TaskSnapshot::awaiting`] says what, when a
    /// checkpoint recorded it).
    Waiting,
    /// Finished; its output is waiting for its `JoinHandle` (it leaves the dump once the
    /// runtime releases it).
    Complete,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Running => "running",
            TaskState::Scheduled => "scheduled",
            TaskState::Waiting => "waiting",
            TaskState::Complete => "complete",
        })
    }
}

/// One task in a [`TaskDump`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: Id,
    /// The task polled where this one was spawned, if any, on a runtime built with
    /// [`Builder::task_tree`](crate::Builder::task_tree).
    pub parent: Option<Id>,
    /// The name the task's data gives it ([`TaskData::name`](crate::task::TaskData::name));
    /// `None` for a task spawned without data.
    pub name: Option<String>,
    /// Where it was spawned, on a runtime built with
    /// [`Builder::task_tree`](crate::Builder::task_tree) (the `taskio` crate's runners turn it
    /// on).
    pub spawned_at: Option<&'static Location<'static>>,
    /// Its state when read.
    pub state: TaskState,
    /// While it waits: what it awaits, if the checkpoint it is parked at recorded it.
    pub awaiting: Option<Awaiting>,
    /// How many times it has been polled (counted in 32 bits: it wraps after 4 294 967 295).
    pub polls: u64,
    /// Its poll times, on a runtime built with
    /// [`Builder::task_poll_times`](crate::Builder::task_poll_times).
    pub poll_times: Option<PollTimes>,
}

impl TaskSnapshot {
    /// Reads a live task's words (the caller keeps it alive; see `task/meta.rs`), with the
    /// origin its list shard keeps.
    pub(crate) fn read(header: &Header, origin: Option<&Origin>) -> TaskSnapshot {
        let state = header.state.load();
        let state = if state.is_complete() {
            TaskState::Complete
        } else if state.is_running() {
            TaskState::Running
        } else if state.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Waiting
        };
        let meta = &header.meta;
        TaskSnapshot {
            id: header.id,
            parent: origin.and_then(|o| o.parent),
            name: None,
            spawned_at: origin.map(|o| o.spawned_at),
            state,
            awaiting: match state {
                TaskState::Waiting => Awaiting::decode(meta.awaiting.load(Relaxed)),
                _ => None,
            },
            polls: u64::from(header.polls.load(Relaxed)),
            poll_times: None,
        }
    }
}

/// Every live task of a runtime at one walk of its task list (see the [module
/// docs](self)), ordered by id; `Display` draws it as a tree.
///
/// # Examples
///
/// ```
/// let rt = taskio_runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let a = taskio_runtime::spawn(std::future::pending::<()>());
///     let b = taskio_runtime::spawn(std::future::pending::<()>());
///     taskio_runtime::yield_now().await;
///     let dump = taskio_runtime::Handle::current().dump();
///     assert_eq!(dump.len(), 2);
///     assert!(dump.get(a.id()).is_some() && dump.get(b.id()).is_some());
///     // Spawned from `block_on`'s future, which is no task: both are roots.
///     assert_eq!(dump.roots().count(), 2);
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskDump {
    tasks: Vec<TaskSnapshot>,
    index: HashMap<Id, usize>,
    children: HashMap<Id, Vec<usize>>,
}

impl TaskDump {
    pub(crate) fn new(mut tasks: Vec<TaskSnapshot>) -> TaskDump {
        tasks.sort_by_key(|t| t.id);
        let index: HashMap<Id, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        let mut children: HashMap<Id, Vec<usize>> = HashMap::new();
        for (i, t) in tasks.iter().enumerate() {
            if let Some(p) = t.parent {
                if index.contains_key(&p) {
                    children.entry(p).or_default().push(i);
                }
            }
        }
        TaskDump {
            tasks,
            index,
            children,
        }
    }

    /// How many tasks the dump holds.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True if the runtime had no live task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Every task, by id.
    pub fn iter(&self) -> std::slice::Iter<'_, TaskSnapshot> {
        self.tasks.iter()
    }

    /// The task with this id, if it was live.
    pub fn get(&self, id: Id) -> Option<&TaskSnapshot> {
        self.index.get(&id).map(|&i| &self.tasks[i])
    }

    /// The tasks spawned by `id` that are in the dump, by id.
    pub fn children(&self, id: Id) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .map(|&i| &self.tasks[i])
    }

    /// The tasks whose parent is not in the dump: spawned from outside any task, or
    /// orphans ([`is_orphan`](TaskDump::is_orphan)).
    pub fn roots(&self) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        self.tasks
            .iter()
            .filter(|t| t.parent.is_none_or(|p| !self.index.contains_key(&p)))
    }

    /// True if the task's parent is not in the dump (it ended, or it was spawned after its
    /// part of the list had been read).
    pub fn is_orphan(&self, id: Id) -> bool {
        self.get(id)
            .and_then(|t| t.parent)
            .is_some_and(|p| !self.index.contains_key(&p))
    }

    /// How many tasks are in each state.
    pub fn count(&self, state: TaskState) -> usize {
        self.tasks.iter().filter(|t| t.state == state).count()
    }

    fn write_task(&self, f: &mut fmt::Formatter<'_>, t: &TaskSnapshot) -> fmt::Result {
        write!(f, "task {}", t.id)?;
        if let Some(name) = &t.name {
            write!(f, " {name:?}")?;
        }
        write!(f, " [{}", t.state)?;
        if let Some(what) = t.awaiting {
            write!(f, " on {what}")?;
        }
        write!(f, "] polls={}", t.polls)?;
        if let Some(times) = t.poll_times {
            write!(f, " busy={:?} max={:?}", times.total, times.max)?;
        }
        if let Some(site) = t.spawned_at {
            write!(f, " spawned at {site}")?;
        }
        if self.is_orphan(t.id) {
            write!(f, " (parent {} gone)", t.parent.unwrap())?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a TaskDump {
    type Item = &'a TaskSnapshot;
    type IntoIter = std::slice::Iter<'a, TaskSnapshot>;
    fn into_iter(self) -> Self::IntoIter {
        self.tasks.iter()
    }
}

impl fmt::Display for TaskDump {
    /// One line per task, children indented under their parent with `├──`/`└──`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} tasks", self.tasks.len())?;
        // Iterative depth-first walk: a deep chain of spawns must not overflow the stack.
        let roots: Vec<&TaskSnapshot> = self.roots().collect();
        let mut stack: Vec<(&TaskSnapshot, String, bool)> = roots
            .iter()
            .rev()
            .enumerate()
            .map(|(i, t)| (*t, String::new(), i == 0))
            .collect();
        while let Some((t, prefix, last)) = stack.pop() {
            let depth_marker = if prefix.is_empty() && !self.has_parent_in_dump(t) {
                ""
            } else if last {
                "└── "
            } else {
                "├── "
            };
            write!(f, "{prefix}{depth_marker}")?;
            self.write_task(f, t)?;
            writeln!(f)?;
            let child_prefix = if depth_marker.is_empty() {
                String::new()
            } else if last {
                format!("{prefix}    ")
            } else {
                format!("{prefix}│   ")
            };
            let kids: Vec<&TaskSnapshot> = self.children(t.id).collect();
            for (i, c) in kids.iter().enumerate().rev() {
                stack.push((c, child_prefix.clone(), i + 1 == kids.len()));
            }
        }
        Ok(())
    }
}

impl TaskDump {
    fn has_parent_in_dump(&self, t: &TaskSnapshot) -> bool {
        t.parent.is_some_and(|p| self.index.contains_key(&p))
    }
}
