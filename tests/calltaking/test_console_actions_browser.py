"""The call-taking panel's actions in headless Chromium, by keyboard only: hold/resume, transfer
(SOP I.5), misroute report (§V), manual ALI lookup (§VI, and its refusal) and "use this
supplemental location". Each test checks what the page shows and what the server recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calltaking.models import Call, ChecklistStep, ManualAliLookup, MisrouteReport, SupplementalLocation, Transfer
from incidents.models import NarrativeEntry
from pscc.models import CallerDataAccess, JournalEvent
from simulators.cpe import build_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def ring(sim, scenario: str, call_id: str, line: str, ani: str) -> None:
    body = {"scenario": scenario, "call_id": call_id, "line": line, "ani": ani}
    result = sim.control.post("/_control/cpe/ring", json=body).json()
    assert result["status_code"] == 201, result


def answer_by_keyboard(page, cpe_call_id: str) -> Call:
    # the call is the only one ringing at this console before the key is pressed
    page.locator(f"#ct-queue li[data-state='ringing']:has-text('{cpe_line(cpe_call_id)}')").wait_for(timeout=10000)
    expect(page.locator("#ct-queue li[data-state='ringing']")).to_have_count(1)
    page.keyboard.press("Alt+a")
    page.wait_for_selector("#ct-current[data-state='answered']", timeout=10000)
    call = Call.objects.get(cpe_call_id=cpe_call_id)
    assert page.locator("#ct-current").get_attribute("data-call-id") == str(call.pk)
    return call


def cpe_line(cpe_call_id: str) -> str:
    return Call.objects.select_related("line").get(cpe_call_id=cpe_call_id).line.code


def narrative(call: Call) -> list[str]:
    call.refresh_from_db()
    return list(NarrativeEntry.objects.filter(incident_id=call.incident_id).order_by("id").values_list("text", flat=True))


@pytest.fixture
def console(center, sim, asgi_live_server, page, console_login, make_staff):
    """A telecommunicator signed in at the console, with the CPE simulator ringing into it."""
    make_staff("telecommunicator", username="tc_keys")
    sim.control.post("/_control/config", json={"product_url": asgi_live_server})
    console_login(page, asgi_live_server, "tc_keys")
    return page


def test_the_console_keys_are_all_distinct_and_the_new_actions_are_listed(console):
    keys = console.locator("#help-keys kbd").all_inner_texts()
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    # the other panels' keys are on this console too (text to 911: Alt+t; CAD: Alt+Shift+N → "Alt+N")
    assert "Alt+t" in keys and "Alt+N" in keys
    for key in ("Alt+h", "Alt+p", "Alt+T", "Alt+W", "Alt+L"):
        assert key in keys
    assert "Alt+Shift+T" in console.locator("#ct-transfer-btn").inner_text()
    assert "Alt+Shift+W" in console.locator("#ct-misroute-btn").inner_text()
    assert "Alt+Shift+L" in console.locator("#ct-manual-ali-btn").inner_text()
    assert "Alt+h" in console.locator("#ct-hold-btn").inner_text()


def test_hold_resume_and_a_transfer_with_announcement_location_and_nature_by_keyboard(
        center, sim, asgi_live_server, page, console_login, make_staff):
    from units.models import Agency

    Agency.objects.create(code="CONV911", name="Converse County 911", kind="psap")
    make_staff("telecommunicator", username="tc_keys")
    sim.control.post("/_control/config", json={"product_url": asgi_live_server})
    console_login(page, asgi_live_server, "tc_keys")
    ring(sim, "wireless-phase1", "CPE-KEY-XFER", "911-2", "3075550152")
    call = answer_by_keyboard(page, "CPE-KEY-XFER")
    # hold, then resume, with the one key
    page.keyboard.press("Alt+h")
    page.wait_for_selector("#ct-current[data-state='on_hold']", timeout=10000)
    expect(page.locator("#ct-state")).to_contain_text("ON HOLD")
    expect(page.locator("#ct-hold-btn")).to_contain_text("Resume")
    call.refresh_from_db()
    assert call.state == "on_hold" and call.on_hold_at is not None
    page.keyboard.press("Alt+h")
    page.wait_for_selector("#ct-current[data-state='answered']", timeout=10000)
    expect(page.locator("#ct-hold-btn")).to_contain_text("Hold")
    call.refresh_from_db()
    assert call.state == "answered"
    # out of jurisdiction: the transfer form
    page.keyboard.press("Alt+q")
    page.wait_for_selector("#ct-checklist li[data-key='transfer'][data-state='open']", timeout=10000)
    page.keyboard.press("Alt+Shift+T")
    expect(page.locator("#ct-transfer-dialog")).to_have_attribute("open", "")
    expect(page.locator("#ct-transfer-agency")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the neighbouring PSAP from the agency list names the target
    expect(page.locator("#ct-transfer-agency")).to_have_value("CONV911")
    page.keyboard.press("Tab")
    expect(page.locator("#ct-transfer-target")).to_have_value("Converse County 911")
    # not announced yet: the API refuses, the page says what to do and puts the cursor there
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("Hwy 20/26 MM 150")
    page.keyboard.press("Tab")
    page.keyboard.type("Vehicle in ditch")
    page.keyboard.press("Enter")
    expect(page.locator("#ct-transfer-error")).to_contain_text("announce the transfer")
    expect(page.locator("#ct-transfer-announced")).to_be_focused()
    assert page.locator("#ct-transfer-announced").get_attribute("aria-invalid") == "true"
    assert not Transfer.objects.exists()
    # announced (Space ticks), Enter sends
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ct-current[data-state='transferred']", timeout=10000)
    expect(page.locator("#ct-transfer-dialog")).not_to_have_attribute("open", "")
    expect(page.locator("#ct-state")).to_have_text("↪ TRANSFERRED")
    row = page.locator("#ct-transfers li[data-kind='transfer']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("transferred to Converse County 911")
    expect(row).to_contain_text("announced; location given “Hwy 20/26 MM 150”; nature given “Vehicle in ditch”")
    expect(page.locator("#ct-checklist li[data-key='transfer']")).to_have_attribute("data-state", "done")
    transfer = Transfer.objects.get(call=call)
    assert (transfer.target, transfer.caller_announced, transfer.location_given, transfer.nature_given) == (
        "Converse County 911", True, "Hwy 20/26 MM 150", "Vehicle in ditch")
    assert transfer.transferred_by.username == "tc_keys" and transfer.target_agency.code == "CONV911"
    call.refresh_from_db()
    assert call.state == "transferred"
    # out of jurisdiction makes no event here, so the record is the transfer row, the step and the journal
    step = ChecklistStep.objects.get(call=call, key="transfer")
    assert step.state == "done" and step.done_by_label == "tc_keys" and step.note == "to Converse County 911"
    assert JournalEvent.objects.filter(kind="call.transferred", entity=f"call:{call.pk}", actor_label="tc_keys").count() == 1
    assert page.locator("#ct-error").inner_text() == ""


def test_a_call_held_while_another_is_answered_is_resumed_with_the_same_key_after_that_one_is_released(console, sim):
    page = console
    ring(sim, "wireless-phase1", "CPE-KEY-HOLD-A", "911-1", "3075550150")
    first = answer_by_keyboard(page, "CPE-KEY-HOLD-A")
    page.keyboard.press("Alt+h")
    page.wait_for_selector("#ct-current[data-state='on_hold']", timeout=10000)
    ring(sim, "voip", "CPE-KEY-HOLD-B", "911-2", "3075550158")
    second = answer_by_keyboard(page, "CPE-KEY-HOLD-B")
    held = page.locator(f"#ct-held-{first.pk}")
    expect(held).to_contain_text("‖ ON HOLD · 911-1 · 3075550150")
    expect(page.locator("#ct-hold-btn")).to_contain_text("Hold")
    # the call at hand is released; the same key brings the held caller back
    page.keyboard.press("Alt+l")
    page.wait_for_selector("#ct-current[data-state='released']", timeout=10000)
    expect(page.locator("#ct-hold-btn")).to_contain_text("Resume the held call")
    page.keyboard.press("Alt+h")
    expect(page.locator("#ct-current")).to_have_attribute("data-call-id", str(first.pk), timeout=10000)
    expect(page.locator("#ct-current")).to_have_attribute("data-state", "answered")
    expect(page.locator("#ct-held-box")).to_be_hidden()
    expect(held).to_have_count(0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("answered", "released")
    assert first.answered_by.username == second.answered_by.username == "tc_keys"


def test_a_misroute_report_is_filed_by_keyboard_and_shown_sent_to_the_coordinator(console, sim, worker, settings):
    page = console
    ring(sim, "wireless-phase1", "CPE-KEY-MIS", "911-4", "3075550156")
    call = answer_by_keyboard(page, "CPE-KEY-MIS")
    page.keyboard.press("Alt+q")
    page.wait_for_selector("#ct-checklist li[data-key='misroute'][data-state='open']", timeout=10000)
    page.keyboard.press("Alt+Shift+W")
    expect(page.locator("#ct-misroute-psap")).to_be_focused()
    expect(page.locator("#ct-misroute-received")).to_contain_text("ANI 3075550156")
    # no PSAP named: the API's message, at the field
    page.keyboard.press("Enter")
    # (the API names the field; the page names it as the form does)
    expect(page.locator("#ct-misroute-error")).to_have_text("⚠ PSAP it should have gone to: required — fill it in, then Enter.")
    expect(page.locator("#ct-misroute-psap")).to_be_focused()
    assert not MisrouteReport.objects.exists()
    page.keyboard.type("Converse County 911")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("1 MAIN ST, DOUGLAS WY")
    page.keyboard.press("Enter")
    expect(page.locator("#ct-misroute-dialog")).not_to_have_attribute("open", "")
    report = MisrouteReport.objects.get()
    item = page.locator(f"#ct-mis-{report.pk}")
    expect(item).to_contain_text("Converse County 911")
    # the worker sends it to the county coordinator; the same node turns to "sent", live
    expect(item).to_have_attribute("data-state", "sent", timeout=30000)
    expect(item).to_contain_text(f"sent to {settings.PSCC_MISROUTE_COORDINATOR_EMAIL}")
    report.refresh_from_db()
    assert (report.call_id, report.correct_psap, report.correct_ali, report.received_ani, report.state) == (
        call.pk, "Converse County 911", "1 MAIN ST, DOUGLAS WY", "3075550156", "done")
    assert report.reported_by_label == "tc_keys"
    expect(page.locator("#ct-checklist li[data-key='misroute']")).to_have_attribute("data-state", "done")


def admin_call_with_an_earlier_ali(page, sim, cpe, ani: str, cpe_call_id: str) -> Call:
    """An earlier 911 call from this number left its ALI (abandoned before answer); now the same
    caller rings on an administrative (seven-digit) line and is answered."""
    earlier = build_call("landline-residence-open-line", f"{cpe_call_id}-911", "911-1", ani)
    assert cpe.post("/api/v1/calls/", earlier, format="json").status_code == 201
    assert cpe.post(f"/api/v1/calls/{cpe_call_id}-911/events/", {"event": "abandoned"}, format="json").status_code == 200
    page.wait_for_selector("#ct-queue li[data-state='abandoned']", timeout=10000)
    ring(sim, "admin-line", cpe_call_id, "ADMIN-02", ani)
    call = answer_by_keyboard(page, cpe_call_id)
    assert call.line.kind == "admin"
    return call


def tick_conditions(page, *, skip: str | None = None) -> None:
    """From the line field: Tab to each of the four conditions, Space ticks it."""
    for name in ("requesting_emergency_aid", "caller_gave_number", "emergency_exists", "insufficient_information"):
        page.keyboard.press("Tab")
        expect(page.locator(f"#ct-cond-{name}")).to_be_focused()
        if name != skip:
            page.keyboard.press("Space")


def test_a_manual_ali_lookup_on_a_seven_digit_line_with_all_four_conditions_shows_the_ali(console, sim, cpe):
    page = console
    call = admin_call_with_an_earlier_ali(page, sim, cpe, "3075550171", "CPE-KEY-ALI")
    page.keyboard.press("Alt+Shift+L")
    expect(page.locator("#ct-manual-ali-phone")).to_be_focused()
    expect(page.locator("#ct-manual-ali-phone")).to_have_value("3075550171")
    expect(page.locator("#ct-manual-ali-line")).to_have_value("ADMIN-02")
    page.keyboard.press("Tab")
    tick_conditions(page)
    page.keyboard.press("Enter")
    result = page.locator("#ct-manual-ali-result")
    expect(result).to_have_attribute("data-state", "found", timeout=10000)
    expect(page.locator("#ct-manual-ali-dialog")).not_to_have_attribute("open", "")
    lookup = ManualAliLookup.objects.get()
    assert lookup.allowed and lookup.call_id == call.pk and lookup.line.code == "ADMIN-02"
    assert lookup.requested_by.username == "tc_keys" and lookup.result["found"] is True
    # the page shows the address the server looked up (today: the ALI of the earlier 911 call; the
    # lookup may come to ask a provider instead, so the page is checked against the stored result)
    assert lookup.result["address_text"]
    expect(result).to_contain_text(f"for 3075550171: {lookup.result['address_text']}")
    assert (lookup.requesting_emergency_aid, lookup.caller_gave_number, lookup.emergency_exists,
            lookup.insufficient_information) == (True, True, True, True)
    assert CallerDataAccess.objects.filter(kind="manual_ali_lookup", object_ref="phone:3075550171",
                                           username="tc_keys").count() == 1
    expect(result).to_contain_text(f"Lookup #{lookup.pk}")


def test_a_manual_ali_lookup_is_refused_when_a_condition_is_not_affirmed_and_the_page_says_which(console, sim, cpe):
    page = console
    admin_call_with_an_earlier_ali(page, sim, cpe, "3075550173", "CPE-KEY-NOALI")
    page.keyboard.press("Alt+Shift+L")
    expect(page.locator("#ct-manual-ali-phone")).to_be_focused()
    page.keyboard.press("Tab")
    tick_conditions(page, skip="emergency_exists")
    page.keyboard.press("Enter")
    error = page.locator("#ct-manual-ali-error")
    expect(error).to_contain_text("REFUSED (logged): Not all four conditions of SOP §VI are affirmed")
    expect(error).to_contain_text("“3. You determine that an emergency condition exists”")
    expect(page.locator("#ct-manual-ali-dialog")).to_have_attribute("open", "")  # fix it, or Esc
    expect(page.locator("label:has(#ct-cond-emergency_exists)")).to_have_attribute("data-affirmed", "false")
    expect(page.locator("label:has(#ct-cond-emergency_exists) .cond-mark")).to_have_text("✗ NOT affirmed")
    expect(page.locator("label:has(#ct-cond-caller_gave_number) .cond-mark")).to_have_text("✓ affirmed")
    result = page.locator("#ct-manual-ali-result")
    expect(result).to_have_attribute("data-state", "refused")
    lookup = ManualAliLookup.objects.get()
    assert not lookup.allowed and lookup.result is None and not lookup.emergency_exists
    assert "emergency_exists" in lookup.refusal_reason
    assert not CallerDataAccess.objects.filter(kind="manual_ali_lookup").exists()  # nothing was looked up
    # nothing about the caller's address is on the page
    earlier_address = Call.objects.get(cpe_call_id="CPE-KEY-NOALI-911").address_text()
    assert earlier_address not in result.inner_text()
    page.keyboard.press("Escape")
    expect(page.locator("#ct-manual-ali-dialog")).not_to_have_attribute("open", "")


def test_the_supplemental_location_is_used_by_keyboard_and_the_ali_stays_as_delivered(console, sim, worker):
    page = console
    # a Phase 2 hang-up with duress; an odd last digit means the location provider has a fix
    ring(sim, "wireless-phase2-hangup", "CPE-KEY-SUP", "911-3", "3075550163")
    call = answer_by_keyboard(page, "CPE-KEY-SUP")
    page.keyboard.press("Alt+p")  # nothing to use yet
    expect(page.locator("#ct-error")).to_contain_text("No supplemental location for this call yet")
    page.keyboard.press("Alt+z")
    expect(page.locator("#ct-assessment")).to_be_focused()
    page.keyboard.type("Man shouting, sounds of a struggle")
    page.keyboard.press("Enter")
    expect(page.locator("#ct-incident")).to_contain_text("P1", timeout=10000)
    page.wait_for_selector("#ct-work li[data-kind='supplemental'][data-state='done']", timeout=30000)
    page.wait_for_selector("#ct-work li[data-kind='rebid'][data-state='done']", timeout=30000)
    expect(page.locator("#ct-use-supplemental")).to_be_visible()
    loc = SupplementalLocation.objects.get(call=call, found=True)
    expect(page.locator("#ct-supplemental")).to_contain_text(f"{loc.lat:.6f}, {loc.lon:.6f}")
    address_before = page.locator("#ct-address").inner_text()
    latlon_before = page.locator("#ct-latlon").inner_text()
    call.refresh_from_db()
    ali_before = {f: getattr(call, f) for f in Call.ALI_FIELDS}
    # when
    page.keyboard.press("Alt+p")
    # then
    expect(page.locator("#ct-supplemental")).to_have_attribute("data-used", "yes", timeout=10000)
    expect(page.locator("#ct-supplemental")).to_contain_text("✓ USED")
    assert page.locator("#ct-address").inner_text() == address_before
    assert page.locator("#ct-latlon").inner_text() == latlon_before
    loc.refresh_from_db()
    assert loc.used_at is not None and loc.used_by.username == "tc_keys"
    call.refresh_from_db()
    assert {f: getattr(call, f) for f in Call.ALI_FIELDS} == ali_before
    assert any(line.startswith("Supplemental location USED by tc_keys") for line in narrative(call))
