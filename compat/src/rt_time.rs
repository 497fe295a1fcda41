//! TEMPORARY stand-in for `taskio_runtime::time` until the timer branch is merged
//! (same names and signatures; a thread per pending sleep). Replaced by a re-export.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
pub(crate) use std::time::Duration;
pub(crate) use std::time::Instant;

pub(crate) fn sleep(d: Duration) -> Sleep {
    sleep_until(Instant::now() + d)
}

pub(crate) fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline }
}

#[derive(Debug)]
pub(crate) struct Sleep {
    deadline: Instant,
}

impl Sleep {
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }
    pub(crate) fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }
    pub(crate) fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().deadline = deadline;
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Poll::Ready(());
        }
        let w = cx.waker().clone();
        let d = self.deadline - now;
        std::thread::spawn(move || {
            std::thread::sleep(d);
            w.wake();
        });
        Poll::Pending
    }
}
