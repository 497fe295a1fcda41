//! [`StreamReader`]: a [`StreamBuffer`] filled from the read half of a connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::buffer::{StreamBuffer, DEFAULT_LIMIT};
use super::read_io::ReadIo;
use super::writer::Shared;
use crate::{Error, Result};

/// How many bytes one read from the connection asks for at most.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// The reading end of a connection: asyncio's `StreamReader`.
///
/// Reads are lazy: bytes are taken from the connection only when a read call needs more than
/// is buffered, so a reader that is not read applies back-pressure to its peer through TCP's
/// window (asyncio pauses the transport instead; the effect is the same).
///
/// # One read at a time
///
/// asyncio raises `RuntimeError` when two coroutines read one reader at once. Every read here
/// takes `&mut self`, so the borrow checker forbids it at compile time:
///
/// ```compile_fail
/// # async fn f(mut reader: taskio::StreamReader) {
/// let a = reader.readline();
/// let b = reader.readline(); // error[E0499]: second mutable borrow
/// # drop(a);
/// # }
/// ```
///
/// # Cancel safety
///
/// Every read is cancel-safe: dropping a read future before it completes leaves all the bytes
/// it had received in the buffer, for the next read.
///
/// # Errors
///
/// A connection error is sticky: every later read returns it (asyncio's `exception()`), and
/// the [`StreamWriter`](super::StreamWriter)'s `drain` re-raises it.
///
/// # Examples
///
/// ```
/// use taskio::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// taskio::runtime::Runtime::new().unwrap().block_on(async {
///     let server = start_server(
///         |mut r: StreamReader, w: StreamWriter| async move {
///             let line = r.readline().await?;
///             w.write(&line)?;
///             w.drain().await
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.sockets()[0].as_inet().unwrap().port();
///     let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
///     writer.write(b"ping\n")?;
///     writer.drain().await?;
///     assert_eq!(reader.readline().await?, b"ping\n");
///     Ok::<_, taskio::Error>(())
/// }).unwrap();
/// ```
pub struct StreamReader {
    buf: StreamBuffer,
    io: ReadIo,
    shared: Option<Arc<Shared>>,
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buf.len())
            .field("eof", &self.buf.eof_received())
            .field("limit", &self.buf.limit())
            .field("exception", &self.buf.exception())
            .finish()
    }
}

