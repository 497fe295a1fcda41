"""lets_wait in CPython asyncio: python3 lets_wait.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def say_after(delay, what):
    await asyncio.sleep(delay)
    print(f"  {what}")


async def job(name, delay):
    await asyncio.sleep(delay)
    print(f"  {name} finished")
    return f"result {name}"


async def eternity():
    await asyncio.sleep(3600)
    return "never"


async def main():
    t1 = asyncio.create_task(say_after(1 * S, "hello"))
    t2 = asyncio.create_task(say_after(2 * S, "world"))
    t3 = asyncio.create_task(say_after(3 * S, "from three tasks"))
    start = time.perf_counter()
    await t1
    await t2
    await t3
    print(f"three tasks: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    results = await asyncio.gather(job("a", 3 * S), job("b", 1 * S), job("c", 2 * S), job("d", 0.5 * S))
    print(f"gather: {results} after {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    forever = asyncio.create_task(eternity())
    try:
        await asyncio.wait_for(forever, timeout=1 * S)
    except TimeoutError:
        print(f"wait_for: timeout! after {time.perf_counter() - start:.2f} s (cancelled: {forever.cancelled()})")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
