"""worker in CPython asyncio: python3 worker.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def worker(name, delay):
    await asyncio.sleep(delay)
    return f"{name} done"


async def faulty(delay):
    await asyncio.sleep(delay)
    raise ValueError("bad input")


def on_done(task):
    print(f"  callback: {task.get_name()} is done")


def report(label, t):
    def call(f):
        try:
            return repr(f())
        except BaseException as e:
            return f"raises {type(e).__name__}: {e}"
    print(f"  {label}: cancelled()={t.cancelled()} done()={t.done()} result()={call(t.result)} exception()={call(t.exception)}")


async def main():
    ok = asyncio.create_task(worker("worker-1", 1 * S), name="worker-1")
    ok.add_done_callback(on_done)
    report("worker-1 while running", ok)
    await ok
    await asyncio.sleep(0)
    report("worker-1", ok)
    bad = asyncio.create_task(faulty(0.5 * S), name="faulty")
    bad.add_done_callback(on_done)
    try:
        await bad
    except ValueError:
        pass
    await asyncio.sleep(0)
    report("faulty", bad)
    slow = asyncio.create_task(worker("worker-2", 3600), name="worker-2")
    slow.add_done_callback(on_done)
    await asyncio.sleep(0.5 * S)
    slow.cancel("no longer needed")
    try:
        await slow
    except asyncio.CancelledError:
        pass
    await asyncio.sleep(0)
    report("worker-2", slow)


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
