"""Burst: a mass-casualty minute — 200 calls ringing within 10 s plus 50 texts — on every console.

    python -m bench.burst --calls 200 --texts 50 --window 10 --consoles 20

One product server (`--server`, uvicorn by default; one process on 127.0.0.1), the relay, and
`--consoles` real authenticated `/ws/floor/` clients in a process of their own
(`bench.eventclients`). The arrivals are open-loop: each call (`POST /api/v1/calls/`, the CPE's
bearer token, varied ALI as in `bench.intake`) and each text (`POST /api/v1/text911/inbound`,
HMAC-signed as the TCC signs it; the texts open `--texts / 5` new sessions, then follow up in them)
is sent at its own random moment within `--window` seconds, whether or not the earlier ones have
been answered.

Checked, not assumed: every request answered 2xx; every call and every text committed in PostgreSQL
(Call by `cpe_call_id`, TextMessage by `tcc_message_id`); every one received by every console
(`call.ringing` / `text.message`). Lost = expected deliveries - received: must be 0. Figure: p50/p99/max
ring-to-console = from the moment the POST was written to its receipt at each console. The calls and
texts are deleted at the end (they would stay on every floor).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.callpath import (
    EventClients,
    HttpConnection,
    call_body,
    call_templates,
    cleanup,
    latency_stats,
    open_loop,
    prepare,
    run_async,
    run_tag,
    tcc_headers,
    text_bodies,
)
from bench.common import (
    SERVERS,
    Processes,
    child_env,
    floor_session_cookies,
    machine_info,
    print_table,
    start_product_server,
    start_relay,
    write_result,
)


@dataclass
class BurstOptions:
    calls: int = 200
    texts: int = 50
    window: float = 10.0
    consoles: int = 20
    server: str = "uvicorn"
    drain_timeout: float = 60.0
    seed: int = 911
    results_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False


def run(opts: BurstOptions) -> dict:
    vacuumed = prepare(opts.server)
    from django.conf import settings

    from calltaking.models import Call
    from text911.models import TextMessage

    env = child_env(opts.env)
    cookies = floor_session_cookies(opts.consoles)
    templates = call_templates()
    tag = run_tag()
    auth = [("Authorization", f"Bearer {settings.PSCC_CPE_TOKEN}")]
    rng = random.Random(opts.seed)
    schedule = []
    for n in range(opts.calls):
        key = f"{tag}-C{n}"
        body = call_body(templates[n % len(templates)], key)
        schedule.append((rng.uniform(0, opts.window), (key, "POST", "/api/v1/calls/", body, lambda: auth)))
    texts = text_bodies(tag, opts.texts, max(1, opts.texts // 5))
    offsets = sorted(rng.uniform(0, opts.window) for _ in texts)  # a session's first text goes first
    for offset, (key, body) in zip(offsets, texts):
        schedule.append((offset, (key, "POST", "/api/v1/text911/inbound", body, lambda body=body: tcc_headers(body))))
    result: dict = {"benchmark": "burst", "started_at": datetime.now(timezone.utc).isoformat(),
                    "machine": machine_info(), "vacuum_seconds": vacuumed,
                    "options": {k: v for k, v in asdict(opts).items() if k not in ("env", "results_dir", "quiet")}}
    started = time.monotonic()
    try:
        with Processes() as procs:
            start_relay(procs, env)
            proc, port = start_product_server(procs, opts.server, env)
            consoles = EventClients(procs, env, url=f"ws://127.0.0.1:{port}/ws/floor/",
                                    origin=f"http://127.0.0.1:{port}", cookies=cookies, count=opts.consoles)
            ready = consoles.ready()
            send_started = time.perf_counter()
            samples = run_async(open_loop(port, schedule))
            send_seconds = time.perf_counter() - send_started
            sent = {s.key: s.sent_at for s in samples}
            seen = consoles.confirm(sent, opts.drain_timeout)
            consoles.close()
            procs.stop(proc)
        call_keys = [s.key for s in samples if "-C" in s.key]
        text_keys = [s.key for s in samples if "-T" in s.key]
        committed_calls = Call.objects.filter(cpe_call_id__in=call_keys).count()
        committed_texts = TextMessage.objects.filter(tcc_message_id__in=[f"{k}-msg" for k in text_keys]).count()
    finally:
        cleanup()
    statuses = Counter(s.status for s in samples)
    answered = {"calls": latency_stats([s.ms for s in samples if "-C" in s.key]),
                "texts": latency_stats([s.ms for s in samples if "-T" in s.key])}
    ok = sum(1 for s in samples if 200 <= s.status < 300)
    lost = seen["all"]["missing"]
    result.update({
        "connect_seconds": ready["connect_seconds"], "send_seconds": round(send_seconds, 3),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": sorted({s.error for s in samples if s.error})[:5], "answer_ms": answered,
        # requests resent once because a kept-alive connection had been closed by the server unanswered
        "stale_connection_retries": HttpConnection.stale_retries,
        "committed": {"calls": committed_calls, "texts": committed_texts},
        "consoles": seen,
        "summary": {
            "calls": opts.calls, "texts": opts.texts, "consoles": opts.consoles,
            "all_answered_2xx": ok == len(schedule), "all_committed": committed_calls == opts.calls
            and committed_texts == opts.texts,
            "deliveries_expected": seen["all"]["expected"], "deliveries_received": seen["all"]["received"],
            "lost": lost, "zero_lost": lost == 0 and ok == len(schedule),
            "ring_to_console_p50_ms": seen["all"]["p50_ms"], "ring_to_console_p99_ms": seen["all"]["p99_ms"],
            "ring_to_console_max_ms": seen["all"]["max_ms"],
        },
        "seconds": round(time.monotonic() - started, 1),
    })
    result["machine"]["load_average_end"] = machine_info()["load_average"]
    result["path"] = str(write_result("burst", result, opts.results_dir))
    if not opts.quiet:
        report(result)
    return result


def report(result: dict) -> None:
    s, c, a = result["summary"], result["consoles"], result["answer_ms"]
    print_table(f"Burst: {s['calls']} calls + {s['texts']} texts within {result['options']['window']:g} s, "
                f"{s['consoles']} consoles ({result['options']['server']})",
                ["what", "sent", "committed", "answer p50", "answer p99", "deliveries", "received", "lost",
                 "to console p50", "p99", "max"],
                [["calls", c["calls"]["keys"], result["committed"]["calls"], a["calls"]["p50_ms"], a["calls"]["p99_ms"],
                  c["calls"]["expected"], c["calls"]["received"], c["calls"]["missing"], c["calls"]["p50_ms"],
                  c["calls"]["p99_ms"], c["calls"]["max_ms"]],
                 ["texts", c["texts"]["keys"], result["committed"]["texts"], a["texts"]["p50_ms"], a["texts"]["p99_ms"],
                  c["texts"]["expected"], c["texts"]["received"], c["texts"]["missing"], c["texts"]["p50_ms"],
                  c["texts"]["p99_ms"], c["texts"]["max_ms"]],
                 ["all", c["all"]["keys"], result["committed"]["calls"] + result["committed"]["texts"], None, None,
                  c["all"]["expected"], c["all"]["received"], c["all"]["missing"], c["all"]["p50_ms"], c["all"]["p99_ms"],
                  c["all"]["max_ms"]]])
    print(f"\nstatuses {result['statuses']}; resent on a stale keep-alive connection "
          f"{result.get('stale_connection_retries', 0)}; sent over {result['send_seconds']:.1f} s; "
          f"lost {s['lost']} ({'met' if s['zero_lost'] else 'MISSED'}: zero lost); every one committed: "
          f"{'yes' if s['all_committed'] else 'NO'}; ring-to-console p99 {s['ring_to_console_p99_ms']:.0f} ms")
    print(f"results: {result['path']}\n", flush=True)


def parse(argv: list[str]) -> BurstOptions:
    d = BurstOptions()
    p = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=d.calls)
    p.add_argument("--texts", type=int, default=d.texts)
    p.add_argument("--window", type=float, default=d.window, help="seconds the arrivals are spread over")
    p.add_argument("--consoles", type=int, default=d.consoles)
    p.add_argument("--server", default=d.server, choices=SERVERS)
    p.add_argument("--drain-timeout", type=float, default=d.drain_timeout)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--results-dir", type=Path, default=None)
    a = p.parse_args(argv)
    return BurstOptions(calls=a.calls, texts=a.texts, window=a.window, consoles=a.consoles, server=a.server,
                        drain_timeout=a.drain_timeout, seed=a.seed, results_dir=a.results_dir)


def main(argv: list[str] | None = None) -> dict:
    return run(parse(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
