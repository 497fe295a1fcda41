//! [`Server`]: listening sockets, an accept task for each, a task per connection.
//!
//! # Protocol
//!
//! `ServerInner::state` (one mutex) holds `serving` and the live connections. The accept
//! task registers each new connection under the lock, and only while `serving`: a connection
//! accepted while `close` runs is dropped, so once `close` has returned no new callback
//! starts. Each connection task holds an `Active` guard that unregisters it when the task ends
//! in any way (returned, failed, panicked, aborted by runtime shutdown); the guard that
//! leaves a closed server with no connection sets `all_closed`, which `wait_closed` waits for.
//! Handlers are taskio tasks (named "connection from PEER", listed by `all_tasks`), spawned
//! under the same lock, so a shutdown that closes the server and then lists the handlers
//! sees every handler that will ever run; `shutdown` cancels them, `close_clients` and
//! `abort_clients` close their transports (the readers see EOF).
//!
//! # Errors in callbacks
//!
//! A callback that returns `Err` or panics is reported (to the [`ServerConfig::on_error`]
//! hook, by default a line on stderr, like asyncio's "Unhandled exception in
//! client_connected_cb"), and its connection is closed: the writer flushes and shuts down,
//! and the reader is dropped with the callback. Other connections and the server go on.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::kernel::sync::Mutex;
use taskio_runtime::net::{TcpListener, UnixListener};
use taskio_runtime::JoinHandle;

use super::connect::{from_tcp_stream, from_unix_stream, resolve};
use super::writer::Shared;
use super::{Address, StreamReader, StreamWriter, DEFAULT_LIMIT};
use crate::kernel::task::{AnyCoreRef, Core};
use crate::tasks::Task;
use crate::{Error, Event, Result};

type ErrorHook = Arc<dyn Fn(&Error) + Send + Sync>;

/// Options of [`start_server_with`] / [`start_unix_server_with`].
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let failures = Arc::new(AtomicUsize::new(0));
/// let seen = failures.clone();
/// let config = taskio::streams::ServerConfig::new()
///     .limit(1024)
///     .on_error(move |_err| {
///         seen.fetch_add(1, Ordering::SeqCst);
///     });
/// # drop(config);
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    limit: usize,
    backlog: u32,
    on_error: Option<ErrorHook>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("limit", &self.limit)
            .field("backlog", &self.backlog)
            .field("on_error", &self.on_error.is_some())
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::new()
    }
}

impl ServerConfig {
    /// The defaults: a 64 KiB reader limit, a listen backlog of
    /// [`DEFAULT_BACKLOG`](taskio_runtime::net::DEFAULT_BACKLOG) (1024), errors printed to
    /// stderr.
    pub fn new() -> ServerConfig {
        ServerConfig {
            limit: DEFAULT_LIMIT,
            backlog: taskio_runtime::net::DEFAULT_BACKLOG,
            on_error: None,
        }
    }

    /// The limit of each connection's reader (asyncio's `limit=`).
    pub fn limit(mut self, limit: usize) -> ServerConfig {
        self.limit = limit;
        self
    }

    /// The listen backlog of each listening socket (asyncio's `backlog=`): how many
    /// connections the kernel queues before the server accepts them. The default is 1024
    /// ([`DEFAULT_BACKLOG`](taskio_runtime::net::DEFAULT_BACKLOG), tokio's), not asyncio's
    /// 100: a server meeting a burst of connects would have the kernel drop or refuse
    /// them. Linux caps it at `net.core.somaxconn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::streams::{open_connection, start_server_with, ServerConfig, StreamReader, StreamWriter};
    ///
    /// taskio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let config = ServerConfig::new().backlog(4096);
    ///     let server = start_server_with(
    ///         |_r: StreamReader, w: StreamWriter| async move { w.write(b"hi\n") },
    ///         "127.0.0.1",
    ///         0,
    ///         config,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].as_inet().unwrap().port();
    ///     let (mut r, _w) = open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(r.readline().await?, b"hi\n");
    ///     Ok::<_, taskio::Error>(())
    /// }).unwrap();
    /// ```
    pub fn backlog(mut self, backlog: u32) -> ServerConfig {
        self.backlog = backlog;
        self
    }

