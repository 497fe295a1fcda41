//! A waiter whose waker panics in `wake()` costs only its own wake-up (`kernel/waiters.rs`, "A
//! waker that panics"): every primitive that wakes several waiters at once still wakes the
//! others, the notifier does not panic, and a single wake-up given to the broken waiter is
//! passed on when its future is dropped.
//!
//! Each test registers a future polled by hand with a panicking waker *beside* real tasks on
//! the deterministic runner (so "the real task has registered" is a fixed number of
//! `sleep(0)` steps), triggers the wake-up and requires the real tasks to complete within a
//! deadline: the bug this guards against left them pending forever.
#![cfg(not(loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use taskio::{
    create_task, sleep, wait_for, Barrier, Condition, ErrorKind, Event, Lock, Queue, Semaphore,
    Task,
};

/// Counts the wakes that panicked, so a test can check its broken waker was really called.
static PANICKED: AtomicUsize = AtomicUsize::new(0);

struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        PANICKED.fetch_add(1, Ordering::SeqCst);
        panic!("a waker that panics in wake()");
    }
}

/// Polls `fut` once with a waker that panics when woken.
fn poll_broken<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(PanickingWaker));
    fut.poll(&mut Context::from_waker(&waker))
}

/// Polls `fut` once with a panicking waker, expecting it to register (be pending).
#[track_caller]
fn register_broken<F: Future + ?Sized>(fut: Pin<&mut F>) {
    assert!(poll_broken(fut).is_pending(), "expected the waiter to wait");
}

/// Lets the real tasks run until they are parked on the primitive.
async fn settle() -> taskio::Result<()> {
    for _ in 0..8 {
        sleep(0).await?;
    }
    Ok(())
}

/// Awaits a real task, failing (not hanging) if it never completes.
async fn completes<T: Clone + Send + 'static>(task: Task<T>) -> T {
    match wait_for(task, Some(Duration::from_secs(10))).await {
        Ok(v) => v,
        Err(e) => panic!("the real task did not complete: {e}"),
    }
}

fn run(body: impl Future<Output = taskio::Result<()>> + Send + 'static) {
    taskio_tests::run_on(taskio_tests::Flavor::CurrentThread, false, || body)
}

// ---------------------------------------------------------------------------------------
// Several woken at once
// ---------------------------------------------------------------------------------------

#[test]
fn event_set_wakes_every_real_waiter_around_a_panicking_one() {
    run(async {
        let event = Arc::new(Event::new());
        let before = {
            let e = event.clone();
            create_task(async move { Ok(e.wait().await) })
        };
        settle().await?;
        let mut broken = Box::pin(event.wait());
        register_broken(broken.as_mut());
        let after = {
            let e = event.clone();
            create_task(async move { Ok(e.wait().await) })
        };
        settle().await?;
        let panicked = PANICKED.load(Ordering::SeqCst);
        event.set(); // does not panic: the broken waker's panic is contained
        assert!(PANICKED.load(Ordering::SeqCst) > panicked);
        assert!(completes(before).await?);
        assert!(completes(after).await?);
        // The broken waiter was notified too: polled again, it is ready.
        assert!(matches!(
            poll_broken(broken.as_mut()),
            Poll::Ready(Ok(true))
        ));
        Ok(())
    });
}

/// Registers a broken `Condition::wait` and then `n` real waiters, each counting its
/// return, and returns them (the broken future still registered).
async fn condition_waiters(
    cond: &Arc<Condition>,
    n: usize,
) -> taskio::Result<(Pin<Box<taskio::locks::ConditionWait<'_>>>, Vec<Task<()>>)> {
    let guard = cond.acquire().await?;
    let mut broken = Box::pin(cond.wait(guard));
    register_broken(broken.as_mut()); // registered, and the lock released
    let real = (0..n)
        .map(|_| {
            let c = cond.clone();
            create_task(async move {
                let g = c.acquire().await?;
                let g = c.wait(g).await?;
                drop(g);
                Ok(())
            })
        })
        .collect();
    settle().await?;
    Ok((broken, real))
}

