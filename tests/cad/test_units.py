"""Unit status lifecycle, history, journal events, positions and status timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pscc.errors import ServiceError
from pscc.models import JournalEvent
from pscc.sweeper import run_sweepers
from units.models import StatusTimer, UnitStatusChange, UnitTimerAlert
from units.services import unit_position_update, unit_status_change, unit_timer_alert_acknowledge, unit_timers_sweep


def test_unit_goes_out_of_service_and_back_with_history_and_a_journal_event(county, telecommunicator):
    # given
    p1 = county.units["P1"]
    # when
    unit_status_change(unit=p1, to_status="out_of_service", actor=telecommunicator, reason="fuel")
    unit_status_change(unit=p1, to_status="available", actor=telecommunicator)
    # then
    p1.refresh_from_db()
    assert p1.status == "available"
    history = list(UnitStatusChange.objects.filter(unit=p1).order_by("at", "id").values_list("from_status", "to_status", "reason", "actor_label"))
    assert history == [("available", "out_of_service", "fuel", "tc1"), ("out_of_service", "available", "", "tc1")]
    events = list(JournalEvent.objects.filter(kind="unit.status", entity=f"unit:{p1.pk}").order_by("id"))
    assert [e.payload["status"] for e in events] == ["out_of_service", "available"]
    assert events[0].payload["call_sign"] == "P1" and events[0].payload["change"]["reason"] == "fuel"
    assert "agency:CPD" in events[0].audience and "floor" in events[0].audience


@pytest.mark.parametrize("start, to", [
    ("available", "en_route"),
    ("available", "on_scene"),
    ("off_duty", "dispatched"),
    ("out_of_service", "on_scene"),
    ("available", "available"),
    ("available", "transporting"),
])
def test_illegal_transitions_are_refused_naming_status_and_change_nothing(county, telecommunicator, start, to):
    p1 = county.units["P1"]
    type(p1).objects.filter(pk=p1.pk).update(status=start)
    with pytest.raises(ServiceError) as excinfo:
        unit_status_change(unit=p1, to_status=to, actor=telecommunicator, incident_number="2025-000001")
    assert excinfo.value.field == "status"
    p1.refresh_from_db()
    assert p1.status == start
    assert not UnitStatusChange.objects.filter(unit=p1).exists()
    assert not JournalEvent.objects.filter(kind="unit.status").exists()


def test_only_a_transporting_unit_may_transport(county, telecommunicator):
    from incidents.services import incident_create, incident_dispatch

    incident = incident_create(call_type_code="MEDICAL", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    incident_dispatch(incident=incident, unit_ids=[county.units["M1"].pk, county.units["E1"].pk], actor=telecommunicator)
    for call_sign in ("M1", "E1"):
        unit_status_change(unit=county.units[call_sign], to_status="en_route", actor=telecommunicator)
        unit_status_change(unit=county.units[call_sign], to_status="on_scene", actor=telecommunicator)
    with pytest.raises(ServiceError) as excinfo:
        unit_status_change(unit=county.units["E1"], to_status="transporting", actor=telecommunicator)
    assert excinfo.value.field == "status"
    unit_status_change(unit=county.units["M1"], to_status="transporting", actor=telecommunicator, reason="to WMC")
    unit_status_change(unit=county.units["M1"], to_status="at_hospital", actor=telecommunicator)
    unit_status_change(unit=county.units["M1"], to_status="available", actor=telecommunicator)
    county.units["M1"].refresh_from_db()
    assert county.units["M1"].incident_number == ""


def test_dispatched_without_an_incident_is_refused(county, telecommunicator):
    with pytest.raises(ServiceError) as excinfo:
        unit_status_change(unit=county.units["P1"], to_status="dispatched", actor=telecommunicator)
    assert excinfo.value.field == "incident_number"


def test_unit_position_update_moves_the_unit_but_never_backwards_in_time(county, telecommunicator):
    p1 = county.units["P1"]
    later = timezone.now() + timedelta(seconds=5)
    unit_position_update(unit=p1, lat=42.9, lon=-106.3, actor="mdt", reported_at=later)
    unit_position_update(unit=p1, lat=42.0, lon=-106.0, actor="mdt", reported_at=later - timedelta(seconds=60))
    p1.refresh_from_db()
    assert (p1.lat, p1.lon) == (42.9, -106.3)
    assert JournalEvent.objects.filter(kind="unit.position").count() == 1
    with pytest.raises(ServiceError) as excinfo:
        unit_position_update(unit=p1, lat=95, lon=0, actor="mdt")
    assert excinfo.value.field == "lat"


def test_status_timer_fires_an_alert_once_and_clears_on_acknowledge(county, telecommunicator):
    # given: out of service has a 30 minute timer for patrol units, 60 for everyone else
    StatusTimer.objects.create(status="out_of_service", unit_type="", minutes=60)
    StatusTimer.objects.create(status="out_of_service", unit_type="patrol", minutes=30)
    p1, e1 = county.units["P1"], county.units["E1"]
    unit_status_change(unit=p1, to_status="out_of_service", actor=telecommunicator, reason="report writing")
    unit_status_change(unit=e1, to_status="out_of_service", actor=telecommunicator, reason="training")
    start = timezone.now()
    # when / then: nothing before the timer runs out
    assert unit_timers_sweep(now=start + timedelta(minutes=29)) == 0
    # the patrol unit's 30 minutes run out; the engine's 60 do not
    assert unit_timers_sweep(now=start + timedelta(minutes=31)) == 1
    assert unit_timers_sweep(now=start + timedelta(minutes=45)) == 0  # once per stay
    alert = UnitTimerAlert.objects.get()
    assert alert.unit == p1 and alert.status == "out_of_service"
    event = JournalEvent.objects.get(kind="unit.timer_alert")
    assert event.payload["call_sign"] == "P1" and event.payload["timer_alert"]["id"] == alert.pk
    # the registered sweeper (what beat runs) finds nothing new for P1
    assert run_sweepers()["unit_timers"] == 0
    # acknowledge clears it from the unit's state
    unit_timer_alert_acknowledge(alert=alert, actor=telecommunicator)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledged_by == telecommunicator
    ack = JournalEvent.objects.get(kind="unit.timer_acknowledged")
    assert ack.payload["timer_alert"] is None and ack.payload["alert"]["acknowledged_at"]
    assert unit_timers_sweep(now=start + timedelta(minutes=50)) == 0
    # a new stay in the status gets its own alert
    unit_status_change(unit=p1, to_status="available", actor=telecommunicator)
    unit_status_change(unit=p1, to_status="out_of_service", actor=telecommunicator)
    assert unit_timers_sweep(now=timezone.now() + timedelta(minutes=31)) == 1
    assert unit_timers_sweep(now=start + timedelta(minutes=61)) == 1  # the engine's own 60 minutes
    assert UnitTimerAlert.objects.count() == 3
