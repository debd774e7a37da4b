"""Drill: PostgreSQL stopped immediately (`pg_ctl stop -m immediate`) under load, then started again."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.harness import (
    CPE_TOKEN,
    Console,
    Load,
    assert_nothing_lost_or_duplicated,
    count_lines,
    new_tag,
    report_counts,
    settle,
    wait_until,
    warm_up,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def test_postgres_stopped_immediately_answers_503_and_retries_duplicate_nothing(stack):
    tag = new_tag("pg")
    console = Console(stack).start()
    load = Load(stack, tag).start()
    warm_up(load)
    seq_before = stack.head()

    # Inject: every PostgreSQL process dies at once, no checkpoint; requests in flight lose their database.
    stack.pg.stop_immediate()
    stopped_at = time.monotonic()
    with httpx.Client(base_url=stack.base_url, timeout=10, headers={"Authorization": f"Bearer {CPE_TOKEN}"}) as cpe:
        probe = cpe.post("/api/v1/calls/", json={"cpe_call_id": f"{tag}-probe", "line": "911-1", "ani": "3075550199"})
    # Every stream has met the outage (a 503 or a refused connection) before PostgreSQL returns.
    wait_until(lambda: all(sum(v for k, v in t.statuses.items() if k != "committed") for t in load.tallies()),
               30, "each stream of the load to meet the outage")
    down_for = max(0.0, 3 - (time.monotonic() - stopped_at))
    time.sleep(down_for)
    down_for = time.monotonic() - stopped_at
    stack.pg.start()

    counts = settle(stack, load, console)
    probe_rows = stack.scalar("SELECT count(*) FROM calltaking_call WHERE cpe_call_id = %s", [f"{tag}-probe"])
    console.stop()
    lines = [f"injected: pg_ctl stop -m immediate; PostgreSQL down {down_for:.1f} s, then started (crash recovery)",
             f"a call posted during the outage: {probe.status_code} Retry-After={probe.headers.get('Retry-After')} "
             f"{probe.json()}; rows for it afterwards: {probe_rows}",
             f"relay: head seq {seq_before} before the stop, {counts['journal']['head']} after, numbers gap-free",
             *count_lines(counts)]
    report_counts("drill 4 — PostgreSQL stopped immediately", lines)
    assert probe.status_code == 503 and probe.headers.get("Retry-After"), probe.text
    assert "retry" in probe.json()["error"].lower()
    assert probe_rows == 0  # nothing half-written: the 503 saved nothing
    assert_nothing_lost_or_duplicated(counts)
    for tally in load.tallies():
        assert tally.retries > 0, f"{tally.name}: the outage was never met"
        assert tally.statuses.get(500, 0) == 0, f"{tally.name} got a 500: {dict(tally.statuses)}"
