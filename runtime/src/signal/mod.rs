//! Unix signals as futures and streams: [`ctrl_c`], [`signal`] and [`Signal`].
//!
//! ```no_run
//! use taskio_runtime::{signal::{self, SignalKind}, Runtime};
//!
//! Runtime::new().unwrap().block_on(async {
//!     let mut term = signal::signal(SignalKind::terminate()).unwrap();
//!     term.recv().await;
//!     println!("SIGTERM: shutting down");
//! });
//! ```
//!
//! A [`Signal`] is a *listener*: while one listener of a signal exists, the signal's
//! disposition is taskio's handler (the default action, such as terminating the process on
//! SIGINT or SIGTERM, does not happen); when the last listener of a signal is dropped, the
//! action that was there before the first one is put back. Listeners are counted per signal,
//! process-wide, across runtimes. SIGKILL, SIGSTOP (which cannot be caught), SIGSEGV, SIGBUS,
//! SIGILL and SIGFPE (faults, for which a handler that returns re-runs the faulting
//! instruction) are refused with an [`std::io::ErrorKind::InvalidInput`] error.
//!
//! Deliveries between two polls of a listener are *coalesced*: however many arrived, the
//! next [`Signal::recv`] returns once (as the kernel itself keeps at most one pending
//! instance of a standard signal). None is lost: each listener sees every delivery that
//! came after it was created, even one that came before its first poll.
//!
//! The previous handler is not called (asyncio's `add_signal_handler` does not either): a
//! signal with a listener is taskio's until the last listener goes.
//!
//! # The protocol
//!
//! Process-wide, made on the first [`signal`] call and never freed (the handler may run at
//! any time, on any thread):
//!
//! - the *registry*: per signal number a *slot*, holding `generation`, an atomic counter of
//!   deliveries that only the handler writes, and under the slot's mutex the listener count
//!   and the *parked* listeners (id, the generation it saw, its waker);
//! - the *self-pipe*: a non-blocking Unix socket pair. Its read end is added, once per
//!   runtime, to the runtime's I/O driver under a reserved token (`driver::io`,
//!   `SIGNAL_TOKEN`), edge-triggered, when a listener is created or polled in that runtime.
//!
//! 1. **Listen** ([`signal`]): under the slot's lock, the first listener installs the
//!    handler with `sigaction`, saving the action it replaces; the count grows; the
//!    listener's `seen` is the generation loaded *after* the install. Every delivery from
//!    then on bumps the generation past `seen`: none is missed, whenever it comes.
//! 2. **Deliver** (the handler, async-signal-safe: no lock, no allocation, no panic):
//!    `generation += 1` (one lock-free atomic RMW), then `write(2)` one byte to the pipe. A
//!    full pipe means a byte is pending already, and the dispatch it causes will see this
//!    generation too. errno is saved and put back.
//! 3. **Dispatch** (a driver turn that reports the pipe's token): drain the pipe until
//!    `WouldBlock`, then for each slot with parked listeners, under its lock: load the
//!    generation, take the wakers of the listeners that saw another one; wake them after
//!    the lock is released. Several drivers may dispatch at once: the slot locks serialise
//!    them, and a dispatch that finds nothing new wakes nobody.
//! 4. **Poll** ([`Signal::recv`]): load the generation; if it differs from `seen`, take it
//!    and return ready. Otherwise lock the slot, park (store or refresh id, `seen`, waker),
//!    *re-load* the generation under the lock: if it moved, unpark and return ready; else
//!    `Pending`.
//! 5. **Drop**: under the slot's lock, unpark if parked, and count down; the last listener
//!    puts the saved action back.
//!
//! **No wake-up is lost** between 2, 3 and 4. The handler's RMW comes before its `write`,
//! and a dispatch's load comes after the `read` that drained that byte, so the dispatch
//! loads a generation at least as new as the delivery. The poll's park and re-load and the
//! dispatch's load and take are both under the slot's lock: if the poll locked first, the
//! dispatch finds it parked with the old `seen` and wakes it; if the dispatch locked first,
//! the poll's re-load comes after the dispatch's load and sees the new generation. A
//! delivery while no runtime watches the pipe leaves its byte there: adding the pipe to a
//! driver later queues an event at once (a ready source added edge-triggered reports), and
//! the generation was bumped in any case, so the next poll sees it. The loom models in
//! `loom_tests.rs` check this with the pipe as an atomic flag.
//!
//! # Runtimes
//!
//! [`signal`] needs a runtime with I/O enabled (the driver watches the pipe); a [`Signal`]
//! polled inside another runtime adds the pipe to that one's driver too. The wakers are
//! ordinary wakers: a listener is woken whichever runtime's driver dispatched.

