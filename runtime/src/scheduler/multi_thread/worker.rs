//! A worker thread: its queues and its loop.
//!
//! Order of the search for the next task: at the injector's turn a share of the injector
//! first (so remote wakes are not starved by a busy local queue); then the LIFO slot, the
//! local queue, a batch from the injector; then stealing (if the search throttle allows)
//! from the other workers starting at a random one; then park. After each task, the task it
//! woke last (the LIFO slot) runs next, at most `MAX_LIFO_POLLS_PER_TICK` times in a row and
//! within the first task's budget, which keeps message-passing pairs on one warm core
//! without letting them starve the queue.
//!
//! The injector's turn comes every `global_queue_interval` polls (61 by default), counted
//! in polls rather than searches so the LIFO slot's polls count too, and sooner when polls
//! are long: unless the interval was set on the builder, a turn reads the clock and keeps
//! an average poll time, and the next turn comes after about [`INJECT_TURN_TARGET`] of
//! polls (at least 2 polls). A task spawned or woken from outside thus waits about that
//! long behind a busy worker, not 61 polls of whatever length. While fast polls keep the
//! interval at its maximum, the clock is read at every fourth turn only.

use super::queue::{Steal, Worker};
use super::{Handle, Shared};
use crate::loom::sync::Arc;
use crate::runtime::metrics::WorkerCounters;
use crate::runtime::{context, coop};
use crate::scheduler;
use crate::task::Notified;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

/// Tasks taken from the LIFO slot in a row before the slot's task goes to the queue.
const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// About how long a worker polls between two turns of the injector (tokio's target too).
pub(super) const INJECT_TURN_TARGET: std::time::Duration = std::time::Duration::from_micros(200);

/// The most tasks one turn of the injector moves to the local queue.
const INJECT_TURN_MAX_TASKS: usize = 128;

/// The weight of the newest interval's mean poll time in the average, per poll in it.
const POLL_TIME_EWMA_ALPHA: f64 = 0.1;

/// When the injector's next turn comes: see the module docs.
struct InjectTurn {
    /// The worker's poll count (`WorkerCounters::poll_seq`) at which the turn comes.
    at: Cell<u64>,
    /// The poll count and the time at the last clock read (`None` after a park: parked
    /// time is no poll time).
    last: Cell<Option<(u64, std::time::Instant)>>,
    /// The average poll time, in nanoseconds.
    mean_ns: Cell<f64>,
    /// Turns since the last clock read, while the interval is at its maximum.
    skipped: Cell<u32>,
}

impl InjectTurn {
    fn new() -> InjectTurn {
        InjectTurn {
            at: Cell::new(0),
            last: Cell::new(None),
            mean_ns: Cell::new(0.0),
            skipped: Cell::new(0),
        }
    }

    /// The injector's turn has come at poll count `polls`: sets the next one.
    fn next(&self, polls: u64, max: u32, tune: bool) {
        let interval = if tune { self.tuned(polls, max) } else { max };
        self.at.set(polls + u64::from(interval));
    }

    /// The next interval from the average poll time, reading the clock unless the average
    /// is known, keeps the interval at `max`, and was read fewer than four turns ago.
    fn tuned(&self, polls: u64, max: u32) -> u32 {
        let known = self.mean_ns.get() > 0.0 && self.last.get().is_some();
        if known && self.interval(max) == max {
            let skipped = self.skipped.get() + 1;
            if skipped < 4 {
                self.skipped.set(skipped);
                return max;
            }
        }
        self.skipped.set(0);
        let now = std::time::Instant::now();
        if let Some((then_polls, then)) = self.last.get() {
            let n = polls.saturating_sub(then_polls);
            if n > 0 {
                let mean = now.saturating_duration_since(then).as_nanos() as f64 / n as f64;
                // Each poll of the interval weighs in as one sample would.
                let alpha = 1.0 - (1.0 - POLL_TIME_EWMA_ALPHA).powi(n.min(1024) as i32);
                self.mean_ns
                    .set(alpha * mean + (1.0 - alpha) * self.mean_ns.get());
            }
        }
        self.last.set(Some((polls, now)));
        self.interval(max)
    }

