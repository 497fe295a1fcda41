"""factorials_exercise in CPython asyncio: python3 factorials_exercise.py [SCALE]."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
NUMBERS = [5, 7, 3, 6]


async def factorial(n):
    f = 1
    for i in range(2, n + 1):
        await asyncio.sleep(0.1 * S)
        f *= i
    return n, f


async def main():
    start = time.perf_counter()
    for coro in asyncio.as_completed([factorial(n) for n in NUMBERS]):
        n, f = await coro
        print(f"  as_completed: {n}! = {f} after {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    all_ = await asyncio.gather(*(factorial(n) for n in NUMBERS))
    print(f"  gather: {all_} after {time.perf_counter() - start:.2f} s")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
