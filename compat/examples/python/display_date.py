"""display_date in CPython asyncio: python3 display_date.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import datetime
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def display_date():
    loop = asyncio.get_running_loop()
    end_time = loop.time() + 5.0 * S
    lines = 0
    while True:
        print(f"  {datetime.datetime.now(datetime.timezone.utc).strftime('%H:%M:%S.%f')[:-3]}")
        lines += 1
        if (loop.time() + 1.0 * S) >= end_time:
            break
        await asyncio.sleep(1 * S)
    return lines


start = time.perf_counter()
lines = asyncio.run(display_date())
print(f"display_date: {lines} dates")
print(f"elapsed: {time.perf_counter() - start:.3f}")
