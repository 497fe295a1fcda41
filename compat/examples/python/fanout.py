"""fanout in CPython asyncio: gather of N tiny tasks. python3 fanout.py [N] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


async def child(i):
    return i


async def main():
    results = await asyncio.gather(*(asyncio.create_task(child(i)) for i in range(N)))
    assert sum(results) == N * (N - 1) // 2


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
