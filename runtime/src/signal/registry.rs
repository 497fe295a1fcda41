//! The listener/generation protocol, alone: no OS in it, so loom can model it
//! (`loom_tests.rs`). The OS side (`os.rs`) calls [`Registry::record`] from the handler and
//! [`Registry::dispatch`] from the driver; see the protocol in the [module docs](super).

use std::io;
use std::task::{Context, Poll, Waker};

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;

/// Slots for signal numbers `0..NSIG` (Linux numbers its signals 1 to 64; slot 0 is never
/// used). Under loom a few are enough: every slot is one mutex and one atomic loom tracks.
#[cfg(not(loom))]
pub(crate) const NSIG: usize = 65;
#[cfg(loom)]
pub(crate) const NSIG: usize = 3;

/// Every signal's state.
#[derive(Debug)]
pub(crate) struct Registry {
    slots: Box<[Slot]>,
}

/// One signal number.
#[derive(Debug)]
struct Slot {
    /// How many times the signal was delivered (wrapping; only compared for equality).
    /// Written only by the handler ([`Registry::record`]), read anywhere.
    generation: AtomicUsize,
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    /// Live listeners ([`Listener`]s not yet removed). The first installs the handler, the
    /// last restores the previous one.
    listeners: usize,
    /// Listeners parked in a poll: woken by the dispatch that finds the generation moved
    /// past the one they saw.
    waiters: Vec<Waiter>,
    next_id: u64,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    seen: usize,
    waker: Waker,
}

/// One listener of one signal: what it has seen. Owned by a `Signal`.
#[derive(Debug)]
pub(crate) struct Listener {
    signum: usize,
    id: u64,
    /// The generation this listener has consumed.
    seen: usize,
    /// Whether it may have an entry in `waiters` (set by a pending poll).
    parked: bool,
}