    /// The interval the average poll time gives, within 2 ..= `max`.
    fn interval(&self, max: u32) -> u32 {
        let mean = self.mean_ns.get();
        if mean <= 0.0 {
            return max;
        }
        let n = INJECT_TURN_TARGET.as_nanos() as f64 / mean;
        (n as u32).clamp(2.min(max), max)
    }

    /// The worker parks: the time until it runs again is no poll time.
    fn parked(&self) {
        self.last.set(None);
    }
}

pub(super) type Task = Notified<Arc<Handle>>;

/// A worker's thread-owned state, reached through `CURRENT` while the worker runs.
pub(super) struct Core {
    pub(super) index: usize,
    pub(super) handle: Arc<Handle>,
    /// This worker's `handle.shared.counters[index]`, looked up once: it is written at every
    /// poll. The boxed slice it points into is never resized and lives as long as `handle`.
    counters: NonNull<WorkerCounters>,
    /// `Builder::task_poll_times`, copied here: read at every poll.
    timed: bool,
    pub(super) local: Worker<Task>,
    pub(super) lifo: Cell<Option<Task>>,
    is_searching: Cell<bool>,
    /// True while a task is being polled: only wakes from inside a poll use the LIFO slot.
    in_poll: Cell<bool>,
    /// Tasks that yielded (`yield_now`): woken only when the worker has nothing else to do
    /// (or at the maintenance interval), so a yielding task lets every other ready task,
    /// including the global queue's, run first.
    deferred: RefCell<Vec<Task>>,
    tick: Cell<u32>,
    inject_turn: InjectTurn,
    rand: Cell<u64>,
}

crate::loom::rt_thread_local! {
    static CURRENT: Cell<*const Core> = Cell::new(std::ptr::null());
}

/// Runs `f` with this thread's worker core if it is a worker of `handle`'s runtime.
pub(super) fn with_current<R>(handle: &Handle, f: impl FnOnce(Option<&Core>) -> R) -> R {
    CURRENT.with(|c| {
        let core = c.get();
        if core.is_null() {
            return f(None);
        }
        // SAFETY: a non-null CURRENT points to the `Core` on this worker thread's stack in
        // `run`, which resets it before the core is dropped.
        let core = unsafe { &*core };
        if std::ptr::eq(&*core.handle, handle) {
            f(Some(core))
        } else {
            f(None)
        }
    })
}

/// The body of a worker thread.
pub(super) fn run(handle: Arc<Handle>, index: usize, local: Worker<Task>) {
    let sched = scheduler::Handle::MultiThread(handle.clone());
    let _enter = context::enter_runtime(&sched);
    let counters = NonNull::from(&handle.shared.counters[index]);
    let timed = handle.shared.config.task_poll_times;
    let core = Core {
        index,
        handle,
        counters,
        timed,
        local,
        lifo: Cell::new(None),
        is_searching: Cell::new(false),
        in_poll: Cell::new(false),
        deferred: RefCell::new(Vec::new()),
        tick: Cell::new(0),
        inject_turn: InjectTurn::new(),
        rand: Cell::new(0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1) << 17)),
    };
    struct Reset(*const Core);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(&core));
    let _reset = Reset(prev);
    core.counters().active();
    core.run();
    core.counters().stopped();
    core.shutdown();
}

impl Core {
    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    #[inline]
    fn counters(&self) -> &WorkerCounters {
        // SAFETY: `counters` points into `self.handle.shared.counters`, a boxed slice that is
        // never resized or moved and is kept alive by the `Arc` in `self.handle`; it is only
        // read through shared references.
        unsafe { self.counters.as_ref() }
    }

    /// Polls `task`, with the counters and the watchdog's marks around the poll (and its
    /// timing, on a runtime that keeps poll times). `run` catches the task's panics, so the
    /// end mark needs no guard.
    #[inline]
    fn poll(&self, task: Task) {
        let counters = self.counters();
        let id = task.id();
        counters.poll_begin(id.as_u64());
        if self.timed {
            self.shared().owned.run_timed(task, id);
        } else {
            task.run();
        }
        counters.poll_end();
    }

