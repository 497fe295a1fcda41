//! Timer precision: 10_000 sleeps with random 1–50 ms delays spawned at once; prints the
//! lateness (actual wake-up − deadline) p50/p99/max on taskio and tokio, same delays, same
//! run, as a markdown table.
//!
//! `timer_precision [workers] [rounds]` (defaults: 2 workers, 5 rounds, alternating which
//! runtime goes first). A runtime is built per runtime and reused across rounds; one
//! warm-up round each is not recorded.

use std::time::Duration;

use taskio_benches::time::{lateness, quantile, XorShift};
use taskio_benches::{Rt, Taskio, Tokio};

/// Sleeps per round.
const NUM_SLEEPS: usize = 10_000;
/// Delay range, in µs (1–50 ms).
const MIN_DELAY_US: u64 = 1_000;
const MAX_DELAY_US: u64 = 50_000;

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().map_or(2, |s| s.parse().expect("workers"));
    let rounds: usize = args.next().map_or(5, |s| s.parse().expect("rounds"));

    let taskio = Taskio::multi_thread_all(workers);
    let tokio = Tokio::multi_thread_all(workers);
    let mut rng = XorShift::new(0x5eed);
    let (mut t, mut k) = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        let delays: Vec<Duration> = (0..NUM_SLEEPS)
            .map(|_| {
                Duration::from_micros(
                    MIN_DELAY_US + rng.next_u64() % (MAX_DELAY_US - MIN_DELAY_US + 1),
                )
            })
            .collect();
        let (lt, lk) = if round % 2 == 0 {
            let lt = lateness::<Taskio>(&taskio, &delays);
            (lt, lateness::<Tokio>(&tokio, &delays))
        } else {
            let lk = lateness::<Tokio>(&tokio, &delays);
            (lateness::<Taskio>(&taskio, &delays), lk)
        };
        if round > 0 {
            t.extend(lt);
            k.extend(lk);
        }
    }
    t.sort_unstable();
    k.sort_unstable();
    println!(
        "timer precision: {NUM_SLEEPS} sleeps of 1–50 ms spawned at once, {workers} workers, \
         {rounds} rounds (+1 warm-up)\n"
    );
    println!("| runtime | p50 lateness | p99 lateness | max lateness |");
    println!("|---|--:|--:|--:|");
    for (name, v) in [("taskio", &t), ("tokio", &k)] {
        println!(
            "| {name} | {} | {} | {} |",
            ms(quantile(v, 0.5)),
            ms(quantile(v, 0.99)),
            ms(*v.last().unwrap())
        );
    }
    println!(
        "| ratio (taskio/tokio) | {:.2} | {:.2} | {:.2} |",
        quantile(&t, 0.5).as_secs_f64() / quantile(&k, 0.5).as_secs_f64(),
        quantile(&t, 0.99).as_secs_f64() / quantile(&k, 0.99).as_secs_f64(),
        t.last().unwrap().as_secs_f64() / k.last().unwrap().as_secs_f64()
    );
}
