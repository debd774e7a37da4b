"""The console in headless Chromium: a Phase 2 wireless hang-up from ring to a closed 911W, by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from incidents.models import Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def test_a_phase2_wireless_hangup_is_answered_classified_called_back_and_closed_by_keyboard(
        center, sim, worker, asgi_live_server, page, console_login, make_staff):
    make_staff("telecommunicator", username="tc_jones")
    sim.control.post("/_control/config", json={"product_url": asgi_live_server})
    console_login(page, asgi_live_server, "tc_jones")
    # a Phase 2 wireless hang-up rings in (ANI ending in 4: nobody answers the callbacks)
    ring = sim.control.post("/_control/cpe/ring", json={"scenario": "wireless-phase2-hangup", "call_id": "CPE-BROWSER",
                                                        "line": "911-3", "ani": "3075550164"}).json()
    assert ring["status_code"] == 201, ring
    item = page.locator("#ct-queue li[data-state='ringing']")
    item.wait_for(timeout=10000)
    assert "RINGING" in item.inner_text() and "WPH2" in item.inner_text()
    page.wait_for_selector("#calltaking[data-alert='playing']", timeout=5000)  # the audible alert
    # answered with one key
    page.keyboard.press("Alt+a")
    page.wait_for_selector("#ct-current[data-state='answered']", timeout=10000)
    assert page.locator("#ct-greeting").inner_text() == "Natrona County 9-1-1, where is your emergency?"
    assert "Wireless Phase 2" in page.locator("#ct-cos").inner_text()
    assert "±" in page.locator("#ct-latlon").inner_text() and "% confidence" in page.locator("#ct-latlon").inner_text()
    assert page.locator("#ct-callback").inner_text() == "3075550164"
    page.wait_for_selector("#calltaking[data-alert='silent']", timeout=5000)
    # classified as no duress
    page.keyboard.press("Alt+w")
    expect(page.locator("#ct-incident")).to_contain_text("911W P2", timeout=10000)
    # the rebid and the two callback attempts complete, live
    page.wait_for_selector("#ct-work li[data-kind='rebid'][data-state='done']", timeout=20000)
    page.wait_for_selector("#ct-work li[data-kind='callback'][data-attempt='2'][data-state='done']", timeout=30000)
    assert "no answer" in page.locator("#ct-work li[data-attempt='1']").inner_text()
    assert "rebid 1×" in page.locator("#ct-latlon").inner_text()
    # the telecommunicator completes the remaining steps and closes the 911W event
    for _ in range(5):
        if page.locator("#ct-checklist li[data-key='close'][data-state='open']").count() and \
                page.locator("#ct-checklist li[data-state='open']").first.get_attribute("data-key") == "close":
            break
        before = page.locator("#ct-checklist li[data-state='open']").count()
        page.keyboard.press("Alt+s")
        expect(page.locator("#ct-checklist li[data-state='open']")).to_have_count(before - 1, timeout=10000)
    page.keyboard.press("Alt+s")  # asks for the disposition
    expect(page.locator("#ct-disposition")).to_be_focused()
    page.keyboard.type("NO CONTACT")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ct-incident[data-status='closed']", timeout=10000)
    incident = Incident.objects.get(calls__cpe_call_id="CPE-BROWSER")
    assert incident.call_type.code == "911W" and incident.status == "closed" and incident.disposition == "NO CONTACT"
    assert incident.narrative.filter(text__contains="done by tc_jones").count() >= 2
