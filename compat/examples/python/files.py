"""files in CPython asyncio: python3 files.py (prints 'elapsed: SECONDS' last)."""
import asyncio
import os
import shutil
import tempfile
import time

NAMES = ["alpha.txt", "beta.txt", "gamma.txt", "delta.txt"]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return len(text)


def read(path):
    with open(path) as f:
        return f.read()


async def write_file(path, lines):
    text = "".join(f"line {i}\n" for i in range(1, lines + 1))
    return await asyncio.to_thread(write, path, text)


async def read_file(path):
    text = await asyncio.to_thread(read, path)
    return os.path.basename(path), len(text.splitlines())


async def main(d):
    start = time.perf_counter()
    sizes = await asyncio.gather(*(write_file(os.path.join(d, n), 1000 * (i + 1)) for i, n in enumerate(NAMES)))
    print(f"  wrote {len(sizes)} files concurrently ({sum(sizes)} bytes) in {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    counts = await asyncio.gather(*(read_file(os.path.join(d, n)) for n in NAMES))
    for name, lines in counts:
        print(f"  {name}: {lines} lines")
    print(f"  read them back concurrently in {time.perf_counter() - start:.2f} s")


start = time.perf_counter()
d = tempfile.mkdtemp(prefix="taskio-files-example-py-")
try:
    asyncio.run(main(d))
finally:
    shutil.rmtree(d)
print(f"elapsed: {time.perf_counter() - start:.3f}")
