"""Memory: the product server's RSS with many consoles connected under a steady update rate.

    python -m bench.memory --clients 500 --minutes 10 --rate 20

Starts the relay and one product server (`--server uvicorn` or `daphne`; several, comma-separated,
run one after the other), connects N authenticated `/ws/floor/` consoles from a separate process,
then makes `--rate` updates a second through the service layer's path for `--minutes`, while a
thread samples the server's resident memory (psutil, the server and any children) every
`--sample-seconds`. Growth is the mean RSS over the last window minus the mean over the first,
as a percentage of the first; the window is one minute (a third of the run when it is shorter).
Target: under 10 % over 10 minutes. Every update must reach every console (lost = 0).
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common import (
    SERVERS,
    Clients,
    Processes,
    child_env,
    drive,
    floor_session_cookies,
    machine_info,
    print_table,
    product_sender,
    require_migrated,
    setup_django,
    start_product_server,
    start_relay,
    vacuum_hot_tables,
    write_result,
)

GROWTH_TARGET_PCT = 10.0


@dataclass
class MemoryOptions:
    clients: int = 500
    minutes: float = 10.0
    rate: float = 20.0
    servers: list[str] = field(default_factory=lambda: ["uvicorn"])
    sample_seconds: float = 5.0
    drain_timeout: float = 10.0
    results_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False


def rss_bytes(pid: int) -> int:
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class Sampler:
    """Samples a process's RSS every `interval` seconds in a thread until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _run(self) -> None:
        started = time.monotonic()
        while True:
            try:
                self.samples.append((round(time.monotonic() - started, 2), rss_bytes(self.pid)))
            except Exception:
                return
            if self._stop.wait(self.interval):
                return

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        try:
            self.samples.append((self.samples[-1][0] + self.interval if self.samples else 0.0, rss_bytes(self.pid)))
        except Exception:
            pass


def growth(samples: list[tuple[float, int]], total_seconds: float) -> dict:
    window = min(60.0, total_seconds / 3)
    first = [rss for t, rss in samples if t <= window] or [samples[0][1]]
    last = [rss for t, rss in samples if t >= total_seconds - window] or [samples[-1][1]]
    first_mb, last_mb = sum(first) / len(first) / 2**20, sum(last) / len(last) / 2**20
    return {"window_seconds": round(window, 1), "first_window_mb": round(first_mb, 1),
            "last_window_mb": round(last_mb, 1), "growth_pct": round((last_mb - first_mb) / first_mb * 100, 2),
            "peak_mb": round(max(rss for _, rss in samples) / 2**20, 1)}


def run_server(procs: Processes, kind: str, env: dict[str, str], cookies: list[str], opts: MemoryOptions) -> dict:
    proc, port = start_product_server(procs, kind, env)
    send = product_sender()
    try:
        idle_mb = rss_bytes(proc.pid) / 2**20
        clients = Clients(procs, env, url=f"ws://127.0.0.1:{port}/ws/floor/", origin=f"http://127.0.0.1:{port}",
                          cookies=cookies, count=opts.clients, name=f"clients-memory-{kind}")
        try:
            ready = clients.ready()
            connected_mb = rss_bytes(proc.pid) / 2**20
            total = opts.minutes * 60
            # One phase per window, so that a drain between them is short and statistics stay per minute.
            window = min(60.0, total)
            phases = max(1, math.ceil(total / window - 1e-9))
            sampler = Sampler(proc.pid, opts.sample_seconds).start()
            rows = []
            try:
                for k in range(phases):
                    seconds = min(window, total - k * window)
                    name = f"memory:{kind}:{k}"
                    driven = drive(send, name, opts.rate, seconds)
                    stats = clients.collect(name, driven.sent, opts.drain_timeout)
                    rows.append({"window": k, "sent": driven.sent, "achieved_rate": round(driven.achieved_rate, 1),
                                 "rss_mb": round(rss_bytes(proc.pid) / 2**20, 1), **stats})
                    if not opts.quiet:
                        print(f"{kind} window {k}: rss {rows[-1]['rss_mb']} MB  p99 {stats['p99_ms']:.1f} ms  "
                              f"lost {stats['lost']}", flush=True)
            finally:
                sampler.stop()
        finally:
            clients.close()
    finally:
        procs.stop(proc)
    return {
        "server": kind, "clients": opts.clients, "connect_seconds": ready["connect_seconds"],
        "idle_mb": round(idle_mb, 1), "connected_mb": round(connected_mb, 1),
        "per_console_kb": round((connected_mb - idle_mb) * 1024 / max(1, opts.clients), 1),
        **growth(sampler.samples, opts.minutes * 60),
        "sent": sum(r["sent"] for r in rows), "lost": sum(r["lost"] for r in rows),
        "out_of_order": sum(r["out_of_order"] for r in rows),
        "p99_ms_worst_window": max(r["p99_ms"] for r in rows), "windows": rows,
        "samples": [{"t": t, "rss_mb": round(rss / 2**20, 2)} for t, rss in sampler.samples],
    }


