//! The `stream_reader` target: arbitrary bytes in arbitrary chunks (with `Pending` points),
//! then EOF or an error, read by an arbitrary sequence of reads (each possibly cancelled at its
//! first `Pending`), checked by `taskio::streams::model::check`.

use arbitrary::Arbitrary;
use taskio::streams::model::{check, Chunk, Input, Op};

/// A chunk of the source.
#[derive(Arbitrary, Debug)]
pub enum FuzzChunk {
    /// Bytes as given.
    Data(Vec<u8>),
    /// Bytes from a four-letter alphabet (`\n`, `\r`, `a`, `b`), so that separators match
    /// often.
    Text(Vec<u8>),
    /// The source is not ready once.
    Pending,
}

/// A read.
#[derive(Arbitrary, Debug)]
pub enum FuzzOp {
    /// `read(n)`.
    Read(u8),
    /// `read_to_end()`.
    ReadToEnd,
    /// `readline()`.
    Readline,
    /// `readuntil(sep)`, the separator cut to 3 bytes of the alphabet (may be empty).
    Readuntil(Vec<u8>),
    /// `readexactly(n)`.
    Readexactly(u8),
    /// `at_eof()`.
    AtEof,
    /// `set_limit(n)`.
    SetLimit(u8),
}

/// One scenario.
#[derive(Arbitrary, Debug)]
pub struct FuzzInput {
    limit: u8,
    chunks: Vec<FuzzChunk>,
    ends_with_error: bool,
    ops: Vec<(FuzzOp, bool)>,
}

fn text(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| b"\n\rab"[usize::from(b % 4)])
        .collect()
}

/// Runs one scenario; panics if the reader and the model differ.
pub fn run(input: &FuzzInput) {
    let chunks = input
        .chunks
        .iter()
        .map(|c| match c {
            FuzzChunk::Data(d) => Chunk::Data(d.clone()),
            FuzzChunk::Text(d) => Chunk::Data(text(d)),
            FuzzChunk::Pending => Chunk::Pending,
        })
        .collect();
    let ops = input
        .ops
        .iter()
        .map(|(op, cancel)| {
            let op = match op {
                FuzzOp::Read(n) => Op::Read(usize::from(*n)),
                FuzzOp::ReadToEnd => Op::ReadToEnd,
                FuzzOp::Readline => Op::Readline,
                FuzzOp::Readuntil(sep) => Op::Readuntil(text(&sep[..sep.len().min(3)])),
                FuzzOp::Readexactly(n) => Op::Readexactly(usize::from(*n)),
                FuzzOp::AtEof => Op::AtEof,
                FuzzOp::SetLimit(n) => Op::SetLimit(usize::from(*n)),
            };
            (op, *cancel)
        })
        .collect();
    check(&Input {
        limit: usize::from(input.limit),
        chunks,
        ends_with_error: input.ends_with_error,
        ops,
    });
}
