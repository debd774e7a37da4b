"""Answer-time and response-time compliance computed in SQL, on fixtures with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from calltaking.compliance import answer_time_distribution, answer_time_summary, current_windows
from calltaking.models import Call, Line
from incidents.calltypes import load_call_types
from incidents.models import CallType, Incident
from incidents.reports import response_time_report

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 21, 15, 0, 0, tzinfo=dt_timezone.utc)


def _calls(answer_seconds: list[float | None], *, line: Line, start: datetime = T0, abandoned: int = 0) -> None:
    n = 0
    for n, seconds in enumerate(answer_seconds):
        ringing = start + timedelta(minutes=n)
        Call.objects.create(cpe_call_id=f"{line.code}-{start:%H%M}-{n}", line=line, ani="3075550100", ringing_at=ringing,
                            answered_at=ringing + timedelta(seconds=seconds), state="released")
    for m in range(abandoned):
        ringing = start + timedelta(minutes=n + 1 + m)
        Call.objects.create(cpe_call_id=f"{line.code}-ab-{m}", line=line, ani="3075550101", ringing_at=ringing,
                            abandoned_at=ringing + timedelta(seconds=8), state="abandoned")


@pytest.fixture
def lines():
    return (Line.objects.create(code="911-1", kind="911", label="911 Line 1"),
            Line.objects.create(code="ADMIN-01", kind="admin", label="CPD non-emergency"))


def test_answer_time_percentages_match_a_known_fixture(lines):
    line911, admin = lines
    # 20 calls: 17 within 15 s, 2 more within 20 s, 1 at 40 s → 85% / 95%
    _calls([3] * 10 + [14.9] * 5 + [15.0] * 2 + [18, 20] + [40], line=line911, abandoned=2)
    _calls([100] * 5, line=admin)  # administrative lines do not count
    summary = answer_time_summary(T0, T0 + timedelta(hours=1))
    assert summary["calls"] == 20
    assert summary["abandoned"] == 2
    assert summary["within_first"] == 17
    assert summary["within_second"] == 19
    assert summary["pct_within_first"] == pytest.approx(85.0)
    assert summary["pct_within_second"] == pytest.approx(95.0)
    assert summary["meets"] is False  # 85% < 90% within 15 s


def test_the_thresholds_are_settings_so_nfpa_1225_can_apply(lines, settings):
    settings.PSCC_ANSWER_FIRST_SECONDS = 10
    settings.PSCC_ANSWER_FIRST_GOAL_PCT = 90.0
    _calls([5] * 9 + [12], line=lines[0])
    summary = answer_time_summary(T0, T0 + timedelta(hours=1))
    assert summary["pct_within_first"] == pytest.approx(90.0)
    assert summary["meets"] is True


def test_the_distribution_puts_each_answered_call_in_its_bucket(lines):
    _calls([1, 4, 6, 11, 16, 21, 90], line=lines[0])
    buckets = answer_time_distribution(T0, T0 + timedelta(hours=1), width=5, buckets=5)
    assert [b["calls"] for b in buckets] == [2, 1, 1, 1, 2]
    assert buckets[-1]["label"] == "20s+"


def test_the_current_shift_starts_at_the_last_shift_change():
    # 16:30 UTC is 09:30 in Casper (MST): the day shift started at 07:00 local
    windows = current_windows(datetime(2026, 11, 21, 16, 30, tzinfo=dt_timezone.utc))
    shift_start = windows["shift"][0]
    assert (shift_start.hour, shift_start.minute) == (7, 0)
    assert windows["hour"][0].hour == 9


def test_response_times_per_call_type_with_p50_p90_and_goal_share():
    load_call_types()
    robbery = CallType.objects.get(code="ROBBERY")  # 5-minute goal
    on_scene = [120, 180, 240, 290, 400]  # 4 of 5 within 300 s
    for n, seconds in enumerate(on_scene):
        Incident.objects.create(
            number=f"2026-9{n:05d}", call_type=robbery, priority=1, received_at=T0,
            first_dispatched_at=T0 + timedelta(seconds=30 + n * 10), first_en_route_at=T0 + timedelta(seconds=60),
            first_on_scene_at=T0 + timedelta(seconds=seconds),
        )
    (row,) = response_time_report(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert row["code"] == "ROBBERY" and row["priority"] == 1 and row["incidents"] == 5
    assert row["dispatch_p50"] == pytest.approx(50.0)
    assert row["on_scene_p50"] == pytest.approx(240.0)
    assert row["on_scene_p90"] == pytest.approx(356.0)  # linear interpolation between 290 and 400
    assert row["pct_within_goal"] == pytest.approx(80.0)
