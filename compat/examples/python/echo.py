"""echo (the asyncio docs' TCP echo server and client) in CPython: python3 echo.py."""
import asyncio
import time


async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    addr = writer.get_extra_info("peername")
    print(f"  server: received {message!r} from {addr[0]}:{addr[1]}, sending it back, closing")
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def tcp_echo_client(port, message):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(message.encode())
    await writer.drain()
    data = await reader.read(100)
    writer.close()
    await writer.wait_closed()
    return data.decode()


async def main():
    start = time.perf_counter()
    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"  serving on 127.0.0.1:{port}")
    replies = await asyncio.gather(*(tcp_echo_client(port, m) for m in ["Hello World!", "Hello asyncio!", "Hello taskio!"]))
    for r in replies:
        print(f"  client: received {r!r}")
    server.close()
    await server.wait_closed()
    print(f"  server closed; {len(replies)} round trips in {time.perf_counter() - start:.2f} s")


start = time.perf_counter()
asyncio.run(main())
print(f"elapsed: {time.perf_counter() - start:.3f}")
