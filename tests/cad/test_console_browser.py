"""Two consoles in headless Chromium: create with verification and a hazard, dispatch by keyboard,
and the other console sees the units change status live."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def test_telecommunicator_creates_and_dispatches_by_keyboard_and_a_second_console_sees_it_live(
    county, make_staff, asgi_live_server, console_login, page, browser
):
    from playwright.sync_api import expect

    make_staff("telecommunicator", username="tc-one")
    make_staff("supervisor", username="sup-two")
    p1, p2 = county.units["P1"], county.units["P2"]
    other = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        console_login(page, asgi_live_server, "tc-one")
        console_login(other, asgi_live_server, "sup-two")
        expect(other.locator(f"#unit-{p1.pk}")).to_have_attribute("data-status", "available")

        # a new incident, keyboard first
        page.keyboard.press("Alt+Shift+N")
        expect(page.locator("#ic-call-type")).to_be_focused()
        page.select_option("#ic-call-type", "DISTURB")
        page.fill("#ic-location", "100 Main St")
        page.keyboard.press("Alt+Shift+V")
        # the same street in two towns: ranked candidates, the first one focused; "1" picks it
        expect(page.locator("#ic-candidates li")).to_have_count(2)
        expect(page.locator("#ic-candidates li").first).to_be_focused()
        page.keyboard.press("1")
        expect(page.locator("#ic-location-state")).to_contain_text("Verified: 100 MAIN ST, Casper")
        expect(page.locator("#ic-hazards")).to_contain_text("Dogs: Two aggressive dogs")
        page.fill("#ic-caller", "Pat Caller")
        page.keyboard.press("Alt+Shift+C")

        # the detail shows the hazard and the recommendation (CPD's P1 and P2, pre-checked)
        expect(page.locator("#id-hazards")).to_contain_text("Two aggressive dogs")
        expect(page.locator(f"#rec-check-{p1.pk}")).to_be_checked()
        expect(page.locator(f"#rec-check-{p2.pk}")).to_be_checked()
        expect(page.locator(f"#rec-{p1.pk}")).to_contain_text("responsible law agency")
        number = page.locator("#id-number").inner_text()
        expect(other.locator(f"#incident-{number}")).to_be_visible()

        page.keyboard.press("Alt+Shift+R")
        expect(page.locator(f"#rec-check-{p1.pk}")).to_be_focused()
        page.keyboard.press("Alt+Shift+D")

        # the second console sees both units dispatched, without reloading
        expect(other.locator(f"#unit-{p1.pk}")).to_have_attribute("data-status", "dispatched", timeout=10000)
        expect(other.locator(f"#unit-{p2.pk}")).to_have_attribute("data-status", "dispatched", timeout=10000)
        expect(other.locator(f"#unit-{p1.pk} .unit-status")).to_contain_text("Dispatched")
        expect(other.locator(f"#incident-{number}")).to_have_attribute("data-status", "dispatched")

        # P1 reports en route from the first console's board (keyboard on its row)
        page.locator(f"#unit-{p1.pk}").focus()
        page.keyboard.press("e")
        expect(other.locator(f"#unit-{p1.pk}")).to_have_attribute("data-status", "en_route", timeout=10000)
        expect(other.locator(f"#incident-{number}")).to_have_attribute("data-status", "en_route")
        assert errors == []
    finally:
        other.close()
