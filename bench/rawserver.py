"""The machine's own limit: a minimal WebSocket broadcaster (the `websockets` library, no Django).

It subscribes to a Redis pub/sub channel, exactly as the product's floor hub does, and writes each
message it receives, unchanged, to every connected socket with `websockets.broadcast` (one frame
encoding, no per-socket await). On connect it sends a hello in place of the product's snapshot. No
authentication, no sequence checks, no database: whatever the product spends beyond this is the
price of its guarantees, and the fan-out benchmark's headline is that ratio.

    python -m bench.rawserver --port 8765 --redis-url redis://127.0.0.1:6379/9 --channel pscc:bench-raw
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import redis.asyncio as aioredis
from websockets.asyncio.server import broadcast, serve

HELLO = '{"type":"snapshot","seq":0,"data":{}}'


async def main(args: argparse.Namespace) -> None:
    sockets: set = set()

    async def handler(ws) -> None:
        sockets.add(ws)
        try:
            await ws.send(HELLO)
            async for _ in ws:  # consoles may ping; nothing to answer for the benchmark
                pass
        finally:
            sockets.discard(ws)

    async def relay_from_redis() -> None:
        client = aioredis.Redis.from_url(args.redis_url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(args.channel)
        async for message in pubsub.listen():
            if message.get("type") == "message":
                data = message["data"]
                broadcast(sockets, data.decode() if isinstance(data, bytes) else data)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(handler, "127.0.0.1", args.port, compression=None, ping_interval=None, max_queue=None):
        task = asyncio.create_task(relay_from_redis())
        await stop
        task.cancel()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(parse(sys.argv[1:])))
    else:
        uvloop.run(main(parse(sys.argv[1:])))
