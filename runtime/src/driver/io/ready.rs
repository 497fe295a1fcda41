//! Readiness bits, interests and directions.

use std::fmt;
use std::ops;

/// A set of readiness bits, as the reactor last saw them for one registration.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ready(usize);

impl Ready {
    /// Nothing is ready.
    pub(crate) const EMPTY: Ready = Ready(0);
    /// Data can be read (or a connection accepted) without blocking.
    pub(crate) const READABLE: Ready = Ready(1 << 0);
    /// Data can be written (or a connect finished) without blocking.
    pub(crate) const WRITABLE: Ready = Ready(1 << 1);
    /// The read side is closed (hang-up). Sticky: [`Ready::clearable`] never clears it.
    pub(crate) const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write side is closed (hang-up). Sticky: [`Ready::clearable`] never clears it.
    pub(crate) const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The socket has a pending error: delivered to readers and writers alike.
    pub(crate) const ERROR: Ready = Ready(1 << 4);
    /// All the bits above.
    pub(crate) const ALL: Ready = Ready(0b1_1111);

    /// Builds readiness from a `polling` event. Hang-up and error wake both directions.
    pub(crate) fn from_event(ev: &polling::Event) -> Ready {
        let mut r = Ready::EMPTY;
        if ev.readable {
            r |= Ready::READABLE;
        }
        if ev.writable {
            r |= Ready::WRITABLE;
        }
        if ev.is_interrupt() {
            r |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        }
        if ev.is_err() == Some(true) {
            r |= Ready::ERROR;
        }
        r
    }

    pub(crate) const fn from_usize(bits: usize) -> Ready {
        Ready(bits & Ready::ALL.0)
    }

    pub(crate) const fn as_usize(self) -> usize {
        self.0
    }

    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) const fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits a `WouldBlock` may clear: closed bits stay once seen.
    pub(crate) const fn clearable(self) -> Ready {
        Ready(self.0 & !(Ready::READ_CLOSED.0 | Ready::WRITE_CLOSED.0))
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("readable", &self.contains(Ready::READABLE))
            .field("writable", &self.contains(Ready::WRITABLE))
            .field("read_closed", &self.contains(Ready::READ_CLOSED))
            .field("write_closed", &self.contains(Ready::WRITE_CLOSED))
            .field("error", &self.contains(Ready::ERROR))
            .finish()
    }
}

/// One of the two independent halves of a registration: each has its own readiness and
/// its own waker slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readers, acceptors, `recv`.
    Read,
    /// Writers, connectors, `send`.
    Write,
}

impl Direction {
    /// The readiness bits that let a waiter of this direction proceed.
    pub(crate) const fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::ERROR.0),
            Direction::Write => Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0),
        }
    }
}