    /// Called with each error a callback returns, each panic of a callback (kind `Panic`)
    /// and each failed `accept`, instead of printing it to stderr.
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> ServerConfig {
        self.on_error = Some(Arc::new(hook));
        self
    }

    fn report(&self, context: &str, error: &Error) {
        match &self.on_error {
            Some(hook) => hook(error),
            None => crate::report::report(context, Some(error)),
        }
    }
}

struct ServerInner {
    sockets: Vec<Address>,
    unix_paths: Vec<PathBuf>,
    config: ServerConfig,
    state: Mutex<State>,
    /// Set once closed with no connection left.
    all_closed: Event,
    /// Set by `close`.
    closed: Event,
}

struct State {
    serving: bool,
    serve_forever: bool,
    accept_tasks: Vec<JoinHandle<()>>,
    /// Each connection's writer state and its handler task.
    connections: HashMap<u64, (Arc<Shared>, AnyCoreRef)>,
    next_id: u64,
}

/// A listening server: asyncio's `Server`, from [`start_server`] or [`start_unix_server`].
///
/// It serves from the moment it is started. Dropping it closes it (like leaving
/// `async with server:`): keep it alive, or await [`serve_forever`](Self::serve_forever).
/// To share it between tasks, put it in an `Arc`.
///
/// # Examples
///
/// ```
/// use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let server = start_server(
///         |_r: StreamReader, w: StreamWriter| async move {
///             w.write(b"hello\n")?;
///             Ok(())
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await
///     .unwrap();
///     assert!(server.is_serving());
///     let addr = server.sockets()[0].as_inet().unwrap();
///     let (mut r, _w) = open_connection("127.0.0.1", addr.port()).await.unwrap();
///     assert_eq!(r.readline().await.unwrap(), b"hello\n");
///     server.close();
///     server.wait_closed().await;
///     assert!(!server.is_serving());
///     assert!(server.sockets().is_empty());
/// });
/// ```
pub struct Server {
    inner: Arc<ServerInner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("Server")
            .field("sockets", &self.inner.sockets)
            .field("serving", &st.serving)
            .field("connections", &st.connections.len())
            .finish()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.close();
    }
}

/// A callback's future, with its panic caught.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Unregisters a connection when its task ends, however it ends.
struct Active {
    inner: Arc<ServerInner>,
    id: u64,
}

impl Drop for Active {
    fn drop(&mut self) {
        let mut st = self.inner.state.lock();
        st.connections.remove(&self.id);
        if !st.serving && st.connections.is_empty() {
            drop(st);
            self.inner.all_closed.set();
        }
    }
}

impl ServerInner {
    fn close(&self) {
        let mut st = self.state.lock();
        if !st.serving {
            return;
        }
        st.serving = false;
        let accept_tasks = std::mem::take(&mut st.accept_tasks);
        let idle = st.connections.is_empty();
        drop(st);
        // Outside the lock: an abort may drop the task's future inline.
        for t in accept_tasks {
            t.abort();
        }
        for p in &self.unix_paths {
            let _ = std::fs::remove_file(p);
        }
        self.closed.set();
        if idle {
            self.all_closed.set();
        }
    }

