//! [`SignalKind`]: which signal.

use std::fmt;
use std::io;

/// A signal number, with constructors for the usual ones.
///
/// # Examples
///
/// ```
/// use taskio_runtime::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGTERM), SignalKind::terminate());
/// assert_eq!(format!("{:?}", SignalKind::hangup()), "SignalKind(SIGHUP)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

/// The signals [`signal`](super::signal) refuses: two that cannot be caught, and the faults,
/// whose handler returning would re-run the faulting instruction (and which Rust's own stack
/// overflow detection uses).
const FORBIDDEN: [(i32, &str); 6] = [
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGFPE, "SIGFPE"),
];

const NAMES: [(i32, &str); 12] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
    (libc::SIGCONT, "SIGCONT"),
];

impl SignalKind {
    /// Any signal number (checked when listened to).
    ///
    /// # Examples
    ///
    /// ```
    /// let usr1 = taskio_runtime::signal::SignalKind::from_raw(libc::SIGUSR1);
    /// assert_eq!(usr1.as_raw(), libc::SIGUSR1);
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::quit().as_raw(), libc::SIGQUIT);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// SIGINT: Ctrl-C in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::interrupt().as_raw(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM: the polite request to end (what `kill` and service managers send).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::terminate().as_raw(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP: the terminal went away; by convention daemons reload their configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::hangup().as_raw(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGQUIT: Ctrl-\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::quit().as_raw(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGALRM: a timer set with `alarm(2)` expired.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::alarm().as_raw(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGUSR1: for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::user_defined1().as_raw(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2: for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::user_defined2().as_raw(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGCHLD: a child process ended or stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::child().as_raw(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGPIPE: a write to a pipe or socket with no reader (Rust programs ignore it by
    /// default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::pipe().as_raw(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGWINCH: the terminal's window size changed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(taskio_runtime::signal::SignalKind::window_change().as_raw(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The number, if it may be listened to: no forbidden signal, in the registry's range.
    pub(crate) fn check(self) -> io::Result<i32> {
        if let Some((_, name)) = FORBIDDEN.iter().find(|(n, _)| *n == self.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} cannot be handled"),
            ));
        }
        self.in_range()
    }

    /// The number, if it is in the registry's range (some may still be refused by the OS).
    pub(crate) fn in_range(self) -> io::Result<i32> {
        if self.0 <= 0 || self.0 as usize >= super::registry::NSIG {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a signal number", self.0),
            ));
        }
        Ok(self.0)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMES
            .iter()
            .chain(FORBIDDEN.iter())
            .find(|(n, _)| *n == self.0)
        {
            Some((_, name)) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}
