//! A model check of [`StreamReader`]: the fuzz target `stream_reader` and the property test in
//! `compat/tests/compat/streams.rs` both call [`check`]. Hidden: not part of taskio's API.
//!
//! The real reader reads a scripted source (data chunks, `Pending` points, then EOF or an
//! error) and is driven by a sequence of reads; a `VecDeque<u8>` model written from asyncio's
//! rules (independently of [`StreamBuffer`](super::StreamBuffer)) reads the same script.
//! Every result must match: bytes, error kind, `IncompleteRead`'s partial bytes and
//! expectation, `LimitOverrun`'s `consumed`. A read can be cancelled at its first `Pending`
//! (its future dropped): then the model checks that nothing it had received is lost.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::StreamReader;
use crate::{Error, ErrorKind, IncompleteRead, LimitOverrun, Result};

/// One step of the source.
#[derive(Clone, Debug)]
pub enum Chunk {
    /// These bytes arrive (at most 255 of them are used).
    Data(Vec<u8>),
    /// The source returns `Pending` once (and wakes the reader at once).
    Pending,
}

/// One read call on the reader.
#[derive(Clone, Debug)]
pub enum Op {
    /// `read(n)`.
    Read(usize),
    /// `read_to_end()`.
    ReadToEnd,
    /// `readline()`.
    Readline,
    /// `readuntil(sep)` (the separator may be empty: an error).
    Readuntil(Vec<u8>),
    /// `readexactly(n)`.
    Readexactly(usize),
    /// `at_eof()`.
    AtEof,
    /// `set_limit(n)`.
    SetLimit(usize),
}

/// A whole scenario.
#[derive(Clone, Debug)]
pub struct Input {
    /// The reader's initial limit.
    pub limit: usize,
    /// What the source delivers.
    pub chunks: Vec<Chunk>,
    /// After the chunks: an error (`true`) or EOF (`false`).
    pub ends_with_error: bool,
    /// The reads, each with "cancel at the first `Pending`".
    pub ops: Vec<(Op, bool)>,
}

/// The scripted source.
struct Script {
    chunks: VecDeque<Chunk>,
    ends_with_error: bool,
}

impl futures_io::AsyncRead for Script {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // An empty read would mean EOF: empty chunks deliver nothing, skip them.
        while matches!(self.chunks.front(), Some(Chunk::Data(d)) if d.is_empty()) {
            self.chunks.pop_front();
        }
        match self.chunks.pop_front() {
            Some(Chunk::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Chunk::Data(mut d)) => {
                d.truncate(255);
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                if n < d.len() {
                    self.chunks.push_front(Chunk::Data(d[n..].to_vec()));
                }
                Poll::Ready(Ok(n))
            }
            None if self.ends_with_error => Poll::Ready(Err(io::ErrorKind::ConnectionReset.into())),
            None => Poll::Ready(Ok(0)),
        }
    }
}

/// What a read gave, in a comparable form.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Bytes(Vec<u8>),
    Bool(bool),
    Incomplete(Vec<u8>, Option<usize>),
    Overrun(usize),
    Kind(ErrorKind),
    Cancelled,
}

fn outcome(r: Result<Vec<u8>>) -> Outcome {
    match r {
        Ok(b) => Outcome::Bytes(b),
        Err(e) => error_outcome(&e),
    }
}

fn error_outcome(e: &Error) -> Outcome {
    match e.kind() {
        ErrorKind::IncompleteRead => match e.downcast_ref::<IncompleteRead>() {
            Some(p) => Outcome::Incomplete(p.partial.clone(), p.expected),
            None => Outcome::Kind(ErrorKind::IncompleteRead),
        },
        ErrorKind::LimitOverrun => match e.downcast_ref::<LimitOverrun>() {
            Some(p) => Outcome::Overrun(p.consumed),
            None => Outcome::Kind(ErrorKind::LimitOverrun),
        },
        k => Outcome::Kind(k),
    }
}

/// The model: asyncio's rules over a `VecDeque`.
struct Model {
    buf: VecDeque<u8>,
    eof: bool,
    error: bool,
    limit: usize,
    chunks: VecDeque<Chunk>,
    ends_with_error: bool,
}

enum Step<T> {
    Done(T),
    NeedData,
}

impl Model {
    fn take(&mut self, n: usize) -> Vec<u8> {
        self.buf.drain(..n).collect()
    }

    /// Runs one op to completion, receiving from the script as needed.
    fn run(&mut self, op: &Op, cancel: bool) -> Outcome {
        loop {
            if let Step::Done(out) = self.attempt(op) {
                return out;
            }
            match self.chunks.pop_front() {
                Some(Chunk::Data(mut d)) => {
                    d.truncate(255);
                    self.buf.extend(d);
                }
                Some(Chunk::Pending) => {
                    if cancel {
                        return Outcome::Cancelled;
                    }
                }
                None if self.ends_with_error => self.error = true,
                None => self.eof = true,
            }
        }
    }