    /// Starts the callback's task for a new connection, unless the server is closed.
    fn serve<F, Fut>(self: &Arc<Self>, reader: StreamReader, writer: StreamWriter, cb: &Arc<F>)
    where
        F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let shared = writer.shared();
        let peer = writer.peername().map(|a| a.to_string());
        let name = format!(
            "connection from {}",
            peer.as_deref().unwrap_or("unknown peer")
        );
        let fut = CatchUnwind(Box::pin(cb(reader.with_limit(self.config.limit), writer)));
        let handle = taskio_runtime::Handle::current();
        // Registered and spawned under the lock: a `close` + shutdown that takes the lock
        // after sees every handler that will ever run.
        let mut st = self.state.lock();
        if !st.serving {
            return; // reader and writer dropped with `fut`: the connection closes
        }
        let id = st.next_id;
        st.next_id += 1;
        let active = Active {
            inner: self.clone(),
            id,
        };
        let conn = shared.clone();
        let task = Core::spawn(
            async move {
                let _active = active;
                let error = match fut.await {
                    Ok(Ok(())) => return Ok(()),
                    // Cancelled (by `close_clients`, `abort_clients`, a shutdown): not a
                    // failure of the callback.
                    Ok(Err(e)) if e.is_cancelled() => return Err(e),
                    Ok(Err(e)) => e,
                    Err(payload) => Error::panic(payload),
                };
                conn.close();
                let peer = peer.as_deref().unwrap_or("unknown peer");
                _active.inner.config.report(
                    &format!("unhandled error in the callback of a connection from {peer}"),
                    &error,
                );
                Ok(())
            },
            Some(name),
            &handle,
            std::panic::Location::caller(),
        );
        let task = Task::from_core(task).any_core();
        st.connections.insert(id, (shared, task));
    }

    /// The handlers being served, and their writers.
    fn connections(&self) -> Vec<(Arc<Shared>, AnyCoreRef)> {
        self.state.lock().connections.values().cloned().collect()
    }

    fn accept_failed(&self, error: std::io::Error) -> bool {
        // Out of descriptors or memory: back off instead of spinning on the error.
        let back_off = matches!(error.raw_os_error(), Some(12 | 23 | 24 | 105));
        self.config.report("accept failed", &error.into());
        back_off
    }
}

async fn back_off() {
    taskio_runtime::time::sleep(std::time::Duration::from_millis(100)).await;
}

async fn accept_tcp<F, Fut>(listener: TcpListener, inner: Arc<ServerInner>, cb: Arc<F>)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (r, w) = from_tcp_stream(stream);
                inner.serve(r, w, &cb);
            }
            Err(e) => {
                if inner.accept_failed(e) {
                    back_off().await;
                } else {
                    taskio_runtime::yield_now().await;
                }
            }
        }
    }
}

async fn accept_unix<F, Fut>(listener: UnixListener, inner: Arc<ServerInner>, cb: Arc<F>)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (r, w) = from_unix_stream(stream);
                inner.serve(r, w, &cb);
            }
            Err(e) => {
                if inner.accept_failed(e) {
                    back_off().await;
                } else {
                    taskio_runtime::yield_now().await;
                }
            }
        }
    }
}

fn new_inner(
    sockets: Vec<Address>,
    unix_paths: Vec<PathBuf>,
    config: ServerConfig,
) -> Arc<ServerInner> {
    Arc::new(ServerInner {
        sockets,
        unix_paths,
        config,
        state: Mutex::new(State {
            serving: true,
            serve_forever: false,
            accept_tasks: Vec::new(),
            connections: HashMap::new(),
            next_id: 0,
        }),
        all_closed: Event::new(),
        closed: Event::new(),
    })
}

/// Listens on `host:port` (every address `host` resolves to; port 0 picks a free port) and
/// runs `callback(reader, writer)` as a task for each connection: asyncio's `start_server`.
/// The server is serving when this returns.
///
/// An error returned by a callback, or its panic, is reported (stderr; see
/// [`start_server_with`] for a hook) and closes that connection only.
///
/// # Examples
///
/// See [`Server`].
pub async fn start_server<F, Fut>(callback: F, host: &str, port: u16) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    start_server_with(callback, host, port, ServerConfig::new()).await
}