def run(opts: MemoryOptions) -> dict:
    setup_django()
    unknown = set(opts.servers) - set(SERVERS)
    if unknown:
        raise ValueError(f"unknown servers {sorted(unknown)}: expected some of {SERVERS}")
    require_migrated()
    vacuumed = vacuum_hot_tables()
    env = child_env(opts.env)
    cookies = floor_session_cookies(opts.clients)
    result: dict = {
        "benchmark": "memory",
        "started_at": datetime.now(timezone.utc).isoformat(),
        "machine": machine_info(), "vacuum_seconds": vacuumed,
        "options": {k: v for k, v in asdict(opts).items() if k not in ("env", "results_dir", "quiet")},
        "servers": {},
    }
    started = time.monotonic()
    with Processes() as procs:
        start_relay(procs, env)
        for kind in opts.servers:
            data = run_server(procs, kind, env, cookies, opts)
            data["growth_under_10pct"] = data["growth_pct"] < GROWTH_TARGET_PCT
            result["servers"][kind] = data
    result["seconds"] = round(time.monotonic() - started, 1)
    result["machine"]["load_average_end"] = machine_info()["load_average"]
    result["path"] = str(write_result("memory", result, opts.results_dir))
    if not opts.quiet:
        report(result)
    return result


def report(result: dict) -> None:
    rows = [[kind, d["clients"], d["sent"], d["lost"], d["idle_mb"], d["connected_mb"], d["per_console_kb"],
             d["first_window_mb"], d["last_window_mb"], d["peak_mb"], f"{d['growth_pct']:.2f}%",
             "ok" if d["growth_under_10pct"] else "FAIL"]
            for kind, d in result["servers"].items()]
    print_table("Server memory under a steady update rate (MB; target: growth < 10%)",
                ["server", "consoles", "updates", "lost", "idle", "connected", "KB/console", "first win",
                 "last win", "peak", "growth", ""], rows)
    print(f"results: {result['path']}\n", flush=True)


def parse(argv: list[str]) -> MemoryOptions:
    d = MemoryOptions()
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=d.clients)
    p.add_argument("--minutes", type=float, default=d.minutes)
    p.add_argument("--rate", type=float, default=d.rate, help="updates/s")
    p.add_argument("--server", default="uvicorn", help="uvicorn, daphne or both comma-separated")
    p.add_argument("--sample-seconds", type=float, default=d.sample_seconds)
    p.add_argument("--results-dir", type=Path, default=None)
    a = p.parse_args(argv)
    return MemoryOptions(clients=a.clients, minutes=a.minutes, rate=a.rate,
                         servers=[s.strip() for s in a.server.split(",") if s.strip()],
                         sample_seconds=a.sample_seconds, results_dir=a.results_dir)


def main(argv: list[str] | None = None) -> dict:
    return run(parse(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
