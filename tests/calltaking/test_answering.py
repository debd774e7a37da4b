"""Answering, hold, release, transfer, location verification and the records search on answer."""

from __future__ import annotations

import threading

import pytest

from calltaking.models import Call
from calltaking.selectors import ringing_queue
from pscc.models import JournalEvent
from simulators.cpe import build_call

pytestmark = pytest.mark.django_db


def ring(cpe, scenario, call_id, line="911-1", ani=None):
    response = cpe.post("/api/v1/calls/", build_call(scenario, call_id, line, ani), format="json")
    assert response.status_code == 201, response.content
    return Call.objects.get(cpe_call_id=call_id)


def test_the_ringing_queue_puts_911_lines_above_admin_lines_oldest_first(cpe, staff_client):
    admin_call = ring(cpe, "admin-line", "CPE-Q1", line="ADMIN-03")
    first_911 = ring(cpe, "voip", "CPE-Q2", line="911-2")
    second_911 = ring(cpe, "phase0", "CPE-Q3", line="911-1")
    assert [c.pk for c in ringing_queue()] == [first_911.pk, second_911.pk, admin_call.pk]
    listed = staff_client().get("/api/v1/calls/").json()["ringing"]
    assert [c["id"] for c in listed] == [first_911.pk, second_911.pk, admin_call.pk]


@pytest.mark.django_db(transaction=True)
def test_two_positions_answering_the_same_call_one_wins(cpe, make_staff):
    from django.db import connection

    from calltaking.services import call_answer
    from pscc.errors import Conflict

    call = ring(cpe, "wireless-phase1", "CPE-RACE-ANS")
    users = [make_staff("telecommunicator", username=f"pos{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def answer(user):
        try:
            barrier.wait()
            call_answer(call_id=call.pk, actor=user, position=user.username)
            outcomes.append(("won", user.username))
        except Conflict:
            outcomes.append(("lost", user.username))
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o, _ in outcomes) == ["lost", "won"]
    call.refresh_from_db()
    winner = next(name for o, name in outcomes if o == "won")
    assert call.state == "answered" and call.answered_by.username == winner and call.answered_at is not None
    assert JournalEvent.objects.filter(kind="call.answered").count() == 1


def test_answer_shows_prior_calls_and_incidents_with_this_number(cpe, staff_client):
    from incidents.services import incident_create

    client = staff_client()
    earlier = ring(cpe, "landline-residence-open-line", "CPE-OLD", ani="3075551234")
    incident_create(call_type_code="WELFARE", actor=client.user, location_text="12 ELM ST, CASPER",
                    callback_number="3075551234")
    call = ring(cpe, "landline-residence-open-line", "CPE-NEW", ani="3075551234")
    response = client.post(f"/api/v1/calls/{call.pk}/answer/", {"position": "P3"}, format="json")
    assert response.status_code == 200, response.content
    records = response.json()["records"]
    assert [c["id"] for c in records["calls"]] == [earlier.pk]
    assert records["incidents"][0]["location_text"] == "12 ELM ST, CASPER"
    second = staff_client().post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    assert second.status_code == 409 and second.json()["field"] == "call"


def test_hold_resume_and_release_follow_the_call_states(cpe, staff_client):
    client = staff_client()
    call = ring(cpe, "voip", "CPE-HOLD")
    assert client.post(f"/api/v1/calls/{call.pk}/hold/").status_code == 409  # not answered yet
    client.post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    assert client.post(f"/api/v1/calls/{call.pk}/hold/").json()["state"] == "on_hold"
    assert client.post(f"/api/v1/calls/{call.pk}/resume/").json()["state"] == "answered"
    released = client.post(f"/api/v1/calls/{call.pk}/release/").json()
    assert released["state"] == "released" and released["released_at"]


def test_a_transfer_records_target_announcement_location_and_nature(cpe, staff_client):
    client = staff_client()
    call = ring(cpe, "wireless-phase1", "CPE-XFER")
    client.post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    client.post(f"/api/v1/calls/{call.pk}/classify/", {"path": "out_of_jurisdiction"}, format="json")
    refused = client.post(f"/api/v1/calls/{call.pk}/transfer/", {
        "target": "Converse County 911", "caller_announced": False, "location_given": "Hwy 20/26 MM 150",
        "nature_given": "Vehicle in ditch"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "caller_announced"
    done = client.post(f"/api/v1/calls/{call.pk}/transfer/", {
        "target": "Converse County 911", "caller_announced": True, "location_given": "Hwy 20/26 MM 150",
        "nature_given": "Vehicle in ditch"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["state"] == "transferred"
    assert body["transfers"] == [{"target": "Converse County 911", "caller_announced": True,
                                  "location_given": "Hwy 20/26 MM 150", "nature_given": "Vehicle in ditch",
                                  "at": body["transfers"][0]["at"]}]
    transfer_step = next(s for s in body["checklist"] if s["key"] == "transfer")
    assert transfer_step["state"] == "done" and transfer_step["done_by"] == client.user.username


def test_a_location_correction_is_logged_beside_the_ali(cpe, staff_client):
    client = staff_client()
    call = ring(cpe, "voip", "CPE-LOC")
    client.post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    missing = client.post(f"/api/v1/calls/{call.pk}/verify-location/", {"confirmed": False}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "corrected_location"
    body = client.post(f"/api/v1/calls/{call.pk}/verify-location/",
                       {"confirmed": False, "corrected_location": "415 S Wolcott St, Casper"}, format="json").json()
    assert body["location_corrected"] and body["verified_location_text"] == "415 S Wolcott St, Casper"
    assert body["address_text"] == call.address_text()  # the ALI is kept as delivered
    event = JournalEvent.objects.get(kind="call.location_corrected")
    assert event.payload["verified"] == "415 S Wolcott St, Casper" and event.payload["by"] == client.user.username


def test_duress_on_phase2_dispatches_the_recommended_patrol_unit_to_the_vicinity(cpe, staff_client):
    from units.models import Agency, Unit

    agency = Agency.objects.create(code="CPD", name="Casper Police", kind="law", disciplines=["law"])
    Unit.objects.create(call_sign="2A12", agency=agency, unit_type="patrol", lat=42.85, lon=-106.32)
    client = staff_client()
    call = ring(cpe, "wireless-phase2-hangup", "CPE-DUR-DISP", ani="3075550187")
    client.post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    body = client.post(f"/api/v1/calls/{call.pk}/classify/", {
        "path": "duress", "duress_code": "911W", "assessment": "Screaming, then the line went quiet"}, format="json").json()
    dispatch = next(s for s in body["checklist"] if s["key"] == "dispatch_beat")
    assert dispatch["state"] == "done" and dispatch["note"].startswith("2A12 dispatched")
    assert f"{call.lat:.6f}" in dispatch["text"]
    assert Unit.objects.get(call_sign="2A12").status == "dispatched"


def test_answering_and_searching_records_are_in_the_caller_data_access_log(cpe, staff_client):
    from pscc.models import CallerDataAccess

    client = staff_client()
    call = ring(cpe, "voip", "CPE-AUDIT", ani="3075550142")
    client.post(f"/api/v1/calls/{call.pk}/answer/", {}, format="json")
    assert client.get("/api/v1/calls/records/", {"ani": "3075550142"}).status_code == 200
    assert client.get("/api/v1/calls/records/", {"ani": "abc"}).json()["field"] == "ani"
    kinds = list(CallerDataAccess.objects.filter(username=client.user.username).order_by("id").values_list("kind", flat=True))
    assert kinds == ["ani_ali", "records_search", "records_search"]
