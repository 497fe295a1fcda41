//! Where the errors no caller can receive go: a failing done callback or signal handler, a
//! server connection's error without an `on_error`, what `Runner::close` could not cancel.
//!
//! asyncio sends these to the loop's exception handler, whose default logs them. taskio
//! sends them to the process's error hook ([`set_error_hook`]); without one, to `tracing`
//! (at `ERROR`, target `taskio`) when the `tracing` feature is on, else to standard error.
//! [`Loop::default_exception_handler`](crate::Loop::default_exception_handler) goes the
//! same way.

use crate::Error;
use std::fmt;
use std::sync::{Arc, RwLock};

/// An error nobody awaits, as given to the hook of [`set_error_hook`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ErrorReport<'a> {
    /// What went wrong, in asyncio's words ("Exception in callback", ...).
    pub message: &'a str,
    /// The error, if there is one.
    pub error: Option<&'a Error>,
}

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error {
            Some(e) => write!(f, "{}: {e:#}", self.message),
            None => f.write_str(self.message),
        }
    }
}

/// An error hook, as [`set_error_hook`] returns the one it replaces.
pub type ErrorHook = Arc<dyn Fn(&ErrorReport<'_>) + Send + Sync>;

static HOOK: RwLock<Option<ErrorHook>> = RwLock::new(None);

/// Sends every error that no caller can receive to `hook`, for the whole process, in place
/// of standard error (or `tracing`); returns the hook it replaces. The hook runs on the
/// thread where the error happened, possibly a runtime worker: keep it short, and do not
/// block in it. A panic in it is caught.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let kept = seen.clone();
/// let previous = taskio::set_error_hook(move |r| kept.lock().unwrap().push(r.to_string()));
/// let reports = seen.clone();
/// taskio::run(async move {
///     let task = taskio::create_task(async { Ok(1) });
///     task.add_done_callback(|_: &taskio::Task<i32>| panic!("a broken callback"));
///     task.await?;
///     // The callbacks run in a task of their own.
///     while reports.lock().unwrap().is_empty() {
///         taskio::sleep(0.0).await?;
///     }
///     Ok(())
/// })
/// .unwrap();
/// assert!(seen.lock().unwrap()[0].contains("a done callback of Task-"));
/// taskio::reset_error_hook(previous);
/// ```
pub fn set_error_hook<F>(hook: F) -> Option<ErrorHook>
where
    F: Fn(&ErrorReport<'_>) + Send + Sync + 'static,
{
    let mut slot = HOOK.write().unwrap_or_else(|e| e.into_inner());
    slot.replace(Arc::new(hook))
}

/// Puts back a hook [`set_error_hook`] returned (`None`: the default, standard error or
/// `tracing`).
///
/// # Examples
///
/// ```
/// let previous = taskio::set_error_hook(|_| {});
/// taskio::reset_error_hook(previous);
/// ```
pub fn reset_error_hook(hook: Option<ErrorHook>) {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = hook;
}

/// Reports an error nobody awaits (see the module docs).
pub(crate) fn report(message: &str, error: Option<&Error>) {
    let report = ErrorReport { message, error };
    let hook = HOOK.read().unwrap_or_else(|e| e.into_inner()).clone();
    match hook {
        Some(hook) => {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&report)));
        }
        None => default(&report),
    }
}

#[cfg(feature = "tracing")]
fn default(report: &ErrorReport<'_>) {
    match report.error {
        Some(e) => {
            tracing::error!(target: "taskio", error = %format_args!("{e:#}"), "{}", report.message)
        }
        None => tracing::error!(target: "taskio", "{}", report.message),
    }
}

#[cfg(not(feature = "tracing"))]
fn default(report: &ErrorReport<'_>) {
    eprintln!("taskio: {report}");
}
