//! [`StreamWriter`] and the flusher task that plays asyncio's transport.
//!
//! # Protocol
//!
//! asyncio's writer hands bytes to a transport that sends them in the background. Here the
//! transport is a *flusher* task, spawned with the writer, that owns the write half of the
//! connection. Writer and flusher share one `Shared` (a mutex around `State`):
//!
//! - `write` appends to `State::buf` and wakes the flusher; it never waits. When the buffer
//!   goes above the high-water mark, writing is *paused*.
//! - The flusher copies a chunk of the buffer's front, writes it without holding the lock,
//!   then removes what was written. Once the buffer is at or below the low-water mark,
//!   writing resumes and `drain` waiters are woken.
//! - `drain` returns at once unless paused; a reader error or a lost connection is an error.
//! - `write_eof`/`close`/dropping the writer set `eof_requested`: the flusher sends what is
//!   buffered, shuts the write direction down, sets `closed` and ends. A write error instead
//!   sets `error` (the connection is lost), drops the buffer and ends.
//!
//! Only the flusher removes bytes, and only from the front, so the chunk it copied is still
//! the buffer's front when it comes back to remove it. `abort` and a lost connection drop the
//! whole buffer instead, and set `closed` under the same lock: a flusher coming back from a
//! write (`abort` cannot stop a poll already running) finds `closed` and ends without touching
//! the buffer.
//!
//! `abort` (asyncio's `transport.abort()`) and `close_transport` (the server's
//! `close_clients`: `transport.close()`) also end the *reading* side, as asyncio's
//! `connection_lost` feeds EOF to the reader: `read_closed` is set under the lock (now, or by
//! the flusher once it has flushed and shut the write side down) and the reader's waker,
//! stored under the lock when a read would wait, is woken. A reader that sees `read_closed`
//! takes it as EOF.

use crate::kernel::sync::atomic::{AtomicBool, Ordering};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::kernel::sync::Mutex;
use futures_io::AsyncWrite;

use super::Address;
use crate::{Error, Result};

/// asyncio's default high-water mark of a transport: 64 KiB (low = high / 4).
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The flusher writes at most this much per write call.
const WRITE_CHUNK: usize = 64 * 1024;

/// What the writer, its flusher and the reader share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The reading side is closed (see the module docs); set under `state`'s lock.
    read_closed: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Bytes `buf[head..]` wait to be sent.
    buf: Vec<u8>,
    head: usize,
    high: usize,
    low: usize,
    /// Above `high` since the last time it was at or below `low`.
    paused: bool,
    /// `write_eof` or `close` (or the writer dropped): no more writes.
    eof_requested: bool,
    /// `close` called (or the writer dropped).
    closing: bool,
    /// The flusher is done: the write half is shut down (or the connection is lost).
    closed: bool,
    /// The connection was lost with this error.
    error: Option<Error>,
    /// The reader's connection error, for `drain`.
    reader_error: Option<Error>,
    flusher: Option<Waker>,
    /// A reader waiting for data, woken when the reading side is closed.
    reader: Option<Waker>,
    /// `close_transport`: once flushed, close the reading side too.
    close_reading: bool,
    /// The flusher task, for `abort`.
    task: Option<taskio_runtime::JoinHandle<()>>,
    waiters: Vec<Waker>,
}

impl State {
    fn pending(&self) -> usize {
        self.buf.len() - self.head
    }

    fn wake_waiters(&mut self) {
        for w in self.waiters.drain(..) {
            w.wake();
        }
    }

    fn wait(&mut self, waker: &Waker) {
        if !self.waiters.iter().any(|w| w.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
    }

    fn wake_flusher(&mut self) {
        if let Some(w) = self.flusher.take() {
            w.wake();
        }
    }
}

impl Shared {
    pub(crate) fn set_reader_error(&self, error: Error) {
        let mut st = self.state.lock();
        st.reader_error = Some(error);
        st.wake_waiters();
    }

    /// Asks the flusher to flush and shut the write side down.
    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        st.closing = true;
        st.eof_requested = true;
        st.wake_flusher();
    }

    /// `close`, and once flushed the reading side is closed too (the reader sees EOF):
    /// asyncio's `transport.close()`.
    pub(crate) fn close_transport(&self) {
        let mut st = self.state.lock();
        st.closing = true;
        st.eof_requested = true;
        st.close_reading = true;
        if st.closed {
            let reader = self.close_reading_locked(&mut st);
            drop(st);
            if let Some(w) = reader {
                w.wake();
            }
        } else {
            st.wake_flusher();
        }
    }

