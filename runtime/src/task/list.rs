//! `OwnedTasks`: every live task of a scheduler, so shutdown can find and cancel them.
//!
//! A sharded intrusive doubly-linked list: each shard is a mutex around a head pointer, and
//! the links live in each task's header (`Header::owned`), touched only under the shard's
//! mutex. A task's shard is chosen by its id. The list holds one reference per task.
//!
//! Closing: `close_and_shutdown_all` marks every shard closed (under its mutex), after which
//! `bind` refuses new tasks (it cancels them at once, so their `JoinHandle`s resolve), then
//! pops the tasks one at a time and shuts each down outside the lock.

use crate::loom::sync::Mutex;
use crate::task::cell::Header;
use crate::task::meta::TaskInit;
use crate::task::raw::RawTask;
use crate::task::{Id, JoinHandle, Notified, Schedule, Task, TaskData, TaskRef};
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

pub(crate) struct OwnedTasks<S: 'static> {
    shards: Box<[Padded]>,
    mask: usize,
    _p: PhantomData<S>,
}

/// One shard per cache line (two, for the adjacent-line prefetcher): the spawning thread
/// and the threads completing tasks lock different shards most of the time, and should not
/// then share a line. (There is no shared task count either: it was one more line written
/// by every spawn and every completion.)
#[repr(align(128))]
struct Padded(Mutex<Shard>);

struct Shard {
    head: Option<NonNull<Header>>,
    closed: bool,
    /// Tasks in this shard, and tasks ever added to it (metrics; under the shard's lock,
    /// on the line the lock already brings in).
    len: usize,
    added: u64,
    /// The poll times of this shard's tasks, on a runtime that keeps them
    /// (`Builder::task_poll_times`; empty otherwise). Here rather than in the task: see
    /// `meta.rs` on the size of a task.
    timings: HashMap<Id, Timing, IdHasherBuilder>,
    /// Each listed task's parent and spawn site (for dumps; see `meta.rs` on why they are not
    /// in the task).
    origins: HashMap<Id, Origin, IdHasherBuilder>,
    /// Whether `timings` or `origins` has ever held an entry: the one test a removal makes
    /// on a runtime that records neither.
    observed: bool,
}

/// Where a task came from.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) parent: Option<Id>,
    pub(crate) spawned_at: &'static std::panic::Location<'static>,
}

/// Task ids are distinct and mostly consecutive: one multiplication spreads them.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdHasherBuilder = std::hash::BuildHasherDefault<IdHasher>;

/// One task's poll times.
struct Timing {
    spawned: Instant,
    total: Duration,
    max: Duration,
    first_poll_delay: Option<Duration>,
}

impl Timing {
    fn times(&self) -> crate::task::PollTimes {
        crate::task::PollTimes {
            total: self.total,
            max: self.max,
            first_poll_delay: self.first_poll_delay,
        }
    }
}

impl Shard {
    /// Drops what was recorded of `id` (a map that holds nothing is not even hashed into).
    fn forget(&mut self, id: Id) {
        if !self.origins.is_empty() {
            self.origins.remove(&id);
        }
        if !self.timings.is_empty() {
            self.timings.remove(&id);
        }
    }

    /// Records what `records` asks for of the new task `id`.
    #[cold]
    fn record(&mut self, id: Id, records: Records) {
        self.observed = true;
        if let Some(spawned_at) = records.tree {
            let parent = crate::task::try_id();
            self.origins.insert(id, Origin { parent, spawned_at });
        }
        if records.timed {
            self.timings.insert(
                id,
                Timing {
                    spawned: Instant::now(),
                    total: Duration::ZERO,
                    max: Duration::ZERO,
                    first_poll_delay: None,
                },
            );
        }
    }
}

// SAFETY: the raw pointers in a shard are only followed under the shard's mutex, and the
// tasks they point to are `Send` (their futures are required to be).
unsafe impl Send for Shard {}

/// What a spawn records beside the list, on a runtime that asked for it: the spawn site
/// (`Builder::task_tree`, with the parent looked up then) and the poll times
/// (`Builder::task_poll_times`). Two registers, one test when both are off.
#[derive(Clone, Copy)]
struct Records {
    tree: Option<&'static std::panic::Location<'static>>,
    timed: bool,
}

