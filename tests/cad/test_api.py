"""REST for incidents and units; every change on /api/v1/events/; snapshot + events = fresh snapshot."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pscc.floor import build_snapshot
from pscc.relay import relay_once
from pscc.roles import audiences_for
from units.models import StatusTimer, UnitTimerAlert
from units.services import unit_timers_sweep


@pytest.fixture
def api(telecommunicator):
    client = Client()
    client.force_login(telecommunicator)
    return client


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def patch(client, url, body):
    return client.patch(url, body, content_type="application/json")


def test_create_dispatch_status_and_close_over_rest(county, api):
    # verify the address: two towns, ranked
    verify = api.get("/api/v1/addresses/verify", {"q": "100 Main St"}).json()
    assert verify["ambiguous"] is True and [c["community"] for c in verify["candidates"][:2]] == ["Casper", "Mills"]
    casper = verify["candidates"][0]
    check = api.get("/api/v1/incidents/check/", {"address_id": casper["address_id"]}).json()
    assert sorted(h["kind"] for h in check["hazards"]) == ["dogs", "oxygen"]
    # create
    r = post(api, "/api/v1/incidents/", {"call_type": "DISTURB", "address_id": casper["address_id"],
                                         "caller_name": "Pat", "callback_number": "3075551111", "narrative": "Two men fighting"})
    assert r.status_code == 201, r.json()
    incident = r.json()
    number = incident["number"]
    assert incident["beat"] == "C2" and incident["priority"] == 1 and incident["status"] == "pending"
    assert sorted(h["kind"] for h in incident["hazards"]) == ["dogs", "oxygen"]
    assert incident["possible_duplicates"] == []
    # a second call from next door is offered as a duplicate
    r2 = post(api, "/api/v1/incidents/", {"call_type": "DISTURB", "lat": 42.8505, "lon": -106.32,
                                          "location_text": "outside 100 Main", "location_override_reason": "caller on the street"})
    assert [d["number"] for d in r2.json()["possible_duplicates"]] == [number]
    # recommendations and dispatch
    rec = api.get(f"/api/v1/incidents/{number}/recommendations/").json()
    chosen = [u["unit_id"] for u in rec["units"] if u["recommended"]]
    assert [u["call_sign"] for u in rec["units"] if u["recommended"]] == ["P1", "P2"]
    r = post(api, f"/api/v1/incidents/{number}/dispatch/", {"unit_ids": chosen})
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    assert post(api, f"/api/v1/incidents/{r2.json()['number']}/dispatch/", {"unit_ids": chosen[:1]}).status_code == 409
    # unit status over REST moves the incident
    r = post(api, f"/api/v1/units/{chosen[0]}/status/", {"status": "en_route"})
    assert r.status_code == 200 and r.json()["status"] == "en_route"
    bad = post(api, f"/api/v1/units/{chosen[0]}/status/", {"status": "at_hospital"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert post(api, f"/api/v1/units/{chosen[0]}/status/", {"status": "dispatched"}).json()["field"] == "status"
    assert api.get(f"/api/v1/incidents/{number}/").json()["status"] == "en_route"
    # narrative
    r = post(api, f"/api/v1/incidents/{number}/narrative/", {"text": "Suspect left northbound"})
    assert r.status_code == 201 and r.json()["author"] == "tc1"
    assert post(api, f"/api/v1/incidents/{number}/narrative/", {"text": ""}).json()["field"] == "text"
    # patch: priority, then close refused while units are assigned
    assert patch(api, f"/api/v1/incidents/{number}/", {"priority": 2}).json()["priority"] == 2
    r = patch(api, f"/api/v1/incidents/{number}/", {"status": "closed", "disposition": "GOA"})
    assert r.status_code == 400 and r.json()["field"] == "status"
    for unit_id in chosen:
        assert post(api, f"/api/v1/units/{unit_id}/status/", {"status": "available", "reason": "GOA"}).status_code == 200
    r = patch(api, f"/api/v1/incidents/{number}/", {"status": "closed", "disposition": "GOA"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    detail = api.get(f"/api/v1/incidents/{number}/").json()
    assert [n["text"] for n in detail["narrative"]][:1] == ["Two men fighting"]
    listed = api.get("/api/v1/incidents/").json()["results"]
    assert number not in [i["number"] for i in listed]
    units = api.get("/api/v1/units/", {"agency": "CPD"}).json()["results"]
    assert {u["call_sign"] for u in units} == {"P1", "P2", "P4", "S1"}


def test_bad_input_is_a_clear_4xx_naming_the_field(county, api):
    r = post(api, "/api/v1/incidents/", {"call_type": "NOPE"})
    assert r.status_code == 400 and r.json()["field"] == "call_type"
    r = post(api, "/api/v1/incidents/", {"call_type": "THEFT", "location_text": "somewhere"})
    assert r.status_code == 400 and r.json()["field"] == "location_override_reason"
    r = post(api, "/api/v1/incidents/", {"call_type": "THEFT", "lat": 95, "lon": 0, "location_override_reason": "x"})
    assert r.status_code == 400 and r.json()["field"] == "lat"
    assert api.get("/api/v1/incidents/2099-999999/").status_code == 404
    assert api.get("/api/v1/addresses/verify", {"q": ""}).json()["field"] == "q"
    r = post(api, "/api/v1/incidents/", {"call_type": "THEFT"})
    number = r.json()["number"]
    assert post(api, f"/api/v1/incidents/{number}/dispatch/", {"unit_ids": []}).json()["field"] == "unit_ids"
    assert post(api, f"/api/v1/incidents/{number}/dispatch/", {"unit_ids": [999999]}).status_code == 404
    assert post(api, "/api/v1/units/999999/status/", {"status": "available"}).status_code == 404


def test_partner_and_anonymous_users_are_refused(county, make_staff):
    partner = make_staff("partner", username="cpd-api", agency_code="CPD")
    client = Client()
    assert client.get("/api/v1/incidents/").status_code == 403
    client.force_login(partner)
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get("/api/v1/units/").status_code == 403


def _apply(snapshot: dict, events: list[dict]) -> dict:
    """What a console does: upsert each entity's full state from its event."""
    data = copy.deepcopy(snapshot["data"])
    for event in events:
        kind, payload = event["type"], event["data"]
        if kind.startswith("unit."):
            data["units"][str(payload["id"])] = {k: v for k, v in payload.items() if k in data["units"].get(str(payload["id"]), payload)}
        elif kind.startswith("incident.") and "call_type" in payload:
            if payload["status"] == "closed":
                data["incidents"].pop(payload["number"], None)
            else:
                data["incidents"][payload["number"]] = payload
    return data


