//! The pending tasks of one loop: what [`all_tasks`](crate::all_tasks) lists.
//!
//! Every `create_task` inserts and every completion removes, while `all_tasks` is rare; so
//! the set is a few mutex-guarded slabs (shards) rather than one shared map. A thread keeps
//! to one shard (picked round-robin on its first insert), so creators on different workers
//! do not share a lock or a cache line; a task remembers its [`Slot`] and its completion
//! (on whatever worker) frees exactly that entry, with no hashing. Freed entries are reused,
//! so a shard's size is its peak number of pending tasks.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::core::AnyCoreRef;

/// Shards per loop: a power of two, a few more than the workers of a small machine.
const SHARDS: usize = 8;

/// Where a task sits in its loop's registry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    shard: u32,
    index: u32,
}

#[derive(Default)]
struct Shard {
    entries: Vec<Option<AnyCoreRef>>,
    /// Indices of the `None` entries.
    free: Vec<u32>,
}

/// One cache line per shard, so two workers' shards never share one.
#[derive(Default)]
#[repr(align(64))]
struct Padded(Mutex<Shard>);

#[derive(Default)]
pub(crate) struct Registry {
    shards: [Padded; SHARDS],
}

/// This thread's shard.
fn home_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    HOME.with(|h| {
        if h.get() == usize::MAX {
            h.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        h.get()
    })
}

impl Registry {
    /// Registers the task `register` returns, told its slot; `register` returns `None` if
    /// the task is done already (then nothing is registered). Called with the shard's lock
    /// held, so `register` must not touch the registry.
    pub(crate) fn insert(&self, register: impl FnOnce(Slot) -> Option<AnyCoreRef>) {
        let s = home_shard();
        let mut shard = self.shards[s].0.lock();
        let index = match shard.free.pop() {
            Some(i) => i,
            None => {
                shard.entries.push(None);
                u32::try_from(shard.entries.len() - 1).expect("fewer than 2^32 pending tasks")
            }
        };
        let slot = Slot {
            shard: s as u32,
            index,
        };
        match register(slot) {
            Some(core) => shard.entries[index as usize] = Some(core),
            None => shard.free.push(index),
        }
    }

    /// Unregisters the task at `slot` (once).
    pub(crate) fn remove(&self, slot: Slot) {
        let old = {
            let mut shard = self.shards[slot.shard as usize].0.lock();
            let old = shard.entries[slot.index as usize].take();
            if old.is_some() {
                shard.free.push(slot.index);
            }
            old
        };
        // The task's last reference is never this one (the caller holds one), but drop it
        // with the lock released all the same.
        drop(old);
    }

    /// The registered tasks that are not done, oldest (lowest id) first. A task that has
    /// just completed may still be registered for a moment (its completion unregisters it
    /// after publishing the outcome, which an awaiter may already have seen), so done tasks
    /// are filtered out here.
    pub(crate) fn all(&self) -> Vec<AnyCoreRef> {
        let mut v = Vec::new();
        for shard in &self.shards {
            v.extend(shard.0.lock().entries.iter().flatten().cloned());
        }
        v.retain(|c| c.seq().is_none());
        v.sort_by_key(|c| c.id());
        v
    }
}
