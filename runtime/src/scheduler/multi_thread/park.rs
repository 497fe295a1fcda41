//! A worker's parker: it sleeps either in the driver (if it got it) or on its condvar.
//!
//! `state` says where the worker sleeps. `unpark` swaps in NOTIFIED and, depending on what
//! it replaced, notifies the condvar (under the mutex, so the notification cannot fall
//! between the sleeper's check and its wait) or wakes the driver (whose own notification is
//! sticky). A NOTIFIED left in the state makes the next park return at once: no wake-up is
//! lost whichever of the two runs first.

use crate::driver::{self, Driver};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

#[derive(Debug)]
pub(super) struct Unparker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

impl Unparker {
    pub(super) fn new() -> Unparker {
        Unparker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Wakes the worker, or makes its next park return at once.
    pub(super) fn unpark(&self, driver: &driver::Handle) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                drop(self.mutex.lock());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark(),
            actual => panic!("inconsistent park state: {actual}"),
        }
    }

    /// Sleeps in `driver` until unparked (or `timeout`).
    pub(super) fn park_driver(
        &self,
        driver: &mut Driver,
        handle: &driver::Handle,
        timeout: Option<Duration>,
    ) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            driver.poll_events(handle);
            return;
        }
        match self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                driver.poll_events(handle);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        driver.park(handle, timeout);
        // Whether woken by us or by an event, the state goes back to EMPTY; a NOTIFIED
        // consumed here was for this very park.
        self.state.swap(EMPTY, SeqCst);
    }

    /// Sleeps on the condvar until unparked.
    pub(super) fn park_condvar(&self) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        let mut guard = self.mutex.lock();
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        loop {
            self.condvar.wait(&mut guard);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}
