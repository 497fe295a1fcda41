//! The hierarchical timing wheel: `NUM_LEVELS` levels of `SLOTS` slots, 1 ms per level-0 slot.
//!
//! Level `l` slots each cover `SLOTS^l` ticks. An entry sits at the lowest level whose slot
//! separates its tick from `elapsed` (tokio's `level_for`): level 0 holds the ticks of the
//! current 64-tick block, level 1 the later blocks of the current 4096-tick block, and so on.
//! Processing a level-`l` slot at its start moves ("cascades") its entries to lower levels.
//!
//! Unlike tokio, entries keep their exact deadline in nanoseconds; slots only sort them
//! coarsely. [`Wheel::poll`] fires exactly the entries with `deadline <= now` and leaves the
//! rest of the current tick's slot in place, and [`Wheel::next_deadline`] is the exact
//! earliest deadline when it is in level 0 (where it always is by the time it is near). So a
//! timer fires when `now >= deadline`, not at the next millisecond boundary.
//!
//! Each slot is a `Vec` of [`Item`]s; each entry records its `(level, slot, index)` in its
//! `pos` word, so cancel is a `swap_remove` plus one `pos` update: O(1). All of it lives under
//! the `Mutex` in `time::Handle`.

use super::entry::{TimerShared, NOT_IN_WHEEL};
use crate::loom::sync::Arc;

/// Nanoseconds per level-0 slot. 1 ms, like tokio: finer slots would make the wheel's span
/// shorter and cascades more frequent, and precision does not depend on it (see above).
pub(crate) const TICK_NS: u64 = 1_000_000;

// Under loom the wheel is shrunk to 2 levels of 4 slots (16 ticks): the models then exercise
// cascades and the top level's wrap-around in a few ticks, and each slot `Vec` costs less.
#[cfg(not(loom))]
const LEVEL_BITS: u32 = 6;
#[cfg(not(loom))]
const NUM_LEVELS: usize = 6;
#[cfg(loom)]
const LEVEL_BITS: u32 = 2;
#[cfg(loom)]
const NUM_LEVELS: usize = 2;

const SLOTS: usize = 1 << LEVEL_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Ticks spanned by the whole wheel; later deadlines are parked in the top level and
/// re-inserted when their slot comes round.
const MAX_TICKS: u64 = 1 << (LEVEL_BITS as u64 * NUM_LEVELS as u64);

/// One registered timer in a slot.
#[derive(Debug)]
pub(crate) struct Item {
    /// Exact deadline, ns since the wheel's origin.
    pub(crate) deadline: u64,
    /// Insertion order: ties in `deadline` fire in this order.
    pub(crate) seq: u64,
    pub(crate) entry: Arc<TimerShared>,
}

#[derive(Debug)]
struct Level {
    /// Bit `i` set iff `slots[i]` is not empty.
    occupied: u64,
    slots: Vec<Vec<Item>>,
}

/// The next slot to process.
#[derive(Debug, Clone, Copy)]
struct Expiration {
    level: usize,
    slot: usize,
    /// First tick covered by the slot.
    tick: u64,
}

/// The wheel. Not synchronised: `time::Handle` holds it under a mutex.
#[derive(Debug)]
pub(crate) struct Wheel {
    /// Every slot before this tick has been processed; no entry's slot tick is below it.
    elapsed: u64,
    levels: Vec<Level>,
    len: usize,
    next_seq: u64,
    /// `Some(d)`: the value `next_deadline` would compute. `None`: recompute.
    cached_next: Option<Option<u64>>,
}

fn pack(level: usize, slot: usize, index: usize) -> u64 {
    ((index as u64) << 16) | ((level as u64) << 8) | slot as u64
}

fn unpack(pos: u64) -> (usize, usize, usize) {
    (
        ((pos >> 8) & 0xff) as usize,
        (pos & 0xff) as usize,
        (pos >> 16) as usize,
    )
}

fn level_for(elapsed: u64, tick: u64) -> usize {
    let mut masked = (elapsed ^ tick) | SLOT_MASK;
    if masked >= MAX_TICKS {
        masked = MAX_TICKS - 1;
    }
    let significant = 63 - masked.leading_zeros();
    (significant / LEVEL_BITS) as usize
}

fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (level as u32 * LEVEL_BITS)) & SLOT_MASK) as usize
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            levels: (0..NUM_LEVELS)
                .map(|_| Level {
                    occupied: 0,
                    slots: (0..SLOTS).map(|_| Vec::new()).collect(),
                })
                .collect(),
            len: 0,
            next_seq: 0,
            cached_next: Some(None),
        }
    }

    /// Number of entries in the wheel.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `entry` with `deadline` (ns). The entry must not be in the wheel. Returns whether
    /// this deadline is now the earliest one (the parked driver must be woken to re-arm).
    pub(crate) fn insert(&mut self, deadline: u64, entry: Arc<TimerShared>) -> bool {
        debug_assert_eq!(entry.pos(), NOT_IN_WHEEL);
        let earliest = self.next_deadline().is_none_or(|next| deadline < next);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.place(Item {
            deadline,
            seq,
            entry,
        });
        self.len += 1;
        if let Some(cached) = &mut self.cached_next {
            *cached = Some(cached.map_or(deadline, |c| c.min(deadline)));
        }
        earliest
    }

    /// Puts `item` in its slot relative to `elapsed`.
    fn place(&mut self, item: Item) {
        // Ticks beyond the wheel's span are parked at the last tick before `elapsed`'s own
        // top-level slot comes round again. (Not `elapsed + MAX_TICKS - 1`: that can share
        // `elapsed`'s top-level slot, which would then be processed again at once, forever.)
        let top_slot_start = self.elapsed & !((MAX_TICKS >> LEVEL_BITS) - 1);
        let max_tick = top_slot_start + MAX_TICKS - 1;
        let tick = (item.deadline / TICK_NS).clamp(self.elapsed, max_tick);
        let level = level_for(self.elapsed, tick);
        let slot = slot_for(tick, level);
        let lvl = &mut self.levels[level];
        let index = lvl.slots[slot].len();
        item.entry.set_pos(pack(level, slot, index));
        lvl.slots[slot].push(item);
        lvl.occupied |= 1 << slot;
    }

    /// Removes `entry` if it is in the wheel, in O(1). Returns whether it was.
    pub(crate) fn remove(&mut self, entry: &TimerShared) -> bool {
        let pos = entry.pos();
        if pos == NOT_IN_WHEEL {
            return false;
        }
        let (level, slot, index) = unpack(pos);
        let lvl = &mut self.levels[level];
        let list = &mut lvl.slots[slot];
        let item = list.swap_remove(index);
        debug_assert!(std::ptr::eq(&*item.entry, entry));
        if let Some(moved) = list.get(index) {
            moved.entry.set_pos(pack(level, slot, index));
        }
        let emptied = list.is_empty();
        if emptied {
            lvl.occupied &= !(1 << slot);
        }
        entry.set_pos(NOT_IN_WHEEL);
        self.len -= 1;
        // The cached answer is this entry's deadline, or the start of a slot that is still
        // occupied unless this removal emptied it.
        if emptied || self.cached_next == Some(Some(item.deadline)) {
            self.cached_next = None;
        }
        true
    }

    /// The next slot to process, across all levels.
    fn next_expiration(&self) -> Option<Expiration> {
        let mut best: Option<Expiration> = None;
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let slot_range = 1u64 << (level as u32 * LEVEL_BITS);
            let level_range = slot_range << LEVEL_BITS;
            let now_slot = ((self.elapsed / slot_range) & SLOT_MASK) as u32;
            let rotated = if now_slot == 0 {
                lvl.occupied
            } else {
                ((lvl.occupied >> now_slot) | (lvl.occupied << (SLOTS as u32 - now_slot)))
                    & (u64::MAX >> (64 - SLOTS as u32))
            };
            let slot = (rotated.trailing_zeros() + now_slot) as usize % SLOTS;
            let level_start = self.elapsed & !(level_range - 1);
            let mut tick = level_start + slot as u64 * slot_range;
            if (slot as u32) < now_slot {
                // Only the top level wraps: it holds deadlines beyond the wheel's span.
                debug_assert_eq!(level, NUM_LEVELS - 1);
                tick += level_range;
            }
            if best.is_none_or(|b| tick < b.tick) {
                best = Some(Expiration { level, slot, tick });
            }
        }
        best
    }

    /// The earliest deadline (ns): exact when it lies in level 0, otherwise the start of the
    /// higher-level slot holding it (earlier than any deadline in it; processing that slot
    /// moves its entries down, after which the answer is exact).
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if let Some(cached) = self.cached_next {
            return cached;
        }
        let next = self.next_expiration().map(|exp| {
            if exp.level == 0 {
                self.levels[0].slots[exp.slot]
                    .iter()
                    .map(|i| i.deadline)
                    .min()
                    .expect("occupied slot is not empty")
            } else {
                exp.tick * TICK_NS
            }
        });
        self.cached_next = Some(next);
        next
    }

    /// Removes every entry with `deadline <= now` (ns), marks it fired, and appends it to
    /// `fired` in `(deadline, insertion)` order. Call with a non-decreasing `now`.
    pub(crate) fn poll(&mut self, now: u64, fired: &mut Vec<Item>) {
        let start = fired.len();
        let now_tick = now / TICK_NS;
        while let Some(exp) = self.next_expiration() {
            if exp.tick > now_tick {
                break;
            }
            self.elapsed = self.elapsed.max(exp.tick);
            let items = std::mem::take(&mut self.levels[exp.level].slots[exp.slot]);
            self.levels[exp.level].occupied &= !(1 << exp.slot);
            for item in items {
                if item.deadline <= now {
                    item.entry.set_pos(NOT_IN_WHEEL);
                    item.entry.set_fired();
                    self.len -= 1;
                    fired.push(item);
                } else {
                    self.place(item);
                }
            }
            if exp.level == 0 && exp.tick == now_tick {
                // The rest of this slot is later in the current tick: not due yet.
                break;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        self.cached_next = None;
        fired[start..].sort_unstable_by_key(|i| (i.deadline, i.seq));
    }

    /// Removes every entry, marking each fired, and appends them to `fired`.
    pub(crate) fn drain(&mut self, fired: &mut Vec<Item>) {
        let start = fired.len();
        for lvl in &mut self.levels {
            lvl.occupied = 0;
            for slot in &mut lvl.slots {
                for item in slot.drain(..) {
                    item.entry.set_pos(NOT_IN_WHEEL);
                    item.entry.set_fired();
                    fired.push(item);
                }
            }
        }
        self.len = 0;
        self.cached_next = Some(None);
        fired[start..].sort_unstable_by_key(|i| (i.deadline, i.seq));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        /// Insert a timer `delay` ns after the current time.
        Insert(u64),
        /// Cancel the `n % live`-th live timer.
        Cancel(usize),
        /// Advance time by this many ns and poll.
        Advance(u64),
        /// Ask for the next deadline (checks it against the model).
        Next,
    }

    fn op() -> impl Strategy<Value = Op> {
        let ms = TICK_NS;
        prop_oneof![
            4 => prop_oneof![
                0..2 * ms,
                0..100 * ms,
                0..10_000 * ms,
                0..(MAX_TICKS * 3 * ms),
            ]
            .prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Cancel),
            3 => prop_oneof![0..ms, 0..70 * ms, 0..5_000 * ms, 0..(MAX_TICKS * ms)]
                .prop_map(Op::Advance),
            1 => Just(Op::Next),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The wheel fires exactly the model's due set, each entry once, none early, in
        /// deadline order; `next_deadline` never overshoots the model's earliest deadline and
        /// is exact once that deadline is within level 0.
        #[test]
        fn wheel_fires_exactly_the_due_set(start in 0..(1u64 << 40), ops in prop::collection::vec(op(), 1..200)) {
            let mut wheel = Wheel::new();
            let mut now = start;
            wheel.poll(now, &mut Vec::new());
            // (deadline, seq) -> entry
            let mut model: BTreeMap<(u64, u64), Arc<TimerShared>> = BTreeMap::new();
            let mut seq = 0;
            for op in ops {
                match op {
                    Op::Insert(delay) => {
                        let d = now + delay;
                        let e = Arc::new(TimerShared::new(d));
                        // The driver parks until `next_deadline` (never later than the
                        // model's earliest, checked in `Op::Next`); it must be woken iff the
                        // new deadline is before that.
                        let parked_until = wheel.next_deadline();
                        let claimed = wheel.insert(d, e.clone());
                        prop_assert_eq!(claimed, parked_until.is_none_or(|p| d < p));
                        model.insert((d, seq), e);
                        seq += 1;
                    }
                    Op::Cancel(n) => {
                        if !model.is_empty() {
                            let key = *model.keys().nth(n % model.len()).unwrap();
                            let e = model.remove(&key).unwrap();
                            prop_assert!(wheel.remove(&e));
                            prop_assert!(!wheel.remove(&e));
                        }
                    }
                    Op::Advance(d) => {
                        now += d;
                        let mut fired = Vec::new();
                        wheel.poll(now, &mut fired);
                        let due: Vec<_> = model.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
                        let got: Vec<_> = fired.iter().map(|i| i.deadline).collect();
                        let want: Vec<_> = due.iter().map(|k| k.0).collect();
                        prop_assert_eq!(got, want);
                        for (k, item) in due.iter().zip(&fired) {
                            let e = model.remove(k).unwrap();
                            prop_assert!(Arc::ptr_eq(&e, &item.entry));
                            prop_assert!(e.is_fired());
                            prop_assert!(!wheel.remove(&e));
                        }
                    }
                    Op::Next => {
                        let got = wheel.next_deadline();
                        let want = model.keys().next().map(|k| k.0);
                        match (got, want) {
                            (None, None) => {}
                            (Some(g), Some(w)) => {
                                prop_assert!(g <= w, "next {} after earliest {}", g, w);
                                if w / TICK_NS < (now / TICK_NS) / 64 * 64 + 64 {
                                    // Within the current level-0 block: exact.
                                    prop_assert_eq!(g, w);
                                }
                            }
                            (g, w) => prop_assert!(false, "next {:?} vs model {:?}", g, w),
                        }
                    }
                }
                prop_assert_eq!(wheel.len(), model.len());
            }
            // Run the clock to the end: everything fires.
            let mut fired = Vec::new();
            wheel.poll(u64::MAX - 1, &mut fired);
            prop_assert_eq!(fired.len(), model.len());
            prop_assert_eq!(wheel.len(), 0);
            prop_assert_eq!(wheel.next_deadline(), None);
        }
    }

    #[test]
    fn exact_deadline_within_a_tick() {
        let mut wheel = Wheel::new();
        let e = Arc::new(TimerShared::new(10 * TICK_NS + 500));
        wheel.insert(10 * TICK_NS + 500, e.clone());
        assert_eq!(wheel.next_deadline(), Some(10 * TICK_NS + 500));
        let mut fired = Vec::new();
        wheel.poll(10 * TICK_NS + 499, &mut fired);
        assert!(fired.is_empty());
        assert_eq!(wheel.next_deadline(), Some(10 * TICK_NS + 500));
        wheel.poll(10 * TICK_NS + 500, &mut fired);
        assert_eq!(fired.len(), 1);
        assert!(e.is_fired());
    }

    #[test]
    fn far_future_deadline_wraps_top_level() {
        let mut wheel = Wheel::new();
        let d = MAX_TICKS * 5 * TICK_NS + 7;
        let e = Arc::new(TimerShared::new(d));
        wheel.insert(d, e.clone());
        let mut fired = Vec::new();
        let mut now = 0;
        while now < d - 1 {
            now = (now + MAX_TICKS * TICK_NS / 3).min(d - 1);
            wheel.poll(now, &mut fired);
            assert!(fired.is_empty());
        }
        wheel.poll(d, &mut fired);
        assert_eq!(fired.len(), 1);
    }
}