    /// Sets `read_closed` (under the lock) and returns the reader's waker, to wake once the
    /// lock is released.
    fn close_reading_locked(&self, st: &mut State) -> Option<Waker> {
        self.read_closed.store(true, Ordering::Release);
        st.reader.take()
    }

    /// Whether the reading side is closed (the reader takes it as EOF).
    pub(crate) fn read_closed(&self) -> bool {
        self.read_closed.load(Ordering::Acquire)
    }

    /// A reader would wait: stores its waker, unless the reading side is closed (`true`).
    pub(crate) fn park_reader(&self, waker: &Waker) -> bool {
        let mut st = self.state.lock();
        if self.read_closed.load(Ordering::Relaxed) {
            return true;
        }
        match &st.reader {
            Some(w) if w.will_wake(waker) => {}
            _ => st.reader = Some(waker.clone()),
        }
        false
    }

    /// Drops the buffer and the flusher (with the write half) now, and closes the reading
    /// side.
    pub(crate) fn abort(&self) {
        let mut st = self.state.lock();
        st.closing = true;
        st.eof_requested = true;
        if !st.closed {
            st.error = Some(io::Error::new(io::ErrorKind::ConnectionAborted, "aborted").into());
        }
        st.buf.clear();
        st.head = 0;
        st.paused = false;
        st.closed = true;
        let task = st.task.take();
        let reader = self.close_reading_locked(&mut st);
        st.wake_waiters();
        drop(st);
        if let Some(w) = reader {
            w.wake();
        }
        if let Some(task) = task {
            task.abort();
        }
    }

    fn lost(&self, error: Error) {
        let mut st = self.state.lock();
        st.error = Some(error);
        st.buf.clear();
        st.head = 0;
        st.paused = false;
        st.closed = true;
        st.wake_waiters();
    }
}

/// The flusher task: see the module docs.
async fn flush(shared: Arc<Shared>, mut io: Box<dyn AsyncWrite + Send + Unpin>) {
    let mut chunk = Vec::with_capacity(WRITE_CHUNK);
    loop {
        let more = poll_fn(|cx| {
            let mut st = shared.state.lock();
            let n = st.pending().min(WRITE_CHUNK);
            if n > 0 {
                chunk.clear();
                chunk.extend_from_slice(&st.buf[st.head..st.head + n]);
                Poll::Ready(true)
            } else if st.eof_requested {
                Poll::Ready(false)
            } else {
                st.flusher = Some(cx.waker().clone());
                // In a dump: the flusher waits for its writer's bytes.
                taskio_runtime::task::set_awaiting(taskio_runtime::task::Awaiting::Channel(
                    Arc::as_ptr(&shared) as usize,
                ));
                Poll::Pending
            }
        })
        .await;
        if !more {
            break;
        }
        let mut sent = 0;
        while sent < chunk.len() {
            let res = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, &chunk[sent..])).await;
            match res {
                Ok(0) => {
                    shared.lost(io::Error::from(io::ErrorKind::WriteZero).into());
                    return;
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    shared.lost(e.into());
                    return;
                }
            }
        }
        let mut st = shared.state.lock();
        if st.closed {
            // Aborted while the chunk was in flight: the buffer is not ours to trim any more.
            return;
        }
        st.head += sent;
        if st.head == st.buf.len() {
            st.buf.clear();
            st.head = 0;
        } else if st.head >= WRITE_CHUNK && st.head * 2 >= st.buf.len() {
            let head = st.head;
            st.buf.drain(..head);
            st.head = 0;
        }
        if st.paused && st.pending() <= st.low {
            st.paused = false;
            st.wake_waiters();
        }
    }
    let res = poll_fn(|cx| Pin::new(&mut *io).poll_close(cx)).await;
    drop(io);
    match res {
        // The peer may be gone already; its reset is not this side's failure to flush.
        Ok(()) | Err(_) => {
            let mut st = shared.state.lock();
            st.closed = true;
            let reader = if st.close_reading {
                shared.close_reading_locked(&mut st)
            } else {
                None
            };
            st.wake_waiters();
            drop(st);
            if let Some(w) = reader {
                w.wake();
            }
        }
    }
}