mod kind;
#[cfg(not(loom))]
mod os;
mod registry;

#[cfg(all(test, loom))]
mod loom_tests;

pub use kind::SignalKind;

#[cfg(not(loom))]
pub use api::{ctrl_c, has_default_handler, signal, Signal};

#[cfg(not(loom))]
pub(crate) use api::dispatch;

#[cfg(not(loom))]
mod api {
    use std::fmt;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::os::{self, Globals};
    use super::registry::Listener;
    use super::SignalKind;

    /// Listens for `kind`: the returned [`Signal`] sees every delivery of that signal to the
    /// process from now on (also one that comes before it is first polled). While it (or
    /// another listener of the same signal) exists, the signal's default action does not
    /// happen.
    ///
    /// # Errors
    ///
    /// - [`io::ErrorKind::InvalidInput`] for SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE
    ///   and numbers that are no signal;
    /// - an error if called outside a runtime with I/O enabled, or if the OS refuses the
    ///   handler or the self-pipe.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::{signal::{signal, SignalKind}, Runtime};
    ///
    /// Runtime::new().unwrap().block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    ///     // Raise it to ourselves: the listener sees it.
    ///     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
    ///     unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    ///     usr1.recv().await;
    ///
    ///     let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub fn signal(kind: SignalKind) -> io::Result<Signal> {
        let signum = kind.check()?;
        let globals = os::globals()?;
        let watched = crate::driver::with_current(|h| match h.and_then(|h| h.io.as_ref()) {
            Some(io) => io.watch_signals(globals.receiver()),
            None => Err(io::Error::other(
                "signal() must be called inside a runtime with I/O enabled",
            )),
        });
        watched?;
        let listener = globals
            .registry
            .add_listener(signum as usize, || globals.install(signum))?;
        Ok(Signal {
            kind,
            listener,
            globals,
        })
    }

    /// Waits for the next SIGINT (Ctrl-C in a terminal). The listener is created when the
    /// future is first polled: a SIGINT before that is not seen (and, with no other
    /// listener, takes its default action).
    ///
    /// # Errors
    ///
    /// As [`signal`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use taskio_runtime::{signal, Runtime};
    ///
    /// Runtime::new().unwrap().block_on(async {
    ///     let mut ctrl_c = pin!(signal::ctrl_c());
    ///     // First poll: listening now.
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     assert!(ctrl_c.as_mut().poll(&mut cx).is_pending());
    ///     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
    ///     unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    ///     ctrl_c.await.unwrap();
    /// });
    /// ```
    pub async fn ctrl_c() -> io::Result<()> {
        let mut sigint = signal(SignalKind::interrupt())?;
        sigint.recv().await;
        Ok(())
    }

    /// Whether `kind`'s current disposition in the process is the default action: no
    /// handler is installed for it, by taskio (a live [`Signal`]) or anyone else, and it is
    /// not ignored. asyncio's runner installs its SIGINT handling only in that case.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a number that is no signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::{signal::{self, SignalKind}, Runtime};
    ///
    /// let winch = SignalKind::window_change();
    /// assert!(signal::has_default_handler(winch).unwrap());
    /// Runtime::new().unwrap().block_on(async {
    ///     let listener = signal::signal(winch).unwrap();
    ///     assert!(!signal::has_default_handler(winch).unwrap());
    ///     drop(listener); // the last listener puts the default back
    ///     assert!(signal::has_default_handler(winch).unwrap());
    /// });
    /// ```
    pub fn has_default_handler(kind: SignalKind) -> io::Result<bool> {
        os::has_default_action(kind.in_range()?)
    }

    /// The driver's step 3: the pipe's token was reported.
    pub(crate) fn dispatch() {
        if let Ok(globals) = os::globals() {
            globals.dispatch();
        }
    }

    /// A listener of one signal, from [`signal`]: [`recv`](Signal::recv) waits for the next
    /// delivery; also a [`Stream`](futures_core::Stream) of `()`, one item per (coalesced)
    /// delivery, that never ends. Dropping it stops listening (the last listener of a
    /// signal puts its previous action back).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskio_runtime::{signal::{signal, SignalKind}, Runtime};
    ///
    /// Runtime::new().unwrap().block_on(async {
    ///     let mut a = signal(SignalKind::user_defined2()).unwrap();
    ///     let mut b = signal(SignalKind::user_defined2()).unwrap();
    ///     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
    ///     unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
    ///     a.recv().await; // every listener sees the delivery
    ///     b.recv().await;
    ///     assert_eq!(a.kind(), SignalKind::user_defined2());
    /// });
    /// ```
    pub struct Signal {
        kind: SignalKind,
        listener: Listener,
        globals: &'static Globals,
    }

    impl Signal {
        /// Waits for the next delivery of the signal: returns at once if one came since the
        /// last `recv` returned (or since the listener was made). Several deliveries in
        /// between are one. Cancel-safe: dropping the future loses nothing.
        ///
        /// # Examples
        ///
        /// ```
        /// use taskio_runtime::{signal::{signal, SignalKind}, Runtime};
        ///
        /// Runtime::new().unwrap().block_on(async {
        ///     let mut hup = signal(SignalKind::hangup()).unwrap();
        ///     for _ in 0..3 {
        ///         // SAFETY: no memory-safety preconditions; a listener of the signal exists.
        ///         unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
        ///         hup.recv().await;
        ///     }
        /// });
        /// ```
        pub async fn recv(&mut self) {
            std::future::poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// [`recv`](Signal::recv) as a poll: `Ready` once a delivery came since the last
        /// `Ready`; otherwise `Pending`, and `cx`'s waker is woken at the next one.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::task::{Context, Waker};
        /// use taskio_runtime::{signal::{signal, SignalKind}, Runtime};
        ///
        /// Runtime::new().unwrap().block_on(async {
        ///     let mut s = signal(SignalKind::alarm()).unwrap();
        ///     let mut cx = Context::from_waker(Waker::noop());
        ///     assert!(s.poll_recv(&mut cx).is_pending()); // nothing delivered yet
        ///     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
        ///     unsafe { libc::kill(libc::getpid(), libc::SIGALRM) };
        ///     std::future::poll_fn(|cx| s.poll_recv(cx)).await; // woken by the driver
        /// });
        /// ```
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
            // A listener polled in another runtime than the one it was made in: make sure
            // this runtime's driver watches the pipe too (one atomic load when it does).
            crate::driver::with_current(|h| {
                if let Some(io) = h.and_then(|h| h.io.as_ref()) {
                    let _ = io.watch_signals(self.globals.receiver());
                }
            });
            self.globals.registry.poll(&mut self.listener, cx)
        }

        /// The signal this listener listens for.
        ///
        /// # Examples
        ///
        /// ```
        /// use taskio_runtime::{signal::{signal, SignalKind}, Runtime};
        ///
        /// Runtime::new().unwrap().block_on(async {
        ///     let s = signal(SignalKind::child()).unwrap();
        ///     assert_eq!(s.kind().as_raw(), libc::SIGCHLD);
        /// });
        /// ```
        pub fn kind(&self) -> SignalKind {
            self.kind
        }
    }

    impl futures_core::Stream for Signal {
        type Item = ();

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
            self.get_mut().poll_recv(cx).map(Some)
        }
    }

    impl Drop for Signal {
        fn drop(&mut self) {
            let signum = self.listener.signum() as libc::c_int;
            let globals = self.globals;
            globals
                .registry
                .remove_listener(&self.listener, || globals.restore(signum));
        }
    }

    impl fmt::Debug for Signal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Signal")
                .field("kind", &self.kind)
                .finish_non_exhaustive()
        }
    }

    #[allow(dead_code)]
    fn _assert_send_sync() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Signal>();
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn forbidden_and_invalid_signals_are_errors_not_panics() {
            let rt = crate::Runtime::new().unwrap();
            rt.block_on(async {
                for sig in [
                    libc::SIGKILL,
                    libc::SIGSTOP,
                    libc::SIGSEGV,
                    libc::SIGBUS,
                    libc::SIGILL,
                    libc::SIGFPE,
                    0,
                    -1,
                    1000,
                ] {
                    let err = signal(SignalKind::from_raw(sig)).unwrap_err();
                    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {sig}");
                }
            });
            assert!(has_default_handler(SignalKind::from_raw(0)).is_err());
        }

        #[test]
        fn outside_a_runtime_is_an_error() {
            assert!(signal(SignalKind::user_defined1()).is_err());
        }
    }
}
