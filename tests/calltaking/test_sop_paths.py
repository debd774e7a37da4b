"""Every SOP-SSD-17 path from intake to close: the CPE simulator rings the call into the product
over HTTP, a real Celery worker does the callbacks, rebids and searches against the simulators."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from calltaking.models import Call, CallbackAttempt, ChecklistStep
from incidents.models import Incident, NarrativeEntry
from pscc.models import JournalEvent
from tests.calltaking.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def ring(sim, scenario, call_id, ani, line="911-1", hangup=False):
    response = sim.control.post("/_control/cpe/ring", json={"scenario": scenario, "call_id": call_id, "line": line,
                                                             "ani": ani})
    assert response.status_code == 200 and response.json()["status_code"] == 201, response.text
    if hangup:
        sim.control.post("/_control/cpe/event", json={"call_id": call_id, "event": "abandoned"})
    return Call.objects.get(cpe_call_id=call_id)


@pytest.fixture
def desk(make_staff):
    user = make_staff("telecommunicator", username="tc_smith")
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def act(client, url, body=None, status=200):
    response = client.post(url, body or {}, format="json")
    assert response.status_code == status, response.content
    return response.json()


def step(call_json, key):
    return next(s for s in call_json["checklist"] if s["key"] == key)


def fetch(client, call):
    return client.get(f"/api/v1/calls/{call.pk}/").json()


def narrative(call) -> list[str]:
    call.refresh_from_db()
    return list(NarrativeEntry.objects.filter(incident_id=call.incident_id).order_by("at", "id").values_list("text", flat=True))


def callbacks_finished(call, n):
    return CallbackAttempt.objects.filter(call=call, state__in=["done", "failed"]).count() >= n


def complete(client, call_json, key, **body):
    return act(client, f"/api/v1/checklist-steps/{step(call_json, key)['id']}/complete/", body)


def complete_jurisdiction(client, call_json):
    """Without geography loaded the event has no ESZ: the telecommunicator confirms it is ours."""
    if step(call_json, "jurisdiction")["state"] == "open":
        return complete(client, call_json, "jurisdiction", note="Within our jurisdiction")
    return call_json


def closed_as_the_sop_says(call, *, code: str, priority: int, disposition: str) -> list[ChecklistStep]:
    """The event is closed with the disposition, its code and priority are the SOP's, every step
    of the checklist is done or not applicable, and each is in the narrative with who and when."""
    call.refresh_from_db()
    incident = Incident.objects.select_related("call_type").get(pk=call.incident_id)
    assert (incident.call_type.code, incident.priority) == (code, priority)
    assert incident.status == "closed" and incident.disposition == disposition
    steps = list(ChecklistStep.objects.filter(call=call).order_by("order", "id"))
    assert steps and all(s.state in ("done", "skipped") for s in steps), [(s.key, s.state) for s in steps]
    assert steps[-1].key in ("close", "close_log")
    lines = narrative(call)
    for s in steps:
        assert s.done_at is not None and s.done_by_label
        verb = "done" if s.state == "done" else "not applicable"
        said = f"SOP {s.code} — {s.text}: {verb} by {s.done_by_label} at {s.done_at:%Y-%m-%d %H:%M:%S} UTC"
        assert any(line.startswith(said) for line in lines), said
    return steps


def by_person(steps, username="tc_smith") -> set[str]:
    return {s.key for s in steps if s.done_by_label == username}


def test_wireless_phase2_no_duress_rebids_then_calls_back_twice_and_closes_911w(product, sim, worker, desk):
    # given a Phase 2 wireless hang-up (ANI ending in 4: the gateway gets no answer)
    call = ring(sim, "wireless-phase2-hangup", "CPE-W2", "3075550144")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    # when it is classified as no duress
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "wireless_no_duress"})
    # then a 911W event, address from the spill, rebid first, then two callbacks spaced as configured
    incident = Incident.objects.get(number=body["incident"])
    assert incident.call_type.code == "911W" and incident.priority == 2
    assert incident.location_text == call.address_text() and incident.lat == pytest.approx(call.lat)
    wait_until(lambda: callbacks_finished(call, 2), 30, message="two callback attempts")
    first, second = CallbackAttempt.objects.filter(call=call).order_by("attempt_number")
    rebid = call.rebids.get()
    assert rebid.state == "done" and first.claimed_at >= rebid.finished_at
    assert (first.outcome, second.outcome) == ("no_answer", "no_answer")
    assert (second.claimed_at - first.finished_at).total_seconds() >= 2.0
    placements = sim.control.get("/_control/telephony/placements", params={"number": "3075550144"}).json()
    assert placements["total"] == 2
    body = fetch(desk, call)
    assert len(body["ali_history"]) == 2 and body["ali_history"][1]["source"] == "rebid"
    assert step(body, "rebid")["state"] == "done" and step(body, "callback")["state"] == "done"
    # and the telecommunicator leaves the voicemail referral, documents and closes
    body = complete(desk, body, "voicemail", note="VM left, referred to 307-235-8278")
    body = complete_jurisdiction(desk, body)
    body = complete(desk, body, "close", disposition="NO CONTACT")
    steps = closed_as_the_sop_says(call, code="911W", priority=2, disposition="NO CONTACT")
    assert {"voicemail", "jurisdiction", "close"} <= by_person(steps)
    assert {s.key for s in steps if s.by_system} == {"verify_location", "cfs", "rebid", "callback"}
    lines = narrative(call)
    assert any(line.startswith("Rebid: ") for line in lines)
    assert sum("Callback attempt" in line and "No answer" in line for line in lines) == 2
    assert any("No contact after 2 callback attempts" in line for line in lines)
    assert any("SOP IV.1.d — Leave a voicemail" in line and "by tc_smith" in line for line in lines)
    assert any(line.startswith("SOP IV.1.f — Document all action") and "tc_smith" in line for line in lines)


def test_wireless_phase1_no_duress_calls_back_without_a_rebid_and_on_contact_is_handled_and_closed(
        product, sim, worker, desk):
    sim.control.post("/_control/telephony/script", json={"number": "3075550155", "outcomes": ["busy", "answered"]})
    call = ring(sim, "wireless-phase1", "CPE-W1", "3075550155")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "wireless_no_duress"})
    assert body["incident_call_type"] == "911W" and not body["rebids"]
    wait_until(lambda: callbacks_finished(call, 2), 30, message="two attempts")
    body = fetch(desk, call)
    assert [c["outcome"] for c in body["callbacks"]] == ["busy", "answered"]
    assert step(body, "handle")["state"] == "open"  # contact: handle as appropriate
    assert step(body, "voicemail")["state"] == "skipped" and "contact made" in step(body, "voicemail")["note"]
    body = complete(desk, body, "handle", note="Pocket dial, caller OK")
    body = complete_jurisdiction(desk, body)
    complete(desk, body, "close", disposition="UNFOUNDED")
    steps = closed_as_the_sop_says(call, code="911W", priority=2, disposition="UNFOUNDED")
    assert [s.code for s in steps if s.key in ("callback", "voicemail", "handle")] == ["III.1.b", "III.1.c", "III.1.d"]
    assert any("Callback attempt 1 of 2" in line and "Busy" in line for line in narrative(call))


def test_phase0_says_no_callback_is_possible_and_skips_it(product, sim, worker, desk):
    call = ring(sim, "phase0", "CPE-P0", "9115550101")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "wireless_no_duress"})
    assert body["callback_possible"] is False
    assert step(body, "callback")["state"] == "skipped" and "not possible" in step(body, "callback")["note"]
    assert step(body, "voicemail")["state"] == "skipped"
    assert not CallbackAttempt.objects.filter(call=call).exists()
    body = complete_jurisdiction(desk, body)
    complete(desk, body, "close", disposition="NO CONTACT")
    closed_as_the_sop_says(call, code="911W", priority=2, disposition="NO CONTACT")
    assert any("callback is not possible" in line for line in narrative(call))


def test_landline_hangup_no_contact_recommends_sending_officers(product, sim, worker, desk):
    call = ring(sim, "landline-residence-open-line", "CPE-D1", "3075550125", hangup=True)
    assert Call.objects.get(pk=call.pk).state == "abandoned"
    act(desk, f"/api/v1/calls/{call.pk}/answer/")  # taken from the abandoned list
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    assert body["incident_call_type"] == "911D"
    wait_until(lambda: callbacks_finished(call, 1), 20, message="the callback")
    body = fetch(desk, call)
    assert len(body["callbacks"]) == 1 and body["callbacks"][0]["outcome"] == "no_answer"
    assert step(body, "send_officers")["state"] == "open"
    assert any("recommends sending officers" in line for line in narrative(call))
    assert [s["key"] for s in body["checklist"]][-1] == "close"  # the proposal comes before the close
    refused = desk.post(f"/api/v1/checklist-steps/{step(body, 'close')['id']}/complete/",
                        {"disposition": "CHECKS OK"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "steps_open"
    assert "II.4" in refused.json()["error"]
    body = complete(desk, body, "send_officers", note="Officers sent")
    complete(desk, body, "close", disposition="CHECKS OK")
    steps = closed_as_the_sop_says(call, code="911D", priority=2, disposition="CHECKS OK")
    assert [s.key for s in steps] == ["verify_location", "cfs", "callback", "send_officers", "close"]


def test_landline_hangup_with_contact_lets_the_telecommunicator_decide(product, sim, worker, desk):
    call = ring(sim, "landline-residence-open-line", "CPE-D2", "3075550120", hangup=True)
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    wait_until(lambda: callbacks_finished(call, 1), 20, message="the callback")
    body = fetch(desk, call)
    assert body["callbacks"][0]["outcome"] == "answered"
    assert step(body, "decide_cfs")["state"] == "open"
    assert not any(s["key"] == "send_officers" for s in body["checklist"])
    # the telecommunicator decides no call for service is needed, documents and closes
    body = complete(desk, body, "decide_cfs", note="Child playing with the phone; parent confirms no emergency")
    complete(desk, body, "close", disposition="NO CFS NEEDED")
    steps = closed_as_the_sop_says(call, code="911D", priority=2, disposition="NO CFS NEEDED")
    assert [s.key for s in steps] == ["verify_location", "cfs", "callback", "decide_cfs", "close"]
    assert [s.code for s in steps] == ["I.4.a", "II.3", "II.3", "II.5", "II"]
    assert by_person(steps) == {"decide_cfs", "close"}
    assert any("Callback attempt 1 of 1" in line and "Answered" in line for line in narrative(call))


def test_landline_open_line_tty_first_then_911o_with_line_checks_until_on_scene(product, sim, worker, desk):
    from calltaking.sweeper import sweep_calltaking
    from django.utils import timezone

    call = ring(sim, "landline-residence-open-line", "CPE-O1", "3075550131")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    refused = desk.post(f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_open_line"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "tty"
    act(desk, f"/api/v1/calls/{call.pk}/tty/", {"responded": False})
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_open_line"})
    assert body["incident_call_type"] == "911O" and body["state"] == "answered"  # the line is kept
    assert step(body, "tty")["state"] == "done"
    # the sweeper prompts line checks while no unit is on scene
    wait_until(lambda: sweep_calltaking() >= 0 and Call.objects.get(pk=call.pk).checklist.filter(key="line_check").exists(),
               10, 0.5, "a line-check prompt")
    body = fetch(desk, call)
    body = complete(desk, body, "line_check", note="Background TV, no voices")
    # a unit arrives (set directly: dispatching is the incidents app's)
    Incident.objects.filter(number=body["incident"]).update(first_on_scene_at=timezone.now())
    wait_until(lambda: sweep_calltaking() >= 0 and Call.objects.get(pk=call.pk).next_line_check_at is None, 10, 0.5,
               "line checks to end")
    checks = Call.objects.get(pk=call.pk).checklist.filter(key="line_check").count()
    sweep_calltaking()
    assert Call.objects.get(pk=call.pk).checklist.filter(key="line_check").count() == checks
    assert any("periodic line checks end" in line for line in narrative(call))
    assert any(line.startswith("SOP II.1 — TTY contact attempted: done by tc_smith") and "no response" in line
               for line in narrative(call))
    # the officer on scene: the line is released, the telecommunicator documents and closes
    body = act(desk, f"/api/v1/calls/{call.pk}/release/")
    assert body["state"] == "released"
    body = complete(desk, body, "send_officers", note="2A12 sent")
    complete(desk, body, "close", disposition="CHECKS OK")
    steps = closed_as_the_sop_says(call, code="911O", priority=2, disposition="CHECKS OK")
    checks = [s for s in steps if s.key == "line_check"]
    assert checks[0].state == "done" and checks[0].done_by_label == "tc_smith"
    assert all(s.state == "skipped" for s in checks[1:])  # prompts overtaken by the officer's arrival


def test_a_business_misdial_closes_with_a_log_disposition(product, sim, worker, desk):
    call = ring(sim, "landline-business-misdial", "CPE-M1", "3075550122")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/verify-location/", {"confirmed": True})
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "misdial"})
    assert body["incident_call_type"] == "911M" and body["incident_priority"] == 4
    assert step(body, "verify_location")["state"] == "done"
    complete(desk, body, "close_log")
    steps = closed_as_the_sop_says(call, code="911M", priority=4, disposition="LOG")
    assert [s.key for s in steps] == ["verify_location", "cfs", "close_log"]


def test_a_residence_misdial_with_contact_is_handled_as_appropriate_and_closed(product, sim, worker, desk):
    call = ring(sim, "landline-residence-open-line", "CPE-M2", "3075550123")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "misdial"})
    assert (body["incident_call_type"], body["incident_priority"]) == ("911M", 4)
    assert [s["key"] for s in body["checklist"]] == ["verify_location", "cfs", "handle", "close"]
    assert not any(s["key"] == "close_log" for s in body["checklist"])  # only a business may close with LOG
    # the caller is on the line: the location is repeated back and confirmed
    body = act(desk, f"/api/v1/calls/{call.pk}/verify-location/", {"confirmed": True})
    assert step(body, "verify_location")["state"] == "done"
    body = complete(desk, body, "handle", note="Caller dialed 911 by mistake calling 411; no emergency")
    complete(desk, body, "close", disposition="MISDIAL")
    steps = closed_as_the_sop_says(call, code="911M", priority=4, disposition="MISDIAL")
    assert by_person(steps) == {"verify_location", "handle", "close"}
    assert not CallbackAttempt.objects.filter(call=call).exists()


def test_duress_on_phase2_notifies_the_supervisor_searches_and_updates_units(product, sim, worker, desk):
    # given an earlier incident at a known address for this number
    from incidents.services import incident_create

    incident_create(call_type_code="DISTURB", actor=desk.user, location_text="742 EVERGREEN TER, CASPER",
                    callback_number="3075550177")
    call = ring(sim, "wireless-phase2-hangup", "CPE-S1", "3075550177")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    missing = desk.post(f"/api/v1/calls/{call.pk}/classify/", {"path": "duress"}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "assessment"
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/",
               {"path": "duress", "duress_code": "911W", "assessment": "Woman screaming, male voice yelling"})
    assert body["incident_call_type"] == "911W" and body["incident_priority"] == 1
    notice = JournalEvent.objects.get(kind="call.duress_notice")
    assert notice.audience == ["supervisor"] and notice.payload["assessment"] == "Woman screaming, male voice yelling"
    assert step(body, "records_search")["state"] == "done"
    assert step(body, "dispatch_beat")["state"] == "open" and "vicinity" in step(body, "dispatch_beat")["text"]

    def searches_done():
        c = Call.objects.get(pk=call.pk)
        return (c.subscriber_searches.filter(state="done").exists() and c.rebids.filter(state="done").exists()
                and c.supplemental_locations.filter(state="done").exists())

    wait_until(searches_done, 30, message="WSP search, rebid and supplemental location")
    wait_until(lambda: callbacks_finished(call, 2), 30, message="two callback attempts")  # ANI ends in 7: voicemail
    body = fetch(desk, call)
    assert body["subscriber_searches"][0]["result_status"] == "complete"
    assert body["supplemental_locations"][0]["found"] is True  # odd last digit
    assert body["ali"]["lat"] == body["ali_history"][-1]["lat"]
    assert len({(h["lat"], h["lon"]) for h in body["ali_history"]}) == 2  # the ALI history keeps the first fix
    lines = narrative(call)
    units = [line for line in lines if line.startswith("ADDRESS FOR RESPONDING UNITS")]
    assert any("742 EVERGREEN TER" in line for line in units)
    assert any("WSP subscriber search" in line for line in units)
    assert any("supplemental location" in line for line in units)
    assert step(body, "voicemail" if any(s["key"] == "voicemail" for s in body["checklist"]) else "callback")
    # use the supplemental location (logged) — the ALI is not overwritten
    loc_id = body["supplemental_locations"][0]["id"]
    after = act(desk, f"/api/v1/supplemental-locations/{loc_id}/use/")
    assert after["ali"] == body["ali"]
    assert any("Supplemental location USED by tc_smith" in line for line in narrative(call))
    body = complete(desk, after, "dispatch_beat", note="Unit 2A12 sent to the vicinity")
    body = complete_jurisdiction(desk, body)
    complete(desk, body, "close", disposition="GOA")
    steps = closed_as_the_sop_says(call, code="911W", priority=1, disposition="GOA")
    assert {s.key: s.code for s in steps if s.key != "verify_location"} == {
        "cfs": "IV.2.a", "notify_supervisor": "IV.2.e", "wsp_search": "IV.2.h", "dispatch_beat": "IV.2.f",
        "rebid": "IV.2.c", "supplemental": "IV.2.g", "callback": "IV.2.d", "records_search": "IV.2.j",
        "update_units": "IV.2.i", "jurisdiction": "IV.2.k", "close": "IV.2.l"}


def test_duress_on_a_landline_is_911s_priority_1_without_a_wsp_search(product, sim, worker, desk):
    call = ring(sim, "duress", "CPE-S2", "3075550133")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/",
               {"path": "duress", "duress_code": "911S", "assessment": "Muffled shouting, someone says 'give me'"})
    assert (body["incident_call_type"], body["incident_priority"]) == ("911S", 1)
    assert not body["subscriber_searches"] and not any(s["key"] == "wsp_search" for s in body["checklist"])
    assert JournalEvent.objects.filter(kind="call.duress_notice", audience=["supervisor"]).exists()
    # the bank's ALI address is the caller's address, and the units go there
    address = call.address_text()
    assert step(body, "caller_address")["state"] == "done" and address in step(body, "caller_address")["note"]
    assert step(body, "update_units")["state"] == "done"  # no subscriber search to wait for
    assert step(body, "dispatch_units")["state"] == "open" and address in step(body, "dispatch_units")["text"]
    assert not CallbackAttempt.objects.filter(call=call).exists()  # a hold-up line is not called back
    body = complete(desk, body, "dispatch_units", note="2A12 and 2A14 sent, silent approach")
    body = complete_jurisdiction(desk, body)
    complete(desk, body, "close", disposition="FALSE ALARM")
    steps = closed_as_the_sop_says(call, code="911S", priority=1, disposition="FALSE ALARM")
    assert [(s.code, s.key) for s in steps] == [
        ("I.4.a", "verify_location"), ("III.2.a", "cfs"), ("III.2.b", "caller_address"),
        ("III.2.c", "notify_supervisor"), ("III.2.e", "records_search"), ("III.2.e", "update_units"),
        ("III.2.e", "dispatch_units"), ("III.2.h", "jurisdiction"), ("III.2.i", "close")]
    assert any("Patrol shift supervisor notified" in line and "Muffled shouting" in line for line in narrative(call))


def test_duress_on_phase1_searches_the_wsp_for_the_callers_address_and_sends_units_there(product, sim, worker, desk):
    # given a Phase 1 wireless open line with duress (no lat/lon: the cell sector's address only)
    call = ring(sim, "wireless-phase1", "CPE-S3", "3075550143")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/",
               {"path": "duress", "duress_code": "911W", "assessment": "Child crying, adult voice threatening"})
    assert (body["incident_call_type"], body["incident_priority"]) == ("911W", 1)
    assert step(body, "caller_address")["state"] == "open", step(body, "caller_address")["note"]
    assert step(body, "dispatch_units")["state"] == "open"
    assert not body["rebids"] and not body["supplemental_locations"]  # Phase 1: nothing to rebid or locate
    # the event just created (at the cell sector's address) is not a record of where the caller lives
    assert "0 incidents, 0 addresses" in step(body, "records_search")["note"]
    # when the WSP answers the subscriber search
    wait_until(lambda: Call.objects.get(pk=call.pk).subscriber_searches.filter(state="done").exists(), 30,
               message="the WSP subscriber search")
    body = fetch(desk, call)
    # then the subscriber's address is the caller's address, and it went to the responding units
    search = body["subscriber_searches"][0]
    street = search["subscriber"]["street"]
    assert step(body, "wsp_search")["state"] == "done" and street in step(body, "caller_address")["note"]
    assert step(body, "update_units")["state"] == "done"
    assert any(line.startswith("ADDRESS FOR RESPONDING UNITS (from the WSP subscriber search)") and street in line
               for line in narrative(call))
    refused = desk.post(f"/api/v1/checklist-steps/{step(body, 'close')['id']}/complete/", {"disposition": "GOA"},
                        format="json")
    assert refused.status_code == 409 and "III.2.e" in refused.json()["error"]
    body = complete(desk, body, "dispatch_units", note=f"2A12 sent to {street}")
    body = complete_jurisdiction(desk, body)
    complete(desk, body, "close", disposition="GOA")
    steps = closed_as_the_sop_says(call, code="911W", priority=1, disposition="GOA")
    assert [(s.code, s.key) for s in steps if s.key != "verify_location"] == [
        ("III.2.a", "cfs"), ("III.2.b", "caller_address"), ("III.2.c", "notify_supervisor"),
        ("III.2.d", "wsp_search"), ("III.2.e", "records_search"), ("III.2.e", "update_units"),
        ("III.2.e", "dispatch_units"), ("III.2.h", "jurisdiction"), ("III.2.i", "close")]


def test_a_step_marked_not_applicable_says_why_and_only_a_persons_step_can_be(product, sim, worker, desk):
    call = ring(sim, "landline-business-misdial", "CPE-NA", "3075550128")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "misdial"})
    url = f"/api/v1/checklist-steps/{step(body, 'verify_location')['id']}/complete/"
    no_reason = desk.post(url, {"not_applicable": True}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "note"
    system_step = desk.post(f"/api/v1/checklist-steps/{step(body, 'cfs')['id']}/complete/",
                            {"not_applicable": True, "note": "x"}, format="json")
    assert system_step.status_code == 409  # the system already did it
    body = act(desk, url, {"not_applicable": True, "note": "Caller hung up before the address could be repeated"})
    assert step(body, "verify_location")["state"] == "skipped" and step(body, "verify_location")["done_by"] == "tc_smith"
    complete(desk, body, "close_log")
    closed_as_the_sop_says(call, code="911M", priority=4, disposition="LOG")
    assert any(line.startswith("SOP I.4 — Verify the ANI/ALI and the location with the caller (repeat the address "
                               "back): not applicable by tc_smith") and "Caller hung up" in line
               for line in narrative(call))


def test_voip_asks_to_verify_the_registered_address_and_a_correction_moves_the_event(product, sim, worker, desk):
    # given a VoIP hang-up (ANI ending in 0: the callback is answered)
    call = ring(sim, "voip", "CPE-V1", "3075550160", hangup=True)
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    assert body["incident_call_type"] == "911D"
    assert step(body, "verify_voip")["state"] == "open" and "registered address" in step(body, "verify_voip")["text"]
    wait_until(lambda: callbacks_finished(call, 1), 20, message="the callback")
    body = fetch(desk, call)
    assert body["callbacks"][0]["outcome"] == "answered" and step(body, "decide_cfs")["state"] == "open"
    # when the caller, reached on the callback, is not at the registered address
    registered = call.address_text()
    body = act(desk, f"/api/v1/calls/{call.pk}/verify-location/",
               {"confirmed": False, "corrected_location": "1200 E 2ND ST, CASPER"})
    # then the VoIP step is done with the stale address noted, and the event moves; the ALI is kept
    assert step(body, "verify_voip")["state"] == "done" and "stale" in step(body, "verify_voip")["note"]
    incident = Incident.objects.get(number=body["incident"])
    assert incident.location_text == "1200 E 2ND ST, CASPER" and incident.location_verified
    assert Call.objects.get(pk=call.pk).address_text() == registered
    assert any("Location CORRECTED by the caller" in line and registered in line for line in narrative(call))
    body = complete(desk, body, "decide_cfs", note="Caller fell, is OK, declines aid: no call for service")
    complete(desk, body, "close", disposition="NO CFS NEEDED")
    steps = closed_as_the_sop_says(call, code="911D", priority=2, disposition="NO CFS NEEDED")
    assert [s.key for s in steps] == ["verify_location", "verify_voip", "cfs", "callback", "decide_cfs", "close"]
    assert by_person(steps) == {"verify_voip", "decide_cfs", "close"}


def test_out_of_jurisdiction_is_transferred_and_reported_as_a_misroute(product, sim, worker, desk, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call = ring(sim, "wireless-phase1", "CPE-J1", "3075550199")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "out_of_jurisdiction"})
    act(desk, f"/api/v1/calls/{call.pk}/verify-location/", {"confirmed": False, "corrected_location": "I-25 MM 160"})
    body = act(desk, f"/api/v1/calls/{call.pk}/transfer/", {
        "target": "Converse County 911", "caller_announced": True, "location_given": "I-25 MM 160",
        "nature_given": "Crash, no injuries"})
    assert body["state"] == "transferred" and body["incident"] is None
    report = act(desk, "/api/v1/misroute-reports/", {"call_id": call.pk, "correct_psap": "Converse County 911",
                                                      "correct_ali": "I-25 MM 160, CONVERSE COUNTY"}, status=201)
    from calltaking.models import MisrouteReport

    wait_until(lambda: MisrouteReport.objects.get(pk=report["id"]).state == "done", 20, message="the report sent")
    body = fetch(desk, call)
    assert step(body, "transfer")["state"] == "done" and step(body, "misroute")["state"] == "done"
    # no event of ours to close (SOP I.5: a call for service only when appropriate), and nothing left to do
    assert [(s["key"], s["state"]) for s in body["checklist"]] == [
        ("verify_location", "done"), ("transfer", "done"), ("misroute", "done")]
    assert all(s["done_by"] == "tc_smith" and s["done_at"] for s in body["checklist"])
    transfer = call.transfers.get()
    assert (transfer.caller_announced, transfer.location_given, transfer.nature_given) == (
        True, "I-25 MM 160", "Crash, no injuries")
