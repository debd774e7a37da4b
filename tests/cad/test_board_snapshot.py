"""The board's open-incident snapshot: the same dicts the journal events carry, in a constant number of
queries however many incidents are open (issue 9, item 4)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident
from incidents.registry import _incidents_snapshot
from incidents.selectors import active_hazards, incident_as_dict, incident_queryset, open_incidents
from incidents.services import (
    incident_attach_caller,
    incident_close,
    incident_create,
    incident_dispatch,
    narrative_add,
)
from pscc.journal import FLOOR, agency_audience
from pscc.models import JournalEvent
from tests.cad.conftest import CONVERSE_POINT, MAIN_CASPER, north_of
from units.services import unit_status_change


def _board(county, telecommunicator) -> dict[str, Incident]:
    """Open incidents of every kind the board shows (and one closed, which it does not)."""
    made = {}
    made["home"] = incident_create(call_type_code="DISTURB", actor=telecommunicator,
                                   address_id=county.addresses["main_casper"].pk, caller_name="A. Caller",
                                   callback_number="3075551234", narrative="Shouting next door")
    made["near_oxygen"] = incident_create(call_type_code="MEDICAL", actor=telecommunicator, lat=42.8504, lon=-106.3201,
                                          uncertainty_m=12.5, location_override_reason="caller unsure")
    made["out_of_county"] = incident_create(call_type_code="911W", actor=telecommunicator, lat=CONVERSE_POINT[0],
                                            lon=CONVERSE_POINT[1], uncertainty_m=30)
    made["no_location"] = incident_create(call_type_code="THEFT", actor=telecommunicator, location_text="somewhere",
                                          location_override_reason="caller would not say")
    made["related"] = incident_create(call_type_code="DISTURB", actor=telecommunicator,
                                      address_id=county.addresses["main_mills"].pk,
                                      related_to_number=made["home"].number)
    made["closed"] = incident_create(call_type_code="THEFT", actor=telecommunicator, location_text="old one",
                                     location_override_reason="test")
    incident_close(incident=made["closed"], disposition="Report taken", actor=telecommunicator)
    # Units: two dispatched, one of them on scene, one cleared (assignment kept, cleared).
    p1, p2, e1 = county.units["P1"], county.units["P2"], county.units["E1"]
    incident_dispatch(incident=made["home"], unit_ids=[p1.pk, p2.pk], actor=telecommunicator)
    unit_status_change(unit=p1, to_status="en_route", actor="P1 mdt", source="mdt")
    unit_status_change(unit=p1, to_status="on_scene", actor="P1 mdt", source="mdt")
    unit_status_change(unit=p2, to_status="available", actor=telecommunicator, reason="cancelled")
    incident_dispatch(incident=made["near_oxygen"], unit_ids=[e1.pk], actor=telecommunicator)
    incident_attach_caller(incident=made["home"], actor=telecommunicator, name="B. Neighbour",
                           callback_number="3075550000", location_text="102 Main St")
    incident_attach_caller(incident=made["home"], actor=telecommunicator, name="C. Passer-by")
    narrative_add(incident=made["near_oxygen"], text="Patient conscious", actor=telecommunicator)
    return made


def _more(county, telecommunicator, count: int) -> dict[str, Incident]:
    """`count` more open incidents, each with a caller and a narrative, the first ones with a unit."""
    made = {}
    units = ["M1", "S1", "P3", "E2", "E3", "L1", "ME1"]
    for n in range(count):
        lat, lon = north_of(MAIN_CASPER, 0.2 * n)
        incident = incident_create(call_type_code="DISTURB", actor=telecommunicator, lat=lat, lon=lon,
                                   location_override_reason="test", callback_number=f"30755500{n:02d}")
        incident_attach_caller(incident=incident, actor=telecommunicator, name=f"Caller {n}")
        narrative_add(incident=incident, text=f"Note {n}", actor=telecommunicator)
        if n < len(units):
            incident_dispatch(incident=incident, unit_ids=[county.units[units[n]].pk], actor=telecommunicator)
        made[f"extra{n}"] = incident
    return made


def _per_incident(incidents) -> dict:
    """The board as it was built before: `incident_as_dict` of each open incident, one by one."""
    hazards = active_hazards()
    return {i.number: incident_as_dict(i, hazards=hazards) for i in incidents}


def test_the_board_snapshot_equals_incident_as_dict_of_each_open_incident(county, telecommunicator):
    # given a board with assignments (on scene, cleared), additional callers, narratives, hazards,
    # a related incident, one out of jurisdiction, one without a location, and a closed one
    made = _board(county, telecommunicator)

    # when
    board = _incidents_snapshot(None, frozenset({FLOOR}))

    # then every open incident is there, as the old per-incident build and the journal events say
    assert board == _per_incident(open_incidents())
    assert made["closed"].number not in board
    assert list(board) == [i.number for i in open_incidents()]  # the board's order: priority, then age
    home = board[made["home"].number]
    assert [(u["call_sign"], u["status"], u["cleared"]) for u in home["units"]] == [
        ("P1", "on_scene", False), ("P2", "available", True)]
    assert [c["name"] for c in home["additional_callers"]] == ["B. Neighbour", "C. Passer-by"]
    assert {h["kind"] for h in home["hazards"]} == {"dogs", "oxygen"}
    assert board[made["related"].number]["related_to"] == made["home"].number
    assert board[made["out_of_county"].number]["jurisdiction_agency_phone"] == "307-358-4700"
    assert home["beat"] == "C2" and home["esn"] == "101"
    # and each is what an event about that incident carries (hazards looked up near it, not from the list)
    for number, incident in board.items():
        assert incident_as_dict(incident_queryset().get(number=number)) == incident
    last = JournalEvent.objects.filter(entity=f"incident:{made['home'].number}").exclude(kind="incident.narrative")
    payload = last.latest("id").payload
    assert {k: payload[k] for k in home} == home


def test_an_agency_board_shows_only_incidents_its_units_are_assigned_to_with_the_same_dicts(county, telecommunicator):
    made = _board(county, telecommunicator)

    board = _incidents_snapshot(None, frozenset({agency_audience("CPD")}))

    assert set(board) == {made["home"].number}
    cpd = open_incidents().filter(assignments__unit__agency__code__in=["CPD"]).distinct()
    assert board == _per_incident(cpd)
    assert _incidents_snapshot(None, frozenset({agency_audience("CFD")})).keys() == {made["near_oxygen"].number}


def _snapshot_queries(audiences) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        board = _incidents_snapshot(None, audiences)
    return len(ctx.captured_queries), board


@pytest.mark.parametrize("audience", [FLOOR, "agency:CPD"])
def test_the_board_snapshot_costs_the_same_number_of_queries_however_many_incidents_are_open(
        county, telecommunicator, audience):
    # given a small board, counted
    _board(county, telecommunicator)
    small_count, small = _snapshot_queries(frozenset({audience}))

    # when twelve more incidents open, with units, callers and narratives
    _more(county, telecommunicator, 12)
    large_count, large = _snapshot_queries(frozenset({audience}))

    # then the board grew and its query count did not
    assert len(large) > len(small)
    assert large_count == small_count == 4  # incidents, their assignments with units, their callers, hazards
