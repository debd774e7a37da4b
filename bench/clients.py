"""N console WebSocket clients in one asyncio process, measuring commit-to-receipt latency.

Started by the benchmarks (`bench.common.Clients`), not by hand. Each client connects with its own
session cookie and the allowed Origin, waits for its first message (the product's snapshot, the raw
server's hello) and then records every `bench.update`: `time.time()` at receipt minus the `t` the
driver stamped (same machine, same clock), per phase, and per client how many arrived and whether
any arrived out of order.

Commands, one JSON object per stdin line; answers, one per stdout line:
  (on start)                                    -> {"event": "ready", "connected", "failed", ...}
  {"cmd": "wait", "phase", "expected", "timeout"} -> the phase's statistics once every client has
                                                    `expected` updates of it, or at the timeout
  {"cmd": "quit"}                               -> closes every socket and exits
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from array import array

from websockets.asyncio.client import connect

UPDATE_MARK = '"bench.update"'
# The three fields the driver stamps, read without decoding the whole message: the clients process
# holds hundreds of sockets, and its own CPU must not be what the benchmark measures.
T_FIELD = re.compile(r'"t":\s*([0-9.eE+-]+)')
P_FIELD = re.compile(r'"p":\s*"([^"]*)"')
I_FIELD = re.compile(r'"i":\s*([0-9]+)')


class Phase:
    __slots__ = ("counts", "last", "out_of_order", "latencies")

    def __init__(self, clients: int) -> None:
        self.counts = [0] * clients
        self.last = [-1] * clients
        self.out_of_order = 0
        self.latencies = array("d")

    def summary(self, name: str, expected: int, waited: float) -> dict:
        values = sorted(self.latencies)
        n = len(values)

        def pct(q: float) -> float:
            if not values:
                return 0.0
            return values[max(1, min(n, int(-(-q * n // 100)))) - 1] * 1000

        lost = sum(max(0, expected - c) for c in self.counts)
        return {
            "phase": name, "expected_per_client": expected, "clients": len(self.counts), "received": n,
            "lost": lost, "clients_complete": sum(1 for c in self.counts if c >= expected),
            "min_per_client": min(self.counts) if self.counts else 0, "out_of_order": self.out_of_order,
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": values[-1] * 1000 if values else 0.0,
            "mean_ms": (sum(values) / n * 1000) if n else 0.0, "drain_seconds": round(waited, 3),
        }


class ConsolePool:
    """N authenticated `/ws/floor/` sockets in this process, driven by JSON commands on stdin.

    A subclass says what it keeps of each frame (`record`) and how it answers a `wait` command
    (`answer_wait`); connecting, the ready line, the command loop and closing are here, once."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sockets: list = []
        self.closed_early = 0
        self.errors: list[str] = []

    def record(self, index: int, raw: str, received_at: float) -> None:  # pragma: no cover - overridden
        pass

    async def answer_wait(self, command: dict) -> dict:  # pragma: no cover - overridden
        return {}

    async def run_client(self, index: int, url: str, origin: str, cookie: str, gate: asyncio.Semaphore,
                         connected: asyncio.Queue) -> None:
        try:
            async with gate:
                ws = await connect(url, origin=origin, additional_headers=[("Cookie", cookie)], compression=None,
                                   ping_interval=None, max_size=None, open_timeout=120, close_timeout=2,
                                   max_queue=None)
                first = await asyncio.wait_for(ws.recv(), 120)  # the snapshot (or the raw server's hello)
                self.sockets.append(ws)
                self.record(index, first, time.time())
        except Exception as exc:  # reported in the ready line
            await connected.put(f"{type(exc).__name__}: {exc}")
            return
        await connected.put(None)
        try:
            async for raw in ws:
                self.record(index, raw, time.time())
        except Exception:
            pass
        self.closed_early += 1

    async def serve(self, args: argparse.Namespace) -> None:
        """Connect every client, print the ready line, answer commands until `quit`, close."""
        with open(args.cookies) as f:
            cookies = json.load(f)
        gate = asyncio.Semaphore(args.connect_concurrency)
        connected: asyncio.Queue = asyncio.Queue()
        started = time.monotonic()
        tasks = [
            asyncio.create_task(self.run_client(i, args.url, args.origin, cookies[i % len(cookies)], gate, connected))
            for i in range(self.count)
        ]
        failed = 0
        for _ in range(self.count):
            error = await connected.get()
            if error is not None:
                failed += 1
                if len(self.errors) < 5:
                    self.errors.append(error)
        print(json.dumps({"event": "ready", "connected": self.count - failed, "failed": failed,
                          "errors": self.errors, "connect_seconds": round(time.monotonic() - started, 3)}), flush=True)

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**26)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                break
            command = json.loads(line)
            if command["cmd"] == "quit":
                break
            if command["cmd"] == "wait":
                print(json.dumps(await self.answer_wait(command)), flush=True)
        for ws in list(self.sockets):
            try:
                await ws.close()
            except Exception:
                pass
        for task in tasks:
            task.cancel()


class Consoles(ConsolePool):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.phases: dict[str, Phase] = {}

    def phase(self, name: str) -> Phase:
        phase = self.phases.get(name)
        if phase is None:
            phase = self.phases[name] = Phase(self.count)
        return phase

    def record(self, index: int, raw: str, received_at: float) -> None:
        if UPDATE_MARK not in raw:
            return  # snapshot, heartbeat, other floor traffic
        t, p, i = T_FIELD.search(raw), P_FIELD.search(raw), I_FIELD.search(raw)
        if t is None or p is None or i is None:
            data = json.loads(raw)["data"]
            stamped, name, number = data["t"], data["p"], data["i"]
        else:
            stamped, name, number = float(t.group(1)), p.group(1), int(i.group(1))
        phase = self.phase(name)
        phase.latencies.append(received_at - stamped)
        phase.counts[index] += 1
        if number <= phase.last[index]:
            phase.out_of_order += 1
        phase.last[index] = number

    async def answer_wait(self, command: dict) -> dict:
        name, expected = command["phase"], command["expected"]
        waited_from = time.monotonic()
        deadline = waited_from + command["timeout"]
        phase = self.phase(name)
        while min(phase.counts) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        summary = phase.summary(name, expected, time.monotonic() - waited_from)
        summary["closed_early"] = self.closed_early
        del self.phases[name]
        return summary


async def main(args: argparse.Namespace) -> None:
    await Consoles(args.count).serve(args)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--cookies", required=True, help="a JSON file: a list of Cookie header values")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--connect-concurrency", type=int, default=25)
    return parser.parse_args(argv)


def run(main_coroutine, argv: list[str]) -> None:
    """Run a clients process's `main` on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_coroutine(parse(argv)))
    else:
        uvloop.run(main_coroutine(parse(argv)))


if __name__ == "__main__":
    run(main, sys.argv[1:])
