"""Daily roll-ups of the answer-time and response-time reports: roll-up + live rows give exactly what
the direct computation gives, on randomized data with the awkward cases (range edges mid-day, calls
answered after midnight, abandoned calls, both DST change days), recomputing is idempotent, and a
correction is picked up by the periodic task (on a real worker) or the rebuild command."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from calltaking.compliance import answer_time_summary
from calltaking.models import AnswerTimeBucket, AnswerTimeDay, Call, Line
from calltaking.rollup import NAME as ANSWER
from incidents.calltypes import load_call_types
from incidents.models import CallType, Incident, ResponseTimeDay, ResponseTimeGroup
from incidents.reports import response_time_report
from incidents.rollup import NAME as RESPONSE
from pscc.rollup import day_bounds, rollup_days_recompute, split_range

DENVER = ZoneInfo("America/Denver")
SPRING = date(2026, 3, 8)  # 23-hour day
FALL = date(2026, 11, 1)  # 25-hour day


def _local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=DENVER)


def _make_calls(rng: random.Random, days: list[date], per_day: int, lines: tuple[Line, Line]) -> None:
    line911, admin = lines
    calls = []
    for day in days:
        lo, hi = day_bounds(day)
        span = (hi - lo).total_seconds()
        moments = [rng.uniform(0, span) for _ in range(per_day)]
        moments += [span - rng.uniform(0.001, 20) for _ in range(3)]  # just before midnight: answered after it
        moments += [rng.uniform(0, 0.5)]  # just after midnight
        for n, offset in enumerate(moments):
            ringing = lo + timedelta(seconds=offset)
            kind = rng.random()
            call = Call(cpe_call_id=f"R-{day:%Y%m%d}-{n}-{rng.random():.12f}", line=admin if kind < 0.1 else line911,
                        ani="3075550100", ringing_at=ringing, state="released")
            if kind < 0.85:  # answered, fractional times, now and then exactly on a threshold
                seconds = rng.choice([15, 20, rng.uniform(0, 45), rng.uniform(0, 45), round(rng.uniform(0, 30))])
                call.answered_at = ringing + timedelta(microseconds=int(seconds * 1_000_000))
            elif kind < 0.95:
                call.abandoned_at, call.state = ringing + timedelta(seconds=rng.uniform(1, 30)), "abandoned"
            else:
                call.state = "ringing"  # neither answered nor abandoned
            calls.append(call)
    Call.objects.bulk_create(calls)


def _make_incidents(rng: random.Random, days: list[date], per_day: int) -> None:
    load_call_types()
    types = list(CallType.objects.all())
    incidents = []
    for day in days:
        lo, hi = day_bounds(day)
        span = (hi - lo).total_seconds()
        for n in range(per_day):
            received = lo + timedelta(seconds=rng.uniform(0, span))
            step = rng.random()

            def later(low: float, high: float) -> datetime:
                return received + timedelta(microseconds=int(rng.uniform(low, high) * 1_000_000))

            ct = rng.choice(types[:6])
            incidents.append(Incident(
                number=f"R{day:%y%m%d}{n:04d}", call_type=ct, priority=rng.randint(1, 4), received_at=received,
                first_dispatched_at=later(10, 200) if step > 0.1 else None,
                first_en_route_at=later(60, 400) if step > 0.2 else None,
                first_on_scene_at=(received + timedelta(seconds=ct.response_goal_seconds)
                                   if step > 0.9 and ct.response_goal_seconds else later(120, 1200)) if step > 0.3 else None,
            ))
    Incident.objects.bulk_create(incidents)


@pytest.fixture
def lines(db):
    return (Line.objects.create(code="911-1", kind="911", label="911 Line 1"),
            Line.objects.create(code="ADMIN-01", kind="admin", label="CPD non-emergency"))


def _ranges(rng: random.Random, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Aligned to local midnights, mid-day edges, one-day, sub-day, empty and whole-span ranges."""
    lo, hi = day_bounds(first)[0], day_bounds(last)[1]
    out = [(lo, hi), (lo + timedelta(hours=5, minutes=17), hi - timedelta(hours=3, seconds=1)),
           (day_bounds(first + timedelta(days=1))[0], day_bounds(first + timedelta(days=1))[1]),
           (lo + timedelta(hours=1), lo + timedelta(hours=2)), (lo, lo), (lo - timedelta(days=3), hi + timedelta(days=3))]
    span = (hi - lo).total_seconds()
    for _ in range(12):
        a, b = sorted(rng.uniform(-3600, span + 3600) for _ in range(2))
        out.append((lo + timedelta(seconds=a), lo + timedelta(seconds=b)))
    return out


