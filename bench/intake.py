"""Call intake: `POST /api/v1/calls/` as the CPE sends it, against a trivial view on the same server.

    python -m bench.intake --concurrency 16 --seconds 30 --consoles 2

One product server (`--server`, uvicorn by default, as docker-compose.yml runs it; one process on
127.0.0.1) with the relay (`manage.py run_relay`) and `--consoles` real authenticated `/ws/floor/`
clients in a process of their own (`bench.eventclients`). In the same run, for `--seconds` each:

  ceiling  GET /bench/ping.json: a trivial JSON view through the same middleware (enabled for the
           benchmark only, PSCC_BENCH_VIEWS=true; never routed in production)
  intake   POST /api/v1/calls/ with the CPE's bearer token and varied ALI, as the simulators build it:
           landline (RESD, BUSN), wireless Phase I and Phase II (lat/lon), VoIP; some as a legacy
           fixed-position spill (`ali_raw`, vesta-512), some VoIP as PIDF-LO; each a new call

`--concurrency` closed-loop clients (each sends its next request when the previous one answered,
keep-alive connections) from this process. Figures: requests/s, p50/p99/max of the answer; then
every call must be on every console (`call.ringing` with its `cpe_call_id`): missing = 0 is checked,
with send -> console latency. Verdict: intake >= 50 % of the ceiling's rate and intake p99 < 200 ms.
The calls rung in are deleted at the end (they would stay ringing on every floor).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.callpath import (
    EventClients,
    call_body,
    call_templates,
    cleanup,
    closed_loop,
    latency_stats,
    prepare,
    run_async,
    run_tag,
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
from bench.profiling import finish, print_summary, spy

RATE_SHARE_TARGET = 0.5
P99_TARGET_MS = 200.0


@dataclass
class IntakeOptions:
    concurrency: int = 16
    seconds: float = 30.0
    warmup_seconds: float = 2.0
    consoles: int = 2
    server: str = "uvicorn"
    drain_timeout: float = 30.0
    results_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    service_calls: int = 200  # call_receive called directly, for the service's own cost
    profile_dir: Path | None = None  # sample the server with py-spy: <dir>/<server>-{ceiling,intake}.txt
    profile_gil: bool = False  # sample only the thread holding the GIL


def _phase(port: int, opts: IntakeOptions, seconds: float, make_request) -> dict:
    samples, wall = run_async(closed_loop(port, concurrency=opts.concurrency, seconds=seconds,
                                          make_request=make_request))
    statuses = Counter(s.status for s in samples)
    ok = [s for s in samples if 200 <= s.status < 300]
    return {"requests": len(samples), "ok": len(ok), "statuses": {str(k): v for k, v in statuses.items()},
            "errors": sorted({s.error for s in samples if s.error})[:5], "seconds": round(wall, 3),
            "per_second": round(len(ok) / wall, 1) if wall else 0.0,
            **{k: v for k, v in latency_stats([s.ms for s in ok]).items() if k != "count"}, "_samples": ok}


def _profiled(pid: int, opts: IntakeOptions, name: str, phase) -> dict:
    """Run `phase`; with `--profile-dir`, sampled by py-spy meanwhile (the summary goes in the result)."""
    if opts.profile_dir is None:
        return phase()
    output = Path(opts.profile_dir) / f"{opts.server}-{name}.txt"
    sampler = spy(pid, output, opts.seconds, gil_only=opts.profile_gil)
    figures = phase()
    figures["profile"] = finish(sampler, output)
    if not opts.quiet:
        print_summary(figures["profile"], top=20)
    return figures


def _service_alone(templates: list[dict], tag: str, count: int) -> dict:
    """`calltaking.services.call_receive` called directly in this process, one call after another, with
    the same payloads: the service's own cost and queries, without HTTP, DRF or the server."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calltaking import services

    times, queries = [], []
    for n in range(count):
        payload = json.loads(call_body(templates[n % len(templates)], f"{tag}S-C{n}"))
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            services.call_receive(
                cpe_call_id=payload["cpe_call_id"], line=payload["line"], ani=payload.get("ani") or "",
                class_of_service=payload.get("class_of_service") or "", ali=payload.get("ali"),
                ali_raw=payload.get("ali_raw") or "", ali_format=payload.get("ali_format") or "",
                pidf_lo=payload.get("pidf_lo") or "", received_at=payload.get("received_at"))
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
    stats = latency_stats(times)
    return {"calls": count, "p50_ms": stats["p50_ms"], "p99_ms": stats["p99_ms"],
            "mean_ms": round(sum(times) / len(times), 2) if times else 0.0,
            "queries_per_call": round(sum(queries) / len(queries), 1) if queries else 0.0,
            "calls_per_second_one_thread": round(1000 * len(times) / sum(times), 1) if times else 0.0}