impl StreamReader {
    /// A reader over any `futures_io::AsyncRead`, with the default 64 KiB limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let mut reader = taskio::StreamReader::from_async_read(&b"a\nb"[..]);
    /// assert_eq!(reader.readline().await.unwrap(), b"a\n");
    /// assert_eq!(reader.readline().await.unwrap(), b"b");
    /// assert!(reader.at_eof());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn from_async_read<R>(io: R) -> StreamReader
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        StreamReader::new(ReadIo::Generic(Box::new(io)), None)
    }

    pub(crate) fn new(io: ReadIo, shared: Option<Arc<Shared>>) -> StreamReader {
        StreamReader {
            buf: StreamBuffer::new(DEFAULT_LIMIT),
            io,
            shared,
        }
    }

    /// Sets the `readuntil`/`readline` limit (asyncio's `limit=` argument of
    /// `open_connection` / `start_server`). Reads are lazy, so setting it right after
    /// connecting is the same as passing it at connect time.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let mut reader = taskio::StreamReader::from_async_read(&b"too long\n"[..]).with_limit(3);
    /// let err = reader.readline().await.unwrap_err();
    /// assert_eq!(err.kind(), taskio::ErrorKind::LimitOverrun);
    /// // Nothing was lost.
    /// assert_eq!(reader.read_to_end().await.unwrap(), b"too long\n");
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn with_limit(mut self, limit: usize) -> StreamReader {
        self.buf.set_limit(limit);
        self
    }

    /// Sets the limit in place (see [`with_limit`](Self::with_limit)).
    pub fn set_limit(&mut self, limit: usize) {
        self.buf.set_limit(limit);
    }

    /// The `readuntil`/`readline` limit.
    pub fn limit(&self) -> usize {
        self.buf.limit()
    }

    /// The bytes received and not read yet.
    pub fn buffered(&self) -> &[u8] {
        self.buf.buffered()
    }

    /// Whether EOF was received and the buffer is empty. Does not read.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let mut reader = taskio::StreamReader::from_async_read(&b"x"[..]);
    /// assert!(!reader.at_eof());
    /// assert_eq!(reader.read(10).await.unwrap(), b"x");
    /// assert_eq!(reader.read(10).await.unwrap(), b""); // EOF
    /// assert!(reader.at_eof());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub fn at_eof(&self) -> bool {
        self.buf.at_eof()
    }

    /// The connection error every read now returns, if any (asyncio's `exception()`).
    pub fn exception(&self) -> Option<&Error> {
        self.buf.exception()
    }

    /// Reads from the connection once into the buffer: data, EOF or an error. `Ready(Some(e))`
    /// is a cancellation delivered at the read (the runtime's I/O checkpoint, or this
    /// reader's own when it would wait): it ends this read only, it is no connection error.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Option<Error>> {
        if self.shared.as_ref().is_some_and(|s| s.read_closed()) {
            // The connection was aborted or closed by its writer's transport: EOF.
            self.buf.feed_eof();
            return Poll::Ready(None);
        }
        let res = loop {
            let Poll::Ready(res) = self.io.poll_read_into(cx, &mut self.buf, READ_CHUNK) else {
                if self
                    .shared
                    .as_ref()
                    .is_some_and(|s| s.park_reader(cx.waker()))
                {
                    self.buf.feed_eof();
                    return Poll::Ready(None);
                }
                // A checkpoint (for transports that are not the runtime's own sockets).
                return match crate::checkpoint::take_cancel() {
                    Some(e) => Poll::Ready(Some(e)),
                    None => Poll::Pending,
                };
            };
            match res {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if taskio_runtime::task::Cancelled::is_cancelled_io(&e) => {
                    return Poll::Ready(Some(Error::from(e)));
                }
                other => break other,
            }
        };
        match res {
            Ok(0) => self.buf.feed_eof(),
            Ok(_) => {}
            Err(e) => {
                let err = Error::from(e);
                if let Some(shared) = &self.shared {
                    shared.set_reader_error(err.clone());
                }
                self.buf.set_exception(err);
            }
        }
        Poll::Ready(None)
    }

    async fn drive(
        &mut self,
        mut attempt: impl FnMut(&mut StreamBuffer) -> Poll<Result<Vec<u8>>>,
    ) -> Result<Vec<u8>> {
        poll_fn(|cx| loop {
            if let Poll::Ready(r) = attempt(&mut self.buf) {
                return Poll::Ready(r);
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(cancelled)) => return Poll::Ready(Err(cancelled)),
                Poll::Ready(None) => {}
            }
        })
        .await
    }

    /// Up to `n` bytes: waits until at least one byte (or EOF) is there. `read(0)` is empty at
    /// once; at EOF the result is empty. asyncio's `read(-1)` is [`read_to_end`](Self::read_to_end).
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>> {
        self.drive(|b| b.try_read(n)).await
    }

    /// Everything until EOF (asyncio's `read(-1)`). Not bounded by the limit.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>> {
        self.drive(StreamBuffer::try_read_to_end).await
    }

    /// One line, `\n` included. At EOF, the partial last line (empty once all is read).
    /// A line longer than the limit returns `LimitOverrun` and stays buffered (asyncio discards
    /// it and raises `ValueError`; here nothing is lost).
    pub async fn readline(&mut self) -> Result<Vec<u8>> {
        self.drive(StreamBuffer::try_readline).await
    }

    /// Exactly `n` bytes. EOF first: `IncompleteRead(partial, Some(n))`, with every byte left.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let mut reader = taskio::StreamReader::from_async_read(&b"abc"[..]);
    /// let err = reader.readexactly(5).await.unwrap_err();
    /// let taskio::IncompleteRead { partial, expected } = err.downcast_ref().unwrap();
    /// assert_eq!((&partial[..], *expected), (&b"abc"[..], Some(5)));
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>> {
        self.drive(|b| b.try_readexactly(n)).await
    }

    /// Bytes up to and including `separator` (not empty). EOF first:
    /// `IncompleteRead(all, None)` and the buffer is cleared. Over the limit:
    /// `LimitOverrun(consumed)` and the data stays buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// # taskio::run(async {
    /// let mut reader = taskio::StreamReader::from_async_read(&b"a\r\nb"[..]);
    /// assert_eq!(reader.readuntil(b"\r\n").await.unwrap(), b"a\r\n");
    /// let err = reader.readuntil(b"\r\n").await.unwrap_err();
    /// assert_eq!(err.kind(), taskio::ErrorKind::IncompleteRead);
    /// let incomplete = err.downcast_ref::<taskio::IncompleteRead>().unwrap();
    /// assert_eq!(incomplete.partial, b"b");
    /// assert!(reader.readuntil(b"").await.is_err());
    /// # Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>> {
        self.drive(|b| b.try_readuntil(separator)).await
    }
}