/// [`start_server`] with a reader limit, a listen backlog and an error hook.
///
/// # Examples
///
/// ```
/// use taskio::streams::{open_connection, start_server_with, ServerConfig, StreamReader, StreamWriter};
///
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let errors = std::sync::Arc::new(taskio::Queue::new(0));
///     let errors2 = errors.clone();
///     let config = ServerConfig::new().on_error(move |e| {
///         errors2.put_nowait(e.to_string()).unwrap();
///     });
///     let server = start_server_with(
///         |_r: StreamReader, _w: StreamWriter| async { Err(taskio::Error::msg("bad client")) },
///         "127.0.0.1",
///         0,
///         config,
///     )
///     .await
///     .unwrap();
///     let port = server.sockets()[0].as_inet().unwrap().port();
///     let (mut r, _w) = open_connection("127.0.0.1", port).await.unwrap();
///     assert_eq!(errors.get().await.unwrap(), "bad client");
///     assert_eq!(r.read_to_end().await.unwrap(), b""); // that connection is closed
/// });
/// ```
pub async fn start_server_with<F, Fut>(
    callback: F,
    host: &str,
    port: u16,
    config: ServerConfig,
) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let mut addrs = resolve(host, port).await?;
    addrs.dedup();
    let mut listeners = Vec::with_capacity(addrs.len());
    for a in addrs {
        listeners.push(TcpListener::bind_with_backlog(a, config.backlog).await?);
    }
    let sockets = listeners
        .iter()
        .map(|l| l.local_addr().map(Address::Inet))
        .collect::<std::io::Result<Vec<_>>>()?;
    let inner = new_inner(sockets, Vec::new(), config);
    let cb = Arc::new(callback);
    let tasks = listeners
        .into_iter()
        .map(|l| taskio_runtime::spawn(accept_tcp(l, inner.clone(), cb.clone())))
        .collect();
    inner.state.lock().accept_tasks = tasks;
    Ok(Server { inner })
}

/// Listens on the Unix-domain socket `path` and runs `callback` per connection: asyncio's
/// `start_unix_server`. The socket file is removed when the server closes.
pub async fn start_unix_server<F, Fut>(callback: F, path: impl AsRef<Path>) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    start_unix_server_with(callback, path, ServerConfig::new()).await
}

/// [`start_unix_server`] with a reader limit, a listen backlog and an error hook.
pub async fn start_unix_server_with<F, Fut>(
    callback: F,
    path: impl AsRef<Path>,
    config: ServerConfig,
) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let path = path.as_ref();
    let listener = UnixListener::bind_with_backlog(path, config.backlog)?;
    let sockets = vec![Address::Unix(listener.local_addr()?)];
    let inner = new_inner(sockets, vec![path.to_owned()], config);
    let task = taskio_runtime::spawn(accept_unix(listener, inner.clone(), Arc::new(callback)));
    inner.state.lock().accept_tasks = vec![task];
    Ok(Server { inner })
}

/// Resets `serve_forever` and closes the server when `serve_forever` ends or is cancelled.
struct ServeForever<'a>(&'a ServerInner);

impl Drop for ServeForever<'_> {
    fn drop(&mut self) {
        self.0.state.lock().serve_forever = false;
        self.0.close();
    }
}

impl Server {
    /// The addresses listened on; empty once closed.
    pub fn sockets(&self) -> Vec<Address> {
        if self.is_serving() {
            self.inner.sockets.clone()
        } else {
            Vec::new()
        }
    }

    /// Whether it accepts connections (until [`close`](Self::close)).
    pub fn is_serving(&self) -> bool {
        self.inner.state.lock().serving
    }

    /// How many connections are being served.
    pub fn connections(&self) -> usize {
        self.inner.state.lock().connections.len()
    }

    /// Stops listening (the listening sockets close; a Unix socket's file is removed).
    /// Connections being served go on; see [`close_clients`](Self::close_clients).
    pub fn close(&self) {
        self.inner.close();
    }

