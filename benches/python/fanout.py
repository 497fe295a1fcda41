"""The asyncio fan-out programs of issue 4 ("Speed") on CPython's asyncio.

Same programs and constants as `benches/src/asyncio.rs` (taskio / tokio) and the `fanout`
binary. Each program runs `REPS` times inside one event loop; the median wall time (ns) of
each is printed as `program<TAB>median_ns`, after checking the program's checksum.

    python3 benches/python/fanout.py [reps] [program ...]
"""

import asyncio
import statistics
import sys
import time

GATHER_SMALL = 10_000
GATHER_LARGE = 100_000
TASKGROUP_N = 10_000
QUEUE_PRODUCERS = 4
QUEUE_ITEMS = 25_000
QUEUE_BOUND = 100
LOCK_TASKS = 8
LOCK_ITERS = 10_000
SEM_TASKS = 100
SEM_PERMITS = 10
SEM_ACQUISITIONS = 10_000


def tri(n):
    return n * (n - 1) // 2


async def work(i):
    return i


async def gather(n):
    out = await asyncio.gather(*[asyncio.create_task(work(i)) for i in range(n)])
    return sum(out)


async def taskgroup(n):
    total = 0

    async def child(i):
        nonlocal total
        total += i

    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(child(i))
    return total


async def queue(maxsize):
    q = asyncio.Queue(maxsize)

    async def producer():
        for i in range(QUEUE_ITEMS):
            await q.put(i)

    producers = [asyncio.create_task(producer()) for _ in range(QUEUE_PRODUCERS)]
    total = 0
    for _ in range(QUEUE_PRODUCERS * QUEUE_ITEMS):
        total += await q.get()
    for p in producers:
        await p
    return total


async def lock():
    lk = asyncio.Lock()
    counter = 0

    async def worker():
        nonlocal counter
        for _ in range(LOCK_ITERS):
            async with lk:
                counter += 1

    await asyncio.gather(*[asyncio.create_task(worker()) for _ in range(LOCK_TASKS)])
    return counter


async def semaphore():
    sem = asyncio.Semaphore(SEM_PERMITS)
    counter = 0

    async def worker():
        nonlocal counter
        for _ in range(SEM_ACQUISITIONS // SEM_TASKS):
            async with sem:
                counter += 1

    await asyncio.gather(*[asyncio.create_task(worker()) for _ in range(SEM_TASKS)])
    return counter


PROGRAMS = {
    "gather_10k": (lambda: gather(GATHER_SMALL), tri(GATHER_SMALL)),
    "gather_100k": (lambda: gather(GATHER_LARGE), tri(GATHER_LARGE)),
    "taskgroup_10k": (lambda: taskgroup(TASKGROUP_N), tri(TASKGROUP_N)),
    "queue_bounded": (lambda: queue(QUEUE_BOUND), QUEUE_PRODUCERS * tri(QUEUE_ITEMS)),
    "queue_unbounded": (lambda: queue(0), QUEUE_PRODUCERS * tri(QUEUE_ITEMS)),
    "lock": (lock, LOCK_TASKS * LOCK_ITERS),
    "semaphore": (semaphore, SEM_ACQUISITIONS),
}


async def main(reps, names):
    for name in names:
        prog, want = PROGRAMS[name]
        times = []
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            got = await prog()
            times.append(time.perf_counter_ns() - t0)
            assert got == want, (name, got, want)
        print(f"{name}\t{statistics.median(times):.0f}", flush=True)


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    names = sys.argv[2:] or list(PROGRAMS)
    asyncio.run(main(reps, names))