def _assert_same_as_direct(ranges) -> None:
    for start, end in ranges:
        assert answer_time_summary(start, end) == answer_time_summary(start, end, use_rollup=False), (start, end)
        assert response_time_report(start, end) == response_time_report(start, end, use_rollup=False), (start, end)


def _rollup_rows() -> list:
    return [sorted(AnswerTimeDay.objects.values_list("day", "answered", "abandoned")),
            sorted(AnswerTimeBucket.objects.values_list("day", "second", "calls", "micros")),
            sorted(ResponseTimeDay.objects.values_list("day", flat=True)),
            sorted((day, ct, p, n, bytes(d), bytes(e), bytes(s)) for day, ct, p, n, d, e, s in ResponseTimeGroup.objects.values_list(
                "day", "call_type_id", "priority", "incidents", "dispatched_us", "en_route_us", "on_scene_us"))]


@pytest.mark.parametrize("dst_day", [SPRING, FALL])
def test_roll_up_plus_live_rows_equal_the_direct_computation_across_a_dst_change(lines, dst_day):
    rng = random.Random(dst_day.toordinal())
    days = [dst_day + timedelta(days=n) for n in range(-2, 3)]
    _make_calls(rng, days, 60, lines)
    _make_incidents(rng, days, 50)
    assert day_bounds(dst_day)[1] - day_bounds(dst_day)[0] == timedelta(hours=23 if dst_day == SPRING else 25)
    # Only some of the days rolled up: the others (a gap in the middle, the last one) are read live.
    call_command("rollup_rebuild", "--from", str(days[0]), "--to", str(days[2]))
    assert AnswerTimeDay.objects.count() == 3 and ResponseTimeDay.objects.count() == 3
    whole = (day_bounds(days[0])[0], day_bounds(days[-1])[1])
    split = split_range(*whole, "calltaking_answertimeday")
    assert (split.first_day, split.last_day) == (days[0], days[2])
    assert split.live == [(day_bounds(days[3])[0], whole[1])]
    ranges = _ranges(rng, days[0], days[-1])
    _assert_same_as_direct(ranges)
    # All of them rolled up, and the figures are not trivially empty.
    rollup_days_recompute(name=ANSWER, first=days[0], last=days[-1])
    rollup_days_recompute(name=RESPONSE, first=days[0], last=days[-1])
    _assert_same_as_direct(ranges)
    summary = answer_time_summary(*whole)
    assert summary["calls"] > 200 and summary["abandoned"] > 10 and 0 < summary["within_first"] < summary["within_second"]
    assert summary["p90_seconds"] is not None
    report = response_time_report(*whole)
    assert sum(r["incidents"] for r in report) == 250 and any(r["pct_within_goal"] for r in report)


def test_a_call_answered_after_midnight_counts_on_the_day_it_rang(lines):
    day = date(2026, 6, 10)
    ringing = day_bounds(day)[1] - timedelta(seconds=5)
    Call.objects.create(cpe_call_id="late-1", line=lines[0], ani="3075550100", ringing_at=ringing,
                        answered_at=ringing + timedelta(seconds=17.25), state="released")
    rollup_days_recompute(name=ANSWER, first=day, last=day + timedelta(days=1))
    assert AnswerTimeDay.objects.get(day=day).answered == 1
    assert AnswerTimeDay.objects.get(day=day + timedelta(days=1)).answered == 0
    bucket = AnswerTimeBucket.objects.get(day=day)
    assert (bucket.second, bucket.micros) == (18, [17_250_000])
    summary = answer_time_summary(*day_bounds(day))
    assert (summary["calls"], summary["within_first"], summary["within_second"], summary["p90_seconds"]) == (1, 0, 1, 17.25)


