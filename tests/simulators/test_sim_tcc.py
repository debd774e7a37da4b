"""Text Control Center: texters, signed inbound delivery with retries, and the
product-facing session API (messages, rebids, transfer, end)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import ProductStandIn, Received

INBOUND = "/api/v1/text911/inbound"


@pytest.fixture(autouse=True)
def quick_texters(client: httpx.Client) -> None:
    """Short reply and retry delays keep every test well under a second or two."""
    client.post("/_control/tcc/config", json={"reply_delay": 0.02, "retry_backoff": 0.01})


def start(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/_control/tcc/texters", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def send(client: httpx.Client, session_id: str, text: str, message_id: str | None = None) -> httpx.Response:
    body = {"session_id": session_id, "message_id": message_id or str(uuid.uuid4()), "text": text}
    return client.post("/tcc/v1/messages", json=body)


def texts(product: ProductStandIn, count: int) -> list[dict[str, Any]]:
    """The first `count` inbound payloads, asserting they all arrived."""
    received = product.wait_for(count, INBOUND)
    assert len(received) >= count, [r.json() for r in received]
    return [r.json() for r in received]


def assert_signed(request: Received, secret: str) -> None:
    timestamp = request.headers["x-tcc-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.raw, hashlib.sha256).hexdigest()
    assert request.headers["x-tcc-signature"] == f"sha256={expected}"


# -- starting a texter --------------------------------------------------------


def test_texter_starts_with_session_start_then_first_text(
    client: httpx.Client, product: ProductStandIn, tcc_secret: str
) -> None:
    session = start(client, session_id="s-1", from_number="3075559876", persona="cooperative")
    assert session == {"session_id": "s-1", "from_number": "3075559876", "persona": "cooperative",
                       "address": "500 E 2nd St, Casper"}
    received = product.wait_for(2, INBOUND)
    session_start, first = (r.json() for r in received)
    assert session_start["kind"] == "session_start" and first["kind"] == "text"
    for message in (session_start, first):
        assert set(message) == {"tcc_message_id", "session_id", "from_number", "sent_at", "kind", "text",
                                "media", "tower"}
        assert message["session_id"] == "s-1" and message["from_number"] == "3075559876"
        assert set(message["tower"]) == {"lat", "lon", "sector"}
        assert message["media"] is None and message["sent_at"].endswith("Z")
        uuid.UUID(message["tcc_message_id"])
    assert first["text"]
    for request in received:
        assert_signed(request, tcc_secret)
        assert request.headers["content-type"] == "application/json"


def test_session_id_and_number_are_generated_when_absent(client: httpx.Client) -> None:
    session = start(client)
    assert session["persona"] == "cooperative"
    assert len(session["from_number"]) == 10 and session["session_id"]


def test_duplicate_session_id_is_409(client: httpx.Client) -> None:
    start(client, session_id="dup")
    assert client.post("/_control/tcc/texters", json={"session_id": "dup"}).status_code == 409


def test_unknown_persona_is_400(client: httpx.Client) -> None:
    response = client.post("/_control/tcc/texters", json={"persona": "angry"})
    assert response.status_code == 400 and response.json()["field"] == "persona"


def test_texter_needs_a_product_url(client: httpx.Client) -> None:
    client.post("/_control/config", json={"product_url": None})
    response = client.post("/_control/tcc/texters", json={})
    assert response.status_code == 409


def test_first_text_can_be_given(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, first_text="There is a fire")
    assert texts(product, 2)[1]["text"] == "There is a fire"


# -- personas -------------------------------------------------------------------


def test_cooperative_answers_location_voice_and_other_questions(
    client: httpx.Client, product: ProductStandIn
) -> None:
    start(client, session_id="coop", address="1234 S Wolcott St, Casper")
    texts(product, 2)
    assert send(client, "coop", "911, what is the location of your emergency?").status_code == 202
    assert texts(product, 3)[2]["text"] == "1234 S Wolcott St, Casper"
    send(client, "coop", "Can you take a voice call?")
    assert texts(product, 4)[3]["text"] == "No I can't talk"
    send(client, "coop", "Are you safe right now?")
    reply = texts(product, 5)[4]
    assert reply["text"] and reply["kind"] == "text"
    assert reply["tower"] is None  # only session_start and the first text carry the tower


def test_silent_texter_never_replies(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, session_id="quiet", persona="silent")
    texts(product, 2)
    send(client, "quiet", "Where are you?")
    time.sleep(0.2)
    assert len(product.wait_for(3, INBOUND, timeout=0.1)) == 2


def test_multimedia_texter_sends_a_picture(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, persona="multimedia")
    picture = texts(product, 3)[2]
    assert picture["kind"] == "multimedia"
    assert picture["media"] == {"content_type": "image/jpeg", "size_bytes": 245760}


def test_spanish_texter_writes_spanish_and_signature_covers_utf8(
    client: httpx.Client, product: ProductStandIn, tcc_secret: str
) -> None:
    start(client, session_id="es", persona="spanish", address="500 E 2nd St, Casper")
    texts(product, 2)
    send(client, "es", "¿Dónde está?")
    received = product.wait_for(3, INBOUND)
    assert received[2].json()["text"] == "Estoy en 500 E 2nd St, Casper"
    send(client, "es", "ok")
    accented = product.wait_for(4, INBOUND)[3]
    assert accented.json()["text"] == "Sí"
    assert_signed(accented, tcc_secret)


def test_non_emergency_texter_asks_about_a_barking_dog(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, persona="non_emergency")
    assert "barking" in texts(product, 2)[1]["text"]


def test_say_makes_the_texter_send_now(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, session_id="say")
    texts(product, 2)
    assert client.post("/_control/tcc/sessions/say/say", json={"text": "He left"}).status_code == 202
    assert texts(product, 3)[2]["text"] == "He left"


# -- product -> TCC ---------------------------------------------------------------


def test_message_to_unknown_session_is_404(client: httpx.Client) -> None:
    response = send(client, "nope", "hello")
    assert response.status_code == 404 and response.json()["error"] == "unknown_session"


def test_message_validation(client: httpx.Client) -> None:
    start(client, session_id="v")
    response = client.post("/tcc/v1/messages", json={"session_id": "v", "message_id": "m"})
    assert response.status_code == 400 and response.json()["field"] == "text"


def test_messages_are_idempotent_on_message_id(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, session_id="idem")
    texts(product, 2)
    assert send(client, "idem", "Where are you?", "m-1").json() == {"accepted": True}
    assert send(client, "idem", "Where are you?", "m-1").status_code == 202
    texts(product, 3)
    time.sleep(0.15)
    assert len(product.wait_for(4, INBOUND, timeout=0.05)) == 3  # one reply only
    assert send(client, "idem", "Something else", "m-1").status_code == 409


def test_rebid_limit_is_five_per_psap_and_resets_on_transfer(client: httpx.Client) -> None:
    start(client, session_id="rb")
    answers = [client.post("/tcc/v1/sessions/rb/rebid") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [409]
    assert answers[5].json() == {"error": "rebid_limit"}
    assert [a.json()["rebid_count"] for a in answers[:5]] == [1, 2, 3, 4, 5]
    assert set(answers[0].json()) == {"lat", "lon", "uncertainty_m", "rebid_count"}
    transfer = client.post("/tcc/v1/sessions/rb/transfer", json={"target_psap": "NATRONA-SO",
                                                                  "target_agency": "Natrona County SO"})
    assert transfer.json() == {"status": "transferred"}
    assert client.post("/tcc/v1/sessions/rb/rebid").json()["rebid_count"] == 1
    state = client.get("/_control/tcc/sessions/rb").json()
    assert (state["state"], state["psap"], state["rebid_count"]) == ("transferred", "NATRONA-SO", 1)


def test_transfer_requires_target_psap(client: httpx.Client) -> None:
    start(client, session_id="t")
    response = client.post("/tcc/v1/sessions/t/transfer", json={"target_agency": "x"})
    assert response.status_code == 400 and response.json()["field"] == "target_psap"


def test_end_closes_the_session(client: httpx.Client, product: ProductStandIn) -> None:
    start(client, session_id="end")
    texts(product, 2)
    answer = client.post("/tcc/v1/sessions/end/end", json={"final_message": "Help is on the way"})
    assert answer.json() == {"status": "ended"}
    assert client.post("/tcc/v1/sessions/end/end", json={}).json() == {"status": "ended"}
    late = send(client, "end", "one more thing")
    assert late.status_code == 409 and late.json() == {"error": "session_ended"}
    assert client.post("/tcc/v1/sessions/end/rebid").status_code == 409
    time.sleep(0.1)
    assert len(product.received) == 2  # no reply to the final message


def test_session_log_has_both_directions(client: httpx.Client, product: ProductStandIn,
                                         eventually: Callable[..., Any]) -> None:
    start(client, session_id="log")
    texts(product, 2)
    send(client, "log", "Where are you?", "psap-1")
    texts(product, 3)

    def delivered() -> dict[str, Any] | None:
        state = client.get("/_control/tcc/sessions/log").json()
        to_psap = [m for m in state["messages"] if m["direction"] == "to_psap"]
        return state if len(to_psap) == 3 and all(m["delivery"]["status"] == "delivered" for m in to_psap) else None

    state = eventually(delivered)
    assert state, client.get("/_control/tcc/sessions/log").json()
    directions = [(m["direction"], m.get("kind")) for m in state["messages"]]
    assert directions == [("to_psap", "session_start"), ("to_psap", "text"), ("from_psap", None),
                          ("to_psap", "text")]
    assert state["messages"][2]["message_id"] == "psap-1"
    assert state["state"] == "active" and state["persona"] == "cooperative"
    listed = client.get("/_control/tcc/sessions").json()["sessions"]
    assert listed == [{"session_id": "log", "persona": "cooperative", "state": "active"}]


def test_unknown_session_log_is_404(client: httpx.Client) -> None:
    assert client.get("/_control/tcc/sessions/none").status_code == 404


# -- delivery retries ---------------------------------------------------------------


def test_5xx_is_retried_with_the_same_message_id_and_order_is_kept(
    client: httpx.Client, product: ProductStandIn, tcc_secret: str, eventually: Callable[..., Any]
) -> None:
    product.fail_next(503, 502)
    start(client, session_id="retry")
    received = product.wait_for(4, INBOUND)
    kinds = [r.json()["kind"] for r in received]
    assert kinds == ["session_start", "session_start", "session_start", "text"]
    assert len({r.json()["tcc_message_id"] for r in received[:3]}) == 1
    assert received[0].raw == received[2].raw  # the body never changes between attempts
    for request in received:
        assert_signed(request, tcc_secret)

    def attempts() -> list[int] | None:
        log = client.get("/_control/outbound", params={"service": "tcc"}).json()["outbound"]
        return [entry["attempt"] for entry in log] if len(log) == 4 else None

    assert eventually(attempts) == [1, 2, 3, 1]


def test_connection_errors_are_retried_then_given_up(client: httpx.Client, eventually: Callable[..., Any]) -> None:
    client.post("/_control/config", json={"product_url": "http://127.0.0.1:9"})
    client.post("/_control/tcc/config", json={"max_retries": 2})
    start(client, session_id="down")

    def failed() -> list[dict[str, Any]] | None:
        messages = client.get("/_control/tcc/sessions/down").json()["messages"]
        return messages if messages and messages[0]["delivery"]["status"] == "failed" else None

    messages = eventually(failed)
    assert messages
    delivery = messages[0]["delivery"]
    assert delivery["attempts"] == 3 and delivery["last_status_code"] is None and delivery["last_error"]


def test_4xx_is_not_retried(client: httpx.Client, product: ProductStandIn, eventually: Callable[..., Any]) -> None:
    product.fail_next(401)
    start(client, session_id="rejected")
    texts(product, 2)  # the rejected session_start, then the first text

    def first_delivery() -> dict[str, Any] | None:
        delivery = client.get("/_control/tcc/sessions/rejected").json()["messages"][0]["delivery"]
        return delivery if delivery["status"] != "pending" else None

    assert eventually(first_delivery) == {"status": "failed", "attempts": 1, "last_status_code": 401,
                                          "last_error": None}


def test_reset_abandons_pending_replies(client: httpx.Client, product: ProductStandIn) -> None:
    client.post("/_control/tcc/config", json={"reply_delay": 0.3})
    start(client, session_id="gone")
    texts(product, 2)
    send(client, "gone", "Where are you?")
    client.post("/_control/reset")
    time.sleep(0.4)
    assert len(product.received) == 2


def test_default_tcc_config(client: httpx.Client) -> None:
    client.post("/_control/reset")
    assert client.post("/_control/tcc/config", json={}).json() == {
        "reply_delay": 0.2, "retry_backoff": 0.5, "max_retries": 5,
    }
