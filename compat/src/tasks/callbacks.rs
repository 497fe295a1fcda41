//! Done callbacks: identity by allocation, so that removal can find "every copy".

use std::fmt;
use std::sync::Arc;

use super::Task;

/// A callback run once a task is done (see [`Task::add_done_callback`]).
///
/// Closures convert into it; clone a `DoneCallback` to register the *same* callback
/// several times or to remove it later: two callbacks are equal when they are clones of one
/// another (asyncio compares the callables).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use taskio::tasks::{create_task, DoneCallback};
///
/// taskio::run(async {
///     let hits = Arc::new(AtomicUsize::new(0));
///     let h = hits.clone();
///     let cb = DoneCallback::new(move |_t: &taskio::Task<()>| {
///         h.fetch_add(1, Ordering::SeqCst);
///     });
///     let task = create_task(async { Ok(()) });
///     task.add_done_callback(cb.clone());
///     task.add_done_callback(cb.clone());
///     assert_eq!(task.remove_done_callback(&cb), 2);
///     task.await?;
///     taskio::sleep(0).await?;
///     assert_eq!(hits.load(Ordering::SeqCst), 0);
///     Ok(())
/// })
/// .unwrap();
/// ```
pub struct DoneCallback<T: Send + 'static>(Arc<CallbackFn<T>>);

type CallbackFn<T> = dyn Fn(&Task<T>) + Send + Sync;

impl<T: Send + 'static> DoneCallback<T> {
    /// Wraps a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let cb = taskio::tasks::DoneCallback::new(|t: &taskio::Task<i32>| println!("{} done", t.get_name()));
    /// assert!(cb == cb.clone());
    /// ```
    pub fn new<F>(f: F) -> DoneCallback<T>
    where
        F: Fn(&Task<T>) + Send + Sync + 'static,
    {
        DoneCallback(Arc::new(f))
    }

    pub(crate) fn call(&self, task: &Task<T>) {
        (self.0)(task)
    }

    pub(crate) fn ptr_eq(&self, other: &DoneCallback<T>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: Send + 'static> Clone for DoneCallback<T> {
    fn clone(&self) -> Self {
        DoneCallback(self.0.clone())
    }
}

impl<T: Send + 'static> PartialEq for DoneCallback<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl<T: Send + 'static> fmt::Debug for DoneCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoneCallback").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, F> From<F> for DoneCallback<T>
where
    F: Fn(&Task<T>) + Send + Sync + 'static,
{
    fn from(f: F) -> Self {
        DoneCallback::new(f)
    }
}
