//! A worker thread: its queues and its loop.
//!
//! Order of the search for the next task: every `global_queue_interval` ticks the injector
//! first (so remote wakes are not starved by a busy local queue); then the LIFO slot, the
//! local queue, a batch from the injector; then stealing (if the search throttle allows)
//! from the other workers starting at a random one; then park. After each task, the task it
//! woke last (the LIFO slot) runs next, at most `MAX_LIFO_POLLS_PER_TICK` times in a row and
//! within the first task's budget, which keeps message-passing pairs on one warm core
//! without letting them starve the queue.

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

pub(super) type Task = Notified<Arc<Handle>>;

/// A worker's thread-owned state, reached through `CURRENT` while the worker runs.
pub(super) struct Core {
    pub(super) index: usize,
    pub(super) handle: Arc<Handle>,
    /// This worker's `handle.shared.counters[index]`, looked up once: it is written at every
    /// poll. The boxed slice it points into is never resized and lives as long as `handle`.
    counters: NonNull<WorkerCounters>,
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
    let core = Core {
        index,
        handle,
        counters,
        local,
        lifo: Cell::new(None),
        is_searching: Cell::new(false),
        in_poll: Cell::new(false),
        deferred: RefCell::new(Vec::new()),
        tick: Cell::new(0),
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

    /// Polls `task`, with the counters and the watchdog's marks around the poll. `run`
    /// catches the task's panics, so the end mark needs no guard.
    #[inline]
    fn poll(&self, task: Task) {
        let counters = self.counters();
        counters.poll_begin(task.id().as_u64());
        task.run();
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
            if let Some(task) = self.next_task(tick) {
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

    fn next_task(&self, tick: u32) -> Option<Task> {
        let shared = self.shared();
        if tick % shared.config.global_queue_interval == 0 {
            // Fairness: take a share of the global queue, not one task, so remote spawns
            // drain at the rate local work does.
            let n = shared.remotes.len();
            let limit = (shared.inject.len() / n + 1).min(32);
            loop {
                match shared
                    .inject
                    .steal_batch_with_limit_and_pop(&self.local, limit)
                {
                    Steal::Success(task) => return Some(task),
                    Steal::Empty => break,
                    Steal::Retry => crate::loom::spin_loop(),
                }
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
