"""The text panel in a real browser: a text arrives with the tone, is claimed, answered with the location
quick message, becomes a 911T event and is ended — while a second console sees the queue change live."""

from __future__ import annotations

import httpx
import pytest

from tests.text911.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]



def test_a_text_is_toned_claimed_answered_turned_into_a_911t_event_and_ended_live_on_two_consoles(
    tcc_sim, center, asgi_live_server, celery_worker_process, make_staff, console_login, browser
):
    from incidents.models import Incident
    from text911.models import TextSession

    base = asgi_live_server
    httpx.post(f"{tcc_sim.base_url}/_control/config", json={"product_url": base}).raise_for_status()
    httpx.post(f"{tcc_sim.base_url}/_control/tcc/config", json={"reply_delay": 0.1, "retry_backoff": 0.2}).raise_for_status()
    make_staff("telecommunicator", username="tc-ann")
    make_staff("telecommunicator", username="tc-bob")
    ann = console_login(browser.new_context().new_page(), base, "tc-ann")
    bob = console_login(browser.new_context().new_page(), base, "tc-bob")
    for page in (ann, bob):
        page.wait_for_selector("#text911[data-ready='1']", state="attached")
        assert page.get_attribute("#text-tone", "data-played") == "0"

    # a text arrives: both consoles list it in the unassigned queue and play the tone
    started = httpx.post(f"{tcc_sim.base_url}/_control/tcc/texters",
                         json={"persona": "cooperative", "address": "500 E 2nd St, Casper"}).json()
    session = wait_for(lambda: TextSession.objects.filter(tcc_session_id=started["session_id"]).first(), timeout=20,
                       message="the session")
    row = f"#text-unassigned #text-session-{session.pk}"
    for page in (ann, bob):
        page.wait_for_selector(row, timeout=10000)
        # the console called play() on the <audio> element (it counts the calls in data-played)
        page.wait_for_selector("#text-tone[data-played='1']", state="attached", timeout=5000)
        assert "NOT the caller" not in page.inner_text(row)  # the row shows the number; the warning is in the view
    assert ann.get_attribute("#text-tone", "src").endswith("/static/audio/text-tone.wav")

    # Ann claims it from the keyboard; Bob's queue empties live
    ann.keyboard.press("Alt+c")
    ann.wait_for_selector(f"#text-mine #text-session-{session.pk}", timeout=10000)
    bob.wait_for_selector(row, state="detached", timeout=10000)
    bob.wait_for_selector(f"#text-others #text-session-{session.pk}", timeout=10000)
    assert ann.inner_text("#text-unassigned-count") == "0" and bob.inner_text("#text-unassigned-count") == "0"
    assert "NOT the caller's location" in ann.inner_text("#text-tower")
    ann.wait_for_selector("#text-messages li.in.text", timeout=10000)

    # sends the location quick message by its number and receives the answer
    ann.keyboard.press("Alt+1")
    ann.wait_for_selector("#text-messages li.out[data-state='sent']", timeout=15000)
    answer = ann.wait_for_selector("#text-messages li.in:has-text('500 E 2nd St, Casper')", timeout=15000)
    assert answer is not None

    # verifies the location (pre-filled with the answer), creates the 911T event, confirms the address
    ann.keyboard.press("Alt+v")
    assert ann.input_value("#text-location-input") == "500 E 2nd St, Casper"
    ann.keyboard.press("Alt+v")
    ann.wait_for_selector("#text-verified[data-verified='1']", timeout=10000)
    ann.keyboard.press("Alt+e")
    ann.wait_for_selector("#text-conversation[data-incident^='2']", state="attached", timeout=10000)
    ann.keyboard.press("Alt+d")
    ann.wait_for_selector("#text-messages li.out:has-text('Help is being sent to 500 E 2nd St, Casper.')", timeout=10000)

    # ends the session: no unit on scene yet, so the console asks for a confirmation first
    ann.keyboard.press("Alt+x")
    ann.wait_for_selector("#text-confirm:not([hidden])", timeout=10000)
    ann.keyboard.press("Alt+x")
    ann.wait_for_selector(f"#text-closed #text-session-{session.pk}[data-state='ended']", timeout=10000)
    ann.wait_for_selector("#text-messages li.end[data-state='sent']", timeout=15000)
    bob.wait_for_selector(f"#text-others #text-session-{session.pk}", state="detached", timeout=10000)

    session.refresh_from_db()
    incident = Incident.objects.get(pk=session.incident_id)
    narrative = "\n".join(incident.narrative.values_list("text", flat=True))
    assert incident.call_type.code == "911T" and "Received via Text to 9-1-1" in narrative
    assert "500 E 2nd St, Casper" in narrative and "has concluded" in narrative

    # and a reload rebuilds the conversation from the snapshot
    ann.reload()
    ann.wait_for_selector("#text911[data-ready='1']", state="attached")
    ann.wait_for_selector("#text-messages li.in:has-text('500 E 2nd St, Casper')", timeout=10000)
