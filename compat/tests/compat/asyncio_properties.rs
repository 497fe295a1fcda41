//! proptest properties of gather, as_completed and TaskGroup, on the deterministic runner
//! with the paused clock (completion order = (delay, creation order)).
#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
struct Ended(Arc<AtomicUsize>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

use taskio::{as_completed, create_task, gather, sleep, Error, Runner, TaskGroup};
use taskio_tests::Flavor;

fn runner() -> Runner {
    taskio_tests::runner(Flavor::CurrentThread, true)
        .build()
        .unwrap()
}

fn mt_runner() -> Runner {
    taskio_tests::runner(Flavor::MultiThread(3), true)
        .build()
        .unwrap()
}

/// A child: sleeps `delay` ms, then returns its index or fails with it.
async fn child(i: usize, delay: u64, fail: bool) -> taskio::Result<usize> {
    sleep(Duration::from_millis(delay)).await?;
    if fail {
        return Err(Error::runtime(format!("{i}")));
    }
    Ok(i)
}

fn completion_order(children: &[(u64, bool)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..children.len()).collect();
    idx.sort_by_key(|&i| (children[i].0, i));
    idx
}

fn children() -> impl Strategy<Value = Vec<(u64, bool)>> {
    prop::collection::vec((0u64..20, prop::bool::weighted(0.2)), 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn gather_returns_argument_order(children in children()) {
        let c = children.clone();
        let out = runner().run(async move {
            let tasks: Vec<_> = c.iter().enumerate().map(|(i, &(d, f))| create_task(child(i, d, f))).collect();
            let all = gather(tasks.clone()).return_exceptions().await;
            let first = gather(tasks).await;
            Ok((all, first))
        }).unwrap();
        let (all, first) = out;
        for (i, r) in all.iter().enumerate() {
            match r {
                Ok(v) => prop_assert!(!children[i].1 && *v == i),
                Err(e) => prop_assert!(children[i].1 && e.to_string() == i.to_string()),
            }
        }
        let first_failure = completion_order(&children).into_iter().find(|&i| children[i].1);
        match (first, first_failure) {
            (Ok(v), None) => prop_assert_eq!(v, (0..children.len()).collect::<Vec<_>>()),
            (Err(e), Some(i)) => prop_assert_eq!(e.to_string(), i.to_string()),
            (r, f) => prop_assert!(false, "gather gave {:?}, expected failure {:?}", r, f),
        }
    }

    #[test]
    fn gather_returns_argument_order_on_several_workers(children in children()) {
        let c = children.clone();
        let all = mt_runner().run(async move {
            Ok(gather(c.iter().enumerate().map(|(i, &(d, f))| child(i, d, f))).return_exceptions().await)
        }).unwrap();
        for (i, r) in all.iter().enumerate() {
            match r {
                Ok(v) => prop_assert!(!children[i].1 && *v == i),
                Err(e) => prop_assert!(children[i].1 && e.to_string() == i.to_string()),
            }
        }
    }

    #[test]
    fn as_completed_yields_exactly_completion_order(delays in prop::collection::vec(0u64..20, 0..12)) {
        let d = delays.clone();
        let got = runner().run(async move {
            let mut it = as_completed(d.iter().enumerate().map(|(i, &d)| child(i, d, false)), None);
            let mut got = Vec::new();
            while let Some(r) = it.next().await {
                got.push(r?);
            }
            Ok(got)
        }).unwrap();
        let children: Vec<(u64, bool)> = delays.iter().map(|&d| (d, false)).collect();
        prop_assert_eq!(got, completion_order(&children));
    }

    #[test]
    fn taskgroup_returns_after_every_child_ended_and_holds_exactly_the_failures(children in children(), mt in any::<bool>()) {
        let ended = Arc::new(AtomicUsize::new(0));
        let created = Arc::new(AtomicUsize::new(0));
        let (c, e, n_created) = (children.clone(), ended.clone(), created.clone());
        let r = if mt { mt_runner() } else { runner() };
        let out = r.run(async move {
            let r = TaskGroup::run(|tg| async move {
                for (i, &(d, f)) in c.iter().enumerate() {
                    // Captured, so it drops with the child's future even if that never ran.
                    let ended = Ended(e.clone());
                    let created = tg.create_task(async move {
                        let _ended = ended;
                        child(i, d, f).await
                    });
                    if created.is_err() {
                        // The group is shutting down after an early failure.
                        break;
                    }
                    n_created.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            })
            .await;
            Ok(r)
        }).unwrap();
        // Every child created (and the one refused, whose future was dropped) has ended.
        let refused = usize::from(created.load(Ordering::SeqCst) < children.len());
        prop_assert_eq!(ended.load(Ordering::SeqCst), created.load(Ordering::SeqCst) + refused, "a child outlived its group");
        let failing: Vec<usize> = (0..children.len()).filter(|&i| children[i].1).collect();
        match out {
            Ok(()) => prop_assert!(failing.is_empty()),
            Err(err) => {
                let got: Vec<usize> = err.downcast_ref::<taskio::ExceptionGroup>().unwrap().errors.iter().map(|e| e.to_string().parse().unwrap()).collect();
                prop_assert!(!got.is_empty());
                prop_assert!(got.iter().all(|i| children[*i].1), "only failing children");
                if !mt {
                    // Exactly those that failed before the group reacted: the ones due at the
                    // first failure's deadline (they run in the same tick), in creation order.
                    let first = failing.iter().map(|&i| children[i].0).min().unwrap();
                    let expected: Vec<usize> = failing.iter().copied().filter(|&i| children[i].0 == first).collect();
                    prop_assert_eq!(got, expected);
                }
            }
        }
    }
}