def test_recomputing_twice_changes_nothing(lines):
    rng = random.Random(7)
    days = [date(2026, 5, 1) + timedelta(days=n) for n in range(3)]
    _make_calls(rng, days, 40, lines)
    _make_incidents(rng, days, 30)
    call_command("rollup_rebuild", "--from", str(days[0]), "--to", str(days[-1]))
    first = _rollup_rows()
    assert first[1] and first[3]
    call_command("rollup_rebuild", "--from", str(days[0]), "--to", str(days[-1]))
    rollup_days_recompute(name=ANSWER, first=days[1], last=days[1])
    assert _rollup_rows() == first


def test_a_correction_to_an_old_day_shows_only_after_the_rebuild_command(lines):
    rng = random.Random(11)
    day = date(2025, 2, 3)
    _make_calls(rng, [day], 30, lines)
    _make_incidents(rng, [day], 30)
    call_command("rollup_rebuild", "--from", str(day), "--to", str(day))
    whole = day_bounds(day)
    before = answer_time_summary(*whole), response_time_report(*whole)
    # A correction months later: a call's answer time and an incident's arrival are fixed.
    call = next(c for c in Call.objects.filter(line=lines[0], answered_at__isnull=False).order_by("ringing_at")
                if c.answered_at - c.ringing_at <= timedelta(seconds=14))
    Call.objects.filter(pk=call.pk).update(answered_at=call.ringing_at + timedelta(seconds=300))
    incident = Incident.objects.filter(first_on_scene_at__isnull=False).order_by("received_at").first()
    Incident.objects.filter(pk=incident.pk).update(first_on_scene_at=None)
    # The roll-up is what the report reads for that day: it still says what it said...
    assert (answer_time_summary(*whole), response_time_report(*whole)) == before
    assert answer_time_summary(*whole) != answer_time_summary(*whole, use_rollup=False)
    # ...until the day is rebuilt.
    call_command("rollup_rebuild", "--from", str(day), "--to", str(day), "--rollup", ANSWER, "--rollup", RESPONSE)
    _assert_same_as_direct([whole, (whole[0] + timedelta(hours=3), whole[1] + timedelta(hours=3))])
    assert answer_time_summary(*whole) != before[0] and response_time_report(*whole) != before[1]


def test_the_rebuild_command_refuses_days_not_over_and_unknown_roll_ups(db):
    today = timezone.now().astimezone(DENVER).date()
    with pytest.raises(CommandError, match="--to"):
        call_command("rollup_rebuild", "--from", str(today), "--to", str(today))
    with pytest.raises(CommandError, match="--rollup"):
        call_command("rollup_rebuild", "--from", "2026-01-01", "--to", "2026-01-02", "--rollup", "nope")
    with pytest.raises(CommandError, match="--from"):
        call_command("rollup_rebuild", "--from", "yesterday")


