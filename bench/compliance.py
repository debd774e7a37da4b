"""Compliance queries on a year of calls: the supervisor board's answer-time figures and the
response-time report must stay fast as history grows (issue 6).

    python -m bench.compliance --calls 150000 --incidents 60000 --runs 20

Generates the rows with set-based SQL (generate_series) into the database DATABASE_URL points at
(tagged so a rerun replaces them), then times each query and prints p50/p99 with the plan's index
use. Results go to bench/results/compliance-<time>.json.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from bench.common import machine_info, percentile, print_table, require_migrated, setup_django, write_result

TAG = "bench-year"


def _insert_defaults(model, given: dict[str, str]) -> tuple[list[str], list[str]]:
    """Column names and SQL values for every NOT NULL column (blank/false/0 unless given)."""
    from django.db import models

    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.column in given:
            columns.append(f.column)
            values.append(given[f.column])
        elif not f.null:
            columns.append(f.column)
            if isinstance(f, models.BooleanField):
                values.append("false")
            elif isinstance(f, (models.IntegerField, models.FloatField, models.DecimalField)):
                values.append("0")
            elif isinstance(f, models.JSONField):
                values.append("'{}'::jsonb")
            elif isinstance(f, models.DateTimeField):
                values.append("now()")
            else:
                values.append("''")
    return columns, values


def generate(calls: int, incidents: int) -> None:
    from django.db import connection, transaction

    from calltaking.models import Call, Line
    from incidents.calltypes import load_call_types
    from incidents.models import CallType, Incident

    with transaction.atomic():
        with connection.cursor() as cur:
            # Synthetic history is not history: skip the change-history triggers while generating it
            # (needs a superuser, as the embedded and CI databases are).
            cur.execute("SET LOCAL session_replication_role = replica")
        load_call_types()
        line, _ = Line.objects.get_or_create(code="BENCH-911", defaults={"kind": "911", "label": "bench 911 line"})
        admin, _ = Line.objects.get_or_create(code="BENCH-ADM", defaults={"kind": "admin", "label": "bench admin line"})
        Call.objects.filter(cpe_call_id__startswith=TAG).delete()
        Incident.objects.filter(number__startswith="B").delete()
        cols, vals = _insert_defaults(Call, {
            "cpe_call_id": f"'{TAG}-' || g",
            "line_id": f"CASE WHEN g % 3 = 0 THEN {admin.pk} ELSE {line.pk} END",
            "ani": "'307555' || lpad((g % 10000)::text, 4, '0')",
            "class_of_service": "(ARRAY['RESD','BUSN','WPH1','WPH2','VOIP'])[1 + g % 5]",
            "state": "CASE WHEN g % 50 = 0 THEN 'abandoned' ELSE 'released' END",
            "ringing_at": "now() - (g * (interval '365 days' / {calls}))",
            "answered_at": "CASE WHEN g % 50 = 0 THEN NULL ELSE now() - (g * (interval '365 days' / {calls})) + make_interval(secs => (g::bigint * 7919) % 40) END",
            "abandoned_at": "CASE WHEN g % 50 = 0 THEN now() - (g * (interval '365 days' / {calls})) + interval '9 s' END",
        })
        with connection.cursor() as cur:
            sql = f"INSERT INTO calltaking_call ({', '.join(cols)}) SELECT {', '.join(vals)} FROM generate_series(1, {{calls}}) g"
            cur.execute(sql.replace("{calls}", str(int(calls))))
        types = list(CallType.objects.values_list("pk", flat=True))
        cols, vals = _insert_defaults(Incident, {
            "number": "'B' || lpad(g::text, 9, '0')",
            "call_type_id": f"(ARRAY{types})[1 + g % {len(types)}]",
            "priority": "1 + g % 4",
            "status": "'closed'",
            "received_at": "now() - (g * (interval '365 days' / {incidents}))",
            "created_at": "now() - (g * (interval '365 days' / {incidents}))",
            "first_dispatched_at": "now() - (g * (interval '365 days' / {incidents})) + make_interval(secs => 30 + g % 90)",
            "first_en_route_at": "now() - (g * (interval '365 days' / {incidents})) + make_interval(secs => 60 + g % 120)",
            "first_on_scene_at": "now() - (g * (interval '365 days' / {incidents})) + make_interval(secs => 180 + (g::bigint * 31) % 600)",
            "closed_at": "now() - (g * (interval '365 days' / {incidents})) + interval '1 hour'",
        })
        with connection.cursor() as cur:
            sql = f"INSERT INTO incidents_incident ({', '.join(cols)}) SELECT {', '.join(vals)} FROM generate_series(1, {{incidents}}) g"
            cur.execute(sql.replace("{incidents}", str(int(incidents))))
    with connection.cursor() as cur:
        cur.execute("ANALYZE calltaking_call; ANALYZE incidents_incident")


def measure(runs: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from calltaking.compliance import _SUMMARY_SQL, _params, answer_time_board, answer_time_summary
    from incidents.reports import response_time_report

    now = timezone.now()
    year = (now - timedelta(days=365), now + timedelta(seconds=1))
    queries = {
        "board (hour + shift + distribution)": lambda: answer_time_board(),
        "answer-time compliance, one year": lambda: answer_time_summary(*year),
        "response-time report, one year": lambda: response_time_report(*year),
    }
    rows, result = [], {}
    for name, fn in queries.items():
        fn()  # warm
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        result[name] = {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99), "max_ms": samples[-1]}
        rows.append((name, f"{result[name]['p50_ms']:.1f}", f"{result[name]['p99_ms']:.1f}", f"{samples[-1]:.1f}"))
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + _SUMMARY_SQL, {**_params(), "start": now - timedelta(hours=1), "end": now})
        result["plan_hour_window"] = [r[0] for r in cur.fetchall()]
    print_table("Compliance queries", ["query", "p50 ms", "p99 ms", "max ms"], rows)
    print("\n".join(result["plan_hour_window"]))
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=150_000, help="a year of calls for a center of this size")
    parser.add_argument("--incidents", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    setup_django()
    require_migrated()
    started = time.perf_counter()
    generate(args.calls, args.incidents)
    generated_s = time.perf_counter() - started
    figures = measure(args.runs)
    result = {"calls": args.calls, "incidents": args.incidents, "generate_s": generated_s, "queries": figures,
              "machine": machine_info()}
    write_result("compliance", result)
    return result


if __name__ == "__main__":
    main()
