//! taskio: asyncio's semantics for Rust, on a multi-threaded work-stealing runtime.
//!
//! Modules are named as asyncio's documentation: [`runners`], [`tasks`], [`gather`](mod@gather),
//! [`as_completed`](mod@as_completed), [`shield`](mod@shield), [`taskgroup`], [`timeouts`],
//! [`wait`](mod@wait), [`locks`],
//! [`queues`], [`streams`], [`threads`], [`exceptions`], on Unix [`signals`], and the event
//! loop itself: [`events`], [`futures`]. Every type is `Send + Sync` and correct when its users run on
//! different workers at once. The [`cancellation`] page compares asyncio's cancellation
//! idiom with taskio's; the [`structured_concurrency`] page sets trio/anyio, asyncio and
//! taskio side by side: cancel scopes ([`cancel_scope`]), `start`, supervised groups and
//! graceful shutdown.
//!
//! # The error model
//!
//! A coroutine that can fail returns [`taskio::Result<T>`](Result); it "raises" when it
//! returns `Err` or panics (a panic becomes an [`ErrorKind::Panic`] error of its task and never
//! kills a worker). Combinators take *children* that are either a [`Task<T>`] or a coroutine
//! `F: Future<Output = taskio::Result<T>> + Send + 'static` (wrapped in a task at once, like
//! asyncio's `ensure_future`); the trait for that is [`tasks::Awaitable`]. Infallible
//! children return `Ok(value)`; user errors convert with `?`; a coroutine returning another
//! error type (an `io::Result`) becomes a child with [`.err_into()`](ErrInto::err_into).
//!
//! A [`Task<T>`] is a cheap-clone handle; awaiting it gives `taskio::Result<T>`. One task's
//! value may be read by several awaiters (asyncio allows it), so reading it hands out a clone:
//! `task.await`, [`Task::result`], [`gather()`], [`shield()`], [`wait_for`] and
//! [`as_completed()`] need `T: Clone`. [`Task::join`] moves a non-`Clone` value out instead.
//!
//! # asyncio → taskio
//!
//! | asyncio | taskio |
//! |---|---|
//! | `asyncio.run(main())` | [`taskio::run(main())`](run) → `Result<T>` or [`#[taskio::main]`](macro@main) on `async fn main` |
//! | `unittest.IsolatedAsyncioTestCase` (`async def test_...`) | [`#[taskio::test]`](macro@test) on `async fn`; `start_paused = true` for the paused clock |
//! | `asyncio.Runner(...)` / `runner.run(coro)` / `runner.close()` | [`Runner::builder()`](Runner::builder)`.current_thread().start_paused(true).build()?`, [`Runner::run`], [`Runner::close`] |
//! | `asyncio.create_task(coro, name=n)` | [`create_task(coro)`](create_task), [`tasks::create_task_named(n, coro)`](tasks::create_task_named) |
//! | `await task` | `task.await` (`T: Clone`) or `task.join().await` |
//! | `task.cancel(msg)`, `cancelled()`, `done()`, `result()`, `exception()` | the same names on [`Task`] |
//! | `task.add_done_callback(cb)`, `remove_done_callback(cb)` | [`Task::add_done_callback`], [`Task::remove_done_callback`] with a [`tasks::DoneCallback`] |
//! | `task.get_name()`, `set_name()` | [`Task::get_name`], [`Task::set_name`], [`Task::id`] |
//! | `asyncio.current_task()`, `all_tasks()` | [`current_task()`], [`all_tasks()`] → [`AnyTask`] |
//! | `await asyncio.sleep(s)` | [`sleep(s)`](sleep)`.await?` (seconds or a `Duration`) |
//! | a time argument (`timeout=t`, `delay`) | seconds (`1.5`, `2`) or a `Duration` everywhere; `None` where asyncio takes `None` ([`tasks::TimeLimit`]) |
//! | `await asyncio.gather(*aws)` | [`gather(aws)`](gather())`.await?`, [`gather!(a, b)`](gather!)`.await?` |
//! | `gather(*aws, return_exceptions=True)` | `gather(aws).return_exceptions().await` |
//! | `for f in as_completed(aws, timeout=t)` | [`as_completed(aws, t)`](as_completed()) (a `Stream`; `.next().await`) |
//! | `async for t in as_completed(aws)` | `as_completed(aws, None).tasks()` |
//! | `await asyncio.shield(aw)` | [`shield(aw)`](shield())`.await` |
//! | `async with asyncio.TaskGroup() as tg:` | [`TaskGroup::run(\|tg\| async move { .. })`](TaskGroup::run) |
//! | `tg.create_task(coro)` | [`tg.create_task(coro)?`](TaskGroup::create_task) |
//! | `await asyncio.wait_for(aw, t)` | [`wait_for(aw, t)`](wait_for)`.await` (`aw` may borrow: `wait_for(reader.readline(), 5.0)`) |
//! | `async with asyncio.timeout(d) as cm:` | [`let cm = timeout(d); cm.run(body).await`](timeout) |
//! | `asyncio.timeout_at(when)`, `cm.when()`, `cm.reschedule(w)`, `cm.expired()` | [`timeout_at`], [`timeouts::Timeout`] methods |
//! | `await asyncio.wait(tasks, timeout=t, return_when=FIRST_COMPLETED)` | [`wait(tasks, t, wait::FIRST_COMPLETED)`](wait())`.await?` |
//! | `asyncio.Lock`, `Event`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier` | [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`] |
//! | `async with lock:` | `let _g = lock.acquire().await?;` |
//! | `await lock.acquire(); ...; lock.release()` | `lock.acquire().await?.detach(); ...; lock.release()?` |
//! | `await cond.wait()` | `guard = cond.wait(guard).await?` |
//! | `asyncio.Queue`, `PriorityQueue`, `LifoQueue` | [`Queue`], [`PriorityQueue`], [`LifoQueue`] |
//! | `asyncio.CancelledError`, `TimeoutError`, `InvalidStateError`, `QueueEmpty`, `QueueFull`, `QueueShutDown`, `BrokenBarrierError`, `ExceptionGroup` | [`Error`] with [`ErrorKind`]`::{Cancelled, Timeout, InvalidState, QueueEmpty, QueueFull, QueueShutDown, BrokenBarrier, Group}` |
//! | `RuntimeError`, `ValueError` (misuse, a bad argument) | [`ErrorKind::Runtime`], [`ErrorKind::Value`] |
//! | `e.partial` of `IncompleteReadError`, `e.consumed` of `LimitOverrunError`, `eg.exceptions` | [`err.downcast_ref::<IncompleteRead>()`](Error::downcast_ref), [`LimitOverrun`], [`ExceptionGroup`] |
//! | `except asyncio.QueueEmpty:` | `Err(e) if e.kind() == ErrorKind::QueueEmpty =>` |
//! | `await asyncio.open_connection(host, port)` | [`open_connection(host, port)`](streams::open_connection)`.await?` → ([`StreamReader`], [`StreamWriter`]) |
//! | `await asyncio.start_server(cb, host, port)` | [`start_server(cb, host, port)`](streams::start_server)`.await?` → [`Server`] |
//! | `open_unix_connection`, `start_unix_server` | [`streams::open_unix_connection`], [`streams::start_unix_server`] |
//! | `reader.read(n)`, `readline()`, `readexactly(n)`, `readuntil(sep)`, `read(-1)` | the same names; `read_to_end()` for `read(-1)` |
//! | `writer.write(b)`, `writelines`, `await drain()`, `close()`, `await wait_closed()` | the same names on [`StreamWriter`] |
//! | `await asyncio.to_thread(f)`, `loop.run_in_executor(None, f)` | [`to_thread(f)`](to_thread)`.await?`, [`run_in_executor(f)`](run_in_executor) |
//! | `loop.add_signal_handler(sig, cb)` (Unix) | [`add_signal_handler(sig, cb)?`](add_signal_handler) with a [`SignalKind`] (`SignalKind::terminate()`, ...); process-wide, one per signal |
//! | `loop.remove_signal_handler(sig)` | [`remove_signal_handler(sig)`](remove_signal_handler) → `bool`; the previous disposition is back |
//! | `asyncio.run` / `Runner.run` and Ctrl-C (3.11+): the first SIGINT cancels main, `run` raises `KeyboardInterrupt`; a second one interrupts at once | the same in [`run`] and [`Runner::run`] (main thread, SIGINT at its default only): `Err` of [`ErrorKind::KeyboardInterrupt`]; the second SIGINT takes the default action (the process ends) |
//! | `signal.signal` + an `asyncio.Event` for "wait for SIGTERM" | [`signals::signal(kind)`](signals::signal)`?.recv().await`, [`signals::ctrl_c()`](signals::ctrl_c)`.await?` (the runtime's listeners) |
//! | `KeyboardInterrupt` | [`ErrorKind::KeyboardInterrupt`] |
//! | `asyncio.get_running_loop()`, `get_event_loop()`, `new_event_loop()`, `set_event_loop(l)` | [`get_running_loop()?`](get_running_loop), [`get_event_loop()?`](get_event_loop), [`new_event_loop()?`](new_event_loop), [`set_event_loop(Some(&l))`](set_event_loop) → [`Loop`] |
//! | `runner.get_loop()` | [`Runner::get_loop`] |
//! | `loop.time()` | [`lp.time()`](Loop::time) (the runtime's clock, paused or not) |
//! | `loop.call_soon(cb)`, `call_soon_threadsafe(cb)` | [`lp.call_soon(cb)?`](Loop::call_soon), [`lp.call_soon_threadsafe(cb)?`](Loop::call_soon_threadsafe) → [`events::Handle`] |
//! | `loop.call_later(delay, cb)`, `call_at(when, cb)`; `h.cancel()`, `cancelled()`, `when()` | [`lp.call_later(delay, cb)?`](Loop::call_later), [`lp.call_at(when, cb)?`](Loop::call_at) → [`events::TimerHandle`] |
//! | `loop.set_exception_handler(h)`, `call_exception_handler(ctx)`, `default_exception_handler(ctx)` | [`Loop::set_exception_handler`], [`Loop::call_exception_handler`], [`Loop::default_exception_handler`] |
//! | `fut = loop.create_future()`, `asyncio.Future()` | [`lp.create_future()`](Loop::create_future), [`Future::new()`](Future::new) |
//! | `fut.set_result(v)`, `set_exception(e)`, `cancel(msg)`, `result()`, `exception()`, `done()`, `cancelled()` | the same names on [`Future`] |
//! | `fut.add_done_callback(cb)`, `await fut` | [`Future::add_done_callback`], `fut.await` (`T: Clone`) or [`fut.join().await`](Future::join) |
//! | `asyncio.ensure_future(aw)`, `loop.create_task(coro)` | [`ensure_future(aw)`](ensure_future), [`lp.create_task(coro)?`](Loop::create_task) |
//! | `loop.run_in_executor(None, f)` (as an asyncio Future) | [`lp.run_in_executor(f)?`](Loop::run_in_executor) → [`Future`] |
//! | `loop.run_until_complete(aw)`, `run_forever()`, `stop()`, `close()`, `is_running()`, `is_closed()` | the same names on [`Loop`] |
//! | `asyncio.capture_call_graph(t)`, `format_call_graph(t)`, `print_call_graph(t)` (3.14) | [`capture_call_graph(Some(&t))`](capture_call_graph) → [`graph::CallGraph`], [`format_call_graph`], [`print_call_graph`], on every flavour |
//! | `python -m asyncio pstree PID` / `ps PID` (3.14) | [`dump_tasks()`](dump_tasks): every live task (taskio's and the runtime's), as a tree with what each awaits; [`runtime::Handle::dump`] from any thread |
//! | `loop.set_exception_handler(h)`, the default handler's log | [`Loop::set_exception_handler`], and for the process [`set_error_hook`] (else `tracing`, with the `tracing` feature, else standard error) |
//!
//! # Deterministic mode
//!
//! [`Runner::builder()`](Runner::builder)`.current_thread()` runs everything on one thread with
//! one FIFO ready queue: the order of steps is exactly asyncio's (`sleep(0)` goes to the back
//! of the queue, done callbacks are scheduled, not run inline). With `.start_paused(true)` the
//! clock jumps to the next timer when every task waits, so timer-heavy tests take no real
//! time.
//!
//! # Examples
//!
//! ```
//! use taskio::{create_task, gather, sleep, Queue, TaskGroup};
//!
//! let total = taskio::run(async {
//!     let q = std::sync::Arc::new(Queue::new(0));
//!     let producer = {
//!         let q = q.clone();
//!         create_task(async move {
//!             for i in 1..=3 {
//!                 q.put(i).await?;
//!                 sleep(0).await?;
//!             }
//!             Ok(())
//!         })
//!     };
//!     let consumer = {
//!         let q = q.clone();
//!         create_task(async move {
//!             let mut sum = 0;
//!             for _ in 0..3 {
//!                 sum += q.get().await?;
//!             }
//!             Ok(sum)
//!         })
//!     };
//!     let (_, sum) = taskio::gather!(producer, consumer).await?;
//!     let doubled = TaskGroup::run(|tg| async move {
//!         let t = tg.create_task(async move { Ok(sum * 2) })?;
//!         t.await
//!     })
//!     .await?;
//!     let all = gather([doubled, 0].map(|v| async move { Ok(v) })).await?;
//!     Ok(all.iter().sum::<i32>())
//! })
//! .unwrap();
//! assert_eq!(total, 12);
//! ```

