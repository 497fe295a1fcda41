//! The OS side: the process-wide registry and self-pipe, the handler, `sigaction`.
//!
//! Everything here is process-global, as signal dispositions are: one [`Globals`], made on
//! the first [`signal`](super::signal) call and never freed (the handler may run at any
//! time after it is installed, on any thread, so what it reads must live forever).

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, OnceLock};

use super::registry::{Registry, NSIG};

/// What the handler and the drivers share.
pub(crate) struct Globals {
    pub(crate) registry: Registry,
    /// The self-pipe's read end: added to every driver that serves a listener, drained by
    /// whichever driver turn reports it.
    receiver: UnixStream,
    /// The write end: the handler writes one byte per delivery.
    sender: UnixStream,
    /// The actions our handler replaced, per signal number: restored by the last listener.
    /// Only touched under the signal's slot lock (in the registry's install and restore
    /// closures), so per signal the save and the restore are ordered.
    saved: Mutex<Vec<Option<libc::sigaction>>>,
}

impl std::fmt::Debug for Globals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Globals")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

static GLOBALS: OnceLock<io::Result<Globals>> = OnceLock::new();

/// The globals, made on first use. A failure (no socket pair) is kept and reported to every
/// later caller.
pub(crate) fn globals() -> io::Result<&'static Globals> {
    let made = GLOBALS.get_or_init(|| {
        let (receiver, sender) = UnixStream::pair()?;
        receiver.set_nonblocking(true)?;
        sender.set_nonblocking(true)?;
        Ok(Globals {
            registry: Registry::new(),
            receiver,
            sender,
            saved: Mutex::new(vec![None; NSIG]),
        })
    });
    match made {
        Ok(g) => Ok(g),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

impl Globals {
    /// The self-pipe's read end, for the drivers to watch.
    pub(crate) fn receiver(&self) -> BorrowedFd<'_> {
        self.receiver.as_fd()
    }

    /// Step 3: drains the self-pipe (to `WouldBlock`: several drivers may race to it, and
    /// an empty read is fine), then wakes the listeners whose signal was delivered.
    pub(crate) fn dispatch(&self) {
        let mut buf = [0u8; 64];
        loop {
            match (&self.receiver).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: drained
            }
        }
        self.registry.dispatch();
    }

    /// Installs the handler for `signum`, saving the action it replaces. Called under the
    /// slot's lock by the signal's first listener.
    pub(crate) fn install(&self, signum: libc::c_int) -> io::Result<()> {
        // SAFETY: `sigaction` structs are plain data: all-zero is a valid value (no
        // handler, no flags, an empty mask), and the fields we need are set below.
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        new.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
        // SAFETY: `new.sa_mask` is a valid, writable `sigset_t`.
        unsafe { libc::sigemptyset(&mut new.sa_mask) };
        // SAFETY: as above, a valid value to be overwritten.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: 1. both pointers are valid for the call; 2. `handler` is async-signal-safe
        // (it only does an atomic RMW on the registry, a `write(2)` and errno save/restore)
        // and reads only `GLOBALS`, which is initialised before any install (we are a method
        // of it) and never freed.
        if unsafe { libc::sigaction(signum, &new, &mut old) } != 0 {
            return Err(io::Error::last_os_error());
        }
        self.saved.lock().unwrap_or_else(|e| e.into_inner())[signum as usize] = Some(old);
        Ok(())
    }

    /// Puts back the action [`install`](Globals::install) replaced. Called under the slot's
    /// lock by the signal's last listener.
    pub(crate) fn restore(&self, signum: libc::c_int) {
        let old = self.saved.lock().unwrap_or_else(|e| e.into_inner())[signum as usize].take();
        if let Some(old) = old {
            // SAFETY: `old` is the action `sigaction` itself reported for this signal; putting
            // it back only undoes our install. A failure leaves our handler installed, which
            // only counts deliveries nobody listens to: nothing to report it to.
            unsafe { libc::sigaction(signum, &old, std::ptr::null_mut()) };
        }
    }
}

/// The handler: step 2 of the protocol. Async-signal-safe: no lock, no allocation, no
/// panic; `write(2)` is on POSIX's list; errno is put back as it was.
extern "C" fn handler(signum: libc::c_int) {
    let errno = Errno::save();
    if let Some(Ok(globals)) = GLOBALS.get() {
        globals.registry.record(signum as usize);
        let byte = 1u8;
        // SAFETY: the fd is the socket pair's write end, open for the process's lifetime
        // (`GLOBALS` is never dropped), and the buffer is one valid byte. A full socket
        // (EAGAIN) means a byte is pending already: the dispatch it causes sees this
        // delivery's generation too.
        unsafe { libc::write(globals.sender.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    }
    errno.restore();
}

/// The interrupted code's errno, put back before the handler returns.
struct Errno(libc::c_int);

impl Errno {
    fn save() -> Errno {
        // SAFETY: the location of this thread's errno is always valid.
        Errno(unsafe { *errno_location() })
    }

    fn restore(self) {
        // SAFETY: as in `save`.
        unsafe { *errno_location() = self.0 };
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
unsafe fn errno_location() -> *mut libc::c_int {
    // SAFETY: always callable; returns this thread's errno.
    unsafe { libc::__errno_location() }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
unsafe fn errno_location() -> *mut libc::c_int {
    // SAFETY: always callable; returns this thread's errno.
    unsafe { libc::__error() }
}

#[cfg(any(target_os = "openbsd", target_os = "netbsd"))]
unsafe fn errno_location() -> *mut libc::c_int {
    // SAFETY: always callable; returns this thread's errno.
    unsafe { libc::__errno() }
}

/// Whether the process's current action for `signum` is the default one.
pub(crate) fn has_default_action(signum: libc::c_int) -> io::Result<bool> {
    // SAFETY: a valid value to be overwritten.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null `act` only queries; `old` is valid for writing.
    if unsafe { libc::sigaction(signum, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old.sa_sigaction == libc::SIG_DFL)
}
