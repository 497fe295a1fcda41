"""send_message in CPython asyncio: python3 send_message.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


async def send_message(msg, delay):
    await asyncio.sleep(delay)
    print(f"  sent {msg!r}")
    return msg


async def main():
    d1, d2 = 1 * S, 2 * S
    start = time.perf_counter()
    await send_message("hello", d1)
    await send_message("world", d1)
    await send_message("bye", d2)
    print(f"sequential awaits: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    a = asyncio.create_task(send_message("hello", d1))
    b = asyncio.create_task(send_message("world", d1))
    c = asyncio.create_task(send_message("bye", d2))
    await a
    await b
    await c
    print(f"tasks:             {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(send_message("hello", d1))
        tg.create_task(send_message("world", d1))
        tg.create_task(send_message("bye", d2))
    print(f"TaskGroup:         {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    tasks = [
        asyncio.create_task(send_message("slow", 2 * S)),
        asyncio.create_task(send_message("fast", 0.5 * S)),
        asyncio.create_task(send_message("medium", 1 * S)),
    ]
    for coro in asyncio.as_completed(tasks):
        print(f"as_completed: got {await coro!r} after {time.perf_counter() - start:.2f} s")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