pub mod as_completed;
pub mod cancel_scope;
pub mod cancellation;
mod checkpoint;
pub mod events;
pub mod exceptions;
pub mod futures;
pub mod gather;
pub mod graph;
mod kernel;
pub mod locks;
pub mod queues;
pub mod report;
mod rt_time;
pub mod runners;
pub mod shield;
mod shutdown;
// Not under loom: the runtime's signal API is not built there (its OS handler writes to one
// process-wide registry, a `static`, which loom's atomics cannot live in).
#[cfg(all(unix, not(loom)))]
pub mod signals;
pub mod streams;
#[doc = include_str!("docs/structured_concurrency.md")]
pub mod structured_concurrency {}
pub mod taskgroup;
pub mod tasks;
pub mod threads;
pub mod timeouts;
pub mod wait;

#[doc(hidden)]
pub mod __testing;

#[doc(hidden)]
pub mod __macros;

/// Makes `async fn main` the program's entry point, run as [`run`] runs its `main`: the body
/// is the main task of a fresh [`Runner`]; when it returns, the tasks still running are
/// cancelled and the runner is closed.
///
/// # Examples
///
/// ```
/// #[taskio::main]
/// async fn main() -> taskio::Result<()> {
///     let t = taskio::create_task(async { Ok(20) });
///     assert_eq!(t.await? + 1, 21);
///     Ok(())
/// }
/// ```
///
/// The deterministic scheduler (one thread, asyncio's exact order):
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// #[taskio::main(flavor = "current_thread")]
/// async fn main() {
///     let order = Arc::new(Mutex::new(Vec::new()));
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let order = order.clone();
///             taskio::create_task(async move {
///                 order.lock().unwrap().push(i);
///                 Ok(())
///             })
///         })
///         .collect();
///     taskio::gather(tasks).await.unwrap();
///     assert_eq!(*order.lock().unwrap(), [0, 1, 2]); // FIFO, as asyncio
/// }
/// ```
///
/// # Options
///
/// `#[taskio::main(name = value, ...)]`:
///
/// | option | values | default |
/// |---|---|---|
/// | `flavor` | `"multi_thread"` (work stealing), `"current_thread"` ([`RunnerBuilder::current_thread`]) | `"multi_thread"` |
/// | `workers` | an integer >= 1 ([`RunnerBuilder::worker_threads`]; implies `"multi_thread"`) | one per core |
/// | `start_paused` | `true`, `false` ([`RunnerBuilder::start_paused`]) | `false` |
///
/// ```
/// #[taskio::main(workers = 2)]
/// async fn main() -> std::io::Result<()> {
///     let two = taskio::to_thread(|| 1 + 1).await?; // a taskio::Error converts to io::Error
///     assert_eq!(two, 2);
///     Ok(())
/// }
/// ```
///
/// # The return type
///
/// `()`, [`std::process::ExitCode`], or `Result<T, E>` with `E: From<taskio::Error>`:
/// [`taskio::Result<T>`](Result), `std::io::Result<T>`, `Result<T, Box<dyn std::error::Error
/// + Send + Sync>>`. It must be `Send`: the body runs as a task. A failure of the runner
/// itself (it cannot be built; the loop was stopped; Ctrl-C's
/// [`KeyboardInterrupt`](ErrorKind::KeyboardInterrupt)) is returned as `Err(E::from(e))`,
/// printed with `ExitCode::FAILURE`, or, for `()`, a panic. A panic in the body, or a
/// [`Panic`](ErrorKind::Panic) error it returns, is re-raised as a panic, as [`run`] does.
///
/// # Compile errors
///
/// On a function that is not `async`, takes arguments or is generic; on an unknown option or
/// a bad value; on a return type of none of the kinds above; each at the token at fault:
///
/// ```compile_fail
/// #[taskio::main]
/// fn main() {} // error: `#[taskio::main]` goes on an `async fn`: add `async` before `fn`
/// ```
///
/// ```compile_fail
/// #[taskio::main(threads = 2)] // error: unknown option `threads` of `#[taskio::main]`
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[taskio::main(flavor = "single")] // error: `flavor` is "current_thread" or "multi_thread"
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[taskio::main(workers = 0)] // error: `workers` must be at least 1
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[taskio::main(flavor = "current_thread", workers = 2)] // error: `workers` is for multi-thread
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[taskio::main]
/// async fn main(args: Vec<String>) {} // error: `main` takes no arguments
/// ```
///
/// ```compile_fail
/// #[taskio::main]
/// async fn main() -> i32 { // error: `i32` cannot be returned by a `#[taskio::main]` ...
///     0
/// }
/// ```
#[doc(inline)]
pub use taskio_macros::main;

