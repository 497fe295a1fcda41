//! What a [`StreamReader`](super::StreamReader) reads from: the runtime's own socket halves,
//! read into the buffer's spare capacity as it is, or any `futures_io::AsyncRead`, whose
//! `poll_read` needs initialised memory (the space is zeroed first).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;
use taskio_runtime::net::{tcp, unix};

use super::buffer::StreamBuffer;

/// The read side of a connection.
pub(crate) enum ReadIo {
    /// A TCP connection's read half: read without zeroing.
    Tcp(tcp::OwnedReadHalf),
    /// A Unix-domain connection's read half: read without zeroing.
    Unix(unix::OwnedReadHalf),
    /// Any other transport (`from_io`, `StreamReader::from_async_read`).
    Generic(Box<dyn AsyncRead + Send + Unpin>),
}

impl fmt::Debug for ReadIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadIo::Tcp(r) => f.debug_tuple("Tcp").field(r).finish(),
            ReadIo::Unix(r) => f.debug_tuple("Unix").field(r).finish(),
            ReadIo::Generic(_) => f.write_str("Generic"),
        }
    }
}

impl ReadIo {
    /// One read of at most `max` bytes, appended to `buf`: `Ready(Ok(0))` is EOF, `Pending`
    /// leaves `buf` as it was.
    pub(crate) fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut StreamBuffer,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        let mut pending = false;
        let mut ready = |p: Poll<io::Result<usize>>| match p {
            Poll::Ready(r) => r,
            Poll::Pending => {
                pending = true;
                Ok(0)
            }
        };
        let res = match self {
            // SAFETY: on `Ok(n)`, `poll_read_uninit` has initialised the first `n` bytes of
            // the slice it was given (its documented contract: `read(2)` wrote them); a
            // `Pending` fills nothing and reports `Ok(0)`.
            ReadIo::Tcp(r) => unsafe { buf.fill_uninit(max, |s| ready(r.poll_read_uninit(cx, s))) },
            // SAFETY: as for `Tcp`.
            ReadIo::Unix(r) => unsafe {
                buf.fill_uninit(max, |s| ready(r.poll_read_uninit(cx, s)))
            },
            ReadIo::Generic(r) => {
                buf.fill_with(max, |s| ready(Pin::new(&mut **r).poll_read(cx, s)))
            }
        };
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(res)
        }
    }
}
