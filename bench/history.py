"""History: a generated decade of a large center, and the searches a console runs on it.

    python -m bench.history                      # 1,000,000 incidents, 3,000,000 calls, 500,000 texts
    python -m bench.history --scale 0.01 --runs 50

The decade goes into a database of its own, `<DATABASE_URL's name>_history` (another scale:
`..._history_0_001`; created and migrated by the script, `--database-url` to choose another base):
generating it takes minutes, so it is kept and reused while its marker (`bench_history_marker`: scale
and generator version) matches; `--reload` regenerates it. Rows are made with set-based SQL (`INSERT ... SELECT ... FROM generate_series`),
never row by row, **with the change-history (pghistory) triggers off** (`SET LOCAL
session_replication_role = replica`): synthetic history is not history, and needs a superuser.

At scale 1: 1,000,000 incidents (150 of them open, on the board), 3,000,000 calls with their ALI
(a third of them tied to an incident), 100,000 text sessions with 500,000 messages, 4,000,000 unit
status changes for 120 units, spread over ten years; 600,000 phone numbers (50 frequent callers
with thousands of calls each) and 400,000 addresses.

Then, `--runs` times each with varied arguments, the real selectors and services, timed in-process:

  phone     calltaking.selectors.records_by_phone(ani): what the console shows on answer
  address   incidents.selectors.premise_history(location_text): prior incidents at an address
  board     the floor snapshot's open-incident provider (incidents.registry): the board's query
  floor     pscc.floor.build_snapshot: the whole floor snapshot a console is sent on connecting
  answer    calltaking.compliance.answer_time_summary over one of the ten years
  response  incidents.reports.response_time_report over one of the ten years

`--query answer --query response` measures only those. The two reports read the daily roll-ups
(pscc/rollup.py) for whole rolled-up local days: before measuring them the script rolls up every
complete day of the decade not rolled up yet (all of it after a generation, a few minutes at scale
1; nothing when reused), as `manage.py rollup_rebuild` would. `--direct` measures the direct
computation on the raw rows instead (the figures before the roll-ups).

Every SQL statement each one runs is captured (`connection.execute_wrapper`) and run once more
under `EXPLAIN (ANALYZE, BUFFERS)`: the plans are printed, stored in the JSON with the indexes used
and the tables read sequentially. Target: p99 < 100 ms each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import ROOT, percentile, print_table, write_result

GENERATOR_VERSION = 1
P99_TARGET_MS = 100.0
FULL = {"incidents": 1_000_000, "calls": 3_000_000, "text_messages": 500_000, "unit_status_changes": 4_000_000}
OPEN_INCIDENTS = 150
UNITS = 120
PHONES = 600_000
FREQUENT_CALLERS = 50
STREETS = [
    "CENTER", "WOLCOTT", "DAVID", "DURBIN", "BEVERLY", "WASHINGTON", "POPLAR", "ELM", "WALNUT", "MCKINLEY",
    "GLENARM", "COUNTRY CLUB", "WYOMING", "COLLINS", "YELLOWSTONE", "MIDWEST", "CY", "FAIRDALE", "BOXELDER",
    "WALCOTT", "LINCOLN", "JACKSON", "GRANT", "MADISON", "JEFFERSON", "ASH", "BIRCH", "CEDAR", "MAPLE", "OAK",
    "PINE", "SPRUCE", "WILLOW", "ASPEN", "SAGE", "PRAIRIE", "MOUNTAIN VIEW", "RIVER", "PLATTE", "SALT CREEK",
]
SUFFIXES = ["ST", "AVE", "BLVD", "DR", "RD", "LN", "CT", "WAY"]
HOUSE_NUMBERS = 400_000 // (len(STREETS) * len(SUFFIXES))  # addresses = streets x suffixes x numbers
QUERIES = ("phone", "address", "board", "floor", "answer", "response")


# --- The database of its own --------------------------------------------------------------------
def history_url(base_url: str, scale: float = 1.0) -> str:
    """`<name>_history` for the decade, `<name>_history_0_001` for another scale: a smoke or quick
    run never replaces the decade it took ten minutes to generate."""
    parts = urlsplit(base_url)
    name = (parts.path.lstrip("/") or "pscc") + "_history"
    if scale != 1.0:
        name += "_" + f"{scale:g}".replace(".", "_").replace("-", "_")
    return urlunsplit(parts._replace(path="/" + name))


def ensure_database(url: str) -> bool:
    """Create the database if it does not exist; True when it was created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "pscc.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


