"""speech in CPython asyncio: python3 speech.py [SCALE] (prints 'elapsed: SECONDS' last)."""
import asyncio
import sys
import time

S = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
WORDS = "we shall go on to the end"


async def speak(words, delay):
    n = 0
    for w in words.split():
        print(f"  {w}")
        n += 1
        await asyncio.sleep(delay)
    return n


def say(loop, words, i, delay):
    print(f"  {words[i].upper()}")
    if i + 1 == len(words):
        loop.stop()
        return
    loop.call_later(delay, say, loop, words, i + 1, delay)


start = time.perf_counter()
# asyncio.run earlier in this thread leaves no current loop, and 3.14's get_event_loop() no
# longer makes one: set it, then get it as the tutorial does.
asyncio.set_event_loop(asyncio.new_event_loop())
loop = asyncio.get_event_loop()
n = loop.run_until_complete(speak(WORDS, 0.5 * S))
print(f"  ({n} words with run_until_complete)")
loop.call_soon(say, loop, WORDS.split(), 0, 0.5 * S)
loop.run_forever()
print("  (the same with callbacks and run_forever)")
loop.close()
asyncio.set_event_loop(None)
print(f"speech: closed: {loop.is_closed()}")
print(f"elapsed: {time.perf_counter() - start:.3f}")
