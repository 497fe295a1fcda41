"""shield_and_cancel in CPython asyncio: python3 shield_and_cancel.py [SCALE]."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def save_work(label, delay):
    await asyncio.sleep(delay)
    print(f"  {label}: the work finished and was saved")
    return "saved"


async def main():
    start = time.perf_counter()
    work = asyncio.create_task(save_work("shielded", 1 * S))

    async def caller():
        return await asyncio.shield(work)

    c = asyncio.create_task(caller())
    await asyncio.sleep(0.3 * S)
    c.cancel("caller gave up")
    try:
        await c
    except asyncio.CancelledError as e:
        print(f"  shielded: caller cancelled after {time.perf_counter() - start:.2f} s; work still running: {not work.done()}")
    print(f"  shielded: the work returned {await work!r} after {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    work = asyncio.create_task(save_work("unshielded", 1 * S))

    async def caller2():
        return await work

    c = asyncio.create_task(caller2())
    await asyncio.sleep(0.3 * S)
    c.cancel()
    for t in (c, work):
        try:
            await t
        except asyncio.CancelledError:
            pass
    print(f"  unshielded: caller cancelled after {time.perf_counter() - start:.2f} s; the work was cancelled too: {work.cancelled()}")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