/// The writing end of a connection: asyncio's `StreamWriter` (with its transport).
///
/// # Buffering and the flusher task
///
/// [`write`](Self::write) never waits: it appends to the writer's buffer, and a flusher task
/// (spawned with the writer; it owns the write half and plays asyncio's transport) sends it in
/// the background. So, as in asyncio, bytes go out even if `drain` is never called; `drain`
/// is flow control: it waits while more than the high-water mark (64 KiB) is buffered, until
/// the flusher brings it down to the low-water mark (high / 4).
///
/// `close`, `write_eof` and dropping the writer all let the flusher send what is buffered,
/// then shut the write direction down (the peer reads EOF). The socket itself is released when
/// the reader is dropped too.
///
/// Dropping the writer closes it, like asyncio's `StreamWriter.__del__`: bind it to a name
/// (`let (r, _w) = ...`), not to `_`, if you only read.
///
/// All methods take `&self`: the writer is `Send + Sync` and may be shared (in an `Arc`)
/// between tasks.
///
/// # Examples
///
/// ```
/// use taskio::streams::{open_unix_connection, start_unix_server, StreamReader, StreamWriter};
///
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("taskio-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let server = start_unix_server(
///         |mut r: StreamReader, w: StreamWriter| async move {
///             let all = r.read_to_end().await?;
///             w.write(&all)?;
///             w.close();
///             w.wait_closed().await
///         },
///         &path,
///     )
///     .await?;
///     let (mut reader, writer) = open_unix_connection(&path).await?;
///     writer.writelines([&b"a"[..], b"b", b"c"])?;
///     writer.write_eof()?;
///     assert_eq!(reader.read_to_end().await?, b"abc");
///     server.close();
///     server.wait_closed().await;
///     let _ = std::fs::remove_file(&path);
///     Ok::<_, taskio::Error>(())
/// }).unwrap();
/// ```
pub struct StreamWriter {
    shared: Arc<Shared>,
    peer: Option<Address>,
    local: Option<Address>,
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("StreamWriter")
            .field("peer", &self.peer)
            .field("buffered", &st.pending())
            .field("closing", &st.closing)
            .field("error", &st.error)
            .finish()
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl StreamWriter {
    /// A writer over `io`, with its flusher task spawned on the current runtime. The
    /// returned `Shared` links a reader to it.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub(crate) fn spawn(
        io: Box<dyn AsyncWrite + Send + Unpin>,
        peer: Option<Address>,
        local: Option<Address>,
    ) -> (StreamWriter, Arc<Shared>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                high: DEFAULT_HIGH_WATER,
                low: DEFAULT_HIGH_WATER / 4,
                ..State::default()
            }),
            read_closed: AtomicBool::new(false),
        });
        let task = taskio_runtime::spawn(flush(shared.clone(), io));
        shared.state.lock().task = Some(task);
        let writer = StreamWriter {
            shared: shared.clone(),
            peer,
            local,
        };
        (writer, shared)
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Buffers `data` for the flusher; never waits. After `write_eof` or `close` it is an
    /// error (asyncio's `RuntimeError`). After the connection is lost or aborted, or closed by
    /// its server ([`Server::close_clients`](crate::Server::close_clients)), the bytes are
    /// dropped and the next [`drain`](Self::drain) reports the loss (as asyncio does).
    pub fn write(&self, data: &[u8]) -> Result<()> {
        let mut st = self.shared.state.lock();
        if st.error.is_some() || st.close_reading {
            // Lost, aborted, or closed by the server (`close_clients`): asyncio's transport
            // drops the bytes; `drain` reports the loss.
            return Ok(());
        }
        if st.eof_requested {
            return Err(Error::runtime(
                "Cannot call write() after write_eof() or close()",
            ));
        }
        if data.is_empty() {
            return Ok(());
        }
        st.buf.extend_from_slice(data);
        if st.pending() > st.high {
            st.paused = true;
        }
        st.wake_flusher();
        Ok(())
    }

    /// Writes each buffer of `lines` in turn (no separator is added).
    pub fn writelines<I, B>(&self, lines: I) -> Result<()>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        for line in lines {
            self.write(line.as_ref())?;
        }
        Ok(())
    }

    /// Flow control: waits while the buffer is above the high-water mark (until the flusher
    /// brings it to the low-water mark). Returns the reader's connection error if it has one,
    /// the write error once the connection is lost, and `ConnectionReset` ("Connection
    /// lost") once a closed writer's flusher is done.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = taskio::runtime::net::UnixStream::pair().unwrap();
    /// let (_r, w) = taskio::streams::from_unix_stream(a);
    /// w.write(b"hello").unwrap();
    /// w.drain().await.unwrap(); // below the high-water mark: at once
    /// # drop(b);
    /// # });
    /// ```
    pub async fn drain(&self) -> Result<()> {
        poll_fn(|cx| {
            // A checkpoint (the buffered data stays, the flusher goes on).
            if let Some(e) = crate::checkpoint::take_cancel() {
                return Poll::Ready(Err(e));
            }
            let mut st = self.shared.state.lock();
            if let Some(e) = &st.reader_error {
                return Poll::Ready(Err(e.clone()));
            }
            if let Some(e) = &st.error {
                return Poll::Ready(Err(e.clone()));
            }
            if st.closed && st.closing {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "Connection lost",
                )
                .into()));
            }
            if !st.paused {
                return Poll::Ready(Ok(()));
            }
            st.wait(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Sets the high- and low-water marks (asyncio's `transport.set_write_buffer_limits`).
    /// `low` defaults to `high / 4`; `low > high` is an error.
    pub fn set_write_buffer_limits(&self, high: usize, low: Option<usize>) -> Result<()> {
        let low = low.unwrap_or(high / 4);
        if low > high {
            return Err(Error::runtime(format!(
                "high ({high}) must be >= low ({low}) must be >= 0"
            )));
        }
        let mut st = self.shared.state.lock();
        st.high = high;
        st.low = low;
        if st.pending() > high {
            st.paused = true;
        } else if st.paused && st.pending() <= low {
            st.paused = false;
            st.wake_waiters();
        }
        Ok(())
    }

    /// Bytes written and not yet handed to the connection.
    pub fn write_buffer_size(&self) -> usize {
        self.shared.state.lock().pending()
    }

    /// Whether [`write_eof`](Self::write_eof) is supported: always, for TCP and Unix sockets.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Sends what is buffered, then shuts the write direction down (the peer reads EOF);
    /// reading continues. Later writes are errors.
    pub fn write_eof(&self) -> Result<()> {
        let mut st = self.shared.state.lock();
        if st.closing {
            return Err(Error::runtime("Cannot call write_eof() after close()"));
        }
        st.eof_requested = true;
        st.wake_flusher();
        Ok(())
    }

    /// Closes the writer: what is buffered is still sent, then the write direction is shut
    /// down. Wait for that with [`wait_closed`](Self::wait_closed).
    pub fn close(&self) {
        self.shared.close();
    }

    /// Closes the connection's write side now: what is buffered is dropped, the flusher is
    /// stopped (asyncio's `transport.abort()`). Later `drain`/`wait_closed` return
    /// `ConnectionAborted` (unless the connection had already closed), and the connection's
    /// [`StreamReader`](super::StreamReader) sees EOF, as asyncio's reader does once its
    /// transport is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (a, _b) = taskio::runtime::net::UnixStream::pair().unwrap();
    /// let (_r, w) = taskio::streams::from_unix_stream(a);
    /// w.write(&vec![0u8; 1 << 20]).unwrap(); // the peer does not read
    /// w.abort();
    /// assert!(w.is_closing());
    /// assert_eq!(w.write_buffer_size(), 0);
    /// assert!(w.wait_closed().await.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.shared.abort();
    }

    /// Whether `close` was called (or the connection is closed or lost).
    pub fn is_closing(&self) -> bool {
        let st = self.shared.state.lock();
        st.closing || st.closed
    }

    /// Waits until the flusher is done: the buffer was sent and the write side shut down
    /// (`Ok`), or the connection was lost (its error).
    pub async fn wait_closed(&self) -> Result<()> {
        poll_fn(|cx| {
            if let Some(e) = crate::checkpoint::take_cancel() {
                return Poll::Ready(Err(e));
            }
            let mut st = self.shared.state.lock();
            if st.closed {
                return Poll::Ready(match &st.error {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                });
            }
            st.wait(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// The peer's address (asyncio's `get_extra_info("peername")`), when known.
    pub fn peername(&self) -> Option<&Address> {
        self.peer.as_ref()
    }

    /// This side's address (asyncio's `get_extra_info("sockname")`), when known.
    pub fn sockname(&self) -> Option<&Address> {
        self.local.as_ref()
    }
}