impl Listener {
    pub(crate) fn signum(&self) -> usize {
        self.signum
    }
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slots: (0..NSIG)
                .map(|_| Slot {
                    generation: AtomicUsize::new(0),
                    state: Mutex::new(SlotState::default()),
                })
                .collect(),
        }
    }

    fn slot(&self, signum: usize) -> io::Result<&Slot> {
        match self.slots.get(signum) {
            Some(slot) if signum > 0 => Ok(slot),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal number {signum} is out of range"),
            )),
        }
    }

    /// Step 1: adds a listener of `signum`. The first one runs `install` under the slot's
    /// lock first (and is not added if it fails). Deliveries from now on are seen by it.
    pub(crate) fn add_listener(
        &self,
        signum: usize,
        install: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<Listener> {
        let slot = self.slot(signum)?;
        let mut st = slot.state.lock();
        if st.listeners == 0 {
            install()?;
        }
        st.listeners += 1;
        let id = st.next_id;
        st.next_id += 1;
        // Loaded after the handler is installed: every delivery that can bump it from now on
        // is one this listener has not seen.
        let seen = slot.generation.load(Ordering::SeqCst);
        Ok(Listener {
            signum,
            id,
            seen,
            parked: false,
        })
    }

    /// Step 5: removes `listener`, and its waker if it has one. The last listener of the
    /// signal runs `restore` under the slot's lock.
    pub(crate) fn remove_listener(&self, listener: &Listener, restore: impl FnOnce()) {
        let slot = &self.slots[listener.signum];
        let mut st = slot.state.lock();
        if listener.parked {
            st.waiters.retain(|w| w.id != listener.id);
        }
        st.listeners -= 1;
        if st.listeners == 0 {
            restore();
        }
    }

    /// Step 2, in the signal handler: one atomic read-modify-write (lock-free: no lock, no
    /// allocation, no panic), async-signal-safe.
    pub(crate) fn record(&self, signum: usize) {
        if let Some(slot) = self.slots.get(signum) {
            slot.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Step 4: ready once the signal was delivered since this listener last returned ready
    /// (or was added); several deliveries in between are one.
    pub(crate) fn poll(&self, listener: &mut Listener, cx: &mut Context<'_>) -> Poll<()> {
        let slot = &self.slots[listener.signum];
        let generation = slot.generation.load(Ordering::SeqCst);
        if generation != listener.seen {
            return self.consume(slot, listener, generation);
        }
        let mut st = slot.state.lock();
        match st.waiters.iter_mut().find(|w| w.id == listener.id) {
            Some(w) => {
                if !w.waker.will_wake(cx.waker()) {
                    w.waker = cx.waker().clone();
                }
            }
            None => st.waiters.push(Waiter {
                id: listener.id,
                seen: listener.seen,
                waker: cx.waker().clone(),
            }),
        }
        listener.parked = true;
        // Re-loaded under the lock: a dispatch that ran before we locked loaded a generation
        // at least as new as every delivery whose pipe byte it drained (the argument in the
        // module docs), so this load sees that delivery too.
        let generation = slot.generation.load(Ordering::SeqCst);
        if generation != listener.seen {
            drop(st);
            return self.consume(slot, listener, generation);
        }
        crate::task::set_awaiting(crate::task::Awaiting::Signal);
        Poll::Pending
    }

    fn consume(&self, slot: &Slot, listener: &mut Listener, generation: usize) -> Poll<()> {
        listener.seen = generation;
        if listener.parked {
            listener.parked = false;
            slot.state.lock().waiters.retain(|w| w.id != listener.id);
        }
        Poll::Ready(())
    }

    /// Step 3, after the pipe was drained: wakes every parked listener whose signal was
    /// delivered since it parked. Wakers are called after the slot's lock is released.
    pub(crate) fn dispatch(&self) {
        let mut wakers = Vec::new();
        for slot in self.slots.iter() {
            let mut st = slot.state.lock();
            if st.waiters.is_empty() {
                continue;
            }
            let generation = slot.generation.load(Ordering::SeqCst);
            st.waiters.retain_mut(|w| {
                if w.seen == generation {
                    return true;
                }
                wakers.push(w.waker.clone());
                false
            });
            drop(st);
            // A waker that panics loses only its own wake-up, not the other listeners'.
            wakers.drain(..).for_each(crate::task::wake_contained);
        }
    }

    /// How many listeners of `signum` are live and how many are parked (tests).
    #[cfg(test)]
    pub(crate) fn counts(&self, signum: usize) -> (usize, usize) {
        let st = self.slots[signum].state.lock();
        (st.listeners, st.waiters.len())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as Count;
    use std::sync::Arc;
    use std::task::Wake;

    struct Counter(Count);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counting() -> (Waker, Arc<Counter>) {
        let c = Arc::new(Counter(Count::new(0)));
        (Waker::from(c.clone()), c)
    }

    fn woken(c: &Counter) -> usize {
        c.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn first_installs_last_restores_and_out_of_range_fails() {
        let reg = Registry::new();
        let installs = Count::new(0);
        let install = || {
            installs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        };
        let a = reg.add_listener(2, install).unwrap();
        let b = reg.add_listener(2, install).unwrap();
        assert_eq!(installs.load(std::sync::atomic::Ordering::SeqCst), 1);
        let mut restored = 0;
        reg.remove_listener(&a, || restored += 1);
        assert_eq!(restored, 0);
        reg.remove_listener(&b, || restored += 1);
        assert_eq!(restored, 1);
        assert_eq!(reg.counts(2), (0, 0));
        assert!(reg.add_listener(0, || Ok(())).is_err());
        assert!(reg.add_listener(NSIG, || Ok(())).is_err());
        // A failed install adds nobody.
        let failed = reg.add_listener(3, || Err(io::Error::other("no")));
        assert!(failed.is_err());
        assert_eq!(reg.counts(3), (0, 0));
    }

    #[test]
    fn a_delivery_before_the_first_poll_is_seen_and_coalesced() {
        let reg = Registry::new();
        let mut l = reg.add_listener(5, || Ok(())).unwrap();
        reg.record(5);
        reg.record(5);
        let (w, _) = counting();
        let mut cx = Context::from_waker(&w);
        assert!(reg.poll(&mut l, &mut cx).is_ready());
        assert!(
            reg.poll(&mut l, &mut cx).is_pending(),
            "two deliveries, one recv"
        );
        reg.remove_listener(&l, || {});
    }

    #[test]
    fn dispatch_wakes_only_parked_listeners_of_delivered_signals() {
        let reg = Registry::new();
        let mut a = reg.add_listener(1, || Ok(())).unwrap();
        let mut b = reg.add_listener(1, || Ok(())).unwrap();
        let mut other = reg.add_listener(2, || Ok(())).unwrap();
        let (wa, ca) = counting();
        let (wb, cb) = counting();
        let (wo, co) = counting();
        assert!(reg.poll(&mut a, &mut Context::from_waker(&wa)).is_pending());
        assert!(reg.poll(&mut b, &mut Context::from_waker(&wb)).is_pending());
        assert!(reg
            .poll(&mut other, &mut Context::from_waker(&wo))
            .is_pending());
        assert_eq!(reg.counts(1), (2, 2));
        reg.dispatch(); // nothing delivered: nobody woken
        assert_eq!((woken(&ca), woken(&cb), woken(&co)), (0, 0, 0));
        reg.record(1);
        reg.dispatch();
        assert_eq!((woken(&ca), woken(&cb), woken(&co)), (1, 1, 0));
        assert!(reg.poll(&mut a, &mut Context::from_waker(&wa)).is_ready());
        assert!(reg.poll(&mut b, &mut Context::from_waker(&wb)).is_ready());
        // Dropped while parked: its entry goes with it.
        assert!(reg.poll(&mut a, &mut Context::from_waker(&wa)).is_pending());
        reg.remove_listener(&a, || {});
        reg.remove_listener(&b, || {});
        assert_eq!(reg.counts(1), (0, 0));
        reg.remove_listener(&other, || {});
        assert_eq!(reg.counts(2), (0, 0));
    }
}