def run(opts: IntakeOptions) -> dict:
    vacuumed = prepare(opts.server)
    from django.conf import settings

    env = child_env({"PSCC_BENCH_VIEWS": "true", **opts.env})
    cookies = floor_session_cookies(opts.consoles)
    templates = call_templates()
    token = settings.PSCC_CPE_TOKEN
    auth = [("Authorization", f"Bearer {token}")]
    tag = run_tag()
    result: dict = {"benchmark": "intake", "started_at": datetime.now(timezone.utc).isoformat(),
                    "machine": machine_info(), "vacuum_seconds": vacuumed,
                    "options": {k: v for k, v in asdict(opts).items() if k not in ("env", "results_dir", "quiet", "profile_dir")},
                    "payload_mix": dict(Counter(t["_form"] for t in templates))}

    def ping(n):
        return f"{tag}-P{n}", "GET", "/bench/ping.json", b"", []

    def intake(prefix):
        def make(n):
            key = f"{tag}{prefix}-C{n}"
            return key, "POST", "/api/v1/calls/", call_body(templates[n % len(templates)], key), auth
        return make

    started = time.monotonic()
    try:
        with Processes() as procs:
            start_relay(procs, env)
            proc, port = start_product_server(procs, opts.server, env)
            consoles = EventClients(procs, env, url=f"ws://127.0.0.1:{port}/ws/floor/",
                                    origin=f"http://127.0.0.1:{port}", cookies=cookies, count=opts.consoles)
            consoles.ready()
            # Warm both paths (imports, connections, caches), then measure each for the same time.
            _phase(port, opts, opts.warmup_seconds, ping)
            warm = _phase(port, opts, opts.warmup_seconds, intake("W"))
            consoles.confirm({s.key: s.sent_at for s in warm.pop("_samples")}, opts.drain_timeout)
            ceiling = _profiled(proc.pid, opts, "ceiling", lambda: _phase(port, opts, opts.seconds, ping))
            ceiling.pop("_samples")
            calls = _profiled(proc.pid, opts, "intake", lambda: _phase(port, opts, opts.seconds, intake("")))
            sent = {s.key: s.sent_at for s in calls.pop("_samples")}
            seen = consoles.confirm(sent, opts.drain_timeout)
            consoles.close()
            procs.stop(proc)
            service = _service_alone(templates, tag, opts.service_calls)
        from calltaking.models import Call

        committed = Call.objects.filter(cpe_call_id__in=list(sent)).count()
    finally:
        cleanup()
    ratio = round(calls["per_second"] / ceiling["per_second"], 3) if ceiling["per_second"] else 0.0
    result.update({
        "ceiling": ceiling, "intake": calls, "committed": committed, "service_alone": service,
        "consoles": {**seen["calls"], "consoles": seen["consoles"], "consoles_complete": seen["consoles_complete"],
                     "missing_examples": seen["missing_examples"], "drain_seconds": seen["drain_seconds"]},
        "summary": {
            "intake_per_second": calls["per_second"], "ceiling_per_second": ceiling["per_second"],
            "share_of_ceiling": ratio, "share_at_least_50pct": ratio >= RATE_SHARE_TARGET,
            "intake_p99_ms": calls["p99_ms"], "p99_under_200ms": calls["p99_ms"] < P99_TARGET_MS,
            "all_on_every_console": seen["calls"]["missing"] == 0 and committed == calls["ok"],
            "refused": calls["requests"] - calls["ok"],
        },
        "seconds": round(time.monotonic() - started, 1),
    })
    result["machine"]["load_average_end"] = machine_info()["load_average"]
    result["path"] = str(write_result("intake", result, opts.results_dir))
    if not opts.quiet:
        report(result)
    return result


