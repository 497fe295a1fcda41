//! The reader's buffer: asyncio's `StreamReader` parsing rules, pure and synchronous.
//!
//! [`StreamBuffer`] holds the bytes received and not yet returned, whether EOF was seen, and
//! a sticky error. Each `try_*` method is one attempt of the matching `StreamReader` call:
//! `Poll::Ready` with its result, or `Poll::Pending` when it needs more data (the caller
//! feeds more with [`feed_data`](StreamBuffer::feed_data) / [`feed_eof`](StreamBuffer::feed_eof)
//! and tries again). A `Pending` attempt changes nothing, so an attempt can be abandoned at any
//! time (that is what makes the async reads cancel-safe) and no I/O is needed to test it.
//!
//! The rules, from CPython 3.13's `asyncio/streams.py`:
//!
//! - An error set with [`set_exception`](StreamBuffer::set_exception) is returned by every
//!   later attempt, before anything else (data still buffered is not returned).
//! - `read(0)` is empty; `read(n)` returns what is buffered (at most `n`), waiting only while
//!   nothing is; at EOF it is empty.
//! - `readexactly(n)` at EOF with fewer bytes: `IncompleteRead(all, Some(n))`, buffer cleared.
//! - `readuntil(sep)`: empty `sep` is an error. Found at index `i > limit`: `LimitOverrun(i)`.
//!   Not found and `len + 1 - sep.len() > limit`: `LimitOverrun(len + 1 - sep.len())`. EOF
//!   first: `IncompleteRead(all, None)`, buffer cleared. A `LimitOverrun` leaves the data
//!   buffered.
//! - `readline()` is `readuntil(b"\n")` that returns the partial last line at EOF. Unlike
//!   asyncio (which discards the over-long line and raises `ValueError`), an over-long line
//!   returns `LimitOverrun` and stays buffered: bad input loses nothing.

use std::mem::MaybeUninit;
use std::task::Poll;

use crate::{Error, Result};

/// The default limit of a reader's buffer for `readuntil`/`readline`: 64 KiB, as asyncio.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// Compact the consumed prefix away once it is at least this long and half the vector.
const COMPACT_AT: usize = 4096;

/// asyncio's parsing state of a `StreamReader`, without the I/O. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::task::Poll;
/// use taskio::streams::StreamBuffer;
///
/// let mut buf = StreamBuffer::new(64 * 1024);
/// buf.feed_data(b"hello\nwor");
/// assert_eq!(buf.try_readline().map(|r| r.unwrap()), Poll::Ready(b"hello\n".to_vec()));
/// assert!(buf.try_readline().is_pending()); // "wor" has no newline yet
/// buf.feed_eof();
/// assert_eq!(buf.try_readline().map(|r| r.unwrap()), Poll::Ready(b"wor".to_vec()));
/// assert!(buf.at_eof());
/// ```
#[derive(Debug)]
pub struct StreamBuffer {
    /// Bytes `data[head..]` are buffered; `data[..head]` were consumed.
    data: Vec<u8>,
    head: usize,
    eof: bool,
    exception: Option<Error>,
    limit: usize,
    /// `readuntil` resumes its search here: no match starts before it (for `scan_sep`).
    /// Reset whenever bytes are consumed.
    scan_from: usize,
    scan_sep: Vec<u8>,
}

impl StreamBuffer {
    /// An empty buffer with the given `readuntil`/`readline` limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = taskio::streams::StreamBuffer::new(10);
    /// assert_eq!(buf.limit(), 10);
    /// assert!(buf.is_empty());
    /// ```
    pub fn new(limit: usize) -> StreamBuffer {
        StreamBuffer {
            data: Vec::new(),
            head: 0,
            eof: false,
            exception: None,
            limit,
            scan_from: 0,
            scan_sep: Vec::new(),
        }
    }

    /// The limit used by `readuntil` and `readline`.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = taskio::streams::StreamBuffer::new(10);
    /// buf.set_limit(3);
    /// buf.feed_data(b"abcdef");
    /// let err = buf.try_readline().map(|r| r.unwrap_err());
    /// let consumed = err.map(|e| e.downcast_ref::<taskio::LimitOverrun>().unwrap().consumed);
    /// assert_eq!(consumed, std::task::Poll::Ready(6));
    /// ```
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The bytes buffered.
    pub fn buffered(&self) -> &[u8] {
        &self.data[self.head..]
    }

    /// How many bytes are buffered.
    pub fn len(&self) -> usize {
        self.data.len() - self.head
    }

    /// Whether no byte is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether EOF was fed (bytes may still be buffered).
    pub fn eof_received(&self) -> bool {
        self.eof
    }

    /// asyncio's `at_eof()`: EOF was fed and the buffer is empty.
    pub fn at_eof(&self) -> bool {
        self.eof && self.is_empty()
    }

