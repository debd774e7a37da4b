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


def test_the_intake_benchmark_rings_varied_calls_in_confirms_each_on_the_consoles_and_compares_with_the_trivial_view(
    test_database_url, tmp_path
):
    from bench.intake import IntakeOptions
    from bench.intake import run as run_intake
    from calltaking.models import Call

    # given: four clients for a second on each path, two consoles
    options = IntakeOptions(concurrency=4, seconds=1.0, warmup_seconds=0.5, consoles=2, service_calls=5,
                            results_dir=tmp_path, env={"DATABASE_URL": test_database_url}, quiet=True)

    # when
    result = run_intake(options)

    # then: both paths answered, every call committed and on both consoles, and the verdict computed
    assert result["ceiling"]["ok"] > 0 and result["ceiling"]["statuses"] == {"200": result["ceiling"]["requests"]}
    intake = result["intake"]
    assert intake["ok"] > 0 and intake["statuses"] == {"201": intake["requests"]}, intake
    assert result["committed"] == intake["ok"]
    consoles = result["consoles"]
    assert consoles["keys"] == intake["ok"] and consoles["received"] == 2 * intake["ok"] and consoles["missing"] == 0
    assert 0 < consoles["p50_ms"] <= consoles["p99_ms"] <= consoles["max_ms"]
    summary = result["summary"]
    assert summary["all_on_every_console"] is True
    assert summary["share_of_ceiling"] == pytest.approx(intake["per_second"] / result["ceiling"]["per_second"], abs=1e-3)
    assert {"share_at_least_50pct", "p99_under_200ms"} <= set(summary)
    # and the service's own cost, without HTTP, for the "why"
    assert result["service_alone"]["calls"] == 5 and result["service_alone"]["queries_per_call"] > 0
    # and the mix of payloads is varied: JSON, legacy spill and PIDF-LO
    forms = {form.split("/")[1] for form in result["payload_mix"]}
    assert forms == {"json", "legacy", "pidf"}
    # and the calls it rang in are gone again (they would stay ringing on every floor)
    assert not Call.objects.filter(cpe_call_id__startswith="BK").exists()
    assert json.loads(Path(result["path"]).read_text())["summary"] == summary


def test_the_trivial_bench_view_is_not_routed_unless_a_benchmark_turns_it_on(client):
    assert client.get("/bench/ping.json").status_code == 404


def test_the_burst_benchmark_loses_no_call_and_no_text_on_any_console(test_database_url, tmp_path):
    from bench.burst import BurstOptions
    from bench.burst import run as run_burst

    # given: twelve calls and five texts within two seconds, three consoles
    options = BurstOptions(calls=12, texts=5, window=2.0, consoles=3, results_dir=tmp_path,
                           env={"DATABASE_URL": test_database_url}, quiet=True)

    # when
    result = run_burst(options)

    # then: every request answered, every one committed, every one on every console
    summary = result["summary"]
    assert result["statuses"] in ({"201": 12, "200": 5},), result["statuses"]
    assert result["committed"] == {"calls": 12, "texts": 5}
    assert summary["deliveries_expected"] == 3 * 17 and summary["deliveries_received"] == 3 * 17
    assert summary["lost"] == 0 and summary["zero_lost"] and summary["all_committed"]
    assert result["consoles"]["calls"]["missing"] == 0 and result["consoles"]["texts"]["missing"] == 0
    assert 0 < summary["ring_to_console_p50_ms"] <= summary["ring_to_console_p99_ms"] <= summary["ring_to_console_max_ms"]
    assert Path(result["path"]).exists()


@pytest.mark.timeout(900)  # the first run creates and migrates its database: minutes on a loaded machine
def test_the_history_benchmark_generates_a_tiny_decade_once_and_explains_every_query(test_database_url, tmp_path):
    from bench import history

    # when: a thousandth of the decade, twice (the second run reuses what the first generated)
    first = history.main(["--scale", "0.001", "--runs", "3", "--database-url", test_database_url, "--reload",
                          "--results-dir", str(tmp_path), "--quiet"])
    second = history.main(["--scale", "0.001", "--runs", "3", "--database-url", test_database_url,
                           "--results-dir", str(tmp_path), "--quiet"])

    # then: the sizes asked for, in a database of its own
    assert first["database"] == second["database"] == test_database_url.rsplit("/", 1)[1] + "_history_0_001"
    assert first["reused"] is False and second["reused"] is True
    assert {k: first["data"][k] for k in ("incidents", "calls", "text_messages", "unit_status_changes")} == {
        "incidents": 1000, "calls": 3000, "text_messages": 500, "unit_status_changes": 4000}
    assert first["triggers_off_during_generation"] is True
    # and every query timed, with the plan of each statement it ran and the indexes it used
    assert set(second["queries"]) == {"phone", "address", "board", "floor", "answer", "response"}
    for name, query in second["queries"].items():
        assert query["runs"] == 3 and 0 < query["p50_ms"] <= query["p99_ms"] <= query["max_ms"], name
        assert query["statements"] >= 1 and all(p["plan"] for p in query["plans"]), name
    assert "call_answer_time" in second["queries"]["answer"]["indexes"]
    # and the year-long reports read the daily roll-ups, filled once for the whole decade
    assert first["rollups_filled"]["answer_times"] >= 3650 and first["rollups_filled"]["response_times"] >= 3650
    assert second["rollups_filled"]["answer_times"] <= 1 and second["rollups_filled"]["response_times"] <= 1
    assert "answer_bucket_day_second" in second["queries"]["answer"]["indexes"]
    assert "response_group_day" in second["queries"]["response"]["indexes"]
    assert "incident_location_history" in second["queries"]["address"]["indexes"]
    assert any("ani" in index for index in second["queries"]["phone"]["indexes"])
    # and one query alone when asked
    board_only = history.main(["--scale", "0.001", "--runs", "3", "--database-url", test_database_url, "--query", "board",
                               "--results-dir", str(tmp_path), "--quiet"])
    assert set(board_only["queries"]) == {"board"} and board_only["reused"] is True
