//! The handles of scheduled callbacks: asyncio's `Handle` and `TimerHandle`.

use crate::kernel::sync::atomic::{AtomicBool, Ordering};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};

use crate::kernel::sync::Mutex;

use super::{ExceptionContext, Loop, Shared};
use crate::exceptions::Error;

type Callback = Box<dyn FnOnce() + Send>;

/// One scheduled callback, shared by its handle and by whoever runs it (a runtime task, the
/// timer heap, the deferred list).
pub(crate) struct HandleInner {
    /// Taken by the one run, or dropped by `cancel` (asyncio drops the callback's references
    /// at once too).
    callback: Mutex<Option<Callback>>,
    /// Set by `cancel`; never unset.
    cancelled: AtomicBool,
    /// The deadline of a timer; `None` for `call_soon`.
    pub(super) when: Option<f64>,
    /// Call order (see the loop's `seq`).
    pub(super) seq: u64,
    lp: Weak<Shared>,
}

impl HandleInner {
    pub(super) fn new(callback: Callback, when: Option<f64>, seq: u64, lp: &Loop) -> Arc<Self> {
        Arc::new(HandleInner {
            callback: Mutex::new(Some(callback)),
            cancelled: AtomicBool::new(false),
            when,
            seq,
            lp: Arc::downgrade(&lp.shared),
        })
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Runs the callback unless it was cancelled or has run; a panic is reported to the
    /// loop's exception handler.
    pub(super) fn run(&self, lp: &Loop) {
        let Some(cb) = self.callback.lock().take() else {
            return;
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(cb)) {
            let what = if self.when.is_some() {
                "TimerHandle"
            } else {
                "Handle"
            };
            lp.call_exception_handler(
                &ExceptionContext::new(format!("Exception in callback {what} #{}", self.seq))
                    .with_exception(Error::panic(p)),
            );
        }
    }

    fn cancel(&self) {
        if self.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        // Dropped outside the lock: the closure's destructors may call into the loop.
        let cb = self.callback.lock().take();
        drop(cb);
        if self.when.is_some() {
            if let Some(lp) = Loop::from_weak(&self.lp) {
                // The driver re-arms its timer, so that a cancelled earliest timer does not
                // hold the (paused) clock's next jump.
                super::timers::cancelled(&lp);
            }
        }
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(name);
        if let Some(when) = self.when {
            d.field("when", &when);
        }
        d.field("cancelled", &self.is_cancelled()).finish()
    }
}

/// The handle of a callback scheduled with [`Loop::call_soon`]: asyncio's `Handle`.
/// Cheap to clone; clones are the same handle.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// taskio::Runner::builder().current_thread().build().unwrap().run(async {
///     let ran = Arc::new(AtomicBool::new(false));
///     let r = ran.clone();
///     let h = taskio::get_running_loop()?.call_soon(move || r.store(true, Ordering::SeqCst))?;
///     h.cancel();
///     assert!(h.cancelled());
///     taskio::sleep(0).await?;
///     assert!(!ran.load(Ordering::SeqCst));
///     Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(super) inner: Arc<HandleInner>,
}

impl Handle {
    /// Cancels the callback: if it has not run yet, it never will. Cancelling twice, or
    /// after the run, does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::Runner::builder().current_thread().build().unwrap().run(async {
    ///     let h = taskio::get_running_loop()?.call_soon(|| unreachable!())?;
    ///     h.cancel();
    ///     h.cancel();
    ///     taskio::sleep(0).await
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self) {
        self.inner.cancel()
    }

    /// True once [`cancel`](Handle::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let h = taskio::get_running_loop()?.call_soon(|| ())?;
    ///     assert!(!h.cancelled());
    ///     h.cancel();
    ///     assert!(h.cancelled());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.debug("Handle", f)
    }
}

/// The handle of a callback scheduled with [`Loop::call_later`] or [`Loop::call_at`]:
/// asyncio's `TimerHandle`.
///
/// # Examples
///
/// ```
/// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
/// r.run(async {
///     let lp = taskio::get_running_loop()?;
///     let h = lp.call_later(10, || unreachable!())?;
///     assert_eq!(h.when(), lp.time() + 10.0);
///     h.cancel();
///     taskio::sleep(11).await
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    pub(super) inner: Arc<HandleInner>,
}

impl TimerHandle {
    /// Cancels the timer: if its callback has not run yet, it never will.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = taskio::Runner::builder().current_thread().start_paused(true).build().unwrap();
    /// r.run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let h = lp.call_later(1, || unreachable!())?;
    ///     h.cancel();
    ///     taskio::sleep(2).await
    /// })
    /// .unwrap();
    /// ```
    pub fn cancel(&self) {
        self.inner.cancel()
    }

    /// True once [`cancel`](TimerHandle::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let h = taskio::get_running_loop()?.call_later(60, || ())?;
    ///     assert!(!h.cancelled());
    ///     h.cancel();
    ///     assert!(h.cancelled());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// The deadline, on the loop's [`time`](Loop::time) clock.
    ///
    /// # Examples
    ///
    /// ```
    /// taskio::run(async {
    ///     let lp = taskio::get_running_loop()?;
    ///     let at = lp.time() + 30.0;
    ///     let h = lp.call_at(at, || ())?;
    ///     assert_eq!(h.when(), at);
    ///     h.cancel();
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn when(&self) -> f64 {
        self.inner.when.expect("a timer has a deadline")
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.debug("TimerHandle", f)
    }
}