# --- Generation (in the worker, connected to the history database) -------------------------------
def _counts(scale: float) -> dict[str, int]:
    return {k: max(10, int(v * scale)) for k, v in FULL.items()}


def _marker(cur) -> dict | None:
    cur.execute("CREATE TABLE IF NOT EXISTS bench_history_marker (id int PRIMARY KEY, info jsonb NOT NULL)")
    cur.execute("SELECT info FROM bench_history_marker WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def _insert(cur, model, given: dict[str, str], count: int) -> None:
    from bench.compliance import _insert_defaults

    columns, values = _insert_defaults(model, given)
    cur.execute(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM generate_series(1, {int(count)}) g")


def _sql_list(values) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _address_sql(g: str) -> tuple[str, str, str]:
    """(house number, street name, suffix) SQL expressions of address number `g` (0..400k)."""
    streets, suffixes = len(STREETS), len(SUFFIXES)
    return (f"(100 + ({g}) / {streets * suffixes})::text",
            f"({_sql_list(STREETS)})[1 + ({g}) % {streets}]",
            f"({_sql_list(SUFFIXES)})[1 + (({g}) / {streets}) % {suffixes}]")


def _phone_sql(g: str) -> str:
    """A phone number: most from a pool of 600k, every 100th one of 50 frequent callers."""
    return (f"CASE WHEN ({g}) % 100 = 0 THEN '30755' || lpad(((({g}) / 100) % {FREQUENT_CALLERS})::text, 5, '0') "
            f"ELSE '3072' || lpad(((({g})::bigint * 7919) % {PHONES})::text, 6, '0') END")


def phone_of(n: int) -> str:
    if n % 100 == 0:
        return "30755" + f"{(n // 100) % FREQUENT_CALLERS:05d}"
    return "3072" + f"{(n * 7919) % PHONES:06d}"


def address_of(n: int) -> str:
    streets, suffixes = len(STREETS), len(SUFFIXES)
    return f"{100 + n // (streets * suffixes)} {STREETS[n % streets]} {SUFFIXES[(n // streets) % suffixes]}, CASPER"


def generate(scale: float, log) -> dict:
    from django.db import connection, transaction

    from calltaking.models import Call, Line
    from incidents.calltypes import load_call_types
    from incidents.models import CallType, Incident
    from text911.models import TextMessage, TextSession
    from units.models import Agency, Unit, UnitStatusChange

    counts = _counts(scale)
    incidents, calls, messages, changes = (counts["incidents"], counts["calls"], counts["text_messages"],
                                           counts["unit_status_changes"])
    sessions = max(1, messages // 5)
    decade = "interval '3650 days'"
    timings = {}
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")  # no pghistory rows for synthetic data
            cur.execute("TRUNCATE calltaking_call, incidents_incident, text911_textmessage, text911_textsession, "
                        "units_unitstatuschange, calltaking_answertimebucket, calltaking_answertimeday, "
                        "incidents_responsetimegroup, incidents_responsetimeday CASCADE")
        load_call_types()
        line_911, _ = Line.objects.get_or_create(code="911-1", defaults={"kind": "911", "label": "911 trunk 1"})
        line_admin, _ = Line.objects.get_or_create(code="ADMIN-01", defaults={"kind": "admin", "label": "Admin 1"})
        from units.models import AgencyKind, UnitType

        agency, _ = Agency.objects.get_or_create(code="BENCH-HIST", defaults={"name": "Bench agency",
                                                                              "kind": AgencyKind.values[0]})
        for n in range(UNITS):
            Unit.objects.get_or_create(call_sign=f"H{n:03d}", defaults={"agency": agency,
                                                                        "unit_type": UnitType.values[n % len(UnitType.values)]})
        unit_ids = list(Unit.objects.filter(agency=agency).values_list("pk", flat=True))
        types = list(CallType.objects.values_list("pk", flat=True))
        with connection.cursor() as cur:
            started = time.perf_counter()
            # Incidents: g = 1 is the newest; the first OPEN_INCIDENTS are still open (the board).
            at = f"now() - (g * ({decade} / {incidents}))"
            house, street, suffix = _address_sql("(g::bigint * 7907) % 400000")
            _insert(cur, Incident, {
                "number": "'H' || lpad(g::text, 9, '0')",
                "call_type_id": f"(ARRAY{types})[1 + g % {len(types)}]",
                "priority": "1 + g % 4",
                "status": f"CASE WHEN g <= {OPEN_INCIDENTS} THEN "
                          "(ARRAY['pending','dispatched','en_route','on_scene'])[1 + g % 4] ELSE 'closed' END",
                "location_text": f"{house} || ' ' || {street} || ' ' || {suffix} || ', CASPER'",
                "lat": "42.80 + (g % 1000) / 10000.0", "lon": "-106.40 + (g % 997) / 10000.0",
                "callback_number": _phone_sql("g"),
                "caller_name": "'CALLER ' || (g % 5000)",
                "source": "(ARRAY['911','console','admin','text'])[1 + g % 4]",
                "received_at": at, "created_at": at,
                "first_dispatched_at": f"{at} + make_interval(secs => 30 + g % 90)",
                "first_en_route_at": f"{at} + make_interval(secs => 60 + g % 120)",
                "first_on_scene_at": f"{at} + make_interval(secs => 180 + (g::bigint * 31) % 600)",
                "closed_at": f"CASE WHEN g <= {OPEN_INCIDENTS} THEN NULL ELSE {at} + interval '1 hour' END",
                "disposition": f"CASE WHEN g <= {OPEN_INCIDENTS} THEN '' ELSE 'REPORT' END",
            }, incidents)
            timings["incidents_s"] = round(time.perf_counter() - started, 1)
            log(f"  {incidents:,} incidents in {timings['incidents_s']} s")
            cur.execute("SELECT min(id) FROM incidents_incident")
            first_incident = cur.fetchone()[0]

            started = time.perf_counter()
            at = f"now() - (g * ({decade} / {calls}))"
            house, street, suffix = _address_sql("(g::bigint * 7907) % 400000")
            _insert(cur, Call, {
                "cpe_call_id": "'H-' || g",
                "line_id": f"CASE WHEN g % 3 = 0 THEN {line_admin.pk} ELSE {line_911.pk} END",
                "ani": _phone_sql("g"),
                "class_of_service": "CASE WHEN g % 3 = 0 THEN '' ELSE "
                                    "(ARRAY['RESD','BUSN','WPH1','WPH2','VOIP','WPH2'])[1 + g % 6] END",
                "state": "CASE WHEN g % 50 = 0 THEN 'abandoned' ELSE 'released' END",
                "ringing_at": at,
                "answered_at": f"CASE WHEN g % 50 = 0 THEN NULL ELSE {at} + make_interval(secs => (g::bigint * 7919) % 40) END",
                "abandoned_at": f"CASE WHEN g % 50 = 0 THEN {at} + interval '9 s' END",
                "released_at": f"CASE WHEN g % 50 = 0 THEN NULL ELSE {at} + interval '3 min' END",
                "sop_path": "CASE WHEN g % 50 = 0 THEN 'landline_open_line' ELSE '' END",
                "incident_id": f"CASE WHEN g % 3 = 1 THEN {first_incident} + (g / 3) % {incidents} END",
                "ali_name": "'SUBSCRIBER ' || (g % 100000)",
                "house_number": house, "street_name": street, "street_suffix": suffix,
                "community": "'CASPER'", "state_code": "'WY'", "esn": "'10' || (g % 10)",
                "provider_id": "(ARRAY['QWEST','VZW','ATT','TMOB','VONAGE'])[1 + g % 5]",
                "carrier": "(ARRAY['CENTURYLINK','VERIZON','AT&T','T-MOBILE','VONAGE'])[1 + g % 5]",
                "lat": "CASE WHEN g % 6 IN (3, 5) THEN 42.80 + (g % 1000) / 10000.0 END",
                "lon": "CASE WHEN g % 6 IN (3, 5) THEN -106.40 + (g % 997) / 10000.0 END",
                "uncertainty_m": "CASE WHEN g % 6 IN (3, 5) THEN 20 + g % 130 END",
                "confidence_pct": "CASE WHEN g % 6 IN (3, 5) THEN 90 END",
            }, calls)
            timings["calls_s"] = round(time.perf_counter() - started, 1)
            log(f"  {calls:,} calls in {timings['calls_s']} s")

            started = time.perf_counter()
            at = f"now() - (g * ({decade} / {sessions}))"
            _insert(cur, TextSession, {
                "tcc_session_id": "'HS-' || g", "from_number": _phone_sql("g * 13"),
                "state": "'ended'", "started_at": at, "last_inbound_at": f"{at} + interval '2 min'",
                "ended_at": f"{at} + interval '10 min'", "psap": "'PSCC'", "language": "'en'",
                "tower_lat": "42.85", "tower_lon": "-106.32", "tower_sector": "'A'",
            }, sessions)
            cur.execute("SELECT min(id) FROM text911_textsession")
            first_session = cur.fetchone()[0]
            at = f"now() - ((g / 5) * ({decade} / {sessions})) + make_interval(secs => (g % 5) * 30)"
            _insert(cur, TextMessage, {
                "session_id": f"{first_session} + ((g - 1) / 5) % {sessions}",
                "direction": "CASE WHEN g % 5 IN (1, 3) THEN 'out' ELSE 'in' END",
                "kind": "'text'",
                "tcc_message_id": "CASE WHEN g % 5 IN (1, 3) THEN NULL ELSE 'HM-' || g END",
                "message_id": "gen_random_uuid()",
                "text": "(ARRAY['help','there is a man outside my house','i cant talk','1200 CENTER ST',"
                        "'what is the address of your emergency','are you safe to talk'])[1 + g % 6]",
                "params": "'{}'::jsonb", "created_at": at, "sent_at": at,
                "state": "CASE WHEN g % 5 IN (1, 3) THEN 'sent' ELSE 'received' END",
            }, messages)
            timings["texts_s"] = round(time.perf_counter() - started, 1)
            log(f"  {sessions:,} text sessions, {messages:,} messages in {timings['texts_s']} s")

            started = time.perf_counter()
            at = f"now() - (g * ({decade} / {changes}))"
            _insert(cur, UnitStatusChange, {
                "unit_id": f"(ARRAY{unit_ids})[1 + g % {len(unit_ids)}]",
                "from_status": "(ARRAY['available','dispatched','en_route','on_scene'])[1 + g % 4]",
                "to_status": "(ARRAY['dispatched','en_route','on_scene','available'])[1 + g % 4]",
                "at": at, "actor_label": "'system'", "source": "(ARRAY['console','mdt'])[1 + g % 2]",
                "incident_number": f"'H' || lpad((1 + (g / 4) % {incidents})::text, 9, '0')",
            }, changes)
            timings["unit_status_s"] = round(time.perf_counter() - started, 1)
            log(f"  {changes:,} unit status changes in {timings['unit_status_s']} s")
            info = {"scale": scale, "version": GENERATOR_VERSION, **counts, "text_sessions": sessions,
                    "timings": timings}
            cur.execute("INSERT INTO bench_history_marker (id, info) VALUES (1, %s) "
                        "ON CONFLICT (id) DO UPDATE SET info = EXCLUDED.info", [json.dumps(info)])
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) calltaking_call")
        cur.execute("VACUUM (ANALYZE) incidents_incident")
        cur.execute("ANALYZE text911_textsession; ANALYZE text911_textmessage; ANALYZE units_unitstatuschange")
    info["timings"]["analyze_s"] = round(time.perf_counter() - started, 1)
    return info


def fill_rollups(log) -> dict:
    """Roll up every complete day of the decade not rolled up yet (all of it after a generation, ~2 min
    per roll-up at scale 1; nothing on a reused decade already filled), as `manage.py rollup_rebuild`
    would: the answer and response reports read them for whole days."""
    from django.db import connection

    from pscc.rollup import last_complete_day, local_tz, rollup_days_rewrite, rollup_missing_days, rollup_names

    with connection.cursor() as cur:
        cur.execute("SELECT least((SELECT min(ringing_at) FROM calltaking_call), "
                    "(SELECT min(received_at) FROM incidents_incident))")
        oldest = cur.fetchone()[0]
    filled = {}
    if oldest is None:
        return filled
    started = time.perf_counter()
    for name in rollup_names():
        missing = rollup_missing_days(name=name, first=oldest.astimezone(local_tz()).date(), last=last_complete_day())
        for i in range(0, len(missing), 31):
            rollup_days_rewrite(name=name, days=missing[i:i + 31])
        filled[name] = len(missing)
    with connection.cursor() as cur:
        cur.execute("ANALYZE calltaking_answertimebucket; ANALYZE calltaking_answertimeday; "
                    "ANALYZE incidents_responsetimegroup; ANALYZE incidents_responsetimeday")
    filled["seconds"] = round(time.perf_counter() - started, 1)
    log(f"  roll-ups: {filled}")
    return filled


# --- Measurement ----------------------------------------------------------------------------------
def _queries(rng: random.Random, counts: dict, direct: bool = False) -> dict:
    from django.utils import timezone

    from calltaking.compliance import answer_time_summary
    from calltaking.selectors import records_by_phone
    from incidents.registry import _incidents_snapshot
    from incidents.reports import response_time_report
    from incidents.selectors import premise_history
    from pscc.floor import build_snapshot
    from pscc.journal import FLOOR

    now = timezone.now()

    def a_year():
        start = now - timedelta(days=365 * rng.randint(1, 10))
        return start, start + timedelta(days=365)

    def phone():
        # Most of the time a number that exists, sometimes a frequent caller, sometimes a new one.
        n = rng.randint(1, counts["calls"])
        ani = phone_of(n) if rng.random() < 0.9 else f"3079{rng.randint(0, 999999):06d}"
        return lambda: records_by_phone(ani)

    def address():
        text = address_of((rng.randint(1, counts["incidents"]) * 7907) % 400000)
        return lambda: premise_history(text.lower() if rng.random() < 0.3 else text)

    def board():
        return lambda: _incidents_snapshot(None, {FLOOR})

    def floor():
        return lambda: build_snapshot(None, frozenset({FLOOR}))

    def answer():
        start, end = a_year()
        return lambda: answer_time_summary(start, end, use_rollup=not direct)

    def response():
        start, end = a_year()
        return lambda: response_time_report(start, end, use_rollup=not direct)

    return {"phone": phone, "address": address, "board": board, "floor": floor, "answer": answer, "response": response}


_INDEX = re.compile(r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
_SEQ = re.compile(r"Seq Scan on (\S+)")


def explain(fn) -> list[dict]:
    """Run `fn` capturing its SQL, then EXPLAIN (ANALYZE, BUFFERS) each statement once."""
    from django.db import connection

    captured: list[tuple[str, object]] = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    plans = []
    for sql, params in captured:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [r[0] for r in cur.fetchall()]
        plan = "\n".join(lines)
        plans.append({"sql": sql[:2000], "plan": lines,
                      "indexes": sorted({m.group(2) for m in _INDEX.finditer(plan)}),
                      "seq_scans": sorted({m.group(1) for m in _SEQ.finditer(plan)})})
    return plans


def measure(counts: dict, runs: int, seed: int, log, only: list[str] | None = None, direct: bool = False) -> dict:
    rng = random.Random(seed)
    makers = _queries(rng, counts, direct)
    out = {}
    for name in only or QUERIES:
        make = makers[name]
        make()()  # warm: connection, caches
        samples = []
        for _ in range(runs):
            fn = make()
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        plans = explain(make())
        out[name] = {"runs": runs, "p50_ms": round(percentile(samples, 50), 2), "p99_ms": round(percentile(samples, 99), 2),
                     "max_ms": round(samples[-1], 2), "under_100ms": percentile(samples, 99) < P99_TARGET_MS,
                     "statements": len(plans), "indexes": sorted({i for p in plans for i in p["indexes"]}),
                     "seq_scans": sorted({t for p in plans for t in p["seq_scans"]}), "plans": plans}
        log(f"  {name:9} p50 {out[name]['p50_ms']:8.1f} ms  p99 {out[name]['p99_ms']:8.1f} ms  "
            f"indexes {out[name]['indexes']}  seq scans {out[name]['seq_scans']}")
    return out


def worker(args: argparse.Namespace) -> int:
    """In a process connected to the history database (DATABASE_URL): load if needed, then measure."""
    from bench.common import require_migrated, setup_django

    setup_django()
    require_migrated()
    from django.db import connection

    def log(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    wanted = _counts(args.scale)
    with connection.cursor() as cur:
        marker = _marker(cur)
    reused = bool(marker and marker.get("version") == GENERATOR_VERSION and marker.get("scale") == args.scale
                  and not args.reload)
    if reused:
        log(f"reusing the generated history in {connection.settings_dict['NAME']} (scale {args.scale})")
        info = marker
    else:
        log(f"generating a decade at scale {args.scale} into {connection.settings_dict['NAME']} "
            "(pghistory triggers off: session_replication_role = replica)")
        started = time.perf_counter()
        info = generate(args.scale, log)
        info["generate_s"] = round(time.perf_counter() - started, 1)
        log(f"  generated in {info['generate_s']} s")
    rollups = fill_rollups(log) if not args.direct and {"answer", "response"} & set(args.query or QUERIES) else {}
    result = {"database": connection.settings_dict["NAME"], "reused": reused, "data": info, "rollups_filled": rollups,
              "triggers_off_during_generation": True, "queries": measure(wanted, args.runs, args.seed, log, args.query, args.direct)}
    Path(args.out).write_text(json.dumps(result, default=str))
    return 0


def report(result: dict) -> None:
    rows = [[name, q["runs"], q["statements"], q["p50_ms"], q["p99_ms"], q["max_ms"], "yes" if q["under_100ms"] else "NO"]
            for name, q in result["queries"].items()]
    data = result["data"]
    print_table(f"History queries on {data['incidents']:,} incidents, {data['calls']:,} calls, "
                f"{data['text_messages']:,} texts, {data['unit_status_changes']:,} unit status changes "
                f"(target p99 < {P99_TARGET_MS:.0f} ms)",
                ["query", "runs", "statements", "p50 ms", "p99 ms", "max ms", "< 100"], rows)
    print("\nIndex use (EXPLAIN (ANALYZE, BUFFERS) of every statement, plans below):")
    for name, q in result["queries"].items():
        print(f"  {name:9} indexes: {', '.join(q['indexes']) or '-'}")
        print(f"  {'':9} sequential scans: {', '.join(q['seq_scans']) or '-'}")
    for name, q in result["queries"].items():
        for plan in q["plans"]:
            print(f"\n-- {name}: {plan['sql'][:160]}")
            print("\n".join(plan["plan"]))
    print(f"\nresults: {result.get('path')}", flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="1 = a decade of a large center; 0.001 for a smoke run")
    p.add_argument("--runs", type=int, default=200, help="timed runs of each query, each with other arguments")
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--query", action="append", choices=QUERIES, default=None,
                   help="measure only this query (repeatable); default all")
    p.add_argument("--database-url", default=None,
                   help="base database (default DATABASE_URL); the history goes into <its name>_history")
    p.add_argument("--reload", action="store_true", help="regenerate even if the marker matches")
    p.add_argument("--results-dir", type=Path, default=None)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--direct", action="store_true",
                   help="answer/response: the direct computation on the raw rows, not the daily roll-ups")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict | int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return worker(args)
    from bench.common import machine_info, setup_django

    setup_django()
    from django.conf import settings

    base = args.database_url or os.environ.get("DATABASE_URL") or _url_of(settings.DATABASES["default"])
    url = history_url(base, args.scale)
    created = ensure_database(url)
    migrate(url)
    with tempfile.TemporaryDirectory(prefix="pscc-history-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "bench.history", "--worker", "--scale", str(args.scale), "--runs",
                   str(args.runs), "--seed", str(args.seed), "--out", str(out)]
        if args.reload:
            command.append("--reload")
        for name in args.query or ():
            command += ["--query", name]
        if args.quiet:
            command.append("--quiet")
        if args.direct:
            command.append("--direct")
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "pscc.settings", "PYTHONUNBUFFERED": "1"}
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        result = json.loads(out.read_text())
    result = {"benchmark": "history", "database_created": created, "options": {"scale": args.scale, "runs": args.runs,
              "seed": args.seed, "queries": args.query or list(QUERIES), "direct": args.direct}, **result, "machine": machine_info()}
    result["path"] = str(write_result("history", result, args.results_dir))
    if not args.quiet:
        report(result)
    return result


def _url_of(db: dict) -> str:
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


if __name__ == "__main__":
    result = main()
    sys.exit(result if isinstance(result, int) else 0)
