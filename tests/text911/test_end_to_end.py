"""A whole texter conversation, from the first text to the end of the session, through the real HTTP
gateway (daphne), a running Celery worker and the TCC simulator: it ends with a 911T event holding the
full transcript."""

from __future__ import annotations

import httpx
import pytest

from tests.text911.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]



def api_session(base_url: str, client, user) -> httpx.Client:
    """An httpx client signed in as `user` (session cookie + CSRF token) against the live server."""
    client.force_login(user)
    http = httpx.Client(base_url=base_url, timeout=10)
    http.get("/login/")
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    http.headers["X-CSRFToken"] = http.cookies.get("csrftoken") or ""
    return http


def test_a_texter_conversation_from_first_text_to_end_leaves_a_911t_event_with_the_full_transcript(
    tcc_sim, center, asgi_live_server, celery_worker_process, make_staff, client
):
    from incidents.models import Incident
    from text911.models import TextSession

    sim = tcc_sim
    httpx.post(f"{sim.base_url}/_control/config", json={"product_url": asgi_live_server}).raise_for_status()
    httpx.post(f"{sim.base_url}/_control/tcc/config", json={"reply_delay": 0.1, "retry_backoff": 0.2}).raise_for_status()
    tc = make_staff("telecommunicator", username="tc-e2e")
    http = api_session(asgi_live_server, client, tc)

    # given a texter who starts a session
    started = httpx.post(f"{sim.base_url}/_control/tcc/texters",
                         json={"persona": "cooperative", "address": "500 E 2nd St, Casper"}).json()
    session = wait_for(lambda: TextSession.objects.filter(tcc_session_id=started["session_id"]).first(), timeout=20,
                       message="the session in the unassigned queue")
    wait_for(lambda: session.messages.filter(kind="text", direction="in").exists(), message="the first text")

    # when the telecommunicator claims it and asks for the location
    base = f"/api/v1/text911/sessions/{session.pk}"
    assert http.post(f"{base}/claim").status_code == 200
    assert http.post(f"{base}/messages", json={"quick_number": 1}).status_code == 200
    reply = wait_for(lambda: session.messages.filter(direction="in", text="500 E 2nd St, Casper").first(), timeout=20,
                     message="the texter's location answer (via the worker and the TCC)")
    assert http.post(f"{base}/messages", json={"quick_number": 4}).status_code == 200
    wait_for(lambda: session.messages.filter(direction="in", text="No I can't talk").exists(), timeout=20,
             message="the answer to the voice question")

    # and verifies it, creates the 911T event, confirms the address and ends the session
    assert http.post(f"{base}/verify-location", json={"location_text": reply.text}).status_code == 200
    created = http.post(f"{base}/incident", json={"nature": "Burglary in progress next door"})
    assert created.status_code == 200, created.text
    number = created.json()["created_incident"]
    assert http.post(f"{base}/confirm-address").status_code == 200
    refused = http.post(f"{base}/end", json={})
    assert refused.status_code == 409 and refused.json()["code"] == "no_unit_on_scene"
    ended = http.post(f"{base}/end", json={"force": True, "force_reason": "Officers arriving; caller safe"})
    assert ended.status_code == 200 and ended.json()["state"] == "ended"

    # then the TCC saw everything in order and the session ended there with the final message
    # (the texter may still be answering the last message: the TCC lists a reply as soon as the texter
    # sends it and delivers it to us a moment later, so wait until nothing is pending)
    def ended_and_delivered():
        s = httpx.get(f"{sim.base_url}/_control/tcc/sessions/{started['session_id']}").json()
        pending = [m for m in s["messages"] if m["direction"] == "to_psap" and m["delivery"]["status"] == "pending"]
        return s["state"] == "ended" and not pending and s

    at_tcc = wait_for(ended_and_delivered, timeout=20, message="the end at the TCC and every texter message delivered")
    assert all(m["delivery"]["status"] == "delivered" for m in at_tcc["messages"] if m["direction"] == "to_psap")
    from_psap = [m["text"] for m in at_tcc["messages"] if m["direction"] == "from_psap"]
    assert from_psap[0].endswith("What is the location of the emergency?")
    assert from_psap[-1].startswith("Your text session with 9-1-1 has concluded.")
    assert "Help is being sent to 500 E 2nd St, Casper." in from_psap
    wait_for(lambda: not session.messages.filter(direction="out").exclude(state="sent").exists(), timeout=20,
             message="every outbound row recorded as sent")

    # and the 911T event holds the whole transcript, both directions, in order
    incident = Incident.objects.get(number=number)
    assert incident.call_type.code == "911T" and incident.source == "text"
    narrative = "\n".join(incident.narrative.values_list("text", flat=True))
    assert "Received via Text to 9-1-1" in narrative
    texter_said = [m["text"] for m in at_tcc["messages"] if m["direction"] == "to_psap" and m["kind"] == "text"]
    for line in texter_said + from_psap:
        assert line in narrative, line
    assert narrative.index(texter_said[0]) < narrative.index(from_psap[0]) < narrative.index(from_psap[-1])
