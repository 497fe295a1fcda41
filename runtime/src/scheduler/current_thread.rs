//! The current-thread scheduler: one FIFO run queue, driven by the thread in `block_on`.
//!
//! The queue (`Core::tasks`) belongs to the thread driving the scheduler and is reached
//! through a thread-local `Context` while it runs. Wakes on that thread push to its back;
//! wakes from other threads go to `Shared::inject` (a mutex-guarded queue) and unpark the
//! driver. Tasks run in the order they were woken, and a task that yields goes to the back,
//! as in asyncio's event loop.
//!
//! The `block_on` future itself is polled between tasks when its waker has fired. To get
//! asyncio's exact order for a program's main coroutine too, spawn it as a task and
//! `block_on` its `JoinHandle` (that is what `taskio::run` does).

use crate::driver::{self, Driver};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::runtime::metrics::WorkerCounters;
use crate::runtime::{context, coop};
use crate::scheduler::{self, Config};
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, Schedule, Task, TaskData, TaskInit, TaskRef};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

/// The scheduler as owned by the `Runtime` (its state lives in the shared `Handle`, so that
/// `Handle::block_on` can drive it too).
pub(crate) struct CurrentThread {
    _private: (),
}

/// Thread-owned state.
struct Core {
    tasks: VecDeque<Notified<Arc<Handle>>>,
    tick: u32,
    /// Taken out while parked, so that wakes fired by the driver can reach the queue.
    driver: Option<Driver>,
}

/// The shared state (the tasks' scheduler handle).
pub(crate) struct Handle {
    /// The core, while no thread is driving the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Signalled when the core is put back.
    core_returned: Condvar,
    inject: Mutex<Inject>,
    /// `inject`'s length, stored under its lock at each change and read without it: a
    /// hint that lets the driving thread skip the lock while no remote wake is queued. A
    /// stale zero only delays a remote task, never loses it: its waker unparks the driver,
    /// and `park` looks at the queue under the lock before sleeping.
    inject_len: AtomicUsize,
    owned: OwnedTasks<Arc<Handle>>,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    config: Config,
    /// The counters of the one thread that drives it (`runtime/metrics.rs`).
    pub(crate) counters: WorkerCounters,
    pub(crate) driver: Arc<driver::Handle>,
    pub(crate) blocking: crate::blocking::Spawner,
}

/// The most tasks one look at the remote queue moves to the local queue.
const INJECT_SHARE: usize = 64;

struct Inject {
    queue: VecDeque<Notified<Arc<Handle>>>,
    closed: bool,
}

/// The thread-local view of the scheduler this thread is driving.
struct Context {
    handle: *const Handle,
    core: RefCell<Option<Box<Core>>>,
}

crate::loom::rt_thread_local! {
    static CURRENT: Cell<*const Context> = Cell::new(std::ptr::null());
}

impl CurrentThread {
    pub(crate) fn new(
        driver: Driver,
        driver_handle: driver::Handle,
        blocking: crate::blocking::Spawner,
        config: Config,
    ) -> (CurrentThread, Arc<Handle>) {
        let core = Box::new(Core {
            tasks: VecDeque::with_capacity(64),
            tick: 0,
            driver: Some(driver),
        });
        let handle = Arc::new(Handle {
            core: Mutex::new(Some(core)),
            core_returned: Condvar::new(),
            inject: Mutex::new(Inject {
                queue: VecDeque::new(),
                closed: false,
            }),
            inject_len: AtomicUsize::new(0),
            owned: OwnedTasks::new(1),
            woken: AtomicBool::new(false),
            config,
            counters: WorkerCounters::default(),
            driver: Arc::new(driver_handle),
            blocking,
        });
        (CurrentThread { _private: () }, handle)
    }

    /// Drives the scheduler until `future` completes.
    pub(crate) fn block_on<F: Future>(&self, handle: &scheduler::Handle, future: F) -> F::Output {
        block_on(handle, future)
    }

    /// Shuts down: cancels every task (dropping its future on this thread), drops every
    /// queued notification, and shuts the driver down.
    pub(crate) fn shutdown(&self, handle: &scheduler::Handle) {
        let h = match handle {
            scheduler::Handle::CurrentThread(h) => h.clone(),
            _ => unreachable!(),
        };
        let core = match h.core.lock().take() {
            Some(core) => core,
            // The core was lost to a panic while it was out: nothing to drive.
            None => return,
        };
        // Enter the context so that wakes during the futures' destructors find the queue.
        let _current = context::set_current(handle);
        let ctx = Context {
            handle: &*h,
            core: RefCell::new(Some(core)),
        };
        let _guard = ContextGuard::enter(&ctx, &h);
        h.owned.close_and_shutdown_all();
        h.inject.lock().closed = true;
        loop {
            let task = ctx.next_task(&h);
            match task {
                Some(task) => drop(task),
                None => break,
            }
        }
        let drained: Vec<_> = {
            let mut inject = h.inject.lock();
            h.inject_len.store(0, Ordering::Relaxed);
            inject.queue.drain(..).collect()
        };
        drop(drained);
        h.driver.shutdown();
        debug_assert!(h.owned.is_empty());
        // The core (and its driver) is not put back: nothing may run on it any more.
        drop(ctx.core.borrow_mut().take());
    }
}