def _wait_for(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_periodic_tasks_on_a_worker_recompute_the_recent_days_and_pick_up_late_answers(celery_worker_process):
    from calltaking.tasks import answer_time_rollup
    from incidents.tasks import response_time_rollup
    from pscc.celery import app

    for name in ("calltaking.answer_time_rollup", "incidents.response_time_rollup"):
        assert name in [entry["task"] for entry in app.conf.beat_schedule.values()]
    lines = (Line.objects.create(code="911-1", kind="911", label="911 Line 1"),
             Line.objects.create(code="ADMIN-01", kind="admin", label="CPD non-emergency"))
    rng = random.Random(3)
    yesterday = timezone.now().astimezone(DENVER).date() - timedelta(days=1)
    recent = [yesterday - timedelta(days=n) for n in (2, 1, 0)]
    _make_calls(rng, recent, 20, lines)
    _make_incidents(rng, recent, 20)
    # A call of the day before yesterday still ringing when the day was first rolled up.
    ringing = day_bounds(recent[1])[1] - timedelta(seconds=3)
    late = Call.objects.create(cpe_call_id="late-answer", line=lines[0], ani="3075550100", ringing_at=ringing,
                               state="ringing")

    def run_and_wait():
        started = timezone.now()
        answer_time_rollup.delay()
        response_time_rollup.delay()
        done = _wait_for(lambda: AnswerTimeDay.objects.filter(computed_at__gt=started).count() == 3
                         and ResponseTimeDay.objects.filter(computed_at__gt=started).count() == 3)
        assert done, "the worker did not recompute the last three days"

    run_and_wait()
    assert sorted(AnswerTimeDay.objects.values_list("day", flat=True)) == recent
    whole = (day_bounds(recent[0])[0], day_bounds(recent[-1])[1])
    assert split_range(*whole, "incidents_responsetimeday").live == []
    _assert_same_as_direct([whole])
    first = _rollup_rows()
    run_and_wait()
    assert _rollup_rows() == first  # twice: nothing changes
    Call.objects.filter(pk=late.pk).update(answered_at=ringing + timedelta(seconds=42), state="released")
    assert answer_time_summary(*whole) != answer_time_summary(*whole, use_rollup=False)
    run_and_wait()
    _assert_same_as_direct([whole, (whole[0] + timedelta(hours=7), whole[1] - timedelta(hours=1))])
    assert AnswerTimeBucket.objects.filter(day=recent[1], second=42).exists()


def test_split_range_reads_live_the_partial_edges_and_days_not_rolled_up(db):
    days = [date(2026, 3, 7) + timedelta(days=n) for n in range(3)]
    with connection.cursor() as cur:
        for d in (days[0], days[2]):
            cur.execute("INSERT INTO calltaking_answertimeday (day, answered, abandoned, computed_at) VALUES (%s, 0, 0, now())", [d])
    start, end = _local(days[0], 0) - timedelta(hours=2), _local(days[2], 23, 59, 59)
    split = split_range(start, end, "calltaking_answertimeday")
    assert (split.first_day, split.last_day) == (days[0], days[0])  # days[2] is not whole inside the range
    assert split.live == [(start, day_bounds(days[0])[0]), (day_bounds(days[1])[0], end)]
    assert split_range(end, start, "calltaking_answertimeday").live == []
    assert datetime(2026, 3, 8, 7, tzinfo=dt_timezone.utc) == day_bounds(days[1])[0]  # MST midnight
    assert datetime(2026, 3, 9, 6, tzinfo=dt_timezone.utc) == day_bounds(days[1])[1]  # MDT midnight


def test_the_reports_page_reads_rolled_up_days_and_shows_what_the_direct_computation_gives(lines, make_staff):
    from django.test import Client

    from calltaking.compliance import answer_time_rows
    from incidents.reports import response_time_rows

    rng = random.Random(5)
    days = [date(2026, 4, 6) + timedelta(days=n) for n in range(3)]
    _make_calls(rng, days, 30, lines)
    _make_incidents(rng, days, 40)
    call_command("rollup_rebuild", "--from", str(days[0]), "--to", str(days[-1]))
    client = Client()
    client.force_login(make_staff("supervisor"))
    # The page's period is whole local days; the request runs in pghistory's context, as in production.
    page = client.get("/reports/", {"start": str(days[0]), "end": str(days[-1])})
    assert page.status_code == 200
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    assert split_range(start, end, "incidents_responsetimeday").live == []
    keys, rows = response_time_rows(start, end)
    assert rows == [tuple(r[k] for k in keys) for r in response_time_report(start, end, use_rollup=False)]
    for row in rows:
        assert f"<td>{row[0]}</td>".encode() in page.content
    measures = dict(answer_time_rows(start, end)[1])
    assert measures["answered 911 calls"] == answer_time_summary(start, end, use_rollup=False)["calls"] > 0


def test_the_periodic_run_fills_the_days_missed_while_beat_was_down_and_never_rolls_up_today(lines):
    from pscc.rollup import rollup_day_recompute, rollup_recent_recompute

    yesterday = timezone.now().astimezone(DENVER).date() - timedelta(days=1)
    old = yesterday - timedelta(days=9)
    _make_calls(random.Random(13), [old + timedelta(days=n) for n in range(10)], 5, lines)
    rollup_days_recompute(name=ANSWER, first=old, last=old)
    result = rollup_recent_recompute(name=ANSWER)
    assert result["days"] == 9
    assert sorted(AnswerTimeDay.objects.values_list("day", flat=True)) == [old + timedelta(days=n) for n in range(10)]
    with pytest.raises(ValueError, match="not over"):
        rollup_day_recompute(name=ANSWER, day=yesterday + timedelta(days=1))
    assert not AnswerTimeDay.objects.filter(day__gt=yesterday).exists()
