//! Helpers for sets of task ids: a cheap hasher for them, and [`FirstSeen`], which tells
//! the distinct tasks of a sequence (the same task given twice to a gather or a `wait` is
//! one child).

use std::hash::Hasher;

/// Task ids are distinct counters: hashing them is a multiply (SipHash would be a good part
/// of the cost of creating a task).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Tells the tasks not seen before in a sequence of task ids, in linear time: tasks made for
/// the call (the common case) have strictly increasing ids, so nothing is hashed until an id
/// fails to increase.
#[derive(Default)]
pub(crate) struct FirstSeen {
    last: u64,
    seen: Option<std::collections::HashSet<u64, std::hash::BuildHasherDefault<IdHasher>>>,
}

impl FirstSeen {
    /// True if `id` was not seen before; `earlier` gives the ids seen so far (only read the
    /// first time the ids stop increasing).
    pub(crate) fn is_new<I: IntoIterator<Item = u64>>(
        &mut self,
        id: u64,
        earlier: impl FnOnce() -> I,
    ) -> bool {
        let new = match &mut self.seen {
            None if id > self.last => true,
            None => {
                let mut seen: std::collections::HashSet<u64, _> = earlier().into_iter().collect();
                let new = seen.insert(id);
                self.seen = Some(seen);
                new
            }
            Some(seen) => seen.insert(id),
        };
        self.last = id;
        new
    }
}