/// Makes an `async fn` a `#[test]` whose body runs as the main task of a fresh [`Runner`]
/// (closed when the body returns). By default the runner is the deterministic one: one
/// thread, one FIFO ready queue, asyncio's exact order of steps.
///
/// # Examples
///
/// ```test_harness
/// #[taskio::test]
/// async fn sleeps_then_adds() -> taskio::Result<()> {
///     taskio::sleep(0.01).await?;
///     assert_eq!(taskio::create_task(async { Ok(1) }).await? + 1, 2);
///     Ok(())
/// }
/// ```
///
/// The paused clock: time moves only when every task waits, and then jumps to the next
/// timer, so an hour of timers takes no real time and timeouts fire in a fixed order:
///
/// ```test_harness
/// use std::time::{Duration, Instant};
///
/// #[taskio::test(start_paused = true)]
/// async fn an_hour_in_no_time() {
///     let real = Instant::now();
///     let lp = taskio::get_running_loop().unwrap();
///     let start = lp.time();
///     let err = taskio::wait_for(taskio::sleep(3600), 60)
///         .await
///         .unwrap_err();
///     assert!(err.is_timeout());
///     taskio::sleep(3600).await.unwrap();
///     assert!(lp.time() - start >= 3660.0);
///     assert!(real.elapsed() < Duration::from_secs(60));
/// }
/// ```
///
/// # Options
///
/// `#[taskio::test(name = value, ...)]`:
///
/// | option | values | default |
/// |---|---|---|
/// | `flavor` | `"current_thread"`, `"multi_thread"` | `"current_thread"` |
/// | `workers` | an integer >= 1 (implies `"multi_thread"`) | one per core (with `"multi_thread"`) |
/// | `start_paused` | `true`, `false`: the paused clock ([`RunnerBuilder::start_paused`]) | `false` |
///
/// ```test_harness
/// #[taskio::test(workers = 4, start_paused = true)]
/// async fn on_four_workers() -> taskio::Result<()> {
///     let threads = taskio::gather((0..8).map(|_| async {
///         taskio::sleep(1).await?;
///         Ok(std::thread::current().id())
///     }))
///     .await?;
///     assert_eq!(threads.len(), 8);
///     Ok(())
/// }
/// ```
///
/// Other attributes stay (`#[should_panic]`, `#[ignore]`). The return type is as for
/// [`main`](macro@main): `()` or a `Result` whose error converts from [`Error`]; an `Err`
/// fails the test.
///
/// # Compile errors
///
/// ```compile_fail
/// #[taskio::test]
/// fn not_async() {} // error: `#[taskio::test]` goes on an `async fn`
/// ```
///
/// ```compile_fail
/// #[taskio::test(start_paused = 1)] // error: `start_paused` takes `true` or `false`
/// async fn bad_value() {}
/// ```
///
/// ```compile_fail
/// #[taskio::test(paused = true)] // error: unknown option `paused` of `#[taskio::test]`
/// async fn unknown() {}
/// ```
///
/// ```compile_fail
/// #[taskio::test]
/// #[test] // error: `#[taskio::test]` already makes this a `#[test]`
/// async fn twice() {}
/// ```
#[doc(inline)]
pub use taskio_macros::test;

