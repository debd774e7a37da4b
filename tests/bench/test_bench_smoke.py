"""Smoke runs of the benchmarks with tiny sizes, so that they cannot rot.

They run the real thing (servers, relay and console clients as processes, on 127.0.0.1) against the
test database; they check the shape of the result and that every console got every update. The
figures themselves mean nothing at these sizes: `python -m bench` measures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.fanout import FanoutOptions
from bench.fanout import run as run_fanout
from bench.memory import MemoryOptions
from bench.memory import run as run_memory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

STATS_KEYS = {"phase", "clients", "expected_per_client", "received", "lost", "out_of_order", "p50_ms", "p99_ms",
              "max_ms", "target_rate", "achieved_rate", "sent"}


def test_the_fanout_benchmark_delivers_every_update_to_every_console_on_each_server_and_reports_the_ratio(
    test_database_url, tmp_path
):
    # given: five consoles, one second of updates, a two-step rate ramp, on every server
    options = FanoutOptions(
        clients=[5], duration=1.0, rate=10, rate_clients=5, rates=[10, 20], step_seconds=1.0, warmup_seconds=0.5,
        servers=["raw", "raw-journal", "daphne", "uvicorn"], results_dir=tmp_path,
        env={"DATABASE_URL": test_database_url}, quiet=True,
    )

    # when
    result = run_fanout(options)

    # then: a latency row and a ramp for each server, nothing lost or out of order anywhere
    assert set(result["servers"]) == {"raw", "raw-journal", "daphne", "uvicorn"}
    for kind, data in result["servers"].items():
        (row,) = data["latency"]
        assert STATS_KEYS <= set(row), kind
        assert row["clients"] == 5 and row["sent"] == 10
        assert row["received"] == 5 * row["sent"] and row["lost"] == 0 and row["out_of_order"] == 0, (kind, row)
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert [s["target_rate"] for s in data["ramp"]["steps"]] == [10, 20], kind
        for step in data["ramp"]["steps"]:
            assert step["lost"] == 0 and step["received"] == 5 * step["sent"], (kind, step)
        if kind != "raw":
            assert row["relay_numbering_ms"]["p50"] >= 0
    # and the headline compares each product server with the raw one
    summary = result["summary"]
    assert summary["headline_clients"] == 5
    for kind in ("daphne", "uvicorn"):
        assert {"p99_ms", "p99_ratio_to_raw", "max_rate", "rate_ratio_to_raw", "lost"} <= set(summary["per_server"][kind])
        assert summary["per_server"][kind]["lost"] == 0
    assert summary["better_product_server"] in ("daphne", "uvicorn")
    # and the JSON written is the result
    assert json.loads(Path(result["path"]).read_text())["summary"] == json.loads(json.dumps(summary))
    assert Path(result["path"]).parent == tmp_path


def test_the_memory_benchmark_samples_the_server_and_reports_growth_with_nothing_lost(test_database_url, tmp_path):
    # given: five consoles for three seconds at ten updates a second, sampled every half second
    options = MemoryOptions(clients=5, minutes=0.05, rate=10, servers=["uvicorn"], sample_seconds=0.5,
                            results_dir=tmp_path, env={"DATABASE_URL": test_database_url}, quiet=True)

    # when
    result = run_memory(options)

    # then
    data = result["servers"]["uvicorn"]
    assert {"idle_mb", "connected_mb", "per_console_kb", "first_window_mb", "last_window_mb", "growth_pct",
            "peak_mb", "growth_under_10pct", "samples", "windows"} <= set(data)
    assert len(data["samples"]) >= 4
    assert all(sample["rss_mb"] > 10 for sample in data["samples"])
    assert data["sent"] == 30
    assert data["lost"] == 0 and data["out_of_order"] == 0
    assert Path(result["path"]).exists()


def test_the_compliance_benchmark_generates_a_small_year_and_times_every_query(transactional_db):
    from bench import compliance

    result = compliance.main(["--calls", "600", "--incidents", "200", "--runs", "2"])
    assert set(result["queries"]) >= {"board (hour + shift + distribution)", "answer-time compliance, one year",
                                      "response-time report, one year", "plan_hour_window"}
    assert all(q["p99_ms"] > 0 for name, q in result["queries"].items() if name != "plan_hour_window")
    from calltaking.compliance import answer_time_summary
    from django.utils import timezone
    from datetime import timedelta

    year = answer_time_summary(timezone.now() - timedelta(days=366), timezone.now() + timedelta(seconds=1))
    assert year["calls"] + year["abandoned"] == 400  # two thirds of 600 ring on the 911 line