    /// The sticky error, if one was set.
    pub fn exception(&self) -> Option<&Error> {
        self.exception.as_ref()
    }

    /// Appends received bytes. Data fed after EOF is ignored (asyncio asserts instead).
    pub fn feed_data(&mut self, bytes: &[u8]) {
        if !self.eof {
            self.data.extend_from_slice(bytes);
        }
    }

    /// Marks EOF: no more data will come.
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// Sets the error every later read returns.
    pub fn set_exception(&mut self, error: Error) {
        self.exception = Some(error);
    }

    /// Gives `f` up to `max` bytes of writable space at the end of the buffer; `f` returns how
    /// many it filled (its error is passed through). For the reader's I/O.
    pub(crate) fn fill_with<E>(
        &mut self,
        max: usize,
        f: impl FnOnce(&mut [u8]) -> std::result::Result<usize, E>,
    ) -> std::result::Result<usize, E> {
        self.compact();
        let len = self.data.len();
        self.data.resize(len + max, 0);
        let res = f(&mut self.data[len..]);
        let filled = match &res {
            Ok(n) => (*n).min(max),
            Err(_) => 0,
        };
        self.data.truncate(len + filled);
        res
    }

    /// [`fill_with`](Self::fill_with) without zeroing the space first: `f` gets up to `max`
    /// bytes of the vector's spare capacity, uninitialised, for a read that writes into it
    /// as it is (the runtime's sockets' `poll_read_uninit`).
    ///
    /// # Safety
    ///
    /// When `f` returns `Ok(n)`, it must have initialised the first `n` bytes of the slice it
    /// was given (for `n` past the slice's length, all of it).
    pub(crate) unsafe fn fill_uninit<E>(
        &mut self,
        max: usize,
        f: impl FnOnce(&mut [MaybeUninit<u8>]) -> std::result::Result<usize, E>,
    ) -> std::result::Result<usize, E> {
        self.compact();
        self.data.reserve(max);
        let len = self.data.len();
        let res = f(&mut self.data.spare_capacity_mut()[..max]);
        if let Ok(n) = &res {
            // SAFETY: `f` initialised the first `n` (at most `max`) bytes of the spare
            // capacity (the caller's promise), and `reserve(max)` made `max` bytes of it.
            unsafe { self.data.set_len(len + (*n).min(max)) };
        }
        res
    }

