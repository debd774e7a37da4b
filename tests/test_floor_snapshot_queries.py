"""The floor snapshot's other providers (units, text sessions, positions, supervisor alerts): the
number of queries each costs does not grow with what is on the floor (no query per row)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pscc.floor import snapshot_providers
from pscc.journal import FLOOR

FLOOR_ONLY = frozenset({FLOOR})


def _queries(provider: str, user=None) -> tuple[int, object]:
    build = snapshot_providers()[provider]
    with CaptureQueriesContext(connection) as ctx:
        data = build(user, FLOOR_ONLY)
    return len(ctx.captured_queries), data


def _units(start: int, count: int) -> None:
    from units.models import Agency, Station, Unit, UnitStatusChange, UnitTimerAlert

    agency, _ = Agency.objects.get_or_create(code="CPD", defaults={"name": "Casper Police Department", "kind": "law"})
    station, _ = Station.objects.get_or_create(code="CFD1", defaults={"agency": agency, "name": "Station 1",
                                                                      "lat": 42.85, "lon": -106.32})
    for n in range(start, start + count):
        unit = Unit.objects.create(call_sign=f"Q{n}", agency=agency, unit_type="patrol", status="on_scene",
                                   station=station if n % 2 else None)
        change = UnitStatusChange.objects.create(unit=unit, from_status="en_route", to_status="on_scene")
        UnitTimerAlert.objects.create(unit=unit, status_change=change, status="on_scene")


def test_the_units_snapshot_costs_the_same_number_of_queries_however_many_units_there_are(db):
    _units(0, 3)
    small_count, small = _queries("units")

    _units(3, 12)
    large_count, large = _queries("units")

    assert len(small) == 3 and len(large) == 15
    assert all(u["timer_alert"] is not None for u in large.values())
    assert large_count == small_count == 2  # units with agency and station, their open timer alerts


def _texts(user, start: int, count: int) -> None:
    from text911.models import TextMessage, TextSession

    now = timezone.now()
    previous = None
    for n in range(start, start + count):
        state = ("unassigned", "active", "ended")[n % 3]
        session = TextSession.objects.create(
            tcc_session_id=f"TS-{n}", from_number=f"30755501{n:02d}", state=state,
            owner=user if state != "unassigned" else None, location_verified_by=user if n % 2 else None,
            ended_at=now - timedelta(minutes=5) if state == "ended" else None, ended_by=user if state == "ended" else None,
        )
        if previous is not None:
            session.related_sessions.add(previous)
        previous = session
        for k in range(3):
            TextMessage.objects.create(session=session, direction="in" if k % 2 == 0 else "out", text=f"message {k}",
                                       author=None if k % 2 == 0 else user, tcc_message_id=f"TM-{n}-{k}")


def test_the_text_snapshot_costs_the_same_number_of_queries_however_many_sessions_are_open(make_staff):
    user = make_staff("telecommunicator", username="tc-text")
    _texts(user, 0, 3)
    small_count, small = _queries("text", user)

    _texts(user, 3, 15)
    large_count, large = _queries("text", user)

    assert len(small["sessions"]) == 3 and len(large["sessions"]) == 18
    assert sum(len(m) for m in large["messages"].values()) == 18 * 3
    assert any(s["related"] for s in large["sessions"].values())
    assert large_count == small_count


def _staff_on_positions(make_staff, start: int, count: int) -> None:
    from pscc.models import Position, PositionAssignment, SupervisorAlert

    for n in range(start, start + count):
        position = Position.objects.create(code=f"POS-{n}")
        if n % 2:
            PositionAssignment.objects.create(position=position, user=make_staff("telecommunicator", username=f"pos{n}"))
        SupervisorAlert.objects.create(kind="test", dedupe_key=f"alert-{n}", text=f"Alert {n}")


def test_the_positions_and_alerts_snapshots_cost_the_same_number_of_queries_however_many_there_are(make_staff):
    _staff_on_positions(make_staff, 0, 3)
    small = {name: _queries(name) for name in ("positions", "alerts")}

    _staff_on_positions(make_staff, 3, 12)
    large = {name: _queries(name) for name in ("positions", "alerts")}

    assert len(large["alerts"][1]) == 15 and len(large["positions"][1]) >= 15
    assert sum(1 for p in large["positions"][1].values() if p["user"]) == 7
    assert large["positions"][0] == small["positions"][0] == 2
    assert large["alerts"][0] == small["alerts"][0] == 1