/// Drives the current-thread scheduler of `handle` on this thread until `future`
/// completes (waiting first for any other thread driving it to finish).
pub(crate) fn block_on<F: Future>(handle: &scheduler::Handle, future: F) -> F::Output {
    let _enter = context::enter_runtime(handle);
    let h = match handle {
        scheduler::Handle::CurrentThread(h) => h.clone(),
        _ => unreachable!(),
    };
    let core = h.take_core();
    let ctx = Context {
        handle: &*h,
        core: RefCell::new(Some(core)),
    };
    let _guard = ContextGuard::enter(&ctx, &h);
    let waker = Waker::from(StdArc::new(MainWaker { handle: h.clone() }));
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = pin!(future);
    h.woken.store(true, Ordering::Relaxed);
    h.counters.active();
    struct Stopped<'a>(&'a WorkerCounters);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            self.0.stopped();
        }
    }
    // `stopped` also clears the poll mark of a `block_on` future that panicked; a task's
    // `run` catches its panics, so its end mark needs no guard.
    let _stopped = Stopped(&h.counters);

    'outer: loop {
        if h.woken.swap(false, Ordering::AcqRel) {
            // The `block_on` future is no task: its polls show as task 0.
            h.counters.poll_begin(0);
            let res = coop::budget(|| future.as_mut().poll(&mut cx));
            h.counters.poll_end();
            if let Poll::Ready(v) = res {
                return v;
            }
        }
        for _ in 0..h.config.event_interval {
            let task = ctx.next_task(&h);
            match task {
                Some(task) => {
                    let id = task.id();
                    h.counters.poll_begin(id.as_u64());
                    if h.config.task_poll_times {
                        coop::budget(|| h.owned.run_timed(task, id));
                    } else {
                        coop::budget(|| task.run());
                    }
                    h.counters.poll_end();
                }
                None => {
                    if !h.woken.load(Ordering::Acquire) {
                        ctx.park(&h, None);
                    }
                    continue 'outer;
                }
            }
        }
        // A busy loop still looks at timers and I/O now and then.
        ctx.park(&h, Some(Duration::ZERO));
    }
}

impl Handle {
    fn take_core(&self) -> Box<Core> {
        let mut slot = self.core.lock();
        loop {
            if let Some(core) = slot.take() {
                return core;
            }
            // Another thread is in `block_on` on this runtime: wait for it to finish.
            self.core_returned.wait(&mut slot);
        }
    }

    fn return_core(&self, core: Box<Core>) {
        *self.core.lock() = Some(core);
        self.core_returned.notify_one();
    }
}

/// Puts the context in place for the thread and the core back in the runtime after.
struct ContextGuard<'a> {
    ctx: &'a Context,
    sched: &'a Handle,
    prev: *const Context,
}

impl<'a> ContextGuard<'a> {
    fn enter(ctx: &'a Context, sched: &'a Handle) -> ContextGuard<'a> {
        let prev = CURRENT.with(|c| c.replace(ctx));
        ContextGuard { ctx, sched, prev }
    }
}

impl Drop for ContextGuard<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
        if let Some(core) = self.ctx.core.borrow_mut().take() {
            self.sched.return_core(core);
        }
    }
}

impl Context {
    fn next_task(&self, h: &Handle) -> Option<Notified<Arc<Handle>>> {
        let mut core = self.core.borrow_mut();
        let core = core.as_mut()?;
        core.tick = core.tick.wrapping_add(1);
        if core.tick % h.config.global_queue_interval == 0 {
            h.pop_inject_share(&mut core.tasks)
                .or_else(|| core.tasks.pop_front())
        } else {
            core.tasks
                .pop_front()
                .or_else(|| h.pop_inject_share(&mut core.tasks))
        }
    }

