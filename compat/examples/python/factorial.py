"""factorial (the asyncio docs' gather example): python3 factorial.py [SCALE]."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def factorial(name, number):
    f = 1
    for i in range(2, number + 1):
        print(f"  Task {name}: Compute factorial({number}), currently i={i}...")
        await asyncio.sleep(1 * S)
        f *= i
    print(f"  Task {name}: factorial({number}) = {f}")
    return f


async def main():
    start = time.perf_counter()
    L = await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
    print(f"gather: {L} after {time.perf_counter() - start:.2f} s")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
