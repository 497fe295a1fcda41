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
    /// Urgent data was reported (`EPOLLPRI`) at least once. Sticky, and in no direction's
    /// [mask](Direction::mask): it lets nobody proceed by itself (the event that brings it
    /// is readable too), it only stops a short read from clearing readiness
    /// (`ScheduledIo::clear_after_short_read`), since a TCP read stops short at the urgent
    /// mark with bytes still queued.
    pub(crate) const PRIORITY: Ready = Ready(1 << 5);
    /// All the bits above.
    pub(crate) const ALL: Ready = Ready(0b11_1111);

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
        if ev.is_priority() {
            r |= Ready::PRIORITY;
        }
        r
    }

    /// Builds readiness from raw epoll flags, with the meaning `polling` gives them (readable:
    /// `IN`, `PRI`, `HUP` or `ERR`; writable: `OUT`, `HUP` or `ERR`; hang-up: `HUP`;
    /// priority: `PRI`), so [`Ready::from_event`] and this agree on every event `polling`
    /// can report. One more, which `polling` cannot register: `RDHUP` (the peer shut its
    /// write side down) is readable and `READ_CLOSED`.
    #[cfg(target_os = "linux")]
    pub(crate) fn from_epoll(flags: rustix::event::epoll::EventFlags) -> Ready {
        use rustix::event::epoll::EventFlags as F;
        let mut r = Ready::EMPTY;
        if flags.intersects(F::IN | F::PRI | F::HUP | F::ERR | F::RDHUP) {
            r |= Ready::READABLE;
        }
        if flags.contains(F::RDHUP) {
            r |= Ready::READ_CLOSED;
        }
        if flags.contains(F::PRI) {
            r |= Ready::PRIORITY;
        }
        if flags.intersects(F::OUT | F::HUP | F::ERR) {
            r |= Ready::WRITABLE;
        }
        if flags.contains(F::HUP) {
            r |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        }
        if flags.contains(F::ERR) {
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

    /// The bits a `WouldBlock` may clear: closed bits and priority stay once seen.
    pub(crate) const fn clearable(self) -> Ready {
        Ready(self.0 & !(Ready::READ_CLOSED.0 | Ready::WRITE_CLOSED.0 | Ready::PRIORITY.0))
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
            .field("priority", &self.contains(Ready::PRIORITY))
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

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use super::Ready;
    use rustix::event::epoll::EventFlags as F;

    /// The driver's own epoll decoding gives what `polling`'s decoding gave for the same
    /// kernel flags (`polling` reports `HUP` as readable + writable + interrupt, `ERR` as
    /// readable + writable + error).
    #[test]
    fn from_epoll_matches_polling() {
        let r = Ready::READABLE;
        let w = Ready::WRITABLE;
        let hup = Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        let cases = [
            (F::IN, r, Ready::from_event(&polling::Event::readable(0))),
            (F::OUT, w, Ready::from_event(&polling::Event::writable(0))),
            (
                F::IN | F::OUT,
                r | w,
                Ready::from_event(&polling::Event::all(0)),
            ),
            (
                F::HUP,
                r | w | hup,
                Ready::from_event(&polling::Event::all(0).with_interrupt()),
            ),
            (
                F::PRI,
                r | Ready::PRIORITY,
                Ready::from_event(&polling::Event::readable(0).with_priority()),
            ),
        ];
        for (flags, want, via_polling) in cases {
            assert_eq!(Ready::from_epoll(flags), want, "{flags:?}");
            assert_eq!(via_polling, want, "{flags:?} through polling");
        }
        assert_eq!(Ready::from_epoll(F::ERR), r | w | Ready::ERROR);
        assert_eq!(Ready::from_epoll(F::RDHUP | F::IN), r | Ready::READ_CLOSED);
        assert_eq!(Ready::from_epoll(F::RDHUP), r | Ready::READ_CLOSED);
        assert_eq!(Ready::from_epoll(F::empty()), Ready::EMPTY);
    }
}
