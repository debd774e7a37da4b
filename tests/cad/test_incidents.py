"""Incidents: location, hazards, duplicates, recommendation, dispatch, response times."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.geography import address_verify, haversine_m
from incidents.models import AdditionalCaller, Assignment, Incident, NarrativeEntry
from incidents.recommend import recommend_units
from incidents.selectors import hazards_near, incident_duplicates
from incidents.services import (
    incident_attach_caller,
    incident_close,
    incident_create,
    incident_dispatch,
    incident_response_sweep,
    incident_update,
)
from pscc.errors import Conflict, ServiceError
from pscc.models import JournalEvent
from tests.cad.conftest import CONVERSE_POINT, MAIN_CASPER, north_of
from units.models import Unit
from units.services import unit_status_change


def test_a_point_in_casper_gets_the_smallest_beat_and_its_zone(county, telecommunicator):
    incident = incident_create(call_type_code="THEFT", actor=telecommunicator, location_text="near 100 Main",
                               lat=MAIN_CASPER[0], lon=MAIN_CASPER[1], location_override_reason="caller unsure")
    assert incident.beat.code == "C2"  # not the county-wide CTY beat that also contains it
    assert incident.esz.esn == "101"
    assert incident.out_of_jurisdiction is False and incident.jurisdiction_agency is None


def test_out_of_jurisdiction_point_names_the_neighbouring_psap(county, telecommunicator):
    incident = incident_create(call_type_code="911W", actor=telecommunicator, lat=CONVERSE_POINT[0],
                               lon=CONVERSE_POINT[1], uncertainty_m=30)
    assert incident.out_of_jurisdiction is True
    assert incident.jurisdiction_agency.code == "CCSO911"
    assert incident.esz is None and incident.beat is None
    texts = list(incident.narrative.values_list("text", flat=True))
    assert any("Converse County 911" in t and "307-358-4700" in t for t in texts)
    event = JournalEvent.objects.get(kind="incident.created")
    assert event.payload["out_of_jurisdiction"] is True and event.payload["jurisdiction_agency"] == "CCSO911"


def test_same_street_in_two_towns_gives_ranked_candidates(county):
    candidates = address_verify("100 Main Street")
    assert [c["community"] for c in candidates[:2]] == ["Casper", "Mills"]
    assert all(c["kind"] == "address_point" for c in candidates[:2])
    assert candidates[0]["score"] == candidates[1]["score"]  # nothing says which town: both offered
    # naming the town ranks it first
    mills = address_verify("100 main st, Mills")
    assert mills[0]["community"] == "Mills" and mills[0]["exact"] is True
    assert mills[0]["esn"] == "102" and mills[0]["beat"] == "M1"
    assert mills[1]["community"] == "Casper" and mills[1]["score"] < mills[0]["score"]


def test_an_address_only_in_the_msag_ranges_is_a_lower_ranked_candidate(county):
    candidates = address_verify("250 Main St")
    assert {c["kind"] for c in candidates} == {"msag_range"}
    assert sorted(c["community"] for c in candidates) == ["Casper", "Mills"]
    assert all(c["score"] < 0.95 for c in candidates)
    assert address_verify("5000 Elm St") == []  # outside every range


def test_keeping_an_unverified_location_is_logged_with_who_and_why(county, telecommunicator):
    incident = incident_create(call_type_code="SUSP", actor=telecommunicator, location_text="behind the old mill",
                               location_override_reason="caller cannot give an address")
    entry = incident.narrative.get(source=NarrativeEntry.Source.SYSTEM)
    assert entry.author_label == "tc1"
    assert entry.text == "Location kept unverified by tc1: caller cannot give an address"
    incident_update(incident=incident, actor=telecommunicator, location_text="Mills park", lat=42.84, lon=-106.43,
                    location_override_reason="park has no address")
    incident.refresh_from_db()
    assert incident.beat.code == "M1" and incident.location_override_reason == "park has no address"
    with pytest.raises(ServiceError) as excinfo:
        incident_update(incident=incident, actor=telecommunicator, location_text="somewhere else")
    assert excinfo.value.field == "location_override_reason"


def test_premise_hazards_near_honour_radius_address_and_expiry(county, telecommunicator):
    found = hazards_near(*MAIN_CASPER, address_id=county.addresses["main_casper"].pk)
    assert sorted(h["kind"] for h in found) == ["dogs", "oxygen"]  # not the expired one, not the far one
    assert hazards_near(*north_of(MAIN_CASPER, 0.2)) == []  # 200 m: outside the oxygen note's 100 m
    incident = incident_create(call_type_code="MEDICAL", actor=telecommunicator,
                               address_id=county.addresses["main_casper"].pk)
    event = JournalEvent.objects.get(kind="incident.created")
    assert sorted(h["kind"] for h in event.payload["hazards"]) == ["dogs", "oxygen"]
    assert event.payload["number"] == incident.number


def test_duplicates_are_found_by_radius_within_the_time_window(county, telecommunicator, settings):
    settings.PSCC_DUPLICATE_RADIUS_M = 300
    settings.PSCC_DUPLICATE_WINDOW_MINUTES = 30
    first = incident_create(call_type_code="DISTURB", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    old = incident_create(call_type_code="THEFT", actor=telecommunicator, lat=MAIN_CASPER[0], lon=MAIN_CASPER[1],
                          location_override_reason="x", received_at=timezone.now() - timedelta(minutes=45))
    near = north_of(MAIN_CASPER, 0.2)
    found = incident_duplicates(lat=near[0], lon=near[1])
    assert [d["number"] for d in found] == [first.number]  # not the one received 45 minutes ago
    assert found[0]["reason"] == "200 m away"
    far = north_of(MAIN_CASPER, 0.5)
    assert incident_duplicates(lat=far[0], lon=far[1]) == []
    assert old.number not in [d["number"] for d in incident_duplicates(lat=MAIN_CASPER[0], lon=MAIN_CASPER[1])]


def test_duplicates_are_found_by_callback_number_and_the_caller_is_attached(county, telecommunicator):
    first = incident_create(call_type_code="WELFARE", actor=telecommunicator, address_id=county.addresses["main_mills"].pk,
                            caller_name="A. Caller", callback_number="3075551234")
    found = incident_duplicates(lat=MAIN_CASPER[0], lon=MAIN_CASPER[1], callback_number="3075551234")
    assert [(d["number"], d["reason"]) for d in found] == [(first.number, "same callback number")]
    caller = incident_attach_caller(incident=first, actor=telecommunicator, name="B. Neighbour",
                                    callback_number="3075550000", location_text="102 Main St")
    assert AdditionalCaller.objects.get(incident=first) == caller
    first.refresh_from_db()
    assert first.caller_name == "A. Caller"  # the first caller's data stays; the second is added
    event = JournalEvent.objects.filter(kind="incident.updated").latest("id")
    assert event.payload["additional_callers"][0]["name"] == "B. Neighbour"
    assert "Additional caller: B. Neighbour, 3075550000, 102 Main St" in first.narrative.values_list("text", flat=True)


def test_recommendation_puts_the_responsible_agency_first_then_the_closest(county, telecommunicator):
    incident = incident_create(call_type_code="DISTURB", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    result = recommend_units(incident)
    patrol = [u for u in result["units"] if u["unit_type"] == "patrol"]
    # CPD is responsible for ESN 101: P1 (1 km) and P2 (3 km) first, then the sheriff's P3 though it is closer
    assert [u["call_sign"] for u in patrol] == ["P1", "P2", "P3"]
    assert [u["recommended"] for u in patrol] == [True, True, False]
    assert patrol[0]["distance_m"] == pytest.approx(1000, abs=5)
    assert patrol[1]["distance_m"] == pytest.approx(3000, abs=10)
    assert "responsible law agency for ESN 101" in patrol[0]["reason"] and "1.0 km" in patrol[0]["reason"]
    assert "not the responsible agency (CPD)" in patrol[2]["reason"]
    assert "P4" not in [u["call_sign"] for u in result["units"]]  # off duty
    assert result["plan"] == [{"unit_type": "patrol", "count": 2, "assigned": 0, "needed": 2,
                               "recommended": [county.units["P1"].pk, county.units["P2"].pk], "short": 0,
                               "responsible_agency": "CPD"}]


def test_structure_fire_response_plan_is_satisfied_by_dispatching_the_recommendation(county, telecommunicator):
    incident = incident_create(call_type_code="STRFIRE", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    result = recommend_units(incident)
    by_type = {line["unit_type"]: line for line in result["plan"]}
    ids = {u["unit_id"]: u["call_sign"] for u in result["units"]}
    assert [ids[i] for i in by_type["engine"]["recommended"]] == ["E1", "E2"]  # not MFD's closer ME1
    assert [ids[i] for i in by_type["ladder"]["recommended"]] == ["L1"]
    assert [ids[i] for i in by_type["medic"]["recommended"]] == ["M1"]
    assert result["satisfied"] is False and result["can_satisfy"] is True
    chosen = [u["unit_id"] for u in result["units"] if u["recommended"]]
    incident_dispatch(incident=incident, unit_ids=chosen, actor=telecommunicator)
    after = recommend_units(incident)
    assert after["satisfied"] is True
    assert not any(u["recommended"] for u in after["units"])


def test_dispatch_moves_units_and_incident_together_through_the_lifecycle(county, telecommunicator):
    incident = incident_create(call_type_code="DISTURB", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    p1, p2 = county.units["P1"], county.units["P2"]
    incident_dispatch(incident=incident, unit_ids=[p1.pk, p2.pk], actor=telecommunicator)
    incident.refresh_from_db()
    assert incident.status == "dispatched" and incident.first_dispatched_at is not None
    assert set(Unit.objects.filter(pk__in=[p1.pk, p2.pk]).values_list("status", "incident_number")) == {
        ("dispatched", incident.number)}
    unit_status_change(unit=p1, to_status="en_route", actor="P1 mdt", source="mdt")
    incident.refresh_from_db()
    assert incident.status == "en_route" and incident.first_en_route_at is not None
    unit_status_change(unit=p1, to_status="on_scene", actor="P1 mdt", source="mdt")
    unit_status_change(unit=p2, to_status="en_route", actor="P2 mdt", source="mdt")
    incident.refresh_from_db()
    assert incident.status == "on_scene"  # a later unit en route does not move it back
    a1 = Assignment.objects.get(incident=incident, unit=p1)
    assert a1.en_route_at and a1.on_scene_at and a1.cleared_at is None
    with pytest.raises(ServiceError) as excinfo:
        incident_close(incident=incident, disposition="Report taken", actor=telecommunicator)
    assert excinfo.value.field == "status"
    for unit in (p1, p2):
        unit_status_change(unit=unit, to_status="available", actor=telecommunicator, reason="clear")
    assert Assignment.objects.filter(incident=incident, cleared_at__isnull=True).count() == 0
    incident_close(incident=incident, disposition="Report taken", actor=telecommunicator)
    incident.refresh_from_db()
    times = [incident.received_at, incident.first_dispatched_at, incident.first_en_route_at, incident.first_on_scene_at,
             incident.closed_at]
    assert times == sorted(times)
    kinds = list(JournalEvent.objects.filter(entity=f"incident:{incident.number}").values_list("kind", flat=True))
    assert kinds[0] == "incident.created" and "incident.dispatched" in kinds and kinds[-1] == "incident.closed"


def test_dispatching_a_unit_that_is_not_available_is_a_conflict_naming_it(county, telecommunicator):
    first = incident_create(call_type_code="THEFT", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    second = incident_create(call_type_code="THEFT", actor=telecommunicator, address_id=county.addresses["main_mills"].pk)
    incident_dispatch(incident=first, unit_ids=[county.units["P1"].pk], actor=telecommunicator)
    with pytest.raises(Conflict) as excinfo:
        incident_dispatch(incident=second, unit_ids=[county.units["P2"].pk, county.units["P1"].pk], actor=telecommunicator)
    assert "P1" in excinfo.value.message and excinfo.value.field == "unit_ids"
    # nothing of the refused dispatch was written: P2 is still available
    assert Unit.objects.get(pk=county.units["P2"].pk).status == "available"
    assert not Assignment.objects.filter(incident=second).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatches_of_one_unit_to_two_incidents_exactly_one_succeeds(county, telecommunicator):
    first = incident_create(call_type_code="THEFT", actor=telecommunicator, address_id=county.addresses["main_casper"].pk)
    second = incident_create(call_type_code="THEFT", actor=telecommunicator, address_id=county.addresses["main_mills"].pk)
    unit_id = county.units["P1"].pk
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def dispatch(incident):
        try:
            barrier.wait(timeout=10)
            incident_dispatch(incident=incident, unit_ids=[unit_id], actor=telecommunicator)
            results[incident.number] = "ok"
        except Conflict:
            results[incident.number] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=(i,)) for i in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["conflict", "ok"]
    assert Assignment.objects.filter(unit_id=unit_id).count() == 1
    winner = Assignment.objects.get(unit_id=unit_id).incident.number
    assert results[winner] == "ok"
    assert Unit.objects.get(pk=unit_id).incident_number == winner


def test_response_times_and_an_overdue_alert_raised_once(county, telecommunicator):
    received = timezone.now() - timedelta(minutes=6)
    incident = incident_create(call_type_code="ROBBERY", actor=telecommunicator, received_at=received,
                               address_id=county.addresses["main_casper"].pk)
    late_but_fine = incident_create(call_type_code="THEFT", actor=telecommunicator, received_at=received,
                                    address_id=county.addresses["main_casper"].pk)  # no goal
    assert incident_response_sweep() == 1
    assert incident_response_sweep() == 0
    incident.refresh_from_db()
    assert incident.response_goal_alerted_at is not None
    event = JournalEvent.objects.get(kind="incident.response_overdue")
    assert event.payload["number"] == incident.number and event.payload["response_goal_alerted_at"]
    assert late_but_fine.response_goal_alerted_at is None
    incident_dispatch(incident=incident, unit_ids=[county.units["P1"].pk], actor=telecommunicator)
    unit_status_change(unit=county.units["P1"], to_status="on_scene", actor="mdt")
    incident.refresh_from_db()
    from incidents.selectors import response_times

    times = response_times(incident)
    assert times["goal_seconds"] == 300 and times["goal_met"] is False
    assert 355 <= times["to_on_scene_seconds"] <= 400
    assert times["to_dispatch_seconds"] <= times["to_on_scene_seconds"]


def test_haversine_matches_the_fixture_distances():
    assert haversine_m(*MAIN_CASPER, *north_of(MAIN_CASPER, 1.0)) == pytest.approx(1000, abs=5)


def test_incident_numbers_are_year_and_sequence_and_never_reused(county, telecommunicator):
    a = incident_create(call_type_code="THEFT", actor=telecommunicator)
    b = incident_create(call_type_code="THEFT", actor=telecommunicator)
    year = timezone.now().year
    assert a.number == f"{year}-000001" and b.number == f"{year}-000002"
    assert Incident.objects.count() == 2


def test_the_premise_history_lists_the_incidents_at_an_address_newest_first_whatever_the_case(county, telecommunicator):
    from incidents.selectors import premise_history

    # given: two incidents at one address (written in different cases), one elsewhere
    now = timezone.now()
    older = incident_create(call_type_code="THEFT", actor=telecommunicator, location_text="1200 Center St, Casper",
                            received_at=now - timedelta(days=400), location_override_reason="bench test")
    newer = incident_create(call_type_code="SUSP", actor=telecommunicator, location_text="1200 CENTER ST, CASPER",
                            location_override_reason="bench test")
    incident_create(call_type_code="THEFT", actor=telecommunicator, location_text="1201 Center St, Casper",
                    location_override_reason="bench test")
    Incident.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=400))

    # when
    history = premise_history("  1200 center st, casper ")

    # then
    assert [row["number"] for row in history] == [newer.number, older.number]
    assert history[1]["call_type"] == "THEFT"
    assert premise_history("") == [] and premise_history("9 Nowhere Rd") == []
