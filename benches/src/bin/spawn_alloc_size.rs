//! Prints the heap allocations made by one `spawn(async {})` on each runtime (the task
//! cell's size is the largest of them), measured with a counting global allocator.
//!
//! `cargo run --release -p taskio-benches --bin spawn_alloc_size`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};

use taskio_benches::{Rt, Taskio, Tokio};

/// Records the sizes of allocations made on this thread while `RECORDING` is set.
struct Counting;

const MAX: usize = 16;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static SIZES: RefCell<([usize; MAX], usize)> = const { RefCell::new(([0; MAX], 0)) };
}

// SAFETY: forwards to `System`, only recording the layout's size in a fixed array.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if RECORDING.with(Cell::get) {
            SIZES.with(|s| {
                let (arr, n) = &mut *s.borrow_mut();
                if *n < MAX {
                    arr[*n] = layout.size();
                }
                *n += 1;
            });
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocation sizes made by one `spawn(async {})` inside `block_on`, after warm-up spawns.
fn spawn_allocs<R: Rt>(rt: &R::Runtime) -> Vec<usize> {
    R::block_on(rt, async {
        let warm: Vec<_> = (0..64).map(|_| R::spawn(async {})).collect();
        for h in warm {
            h.await.unwrap();
        }
        SIZES.with(|s| s.borrow_mut().1 = 0);
        RECORDING.with(|r| r.set(true));
        let h = R::spawn(async {});
        RECORDING.with(|r| r.set(false));
        h.await.unwrap();
        SIZES.with(|s| {
            let (arr, n) = *s.borrow();
            arr[..n.min(MAX)].to_vec()
        })
    })
}

fn report<R: Rt>() {
    let ct = spawn_allocs::<R>(&R::current_thread());
    let mt = spawn_allocs::<R>(&R::multi_thread(2));
    println!(
        "{:>6}: current_thread allocations {:?} bytes; multi_thread(2) allocations {:?} bytes",
        R::NAME,
        ct,
        mt
    );
}

/// Allocations made by one asyncio-layer `create_task` (sizes), and per task over a whole
/// `gather` of 1000 trivial tasks (count), on the current-thread runner (everything on
/// this thread, so the thread-local recording sees it all).
fn asyncio_allocs() -> (Vec<usize>, f64) {
    let runner = taskio::Runner::builder().current_thread().build().unwrap();
    runner
        .run(async {
            let warm: Vec<_> = (0..64u64)
                .map(|i| taskio::create_task(async move { Ok(i) }))
                .collect();
            taskio::gather(warm).await?;
            SIZES.with(|s| s.borrow_mut().1 = 0);
            RECORDING.with(|r| r.set(true));
            let t = taskio::create_task(async { Ok(1u64) });
            RECORDING.with(|r| r.set(false));
            let one = SIZES.with(|s| {
                let (arr, n) = *s.borrow();
                arr[..n.min(MAX)].to_vec()
            });
            t.await?;
            SIZES.with(|s| s.borrow_mut().1 = 0);
            RECORDING.with(|r| r.set(true));
            let n = 1000u64;
            taskio::gather((0..n).map(|i| taskio::create_task(async move { Ok(i) }))).await?;
            RECORDING.with(|r| r.set(false));
            let total = SIZES.with(|s| s.borrow().1);
            Ok((one, total as f64 / n as f64))
        })
        .unwrap()
}

fn main() {
    report::<Taskio>();
    report::<Tokio>();
    let (one, per_task) = asyncio_allocs();
    println!(
        "taskio asyncio layer: create_task allocations {one:?} bytes; \
         gather of 1000 tasks: {per_task:.1} allocations per task"
    );
}
