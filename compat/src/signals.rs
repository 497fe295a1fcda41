//! Unix signals: asyncio's `loop.add_signal_handler` / `remove_signal_handler` as
//! [`add_signal_handler`] / [`remove_signal_handler`], and the runtime's listeners
//! ([`signal`], [`ctrl_c`], [`Signal`]) re-exported.
//!
//! A handler is a callback run on the runtime each time the signal arrives (asyncio's
//! `call_soon(callback)`): a runtime task listens for the signal with a [`Signal`] and calls
//! the callback after each (coalesced) delivery. Handlers are process-wide, as signal
//! dispositions are: one per signal, a second [`add_signal_handler`] for the same signal
//! replaces the first (as asyncio's does), and the handler goes away with
//! [`remove_signal_handler`] or when the runtime it runs on shuts down. When the last
//! listener of a signal goes, the disposition it had before is back (the default action,
//! for most signals: asyncio restores `SIG_DFL` too).
//!
//! A callback that panics is reported on stderr (asyncio's default exception handler logs
//! "Exception in callback"), and the handler stays installed.
//!
//! The SIGINT handling of [`run`](crate::run) and [`Runner`](crate::Runner) is described in
//! [`runners`](crate::runners).
//!
//! # Examples
//!
//! A server's graceful shutdown: a task waits for SIGTERM.
//!
//! ```
//! use taskio::{signals, SignalKind};
//!
//! taskio::run(async {
//!     let mut term = signals::signal(SignalKind::terminate())?;
//!     let stop = taskio::create_task(async move {
//!         term.recv().await;
//!         Ok("stopping")
//!     });
//!     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
//!     unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
//!     assert_eq!(stop.await?, "stopping");
//!     Ok(())
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::future::poll_fn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;

use parking_lot::Mutex;
use taskio_runtime::task::JoinHandle;

pub use taskio_runtime::signal::{ctrl_c, has_default_handler, signal, Signal, SignalKind};

use crate::exceptions::{Error, Result};

/// Calls `callback` on the runtime each time `sig` arrives, replacing the handler
/// [`add_signal_handler`] installed for `sig` before, if any (asyncio's
/// `loop.add_signal_handler(sig, callback)`). Deliveries are listened for from the moment it
/// returns; several between two calls of the callback are one call.
///
/// # Errors
///
/// [`ErrorKind::Runtime`](crate::ErrorKind::Runtime) outside a running runtime, and for a
/// signal that cannot be handled (SIGKILL, SIGSTOP, the faults, a number that is no
/// signal); [`ErrorKind::Io`](crate::ErrorKind::Io) if the OS refuses.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use taskio::{add_signal_handler, remove_signal_handler, Event, SignalKind};
///
/// taskio::run(async {
///     let got = Arc::new(Event::new());
///     let g = got.clone();
///     add_signal_handler(SignalKind::user_defined1(), move || g.set())?;
///     // SAFETY: no memory-safety preconditions; a listener of the signal exists.
///     unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
///     got.wait().await;
///     assert!(remove_signal_handler(SignalKind::user_defined1()));
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn add_signal_handler<F>(sig: SignalKind, mut callback: F) -> Result<()>
where
    F: FnMut() + Send + 'static,
{
    let Ok(handle) = taskio_runtime::Handle::try_current() else {
        return Err(Error::runtime("no running event loop"));
    };
    let watch = Watch::start(&handle, sig, move |_| {
        if catch_unwind(AssertUnwindSafe(&mut callback)).is_err() {
            crate::report::report(&format!("the signal handler for {sig:?} panicked"), None);
        }
    })?;
    // The new listener exists before the old one goes: the signal never falls back to its
    // default action in between.
    let old = HANDLERS.lock().replace(sig, watch);
    if let Some(old) = old {
        old.stop();
    }
    Ok(())
}

/// Removes the handler [`add_signal_handler`] installed for `sig`; true if there was one
/// (asyncio's `loop.remove_signal_handler(sig)`). When it returns, its listener is gone: if
/// it was the signal's last, the disposition from before is back.
///
/// # Examples
///
/// ```
/// use taskio::{add_signal_handler, remove_signal_handler, signals, SignalKind};
///
/// taskio::run(async {
///     let hup = SignalKind::hangup();
///     assert!(!remove_signal_handler(hup));
///     add_signal_handler(hup, || println!("reload"))?;
///     assert!(!signals::has_default_handler(hup)?);
///     assert!(remove_signal_handler(hup));
///     assert!(signals::has_default_handler(hup)?);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub fn remove_signal_handler(sig: SignalKind) -> bool {
    let removed = HANDLERS.lock().take(sig);
    match removed {
        Some(watch) => {
            let live = watch.is_live();
            watch.stop();
            live
        }
        None => false,
    }
}

/// The handlers of [`add_signal_handler`], one per signal.
static HANDLERS: Mutex<Handlers> = Mutex::new(Handlers(Vec::new()));

struct Handlers(Vec<(SignalKind, Watch)>);

impl Handlers {
    fn replace(&mut self, sig: SignalKind, watch: Watch) -> Option<Watch> {
        let old = self.take(sig);
        self.0.push((sig, watch));
        old
    }

    fn has(&self, sig: SignalKind) -> bool {
        self.0.iter().any(|(s, w)| *s == sig && w.is_live())
    }

    fn take(&mut self, sig: SignalKind) -> Option<Watch> {
        let i = self.0.iter().position(|(s, _)| *s == sig)?;
        Some(self.0.swap_remove(i).1)
    }
}