    fn run(&self) {
        let shared = self.shared();
        while !shared.is_shutdown() {
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % shared.config.event_interval == 0 {
                self.maintenance();
            }
            if let Some(task) = self.next_task() {
                self.run_task(task);
                continue;
            }
            // Yielded tasks come back after the global queue was looked at (in
            // `next_task`) but before stealing: stealing would only move them between
            // workers.
            if self.wake_deferred() {
                continue;
            }
            if let Some(task) = self.steal_work() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    /// Wakes the tasks that yielded; returns false if there were none.
    fn wake_deferred(&self) -> bool {
        let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        if deferred.is_empty() {
            return false;
        }
        for task in deferred {
            self.local.push(task);
        }
        self.notify_if_queued();
        true
    }

    /// Polls timers and I/O without blocking, if no other worker is in the driver, and
    /// lets yielded tasks back in (so a worker that always finds work cannot starve them).
    fn maintenance(&self) {
        self.wake_deferred();
        if let Some(mut driver) = self.shared().driver.try_lock() {
            driver.poll_events(&self.handle.driver);
        }
        self.notify_if_queued();
    }

    /// After a batch of wakes outside any poll: if this worker now has more queued than it
    /// will run next, wake one other worker to share it.
    fn notify_if_queued(&self) {
        if self.local.len() > 1 {
            self.handle.notify_parked();
        }
    }

    fn next_task(&self) -> Option<Task> {
        let shared = self.shared();
        let polls = self
            .counters()
            .poll_seq
            .load(std::sync::atomic::Ordering::Relaxed);
        if polls >= self.inject_turn.at.get() {
            // Under loom the interval stays fixed: a clock would make runs differ.
            let tune = shared.config.tune_global_queue_interval && !cfg!(loom);
            self.inject_turn
                .next(polls, shared.config.global_queue_interval, tune);
            if let Some(task) = self.take_inject_share() {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo.take() {
            self.counters().lifo_hit();
            return Some(task);
        }
        if let Some(task) = self.local.pop() {
            return Some(task);
        }
        loop {
            match shared.inject.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => crate::loom::spin_loop(),
            }
        }
    }

    /// Fairness: takes a share of the global queue (up to [`INJECT_TURN_MAX_TASKS`]), not
    /// one task, so remote spawns drain at the rate local work does: the first to run now,
    /// the rest queued locally (where idle workers can steal them). The share is the whole
    /// queue up to that bound, not a worker's fraction of it: the other workers may be busy
    /// for a whole turn's interval, and what is left waits that long.
    fn take_inject_share(&self) -> Option<Task> {
        let shared = self.shared();
        let want = shared.inject.len().clamp(1, INJECT_TURN_MAX_TASKS);
        // crossbeam moves at most 32 tasks per call, and fewer at the end of one of its
        // blocks: what a call took is read off the local queue's length (other workers may
        // steal from it meanwhile, which only makes this take less).
        let before = self.local.len();
        let first = loop {
            match shared
                .inject
                .steal_batch_with_limit_and_pop(&self.local, want.min(32))
            {
                Steal::Success(task) => break task,
                Steal::Empty => return None,
                Steal::Retry => crate::loom::spin_loop(),
            }
        };
        let mut taken = 1 + self.local.len().saturating_sub(before);
        while taken < want {
            let before = self.local.len();
            match shared
                .inject
                .steal_batch_with_limit(&self.local, (want - taken).min(32))
            {
                Steal::Success(()) => match self.local.len().saturating_sub(before) {
                    0 => break,
                    n => taken += n,
                },
                Steal::Empty => break,
                Steal::Retry => crate::loom::spin_loop(),
            }
        }
        Some(first)
    }

    fn steal_work(&self) -> Option<Task> {
        let shared = self.shared();
        if !self.is_searching.get() {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let n = shared.remotes.len();
        let start = (self.next_rand() % n as u64) as usize;
        for _ in 0..4 {
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                match shared.remotes[victim]
                    .steal
                    .steal_batch_and_pop(&self.local)
                {
                    Steal::Success(task) => {
                        self.counters().stole(self.local.len() + 1);
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            match shared.inject.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            if !retry {
                break;
            }
            crate::loom::spin_loop();
        }
        None
    }

    fn run_task(&self, task: Task) {
        let shared = self.shared();
        if self.is_searching.replace(false) && shared.idle.transition_worker_from_searching() {
            // The last searcher found work: keep someone looking for the rest.
            self.handle.notify_parked();
        }
        struct InPoll<'a>(&'a Cell<bool>);
        impl Drop for InPoll<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        self.in_poll.set(true);
        let _in_poll = InPoll(&self.in_poll);
        coop::budget(|| {
            self.poll(task);
            let mut lifo_polls = 0;
            while let Some(task) = self.lifo.take() {
                if lifo_polls >= MAX_LIFO_POLLS_PER_TICK || !coop::has_budget_remaining() {
                    self.local.push(task);
                    self.handle.notify_parked();
                    return;
                }
                lifo_polls += 1;
                self.counters().lifo_hit();
                self.poll(task);
            }
        });
    }

    /// Schedules a task woken on this worker.
    pub(super) fn schedule_local(&self, task: Task, is_yield: bool) {
        if is_yield {
            // The task woke itself during its own poll (`yield_now`, a spent budget): it
            // comes back once the worker is out of other work (see `wake_deferred`).
            self.deferred.borrow_mut().push(task);
            return;
        }
        if !self.in_poll.get() {
            // Woken by this worker's own driver turn (or its deferred yields): queue it and
            // let the caller wake a helper once for the whole batch (`notify_if_queued`),
            // rather than once per task.
            self.local.push(task);
            return;
        }
        if is_yield || !self.shared().config.lifo_enabled {
            self.local.push(task);
            self.handle.notify_parked();
            return;
        }
        if let Some(prev) = self.lifo.replace(Some(task)) {
            self.local.push(prev);
            self.handle.notify_parked();
        }
    }

    fn has_local_work(&self) -> bool {
        // Peek: take and put back (the slot is only touched on this thread).
        let lifo = self.lifo.take();
        let has = lifo.is_some();
        self.lifo.set(lifo);
        has || !self.local.is_empty() || !self.deferred.borrow().is_empty()
    }

    fn park(&self) {
        let shared = self.shared();
        if self.has_local_work() {
            return;
        }
        let was_searching = self.is_searching.replace(false);
        self.counters().parking();
        self.inject_turn.parked();
        struct Active<'a>(&'a WorkerCounters);
        impl Drop for Active<'_> {
            fn drop(&mut self) {
                self.0.active();
            }
        }
        let _active = Active(self.counters());
        if shared
            .idle
            .transition_worker_to_parked(self.index, was_searching)
        {
            self.handle.notify_if_work_pending();
        } else if !shared.inject.is_empty() {
            self.handle.notify_parked();
        }
        loop {
            self.park_once();
            if shared.is_shutdown() {
                return;
            }
            if self.has_local_work() {
                // Our own driver turn woke tasks onto this worker.
                let was_parked = shared.idle.unpark_worker_by_id(self.index);
                // If we were no longer in the sleepers, a notifier counted us searching.
                self.is_searching.set(!was_parked);
                self.notify_if_queued();
                return;
            }
            if !shared.idle.is_parked(self.index) {
                // A notifier took us out of the sleepers and counted us searching.
                self.is_searching.set(true);
                return;
            }
        }
    }

    fn park_once(&self) {
        let shared = self.shared();
        #[cfg(test)]
        if shared
            .config
            .panic_at_park
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("a fault injected into a worker's park");
        }
        let unparker = &shared.remotes[self.index].unpark;
        if let Some(mut driver) = shared.driver.try_lock() {
            if self.handle.can_auto_advance() && driver.auto_advance(&self.handle.driver) {
                // Paused clock, whole runtime idle: time jumped to the next timer, whose
                // wakes are now in this worker's queue.
                return;
            }
            unparker.park_driver(&mut driver, &self.handle.driver, None);
        } else {
            if self.handle.can_auto_advance() {
                // The last worker to go idle while another sleeps in the driver: let that
                // one move the paused clock.
                self.handle.driver.unpark();
            }
            unparker.park_condvar();
        }
    }

    /// Leaving: cancel what is left (on this runtime thread) and drop queued notifications.
    fn shutdown(&self) {
        let shared = self.shared();
        shared.owned.close_and_shutdown_all();
        // Yielded tasks were shut down with the others; these are only their references.
        drop(std::mem::take(&mut *self.deferred.borrow_mut()));
        loop {
            let mut any = false;
            while let Some(task) = self.lifo.take() {
                drop(task);
                any = true;
            }
            while let Some(task) = self.local.pop() {
                drop(task);
                any = true;
            }
            if !any {
                break;
            }
        }
        shared.worker_exited();
    }

    fn next_rand(&self) -> u64 {
        // xorshift64*
        let mut x = self.rand.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rand.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