impl Records {
    #[inline]
    fn of<S: Schedule>(scheduler: &S, init: &TaskInit) -> Records {
        Records {
            tree: scheduler.task_tree().then_some(init.spawned_at),
            timed: scheduler.task_poll_times(),
        }
    }
}

impl<S: Schedule> OwnedTasks<S> {
    /// A list with about `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks<S> {
        let n = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..n)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        head: None,
                        closed: false,
                        len: 0,
                        added: 0,
                        timings: HashMap::default(),
                        origins: HashMap::default(),
                        observed: false,
                    }))
                })
                .collect(),
            mask: n - 1,
            _p: PhantomData,
        }
    }

    fn shard(&self, id: Id) -> &Mutex<Shard> {
        &self.shards[(id.as_u64() as usize) & self.mask].0
    }

    /// Creates a task for `future`, adds it to the list and returns its `JoinHandle` and the
    /// `Notified` to schedule. If the list is closed, the task is cancelled at once (its
    /// handle resolves as cancelled) and no `Notified` is returned.
    #[inline]
    pub(crate) fn bind<T>(
        &self,
        future: T,
        scheduler: S,
        init: TaskInit,
    ) -> (JoinHandle<T::Output>, Option<Notified<S>>)
    where
        T: Future + Send + 'static,
        T::Output: Send + 'static,
    {
        let records = Records::of(&scheduler, &init);
        let raw = RawTask::new(future, scheduler, init);
        // SAFETY: a new task holds three references: the JoinHandle takes one, `bind_new`
        // the other two.
        unsafe {
            let join = JoinHandle::new(raw);
            (join, self.bind_new(raw, records))
        }
    }

    /// As `bind`, for a task carrying `data` whose future `make` builds (see `TaskRef`).
    #[inline]
    pub(crate) fn bind_with_data<T, D, M>(
        &self,
        data: D,
        make: M,
        scheduler: S,
        init: TaskInit,
    ) -> (TaskRef<D>, Option<Notified<S>>)
    where
        T: Future + Send + 'static,
        T::Output: Send + 'static,
        D: TaskData,
        M: FnOnce(TaskRef<D>) -> T,
    {
        let records = Records::of(&scheduler, &init);
        let (raw, task_ref) = RawTask::new_with_data(data, make, scheduler, init);
        // SAFETY: of the new task's four references, the `TaskRef`s hold two; `bind_new`
        // takes the other two.
        (task_ref, unsafe { self.bind_new(raw, records) })
    }

    /// Adds a new task to the list and returns its first `Notified`; if the list is closed,
    /// shuts the task down at once instead.
    ///
    /// # Safety
    ///
    /// `raw` is a new task of scheduler type `S`, and the caller hands over two of its
    /// references: the list's and the first `Notified`'s.
    unsafe fn bind_new(&self, raw: RawTask, records: Records) -> Option<Notified<S>> {
        let id = raw.header().id;
        // SAFETY: the caller hands over these two references.
        let (task, notified) = unsafe {
            (
                Task::<S>::from_raw(raw.header_ptr()),
                Notified::<S>::from_raw(raw.header_ptr()),
            )
        };
        let mut shard = self.shard(id).lock();
        if shard.closed {
            drop(shard);
            // The Notified's reference goes; the list's reference shuts the task down.
            drop(notified);
            task.shutdown();
            return None;
        }
        let ptr = task.into_raw().header_ptr();
        // SAFETY: we hold the shard lock, which guards the links of every task in it, and
        // the new task is in no list.
        unsafe { push_front(&mut shard, ptr) };
        shard.len += 1;
        shard.added += 1;
        if records.tree.is_some() || records.timed {
            shard.record(id, records);
        }
        drop(shard);
        Some(notified)
    }

    /// Removes `task` from the list; returns the list's reference if it was still there.
    #[inline]
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let ptr = task.raw().header_ptr();
        let mut shard = self.shard(task.raw().header().id).lock();
        // SAFETY: we hold the shard lock; `ptr` is live (the caller holds a reference).
        let removed = unsafe { unlink(&mut shard, ptr) };
        shard.len -= usize::from(removed);
        if removed && shard.observed {
            shard.forget(task.raw().header().id);
        }
        drop(shard);
        if removed {
            // SAFETY: the list's reference is handed back.
            Some(unsafe { Task::from_raw(ptr) })
        } else {
            None
        }
    }

    /// Closes the list and shuts every task in it down (on the calling thread).
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            shard.0.lock().closed = true;
        }
        for Padded(shard) in self.shards.iter() {
            loop {
                let mut guard = shard.lock();
                let head = match guard.head {
                    Some(head) => head,
                    None => break,
                };
                // SAFETY: we hold the lock and `head` is in this shard.
                unsafe { unlink(&mut guard, head) };
                guard.len -= 1;
                // SAFETY: `head` is live: the list's reference, now ours, keeps it.
                let id = unsafe { head.as_ref() }.id;
                guard.forget(id);
                drop(guard);
                // SAFETY: the list's reference is now ours.
                unsafe { Task::<S>::from_raw(head) }.shutdown();
            }
        }
    }

    /// A reference to every listed task whose data has the view type `V` (see
    /// [`TaskData`]), taken under each shard's lock in turn: a task that joins or leaves the
    /// list meanwhile may or may not be in the result.
    pub(crate) fn views<V: ?Sized + 'static>(&self) -> Vec<TaskRef<V>> {
        let mut out = Vec::new();
        for Padded(shard) in self.shards.iter() {
            let guard = shard.lock();
            let mut cur = guard.head;
            while let Some(ptr) = cur {
                // SAFETY: `ptr` is in this shard, whose lock we hold: the list's reference
                // keeps it alive and nobody else touches its links.
                let raw = unsafe { RawTask::from_raw(ptr) };
                if let Some(view) = raw.view::<V>() {
                    raw.state().ref_inc();
                    // SAFETY: we took a reference for the result, and `view` points into the
                    // cell's data, which is never written and lives until the cell is freed.
                    out.push(unsafe { TaskRef::from_raw(raw, view) });
                }
                // SAFETY: as above.
                cur = unsafe { ptr.as_ref().owned.with(|links| (*links).next) };
            }
        }
        out
    }

    /// A snapshot of every listed task (see `crate::dump`), a shard at a time: each shard's
    /// lock is held only while its tasks' words are read. Names come from the tasks' data
    /// after the lock is released (user code never runs under it), through a reference
    /// taken under it.
    pub(crate) fn snapshot(&self, out: &mut Vec<crate::dump::TaskSnapshot>) {
        let mut named: Vec<(usize, RawTask)> = Vec::new();
        for Padded(shard) in self.shards.iter() {
            let guard = shard.lock();
            let mut cur = guard.head;
            while let Some(ptr) = cur {
                // SAFETY: `ptr` is in this shard, whose lock we hold: the list's reference
                // keeps it alive and nobody else touches its links.
                let raw = unsafe { RawTask::from_raw(ptr) };
                if raw.has_data() {
                    raw.state().ref_inc();
                    named.push((out.len(), raw));
                }
                let id = raw.header().id;
                let mut snapshot =
                    crate::dump::TaskSnapshot::read(raw.header(), guard.origins.get(&id));
                snapshot.poll_times = guard.timings.get(&snapshot.id).map(Timing::times);
                out.push(snapshot);
                // SAFETY: as above.
                cur = unsafe { ptr.as_ref().owned.with(|links| (*links).next) };
            }
            drop(guard);
            for (i, raw) in named.drain(..) {
                // A panicking `TaskData::name` costs its name, never the reference.
                let name =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| raw.data_name()));
                out[i].name = name.ok().flatten();
                // SAFETY: the reference taken for this name under the lock.
                unsafe { raw.drop_reference() };
            }
        }
    }

    /// The name and spawn site of the listed task `id`, if it is listed (the watchdog's
    /// report). The name is asked outside the lock, as in `snapshot`.
    pub(crate) fn describe(
        &self,
        id: Id,
    ) -> Option<(
        Option<String>,
        Option<&'static std::panic::Location<'static>>,
    )> {
        let guard = self.shard(id).lock();
        let mut cur = guard.head;
        while let Some(ptr) = cur {
            // SAFETY: `ptr` is in this shard, whose lock we hold (see `snapshot`).
            let raw = unsafe { RawTask::from_raw(ptr) };
            if raw.header().id == id {
                let site = guard.origins.get(&id).map(|o| o.spawned_at);
                if !raw.has_data() {
                    return Some((None, site));
                }
                raw.state().ref_inc();
                drop(guard);
                let name =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| raw.data_name()));
                // SAFETY: the reference taken above, under the lock.
                unsafe { raw.drop_reference() };
                return Some((name.ok().flatten(), site));
            }
            // SAFETY: as above.
            cur = unsafe { ptr.as_ref().owned.with(|links| (*links).next) };
        }
        None
    }

    /// Runs `task` (whose id is `id`) and adds the poll's time to its poll times: the
    /// schedulers' poll on a runtime built with `Builder::task_poll_times`. Out of line, so
    /// the untimed poll pays one test for it. The time is added once `run` has returned, so
    /// a dump taken in between sees the task's state after the poll and its times before it;
    /// a task that completes leaves the list during `run`, so its last poll is recorded
    /// nowhere (only live tasks show poll times).
    #[inline(never)]
    pub(crate) fn run_timed(&self, task: Notified<S>, id: Id) {
        let start = Instant::now();
        task.run();
        self.record_poll(id, start, start.elapsed());
    }

    /// Adds a poll of `id` that began at `start` and took `elapsed` to its poll times.
    fn record_poll(&self, id: Id, start: Instant, elapsed: Duration) {
        let mut shard = self.shard(id).lock();
        if let Some(t) = shard.timings.get_mut(&id) {
            if t.first_poll_delay.is_none() {
                t.first_poll_delay = Some(start.saturating_duration_since(t.spawned));
            }
            t.total += elapsed;
            t.max = t.max.max(elapsed);
        }
    }

    /// (live tasks, tasks ever added), summed over the shards.
    pub(crate) fn counts(&self) -> (usize, u64) {
        self.shards.iter().fold((0, 0), |(len, added), s| {
            let s = s.0.lock();
            (len + s.len, added + s.added)
        })
    }

    /// True once every task has left the list.
    pub(crate) fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.0.lock().head.is_none())
    }
}

