"""The TCC's inbound gateway: signatures, replays, idempotency, and what a new session looks like."""

from __future__ import annotations

import json
import logging
import time

import pytest

from text911.models import TextMessage, TextSession

pytestmark = pytest.mark.django_db


def test_a_new_text_lands_in_the_unassigned_queue_with_the_tower_marked_not_the_callers_location(new_session, client, make_staff):
    session = new_session("Help, there is a fire")

    assert session.state == "unassigned" and session.owner is None
    assert session.tower_lat == 42.85 and session.tower_sector == "CAS01-A"
    client.force_login(make_staff("telecommunicator"))
    data = client.get(f"/api/v1/text911/sessions/{session.pk}/").json()
    assert data["tower"]["is_caller_location"] is False
    assert "NOT the caller's location" in data["tower"]["label"]
    assert data["location"]["verified"] is False
    assert [m["text"] for m in data["messages"] if m["kind"] == "text"] == ["Help, there is a fire"]


def test_a_bad_signature_is_refused_with_401_and_logged(inbound, caplog):
    with caplog.at_level(logging.WARNING, logger="text911.gateway"):
        response = inbound("s-forged", "text", "hello", secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "bad signature"
    assert "TCC inbound refused" in caplog.text and "bad signature" in caplog.text
    assert not TextSession.objects.exists()


def test_an_unsigned_post_is_refused(client):
    response = client.post("/api/v1/text911/inbound", data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert not TextSession.objects.exists()


def test_a_timestamp_older_than_five_minutes_is_refused_as_a_replay(inbound, caplog):
    stale = str(int(time.time()) - 301)
    with caplog.at_level(logging.WARNING, logger="text911.gateway"):
        response = inbound("s-replay", "text", "hello", timestamp=stale)

    assert response.status_code == 401
    assert "replay" in response.json()["error"]
    assert "replay" in caplog.text
    assert not TextMessage.objects.exists()


def test_the_same_tcc_message_delivered_twice_is_stored_once(inbound):
    first = inbound("s-dup", "text", "I need help", message_id="tcc-1")
    again = inbound("s-dup", "text", "I need help", message_id="tcc-1")

    assert first.status_code == again.status_code == 200
    assert first.json()["outcome"] == "created" and again.json() == first.json()  # the first answer, again
    assert again.headers["Idempotent-Replayed"] == "true"
    assert TextMessage.objects.filter(tcc_message_id="tcc-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_tcc_retry_while_the_first_delivery_is_in_flight_answers_409_then_the_first_answer(center, settings):
    from django.test import Client

    from tests.support.idempotency import InFlight, table_locked, wait_until_a_key_is_held
    from tests.text911.conftest import sign

    body = json.dumps({"tcc_message_id": "tcc-inflight", "session_id": "s-inflight", "from_number": "3075551234",
                       "kind": "text", "text": "Help"}).encode()

    def deliver():
        return Client().post("/api/v1/text911/inbound", data=body, content_type="application/json", **sign(body))

    # given: the first delivery is held inside its transaction (another session locks the sessions table)
    with table_locked("text911_textsession", "SHARE"):
        first = InFlight(deliver)
        first.start()
        wait_until_a_key_is_held()
        # when: the TCC retries the same message
        duplicate = InFlight(deliver)
        duplicate.start()
        duplicate = duplicate.outcome(timeout=15)
        # then: 409 at once, naming the key
        assert duplicate.status_code == 409, duplicate.content
        assert duplicate.json()["field"] == "tcc_message_id" and duplicate.json()["code"] == "idempotency_in_flight"
    first = first.outcome()
    retry = deliver()

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and first.json()["outcome"] == "created"
    assert TextMessage.objects.filter(tcc_message_id="tcc-inflight").count() == 1


def test_the_same_tcc_message_id_with_other_content_answers_422_naming_it(inbound):
    assert inbound("s-reuse", "text", "first words", message_id="tcc-reused").status_code == 200
    response = inbound("s-reuse", "text", "other words", message_id="tcc-reused")

    assert response.status_code == 422 and response.json()["field"] == "tcc_message_id"
    assert list(TextMessage.objects.filter(tcc_message_id="tcc-reused").values_list("text", flat=True)) == ["first words"]


def test_a_malformed_inbound_names_the_field(inbound):
    response = inbound("s-bad", "carrier_pigeon", "hi")
    assert response.status_code == 400 and response.json()["field"] == "kind"
    response = inbound("s-bad", "text", "")
    assert response.status_code == 400 and response.json()["field"] == "text"


def test_multimedia_is_never_stored_nor_served_only_that_it_arrived_and_when(new_session, inbound, client, make_staff):
    session = new_session()
    secret_content = "https://evil.example/picture.jpg?payload=SECRET-CONTENT"
    response = inbound(session.tcc_session_id, "multimedia", "Picture",
                       media={"content_type": "image/jpeg", "url": secret_content, "data": "SECRET-CONTENT"})
    assert response.status_code == 200

    message = TextMessage.objects.get(session=session, kind="multimedia")
    assert message.text == "" and message.created_at is not None
    assert "SECRET-CONTENT" not in json.dumps(list(TextMessage.objects.values()), default=str)
    client.force_login(make_staff("telecommunicator"))
    for url in (f"/api/v1/text911/sessions/{session.pk}/", "/api/v1/text911/snapshot"):
        body = client.get(url).content.decode()
        assert "SECRET-CONTENT" not in body and "evil.example" not in body and "Picture" not in body
        assert "Multimedia content received — not opened" in body