/// The runtime under taskio (the `taskio-runtime` crate), re-exported so its API is
/// browsable here: the [`Runtime`](runtime::Runtime) and its [`Builder`](runtime::Builder)
/// (multi-thread, work-stealing, or current-thread), [`Handle`](runtime::Handle),
/// [`spawn`](runtime::spawn) and [`spawn_blocking`](runtime::spawn_blocking) (the blocking
/// pool under [`to_thread`]), tasks ([`JoinHandle`](runtime::JoinHandle),
/// [`JoinError`](runtime::JoinError), [`task`](runtime::task)), and the reactor's
/// [`net`](runtime::net) (TCP, UDP, Unix sockets), [`time`](runtime::time) and, on Unix,
/// [`signal`](runtime::signal).
///
/// taskio's own API ([`run`], [`Runner`], [`create_task`], ...) runs on it; reach for these
/// for what asyncio has no name for, such as a socket to hand to
/// [`streams::from_tcp_stream`].
///
/// # Examples
///
/// ```
/// use taskio::runtime::{net::TcpListener, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     assert!(listener.local_addr().unwrap().port() != 0);
/// });
/// ```
pub mod runtime {
    #[doc(inline)]
    pub use taskio_runtime::*;
}

pub use crate::exceptions::{
    ErrInto, Error, ErrorKind, ExceptionGroup, IncompleteRead, LimitOverrun, Result,
};
pub use crate::locks::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, LockGuard, OwnedLockGuard,
    OwnedSemaphorePermit, Semaphore, SemaphorePermit,
};
pub use crate::queues::{LifoQueue, PriorityQueue, PutError, Queue};
#[cfg(all(unix, not(loom)))]
pub use crate::signals::{add_signal_handler, remove_signal_handler, SignalKind};
pub use crate::streams::{open_connection, open_unix_connection, StreamReader, StreamWriter};
pub use crate::streams::{start_server, start_unix_server, Server};
pub use crate::threads::{run_in_executor, to_thread};
pub use crate::{
    as_completed::as_completed,
    cancel_scope::{fail_after, fail_at, move_on_after, move_on_at, CancelScope},
    events::{get_event_loop, get_running_loop, new_event_loop, set_event_loop, Loop},
    futures::{ensure_future, Future},
    gather::gather,
    graph::{capture_call_graph, dump_tasks, format_call_graph, print_call_graph},
    report::{reset_error_hook, set_error_hook},
    runners::{run, Runner, RunnerBuilder},
    shield::shield,
    taskgroup::{TaskGroup, TaskStatus},
    tasks::{all_tasks, create_task, current_task, sleep, AnyTask, Task},
    timeouts::{timeout, timeout_at, wait_for},
    wait::wait,
};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