    fn find(&self, sep: &[u8]) -> Option<usize> {
        if self.buf.len() < sep.len() {
            return None;
        }
        (0..=self.buf.len() - sep.len())
            .find(|&i| sep.iter().enumerate().all(|(j, b)| self.buf[i + j] == *b))
    }

    fn attempt(&mut self, op: &Op) -> Step<Outcome> {
        use Step::*;
        match op {
            Op::AtEof => return Done(Outcome::Bool(self.eof && self.buf.is_empty())),
            Op::SetLimit(n) => {
                self.limit = *n;
                return Done(Outcome::Bool(true));
            }
            Op::Readuntil(sep) if sep.is_empty() => return Done(Outcome::Kind(ErrorKind::Value)),
            _ => {}
        }
        if self.error {
            return Done(Outcome::Kind(ErrorKind::Io));
        }
        match op {
            Op::Read(0) => Done(Outcome::Bytes(Vec::new())),
            Op::Read(n) => {
                if self.buf.is_empty() && !self.eof {
                    return NeedData;
                }
                let n = (*n).min(self.buf.len());
                Done(Outcome::Bytes(self.take(n)))
            }
            Op::ReadToEnd => {
                if !self.eof {
                    return NeedData;
                }
                let n = self.buf.len();
                Done(Outcome::Bytes(self.take(n)))
            }
            Op::Readexactly(n) => {
                if self.buf.len() >= *n {
                    Done(Outcome::Bytes(self.take(*n)))
                } else if self.eof {
                    let n2 = self.buf.len();
                    Done(Outcome::Incomplete(self.take(n2), Some(*n)))
                } else {
                    NeedData
                }
            }
            Op::Readuntil(sep) => self.readuntil(sep),
            Op::Readline => match self.readuntil(b"\n") {
                Done(Outcome::Incomplete(partial, _)) => Done(Outcome::Bytes(partial)),
                other => other,
            },
            Op::AtEof | Op::SetLimit(_) => unreachable!("handled above"),
        }
    }

    fn readuntil(&mut self, sep: &[u8]) -> Step<Outcome> {
        if let Some(i) = self.find(sep) {
            if i > self.limit {
                return Step::Done(Outcome::Overrun(i));
            }
            return Step::Done(Outcome::Bytes(self.take(i + sep.len())));
        }
        if self.buf.len() >= sep.len() && self.buf.len() + 1 - sep.len() > self.limit {
            return Step::Done(Outcome::Overrun(self.buf.len() + 1 - sep.len()));
        }
        if self.eof {
            let n = self.buf.len();
            return Step::Done(Outcome::Incomplete(self.take(n), None));
        }
        Step::NeedData
    }
}

/// Polls `fut` until ready (the script always makes progress); `None` if `cancel` and it
/// returned `Pending` (the future is then dropped).
fn drive<F: std::future::Future>(fut: F, cancel: bool) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let waker = crate::__testing::noop_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return Some(out),
            Poll::Pending if cancel => return None,
            Poll::Pending => {}
        }
    }
}

/// Runs `input` on the real reader and on the model; panics at the first difference.
pub fn check(input: &Input) {
    let mut reader = StreamReader::from_async_read(Script {
        chunks: input.chunks.iter().cloned().collect(),
        ends_with_error: input.ends_with_error,
    })
    .with_limit(input.limit);
    let mut model = Model {
        buf: VecDeque::new(),
        eof: false,
        error: false,
        limit: input.limit,
        chunks: input.chunks.iter().cloned().collect(),
        ends_with_error: input.ends_with_error,
    };
    for (i, (op, cancel)) in input.ops.iter().enumerate() {
        let cancel = *cancel;
        let real = match op {
            Op::AtEof => Outcome::Bool(reader.at_eof()),
            Op::SetLimit(n) => {
                reader.set_limit(*n);
                Outcome::Bool(true)
            }
            Op::Read(n) => drive(reader.read(*n), cancel).map_or(Outcome::Cancelled, outcome),
            Op::ReadToEnd => {
                drive(reader.read_to_end(), cancel).map_or(Outcome::Cancelled, outcome)
            }
            Op::Readline => drive(reader.readline(), cancel).map_or(Outcome::Cancelled, outcome),
            Op::Readuntil(sep) => {
                drive(reader.readuntil(sep), cancel).map_or(Outcome::Cancelled, outcome)
            }
            Op::Readexactly(n) => {
                drive(reader.readexactly(*n), cancel).map_or(Outcome::Cancelled, outcome)
            }
        };
        let expected = model.run(op, cancel);
        assert_eq!(
            real, expected,
            "op #{i} {op:?} (cancel: {cancel}) differs from the model; input: {input:?}"
        );
        if !model.error {
            assert_eq!(
                reader.buffered(),
                model.buf.iter().copied().collect::<Vec<_>>().as_slice(),
                "buffer differs after op #{i} {op:?}; input: {input:?}"
            );
        }
    }
}