    /// Closes every connection being served (asyncio 3.13's `close_clients`, which closes
    /// each transport): each writer flushes and shuts its write side down, then the
    /// connection's reader sees EOF, so a handler waiting for a client that never sends
    /// ends its read. Handlers are not cancelled: see [`shutdown`](Self::shutdown) for that.
    pub fn close_clients(&self) {
        for (w, _) in self.inner.connections() {
            w.close_transport();
        }
    }

    /// Aborts every connection being served (asyncio 3.13's `abort_clients`): buffered data
    /// is dropped, each write side is shut down now (writes and `drain` fail with
    /// `ConnectionAborted`), and each reader sees EOF. Handlers are not cancelled.
    pub fn abort_clients(&self) {
        for (w, _) in self.inner.connections() {
            w.abort();
        }
    }

    /// Graceful two-phase shutdown: stops listening, cancels every handler (delivered at its
    /// next checkpoint: its clean-up runs, and may await, e.g. to write a goodbye), waits up
    /// to `grace` (seconds, or a `Duration`) for them to end, then drops the handlers still
    /// running. Returns their names ("connection from 127.0.0.1:5000"). The wait is shielded:
    /// a cancellation of the caller is delivered after it.
    ///
    /// # Errors
    ///
    /// `Value` for a NaN grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// taskio::run(async {
    ///     let server = start_server(
    ///         |mut r: StreamReader, w: StreamWriter| async move {
    ///             w.write(b"welcome\n")?;
    ///             let line = r.readline().await; // the client never sends: cancelled here
    ///             w.write(b"bye\n")?; // clean-up
    ///             w.drain().await.ok();
    ///             line.map(drop)
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].as_inet().unwrap().port();
    ///     let (mut r, _w) = open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(r.readline().await?, b"welcome\n");
    ///     let dropped = server.shutdown(5).await?;
    ///     assert!(dropped.is_empty()); // the handler ended within its grace period
    ///     assert_eq!(r.readline().await?, b"bye\n");
    ///     assert_eq!(server.connections(), 0);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn shutdown(&self, grace: impl crate::tasks::Delay) -> Result<Vec<String>> {
        let grace = grace.into_delay()?.unwrap_or_default();
        self.close();
        let tasks = self
            .inner
            .connections()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let dropped = crate::shutdown::cancel_then_drop(tasks, Some(grace)).await;
        Ok(dropped)
    }

    /// Waits until the server is closed and every connection's callback has ended.
    ///
    /// # Errors
    ///
    /// Cancelled, when the waiting task's cancellation is delivered here (a checkpoint).
    pub async fn wait_closed(&self) -> Result<()> {
        self.inner.all_closed.wait().await.map(drop)
    }

    /// Serves until the server is closed (by [`close`](Self::close) from another task),
    /// then waits for its connections like [`wait_closed`](Self::wait_closed) and returns
    /// `Ok`. Cancelling it closes the server and waits for its connections before the
    /// Cancelled is returned, as in asyncio; dropping the future closes the server too.
    /// (asyncio raises `CancelledError` when another task closes the server; here it returns.)
    ///
    /// # Errors
    ///
    /// Kind `Runtime` if the server is closed or `serve_forever` is already running.
    pub async fn serve_forever(&self) -> Result<()> {
        {
            let mut st = self.inner.state.lock();
            if !st.serving {
                return Err(Error::runtime("server is closed"));
            }
            if st.serve_forever {
                return Err(Error::runtime(
                    "server is already being awaited on serve_forever()",
                ));
            }
            st.serve_forever = true;
        }
        let _guard = ServeForever(&self.inner);
        if let Err(cancelled) = self.inner.closed.wait().await {
            self.close();
            // A second cancellation here ends the wait: the first one is what is reported.
            let _ = self.inner.all_closed.wait().await;
            return Err(cancelled);
        }
        self.inner.all_closed.wait().await?;
        Ok(())
    }
}
