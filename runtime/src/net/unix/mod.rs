//! Unix-domain stream sockets: [`UnixListener`], [`UnixStream`] and the owned halves of a
//! split stream.

mod listener;
mod split;
mod stream;

pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::UnixStream;