/// A runtime task listening for one signal, whose [`Signal`] can be dropped at once from
/// outside ([`Watch::stop`]) instead of whenever the runtime gets to drop an aborted task.
pub(crate) struct Watch {
    signal: Arc<Mutex<Option<Signal>>>,
    task: JoinHandle<()>,
}

impl Watch {
    /// Listens for `sig` now, and spawns on `handle` a task that calls `on_signal` after
    /// each delivery, until the watch is stopped (also by `on_signal` itself, with
    /// [`Listening::stop`]).
    pub(crate) fn start(
        handle: &taskio_runtime::Handle,
        sig: SignalKind,
        mut on_signal: impl FnMut(&Listening<'_>) + Send + 'static,
    ) -> Result<Watch> {
        let listener = signal(sig).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => Error::runtime(e.to_string()),
            _ => Error::from(e),
        })?;
        let signal = Arc::new(Mutex::new(Some(listener)));
        let slot = signal.clone();
        // Moved into the task: however the task ends (stopped, or dropped by its runtime's
        // shutdown, polled or not), the listener goes with it.
        let guard = StopOnDrop(signal.clone());
        let task = handle.spawn(async move {
            let _guard = guard;
            loop {
                let delivered = poll_fn(|cx| match slot.lock().as_mut() {
                    Some(s) => s.poll_recv(cx).map(|()| true),
                    None => Poll::Ready(false), // stopped
                })
                .await;
                if !delivered {
                    break;
                }
                on_signal(&Listening(&slot));
            }
        });
        Ok(Watch { signal, task })
    }

    /// Whether its listener is still there (not stopped, its runtime not shut down).
    pub(crate) fn is_live(&self) -> bool {
        self.signal.lock().is_some() && !self.task.is_finished()
    }

    /// Drops the listener now, and ends the task (as dropping the watch does).
    pub(crate) fn stop(self) {
        drop(self);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.signal.lock().take());
        self.task.abort();
    }
}

/// Given to a [`Watch`]'s callback: stops the watch from inside.
pub(crate) struct Listening<'a>(&'a Mutex<Option<Signal>>);

impl Listening<'_> {
    /// Drops the listener now (the signal's previous disposition is back if it was the
    /// last); the watch's task ends after the callback returns.
    pub(crate) fn stop(&self) {
        let listener = self.0.lock().take();
        drop(listener);
    }
}

/// Drops the listener of a [`Watch`] when its task's future is dropped.
struct StopOnDrop(Arc<Mutex<Option<Signal>>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let listener = self.0.lock().take();
        drop(listener);
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

/// The SIGINT handling of [`Runner::run`](crate::Runner::run) (asyncio 3.11+; see
/// [`runners`](crate::runners)): the first SIGINT cancels the main task. The listener is
/// dropped before that, so a second SIGINT takes the default action (the process ends).
/// While the program has a handler of its own for SIGINT ([`add_signal_handler`]), SIGINT is
/// the program's: the runner leaves main alone (asyncio: the program's `signal.signal`
/// replaced the runner's).
pub(crate) struct MainInterrupt {
    watch: Watch,
    main: Arc<Mutex<MainState>>,
}

#[derive(Default)]
struct MainState {
    interrupted: bool,
    /// Cancels the main task; set once it is spawned.
    cancel: Option<Box<dyn FnMut() + Send>>,
}

impl MainInterrupt {
    /// Starts listening, if asyncio would: on the main thread, and only while SIGINT has
    /// its default disposition (no handler of the program's own, nor another runner's).
    /// `None` otherwise, or if the listener cannot be made. Called *before* main is
    /// spawned, so a SIGINT main raises at once finds the listener there.
    pub(crate) fn start(handle: &taskio_runtime::Handle) -> Option<MainInterrupt> {
        // Rust names the main thread "main" (asyncio: `threading.main_thread()`).
        if std::thread::current().name() != Some("main") {
            return None;
        }
        if !matches!(has_default_handler(SignalKind::interrupt()), Ok(true)) {
            return None;
        }
        let main = Arc::new(Mutex::new(MainState::default()));
        let state = main.clone();
        let watch = Watch::start(handle, SignalKind::interrupt(), move |listening| {
            if HANDLERS.lock().has(SignalKind::interrupt()) {
                return; // the program's own handler takes it
            }
            listening.stop();
            let mut st = state.lock();
            st.interrupted = true;
            if let Some(cancel) = st.cancel.as_mut() {
                cancel();
            }
        })
        .ok()?;
        Some(MainInterrupt { watch, main })
    }

    /// Names the main task (a SIGINT that came before cancels it now).
    pub(crate) fn set_main<T: Send + 'static>(&self, task: &crate::Task<T>) {
        let task = task.clone();
        let mut cancel: Box<dyn FnMut() + Send> = Box::new(move || {
            task.cancel(Some("KeyboardInterrupt"));
        });
        let mut st = self.main.lock();
        if st.interrupted {
            cancel();
        }
        st.cancel = Some(cancel);
    }

    /// Stops listening (SIGINT's previous disposition is back) and tells whether a SIGINT
    /// interrupted main. Drops the main task's handle.
    pub(crate) fn finish(self) -> bool {
        self.watch.stop();
        let mut st = self.main.lock();
        st.cancel = None;
        st.interrupted
    }
}

impl fmt::Debug for MainInterrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MainInterrupt")
            .field("interrupted", &self.main.lock().interrupted)
            .finish_non_exhaustive()
    }
}