def report(result: dict) -> None:
    c, i, s = result["ceiling"], result["intake"], result["summary"]
    print_table(f"Call intake vs the trivial view, {result['options']['server']}, concurrency "
                f"{result['options']['concurrency']}, {result['options']['seconds']:g} s each",
                ["path", "requests", "ok", "req/s", "p50 ms", "p99 ms", "max ms"],
                [["GET /bench/ping.json", c["requests"], c["ok"], c["per_second"], c["p50_ms"], c["p99_ms"], c["max_ms"]],
                 ["POST /api/v1/calls/", i["requests"], i["ok"], i["per_second"], i["p50_ms"], i["p99_ms"], i["max_ms"]]])
    k = result["consoles"]
    print_table("Each call on the consoles (send -> call.ringing received)",
                ["consoles", "calls", "committed", "received", "missing", "p50 ms", "p99 ms", "max ms"],
                [[k["consoles"], k["keys"], result["committed"], k["received"], k["missing"], k["p50_ms"], k["p99_ms"],
                  k["max_ms"]]])
    a = result["service_alone"]
    print_table("calltaking.services.call_receive alone (in-process, one thread, same payloads)",
                ["calls", "p50 ms", "p99 ms", "mean ms", "queries/call", "calls/s"],
                [[a["calls"], a["p50_ms"], a["p99_ms"], a["mean_ms"], a["queries_per_call"], a["calls_per_second_one_thread"]]])
    print(f"\nintake = {s['share_of_ceiling'] * 100:.0f} % of the trivial view's rate "
          f"({'met' if s['share_at_least_50pct'] else 'MISSED'}: >= 50 %); intake p99 {s['intake_p99_ms']:.1f} ms "
          f"({'met' if s['p99_under_200ms'] else 'MISSED'}: < 200 ms); every call on every console: "
          f"{'yes' if s['all_on_every_console'] else 'NO'}")
    print(f"results: {result['path']}\n", flush=True)


def parse(argv: list[str]) -> IntakeOptions:
    d = IntakeOptions()
    p = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--seconds", type=float, default=d.seconds, help="of each phase (ceiling, intake)")
    p.add_argument("--warmup-seconds", type=float, default=d.warmup_seconds)
    p.add_argument("--consoles", type=int, default=d.consoles)
    p.add_argument("--server", default=d.server, choices=SERVERS)
    p.add_argument("--drain-timeout", type=float, default=d.drain_timeout)
    p.add_argument("--service-calls", type=int, default=d.service_calls,
                   help="calls rung in through the service directly (no HTTP), for its own cost")
    p.add_argument("--results-dir", type=Path, default=None)
    p.add_argument("--profile-dir", type=Path, default=None,
                   help="sample the server with py-spy during each phase (collapsed stacks in DIR; "
                        "python -m bench.profiling DIR/uvicorn-intake.txt prints the top frames)")
    p.add_argument("--profile-gil", action="store_true", help="with --profile-dir: sample only the GIL holder")
    a = p.parse_args(argv)
    return IntakeOptions(concurrency=a.concurrency, seconds=a.seconds, warmup_seconds=a.warmup_seconds,
                         consoles=a.consoles, server=a.server, drain_timeout=a.drain_timeout,
                         service_calls=a.service_calls, results_dir=a.results_dir,
                         profile_dir=a.profile_dir, profile_gil=a.profile_gil)


def main(argv: list[str] | None = None) -> dict:
    return run(parse(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