#[test]
fn condition_notify_all_wakes_every_real_waiter() {
    run(async {
        let cond = Arc::new(Condition::new());
        let (broken, real) = condition_waiters(&cond, 2).await?;
        {
            let _g = cond.acquire().await;
            cond.notify_all()?;
        }
        for t in real {
            completes(t).await;
        }
        drop(broken); // notified, never re-acquired: nothing to hand on but the notification
        assert!(!cond.locked());
        Ok(())
    });
}

#[test]
fn condition_notify_n_wakes_the_real_waiters_it_names() {
    run(async {
        let cond = Arc::new(Condition::new());
        let (broken, real) = condition_waiters(&cond, 2).await?;
        {
            let _g = cond.acquire().await;
            cond.notify(3)?; // the broken one and both real ones
        }
        for t in real {
            completes(t).await;
        }
        drop(broken);
        Ok(())
    });
}

#[test]
fn queue_shutdown_fails_every_real_getter_and_putter() {
    run(async {
        let empty = Arc::new(Queue::<u32>::new(1));
        let full = Arc::new(Queue::<u32>::new(1));
        full.put_nowait(0).unwrap();
        let mut broken_get = Box::pin(empty.get());
        register_broken(broken_get.as_mut());
        let mut broken_put = Box::pin(full.put(1));
        register_broken(broken_put.as_mut());
        let getter = {
            let q = empty.clone();
            create_task(async move { Ok(q.get().await.map_err(|e| e.kind())) })
        };
        let putter = {
            let q = full.clone();
            create_task(async move { Ok(q.put(2).await.map_err(|e| e.error().kind())) })
        };
        settle().await?;
        empty.shutdown(false);
        full.shutdown(false);
        assert_eq!(completes(getter).await, Err(ErrorKind::QueueShutDown));
        assert_eq!(completes(putter).await, Err(ErrorKind::QueueShutDown));
        drop((broken_get, broken_put));
        Ok(())
    });
}

#[test]
fn queue_join_releases_every_real_joiner() {
    run(async {
        let q = Arc::new(Queue::<u32>::new(0));
        q.put_nowait(1).unwrap();
        q.get_nowait().unwrap();
        let mut broken = Box::pin(q.join());
        register_broken(broken.as_mut());
        let joiners: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                create_task(async move {
                    q.join().await?;
                    Ok(())
                })
            })
            .collect();
        settle().await?;
        q.task_done()?;
        for t in joiners {
            completes(t).await;
        }
        assert!(matches!(poll_broken(broken.as_mut()), Poll::Ready(Ok(()))));
        Ok(())
    });
}

#[test]
fn queue_rebalancing_wakes_real_getters_after_a_panicking_one() {
    run(async {
        let q = Arc::new(Queue::<u32>::new(0));
        let mut broken = Box::pin(q.get());
        register_broken(broken.as_mut());
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                create_task(async move { q.get().await })
            })
            .collect();
        settle().await?;
        // Each put reserves an item for the next waiting getter: the broken one first.
        for i in 0..3 {
            q.put_nowait(i).unwrap();
        }
        let mut got: Vec<u32> = Vec::new();
        for t in getters {
            got.push(completes(t).await);
        }
        // The broken getter's reservation is still in the queue; dropping it gives it back.
        assert_eq!(q.qsize(), 1);
        drop(broken);
        got.push(q.get_nowait()?);
        got.sort();
        assert_eq!(got, [0, 1, 2]);
        Ok(())
    });
}