@pytest.mark.django_db(transaction=True)
def test_every_change_is_an_event_and_a_stale_snapshot_plus_events_equals_a_fresh_snapshot(county, api, telecommunicator):
    # given a console that took a snapshot
    relay_once(None)
    audiences = audiences_for(telecommunicator)
    stale = build_snapshot(telecommunicator, audiences)
    StatusTimer.objects.create(status="out_of_service", unit_type="", minutes=10)
    # when the floor changes in every way this issue knows
    number = post(api, "/api/v1/incidents/", {"call_type": "STRFIRE", "address_id": county.addresses["main_casper"].pk}).json()["number"]
    other = post(api, "/api/v1/incidents/", {"call_type": "THEFT", "address_id": county.addresses["main_mills"].pk}).json()["number"]
    rec = api.get(f"/api/v1/incidents/{number}/recommendations/").json()
    post(api, f"/api/v1/incidents/{number}/dispatch/", {"unit_ids": [u["unit_id"] for u in rec["units"] if u["recommended"]]})
    e1 = county.units["E1"].pk
    post(api, f"/api/v1/units/{e1}/status/", {"status": "en_route"})
    post(api, f"/api/v1/units/{e1}/status/", {"status": "on_scene"})
    post(api, f"/api/v1/units/{county.units['M1'].pk}/status/", {"status": "on_scene"})
    post(api, f"/api/v1/units/{county.units['M1'].pk}/status/", {"status": "transporting"})
    post(api, f"/api/v1/incidents/{number}/narrative/", {"text": "Fire showing from the roof"})
    post(api, f"/api/v1/incidents/{number}/callers/", {"name": "Neighbour", "callback_number": "3075552222"})
    patch(api, f"/api/v1/incidents/{other}/", {"priority": 2})
    patch(api, f"/api/v1/incidents/{other}/", {"status": "closed", "disposition": "Report taken"})
    p3 = county.units["P3"].pk
    post(api, f"/api/v1/units/{p3}/status/", {"status": "out_of_service", "reason": "fuel"})
    post(api, f"/api/v1/units/{p3}/position/", {"lat": 42.9, "lon": -106.3})
    assert unit_timers_sweep(now=timezone.now() + timedelta(minutes=11)) == 1
    post(api, f"/api/v1/units/timer-alerts/{UnitTimerAlert.objects.get().pk}/acknowledge/", {})
    relay_once(None)
    # then every change is on /api/v1/events/ after the snapshot's sequence number
    page = api.get("/api/v1/events/", {"after": stale["seq"], "limit": 1000}).json()
    kinds = [e["type"] for e in page["events"]]
    for kind in ["incident.created", "incident.dispatched", "incident.updated", "incident.narrative", "incident.closed",
                 "unit.status", "unit.position", "unit.timer_alert", "unit.timer_acknowledged"]:
        assert kind in kinds, kind
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == list(range(stale["seq"] + 1, page["head"] + 1))
    # and the stale snapshot plus those events is the fresh snapshot
    fresh = build_snapshot(telecommunicator, audiences)
    assert fresh["seq"] == page["head"]
    patched = _apply(stale, page["events"])
    assert patched["units"] == fresh["data"]["units"]
    assert patched["incidents"] == fresh["data"]["incidents"]