    fn compact(&mut self) {
        if self.head >= COMPACT_AT && self.head * 2 >= self.data.len() {
            self.data.drain(..self.head);
            self.head = 0;
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.data[self.head..self.head + n].to_vec();
        self.head += n;
        if self.head == self.data.len() {
            self.data.clear();
            self.head = 0;
        }
        self.scan_from = 0;
        out
    }

    fn take_all(&mut self) -> Vec<u8> {
        self.take(self.len())
    }

    fn check_exception(&self) -> Result<()> {
        match &self.exception {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One attempt of `read(n)`.
    pub fn try_read(&mut self, n: usize) -> Poll<Result<Vec<u8>>> {
        if let Err(e) = self.check_exception() {
            return Poll::Ready(Err(e));
        }
        if n == 0 {
            return Poll::Ready(Ok(Vec::new()));
        }
        if self.is_empty() && !self.eof {
            return Poll::Pending;
        }
        let n = n.min(self.len());
        Poll::Ready(Ok(self.take(n)))
    }

    /// One attempt of `read(-1)`: everything, once EOF was fed.
    pub fn try_read_to_end(&mut self) -> Poll<Result<Vec<u8>>> {
        if let Err(e) = self.check_exception() {
            return Poll::Ready(Err(e));
        }
        if !self.eof {
            return Poll::Pending;
        }
        Poll::Ready(Ok(self.take_all()))
    }

    /// One attempt of `readexactly(n)`.
    pub fn try_readexactly(&mut self, n: usize) -> Poll<Result<Vec<u8>>> {
        if let Err(e) = self.check_exception() {
            return Poll::Ready(Err(e));
        }
        if self.len() >= n {
            return Poll::Ready(Ok(self.take(n)));
        }
        if self.eof {
            let partial = self.take_all();
            return Poll::Ready(Err(Error::incomplete_read(partial, Some(n))));
        }
        Poll::Pending
    }

    /// One attempt of `readuntil(sep)`.
    pub fn try_readuntil(&mut self, sep: &[u8]) -> Poll<Result<Vec<u8>>> {
        if sep.is_empty() {
            return Poll::Ready(Err(Error::value(
                "Separator should be at least one-byte string",
            )));
        }
        if let Err(e) = self.check_exception() {
            return Poll::Ready(Err(e));
        }
        if self.scan_sep != sep {
            self.scan_sep.clear();
            self.scan_sep.extend_from_slice(sep);
            self.scan_from = 0;
        }
        let buffered = &self.data[self.head..];
        let buflen = buffered.len();
        if buflen >= sep.len() {
            if let Some(i) = find(buffered, sep, self.scan_from) {
                if i > self.limit {
                    return Poll::Ready(Err(Error::limit_overrun(
                        "Separator is found, but chunk is longer than limit",
                        i,
                    )));
                }
                return Poll::Ready(Ok(self.take(i + sep.len())));
            }
            let offset = buflen + 1 - sep.len();
            self.scan_from = offset;
            if offset > self.limit {
                return Poll::Ready(Err(Error::limit_overrun(
                    "Separator is not found, and chunk exceed the limit",
                    offset,
                )));
            }
        }
        if self.eof {
            let partial = self.take_all();
            return Poll::Ready(Err(Error::incomplete_read(partial, None)));
        }
        Poll::Pending
    }

    /// One attempt of `readline()`: `readuntil(b"\n")`, with the partial last line at EOF.
    pub fn try_readline(&mut self) -> Poll<Result<Vec<u8>>> {
        match self.try_readuntil(b"\n") {
            Poll::Ready(Err(e)) if e.kind() == crate::ErrorKind::IncompleteRead => {
                // The error is new, not shared: the bytes move out of it.
                Poll::Ready(Ok(match e.downcast::<crate::IncompleteRead>() {
                    Ok(p) => p.partial,
                    Err(shared) => shared
                        .downcast_ref::<crate::IncompleteRead>()
                        .map(|p| p.partial.clone())
                        .unwrap_or_default(),
                }))
            }
            other => other,
        }
    }
}

/// The first index `>= from` where `needle` (non-empty) starts in `hay`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = from;
    while i <= last_start {
        let pos = hay[i..=last_start].iter().position(|&b| b == first)?;
        i += pos;
        if &hay[i + 1..i + needle.len()] == rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready<T>(p: Poll<T>) -> T {
        match p {
            Poll::Ready(t) => t,
            Poll::Pending => panic!("pending"),
        }
    }

    #[test]
    fn find_matches_naive() {
        let hay = b"abcabcabd";
        assert_eq!(find(hay, b"abd", 0), Some(6));
        assert_eq!(find(hay, b"abc", 1), Some(3));
        assert_eq!(find(hay, b"x", 0), None);
        assert_eq!(find(b"ab", b"abc", 0), None);
    }

    #[test]
    fn readuntil_resumes_across_chunks() {
        let mut b = StreamBuffer::new(100);
        b.feed_data(b"xx\r");
        assert!(b.try_readuntil(b"\r\n").is_pending());
        b.feed_data(b"\nyy");
        assert_eq!(ready(b.try_readuntil(b"\r\n")).unwrap(), b"xx\r\n");
        assert_eq!(b.buffered(), b"yy");
    }

    #[test]
    fn overrun_keeps_data() {
        let mut b = StreamBuffer::new(4);
        b.feed_data(b"0123456789\nrest");
        let e = ready(b.try_readline()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::LimitOverrun);
        assert_eq!(
            e.downcast_ref::<crate::LimitOverrun>().unwrap().consumed,
            10
        );
        assert_eq!(ready(b.try_readexactly(11)).unwrap(), b"0123456789\n");
    }

    #[test]
    fn compaction_keeps_bytes() {
        let mut b = StreamBuffer::new(DEFAULT_LIMIT);
        let mut expect = Vec::new();
        let mut got = Vec::new();
        for i in 0..10_000u32 {
            let bytes = i.to_le_bytes();
            expect.extend_from_slice(&bytes);
            b.fill_with(4, |spare| {
                spare.copy_from_slice(&bytes);
                Ok::<_, ()>(4)
            })
            .unwrap();
            if i % 3 == 0 {
                got.extend(ready(b.try_read(5)).unwrap());
            }
        }
        b.feed_eof();
        got.extend(ready(b.try_read_to_end()).unwrap());
        assert_eq!(got, expect);
    }

    #[test]
    fn fill_uninit_keeps_what_was_filled_only() {
        let mut b = StreamBuffer::new(DEFAULT_LIMIT);
        b.feed_data(b"ab");
        // SAFETY: the closure initialises the 3 bytes it reports.
        let n = unsafe {
            b.fill_uninit(16, |spare| {
                assert_eq!(spare.len(), 16);
                for (d, s) in spare.iter_mut().zip(b"cde") {
                    d.write(*s);
                }
                Ok::<_, ()>(3)
            })
        };
        assert_eq!(n, Ok(3));
        assert_eq!(b.buffered(), b"abcde");
        // SAFETY: an error reports nothing filled.
        let err = unsafe { b.fill_uninit(16, |_| Err::<usize, _>("boom")) };
        assert_eq!(err, Err("boom"));
        assert_eq!(b.buffered(), b"abcde");
        assert_eq!(ready(b.try_read(10)).unwrap(), b"abcde");
    }
}