#[test]
fn barrier_fill_and_abort_wake_every_real_waiter() {
    run(async {
        let barrier = Arc::new(Barrier::new(3).unwrap());
        let mut broken = Box::pin(barrier.wait());
        register_broken(broken.as_mut());
        let real = {
            let b = barrier.clone();
            create_task(async move { Ok(b.wait().await.map_err(|e| e.kind())) })
        };
        settle().await?;
        assert_eq!(barrier.wait().await?, 2); // the last party fills it
        assert_eq!(completes(real).await, Ok(1));
        assert!(matches!(poll_broken(broken.as_mut()), Poll::Ready(Ok(0))));

        let mut broken = Box::pin(barrier.wait());
        register_broken(broken.as_mut());
        let real = {
            let b = barrier.clone();
            create_task(async move { Ok(b.wait().await.map_err(|e| e.kind())) })
        };
        settle().await?;
        barrier.abort();
        assert_eq!(completes(real).await, Err(ErrorKind::BrokenBarrier));
        drop(broken);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// One woken: the broken waiter holds the wake-up until it is dropped, then passes it on
// ---------------------------------------------------------------------------------------

/// Polls a few times and checks `task` has not completed.
async fn still_waits<T: Send + 'static>(task: &Task<T>) -> taskio::Result<()> {
    settle().await?;
    assert!(!task.done(), "the wake-up went to the broken waiter first");
    Ok(())
}

#[test]
fn lock_handed_to_a_panicking_waiter_is_passed_on_when_it_is_dropped() {
    run(async {
        let lock = Arc::new(Lock::new());
        let guard = lock.try_acquire().unwrap();
        let mut broken = Box::pin(lock.acquire());
        register_broken(broken.as_mut());
        let real = {
            let l = lock.clone();
            create_task(async move {
                drop(l.acquire().await);
                Ok(())
            })
        };
        settle().await?;
        drop(guard); // hands the lock to the broken waiter
        still_waits(&real).await?;
        drop(broken);
        completes(real).await;
        assert!(!lock.locked());
        Ok(())
    });
}

#[test]
fn semaphore_permit_handed_to_a_panicking_waiter_is_passed_on() {
    run(async {
        let sem = Arc::new(Semaphore::new(0));
        let mut broken = Box::pin(sem.acquire());
        register_broken(broken.as_mut());
        let real = {
            let s = sem.clone();
            create_task(async move {
                s.acquire().await?.forget();
                Ok(())
            })
        };
        settle().await?;
        sem.release();
        still_waits(&real).await?;
        drop(broken);
        completes(real).await;
        assert_eq!(sem.value(), 0);
        Ok(())
    });
}

#[test]
fn condition_notify_one_to_a_panicking_waiter_is_passed_on() {
    run(async {
        let cond = Arc::new(Condition::new());
        let (broken, mut real) = condition_waiters(&cond, 1).await?;
        let real = real.pop().unwrap();
        {
            let _g = cond.acquire().await;
            cond.notify(1)?;
        }
        still_waits(&real).await?;
        drop(broken);
        completes(real).await;
        Ok(())
    });
}

#[test]
fn queue_item_reserved_for_a_panicking_getter_is_passed_on() {
    run(async {
        let q = Arc::new(Queue::<u32>::new(0));
        let mut broken = Box::pin(q.get());
        register_broken(broken.as_mut());
        let real = {
            let q = q.clone();
            create_task(async move { q.get().await })
        };
        settle().await?;
        q.put_nowait(7).unwrap();
        still_waits(&real).await?;
        drop(broken);
        assert_eq!(completes(real).await, 7);
        Ok(())
    });
}

#[test]
fn queue_slot_reserved_for_a_panicking_putter_is_passed_on() {
    run(async {
        let q = Arc::new(Queue::<u32>::new(1));
        q.put_nowait(0).unwrap();
        let mut broken = Box::pin(q.put(1));
        register_broken(broken.as_mut());
        let real = {
            let q = q.clone();
            create_task(async move { Ok(q.put(2).await.is_ok()) })
        };
        settle().await?;
        assert_eq!(q.get_nowait()?, 0); // frees the slot: reserved for the broken putter
        still_waits(&real).await?;
        drop(broken); // its item is dropped, never enqueued
        assert!(completes(real).await);
        assert_eq!(q.get_nowait()?, 2);
        Ok(())
    });
}