/// # Safety
///
/// The caller holds the shard's lock and `ptr` is a live task in no list.
unsafe fn push_front(shard: &mut Shard, ptr: NonNull<Header>) {
    debug_assert!(shard.head != Some(ptr));
    // SAFETY: the caller's contract: the lock guards these links.
    unsafe {
        ptr.as_ref().owned.with_mut(|links| {
            debug_assert!((*links).prev.is_none(), "pushed while linked");
            let links = &mut *links;
            links.prev = None;
            links.next = shard.head;
        });
        if let Some(head) = shard.head {
            head.as_ref()
                .owned
                .with_mut(|links| (*links).prev = Some(ptr));
        }
    }
    shard.head = Some(ptr);
}

/// Unlinks `ptr` if it is linked; returns whether it was.
///
/// # Safety
///
/// The caller holds the lock of the shard `ptr` belongs to, and `ptr` is live.
unsafe fn unlink(shard: &mut Shard, ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's contract: the lock guards the links of `ptr` and its neighbours,
    // which are live because they are in the list.
    unsafe {
        // In the list iff it has a predecessor or is the head (a task out of every list has
        // no links, and the head has no predecessor).
        let has_prev = ptr.as_ref().owned.with(|links| (*links).prev.is_some());
        if !has_prev && shard.head != Some(ptr) {
            return false;
        }
        let (prev, next) = ptr.as_ref().owned.with_mut(|links| {
            let links = &mut *links;
            (links.prev.take(), links.next.take())
        });
        match prev {
            Some(prev) => prev.as_ref().owned.with_mut(|l| (*l).next = next),
            None => shard.head = next,
        }
        if let Some(next) = next {
            next.as_ref().owned.with_mut(|l| (*l).prev = prev);
        }
    }
    true
}
