"""stop_the_loop in CPython asyncio: python3 stop_the_loop.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def nested():
    asyncio.get_running_loop().stop()
    await asyncio.sleep(1)
    print("  42")


async def foo():
    asyncio.ensure_future(nested())
    await asyncio.sleep(3 * S)
    print("  foo done")


start = time.perf_counter()
try:
    asyncio.run(foo())
    print("  run returned")
except RuntimeError as e:
    print(f"  RuntimeError: {e}")
print("stop_the_loop: nothing printed 42")
print(f"elapsed: {time.perf_counter() - start:.3f}")
