//! A slab of registrations whose keys carry a generation.
//!
//! A key is `generation << INDEX_BITS | index`. Removing an entry bumps its slot's
//! generation, so a key kept after its removal (a double removal, say) names a generation
//! that no longer matches, and [`Slab::get`] and [`Slab::remove`] ignore it even when the
//! slot was reused. (The reactor's set of registrations keys its entries with it; the poller's
//! key is the registration's address instead, see `registration_set`.)

/// Bits of the key that hold the slot index.
const INDEX_BITS: u32 = if usize::BITS >= 64 { 32 } else { 20 };
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap within this mask. The key's top bit stays clear, so no key is ever
/// `usize::MAX` (which pollers may reserve for their own notifier).
const GEN_MASK: usize = (1 << (usize::BITS - INDEX_BITS - 1)) - 1;

#[derive(Debug)]
struct Entry<T> {
    generation: usize,
    value: Option<T>,
}

/// Slots of `T`, addressed by generation-tagged keys.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    /// Indices of vacant slots (reused last-in first-out).
    free: Vec<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    fn key(index: usize, generation: usize) -> usize {
        (generation << INDEX_BITS) | index
    }

    fn split(key: usize) -> (usize, usize) {
        (key & INDEX_MASK, key >> INDEX_BITS)
    }

    /// Stores `value`; returns its key, or `None` when every index is taken.
    pub(crate) fn insert(&mut self, value: T) -> Option<usize> {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                if self.entries.len() > INDEX_MASK {
                    return None;
                }
                self.entries.push(Entry {
                    generation: 0,
                    value: None,
                });
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[index];
        debug_assert!(entry.value.is_none());
        entry.value = Some(value);
        self.len += 1;
        Some(Self::key(index, entry.generation))
    }

    /// The value under `key`, if `key` names the current occupant of its slot.
    pub(crate) fn get(&self, key: usize) -> Option<&T> {
        let (index, generation) = Self::split(key);
        let entry = self.entries.get(index)?;
        if entry.generation != generation {
            return None;
        }
        entry.value.as_ref()
    }

    /// Takes the value under `key` out; the slot's next occupant gets a new generation.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let (index, generation) = Self::split(key);
        let entry = self.entries.get_mut(index)?;
        if entry.generation != generation {
            return None;
        }
        let value = entry.value.take()?;
        entry.generation = (entry.generation + 1) & GEN_MASK;
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every stored value.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| e.value.as_ref())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn stale_key_of_reused_slot_is_ignored() {
        let mut slab = Slab::new();
        let a = slab.insert("a").unwrap();
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b").unwrap();
        assert_eq!(a & INDEX_MASK, b & INDEX_MASK, "slot reused");
        assert_ne!(a, b);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
    }

    #[test]
    fn keys_are_never_usize_max() {
        let mut slab = Slab::<()>::new();
        let mut key = 0;
        for _ in 0..1000 {
            key = slab.insert(()).unwrap();
            slab.remove(key);
        }
        assert_ne!(key, usize::MAX);
        assert!(key >> (usize::BITS - 1) == 0);
    }

    proptest! {
        /// The slab agrees with a `HashMap` model: live keys find their value, removed keys
        /// never find anything again.
        #[test]
        fn slab_matches_map_model(ops in proptest::collection::vec((any::<bool>(), 0usize..16), 1..200)) {
            let mut slab = Slab::new();
            let mut live: HashMap<usize, u32> = HashMap::new();
            let mut dead: Vec<usize> = Vec::new();
            let mut order: Vec<usize> = Vec::new();
            for (n, (insert, pick)) in ops.into_iter().enumerate() {
                if insert || order.is_empty() {
                    let k = slab.insert(n as u32).unwrap();
                    prop_assert!(!live.contains_key(&k));
                    live.insert(k, n as u32);
                    order.push(k);
                } else {
                    let k = order.remove(pick % order.len());
                    prop_assert_eq!(slab.remove(k), live.remove(&k));
                    dead.push(k);
                }
                prop_assert_eq!(slab.len(), live.len());
                for (k, v) in &live {
                    prop_assert_eq!(slab.get(*k), Some(v));
                }
                for k in &dead {
                    prop_assert_eq!(slab.get(*k), None);
                }
            }
        }
    }
}
