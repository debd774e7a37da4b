"""N console WebSocket clients in one asyncio process, recording when each call or text reaches each.

Started by the intake and burst benchmarks (`bench.common`-style stdin/stdout driving, see
`EventClients`), not by hand. Each client is a real authenticated `/ws/floor/` socket (its own
session cookie, the allowed Origin), waits for its snapshot, then for every `call.ringing` and
`text.message` event records the benchmark key it carries (a call's `cpe_call_id`, a text's token
`BK...` in its text) and `time.time()` at receipt, first receipt per key per console.

Commands, one JSON object per stdin line; answers, one per stdout line:
  (on start)                                      -> {"event": "ready", "connected", "failed", ...}
  {"cmd": "wait", "sent": {key: t}, "timeout"}    -> once every console has every key (or at the
                                                     timeout): per-key-per-console latency (receipt
                                                     - t) p50/p99/max, how many missing, per kind
  {"cmd": "quit"}                                 -> closes every socket and exits
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time

from bench.clients import ConsolePool, run

KINDS = ("call.ringing", "text.message")
KEY = re.compile(r"BK[0-9A-Za-z]+-[CT][0-9]+")


class Consoles(ConsolePool):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.seen: list[dict[str, float]] = [{} for _ in range(count)]

    def record(self, index: int, raw: str, received_at: float) -> None:
        if '"call.ringing"' not in raw and '"text.message"' not in raw:
            return
        message = json.loads(raw)
        if message.get("type") not in KINDS:
            return
        data = message.get("data") or {}
        text = data.get("cpe_call_id") if message["type"] == "call.ringing" else data.get("text")
        match = KEY.search(text or "")
        if match:
            self.seen[index].setdefault(match.group(0), received_at)

    async def answer_wait(self, command: dict) -> dict:
        sent = command["sent"]
        waited_from = time.monotonic()
        deadline = waited_from + command["timeout"]
        while time.monotonic() < deadline and not all(all(k in seen for k in sent) for seen in self.seen):
            await asyncio.sleep(0.02)
        return self.summary(sent, time.monotonic() - waited_from)

    def summary(self, sent: dict[str, float], waited: float) -> dict:
        def stats(keys: list[str]) -> dict:
            latencies, missing = [], 0
            for seen in self.seen:
                for key in keys:
                    at = seen.get(key)
                    if at is None:
                        missing += 1
                    else:
                        latencies.append((at - sent[key]) * 1000)
            latencies.sort()
            n = len(latencies)

            def pct(q: float) -> float:
                return round(latencies[max(1, min(n, int(-(-q * n // 100)))) - 1], 2) if n else 0.0

            return {"keys": len(keys), "expected": len(keys) * self.count, "received": n, "missing": missing,
                    "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": round(latencies[-1], 2) if n else 0.0}

        calls = [k for k in sent if "-C" in k]
        texts = [k for k in sent if "-T" in k]
        complete = sum(1 for seen in self.seen if all(k in seen for k in sent))
        missing_keys = sorted({k for seen in self.seen for k in sent if k not in seen})
        return {"consoles": self.count, "consoles_complete": complete, "all": stats(list(sent)),
                "calls": stats(calls), "texts": stats(texts), "missing_examples": missing_keys[:10],
                "drain_seconds": round(waited, 3), "closed_early": self.closed_early}


async def main(args: argparse.Namespace) -> None:
    await Consoles(args.count).serve(args)


if __name__ == "__main__":
    run(main, sys.argv[1:])
