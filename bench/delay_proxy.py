#!/usr/bin/env python3
"""bench/delay_proxy.py: a TCP proxy that delays everything it forwards, each way.

A Redis that answers, but late: floodgate -> proxy -> redis-server, every chunk held for
--delay-ms before it is passed on (in order, in both directions), so a round trip takes
at least twice that. Used by bench/store-outage.sh for "Redis answers slower than the
store deadline". Runs in the foreground until SIGTERM or SIGINT.

Usage: delay_proxy.py --listen PORT --upstream PORT [--delay-ms MS]   (127.0.0.1 only)
"""
import argparse
import asyncio
import signal


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except ConnectionError:
        pass


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--delay-ms", type=float, default=100.0)
    args = p.parse_args()
    delay = args.delay_ms / 1000

    async def client(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", args.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pump(reader, up_writer, delay), pump(up_reader, writer, delay))

    server = await asyncio.start_server(client, "127.0.0.1", args.listen)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