    /// Parks the thread in the driver. The core stays in the context (only the driver is
    /// taken out) so that wakes fired by timers and I/O reach the queue.
    fn park(&self, h: &Handle, timeout: Option<Duration>) {
        let mut driver = match self
            .core
            .borrow_mut()
            .as_mut()
            .and_then(|c| c.driver.take())
        {
            Some(d) => d,
            None => return,
        };
        // Re-check the remote queue with the driver in hand: a remote wake after this point
        // unparks the driver, so the park below returns at once.
        let has_remote = !h.inject.lock().queue.is_empty();
        let idle = self
            .core
            .borrow()
            .as_ref()
            .is_some_and(|c| c.tasks.is_empty());
        if timeout == Some(Duration::ZERO) || has_remote || !idle {
            driver.poll_events(&h.driver);
        } else if h.driver.is_paused() && !h.blocking.busy() && driver.auto_advance(&h.driver) {
            // Paused clock and nothing else to do: time jumped to the next timer.
        } else {
            h.counters.parking();
            driver.park(&h.driver, timeout);
            h.counters.active();
        }
        if let Some(core) = self.core.borrow_mut().as_mut() {
            core.driver = Some(driver);
        }
    }
}

impl Handle {
    #[inline]
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, init: TaskInit) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (join, notified) = me.owned.bind(future, me.clone(), init);
        if let Some(notified) = notified {
            me.schedule(notified);
        }
        join
    }

    #[inline]
    pub(crate) fn spawn_with<D, F, M>(
        me: &Arc<Handle>,
        data: D,
        make: M,
        init: TaskInit,
    ) -> TaskRef<D>
    where
        D: TaskData,
        F: Future<Output = ()> + Send + 'static,
        M: FnOnce(TaskRef<D>) -> F,
    {
        let (task, notified) = me.owned.bind_with_data(data, make, me.clone(), init);
        if let Some(notified) = notified {
            me.schedule(notified);
        }
        task
    }

    /// See `OwnedTasks::views`.
    pub(crate) fn tasks_with_view<V: ?Sized + 'static>(&self) -> Vec<TaskRef<V>> {
        self.owned.views()
    }

    /// The oldest task woken from another thread, with up to [`INJECT_SHARE`] - 1 more
    /// moved to the back of `tasks` under the same lock: remote wakes get a share of the
    /// thread as large as a run of local tasks, not one task per `global_queue_interval`,
    /// and in their own order behind the tasks already queued (as asyncio's
    /// `call_soon_threadsafe` callbacks join its ready queue).
    fn pop_inject_share(
        &self,
        tasks: &mut VecDeque<Notified<Arc<Handle>>>,
    ) -> Option<Notified<Arc<Handle>>> {
        if self.inject_len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut inject = self.inject.lock();
        let first = inject.queue.pop_front()?;
        let more = inject.queue.len().min(INJECT_SHARE - 1);
        tasks.extend(inject.queue.drain(..more));
        self.inject_len.store(inject.queue.len(), Ordering::Relaxed);
        Some(first)
    }
}

impl Handle {
    /// The tasks woken from other threads, not yet moved to the driving thread's queue.
    pub(crate) fn inject_len(&self) -> usize {
        self.inject_len.load(Ordering::Relaxed)
    }

    /// The runtime's live tasks.
    pub(crate) fn owned(&self) -> &OwnedTasks<Arc<Handle>> {
        &self.owned
    }
}

impl Schedule for Arc<Handle> {
    fn task_poll_times(&self) -> bool {
        self.config.task_poll_times
    }

    fn task_tree(&self) -> bool {
        self.config.task_tree
    }

    fn runtime_handle(&self) -> Option<crate::Handle> {
        Some(crate::Handle {
            inner: super::Handle::CurrentThread(self.clone()),
        })
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        let local = CURRENT.with(|c| {
            let ctx = c.get();
            if ctx.is_null() {
                return Some(task);
            }
            // SAFETY: a non-null CURRENT points to the `Context` on the stack of this
            // thread's `block_on` (or shutdown), which outlives the pointer (the guard
            // resets it before the context is dropped).
            let ctx = unsafe { &*ctx };
            if !std::ptr::eq(ctx.handle, &**self) {
                return Some(task);
            }
            match ctx.core.borrow_mut().as_mut() {
                Some(core) => {
                    core.tasks.push_back(task);
                    None
                }
                None => Some(task),
            }
        });
        if let Some(task) = local {
            let mut inject = self.inject.lock();
            if inject.closed {
                drop(inject);
                drop(task);
                return;
            }
            inject.queue.push_back(task);
            self.inject_len.store(inject.queue.len(), Ordering::Relaxed);
            drop(inject);
            self.driver.unpark();
        }
    }
}

/// The waker of the `block_on` future.
struct MainWaker {
    handle: Arc<Handle>,
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.handle.woken.store(true, Ordering::Release);
        self.handle.driver.unpark();
    }
}

impl fmt::Debug for CurrentThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread").finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Handle")
            .finish_non_exhaustive()
    }
}
