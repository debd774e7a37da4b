"""Fixtures for text to 911: call types and quick messages, signed inbound posts, the TCC simulator."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

TCC_SECRET = "text911-test-secret"


@pytest.fixture(autouse=True)
def _tcc_secret(settings):
    settings.PSCC_TCC_SECRET = TCC_SECRET


@pytest.fixture
def center(db):
    """The 911T call type, the quick messages, and an agency that accepts text transfers."""
    from incidents.calltypes import load_call_types
    from text911.quick import quick_messages_ensure
    from units.models import Agency

    load_call_types()
    quick_messages_ensure()
    Agency.objects.update_or_create(code="CFD", defaults={"name": "Casper Fire-EMS Department", "kind": "fire",
                                                          "disciplines": ["fire", "ems"], "accepts_text": True})
    Agency.objects.update_or_create(code="MAS", defaults={"name": "Metro Animal Services", "kind": "animal",
                                                          "disciplines": ["animal"], "accepts_text": False})


def sign(body: bytes, timestamp: str | None = None, secret: str = TCC_SECRET) -> dict:
    from text911.gateway import tcc_sign

    timestamp = timestamp or str(int(time.time()))
    return {"HTTP_X_TCC_TIMESTAMP": timestamp, "HTTP_X_TCC_SIGNATURE": tcc_sign(secret, timestamp, body)}


@pytest.fixture
def inbound(client):
    """POST one signed TCC message through the real view; returns the response."""

    def post(session_id: str, kind: str = "text", text: str = "", *, message_id: str | None = None,
             from_number: str = "3075551234", tower: dict | None = None, media: dict | None = None,
             timestamp: str | None = None, secret: str = TCC_SECRET):
        payload = {"tcc_message_id": message_id or str(uuid.uuid4()), "session_id": session_id,
                   "from_number": from_number, "sent_at": None, "kind": kind, "text": text, "media": media,
                   "tower": tower}
        body = json.dumps(payload).encode()
        return client.post("/api/v1/text911/inbound", data=body, content_type="application/json",
                           **sign(body, timestamp, secret))

    return post


@pytest.fixture
def new_session(inbound):
    """A texter's session_start and first text, as the TCC sends them; returns the TextSession."""
    from text911.models import TextSession

    def make(text: str = "Someone is breaking in next door", session_id: str | None = None, **kwargs):
        session_id = session_id or f"s-{uuid.uuid4().hex[:12]}"
        tower = {"lat": 42.85, "lon": -106.32, "sector": "CAS01-A"}
        assert inbound(session_id, "session_start", tower=tower, **kwargs).status_code == 200
        assert inbound(session_id, "text", text, tower=tower, **kwargs).status_code == 200
        return TextSession.objects.get(tcc_session_id=session_id)

    return make


def deliver_pending() -> list[str]:
    """Run the outbound delivery (what the worker's task does) for every due row, in order."""
    from text911.models import TextMessage
    from text911.services import text_outbound_deliver

    outcomes = []
    for pk in TextMessage.objects.filter(direction="out", state="pending").order_by("id").values_list("pk", flat=True):
        outcomes.append(text_outbound_deliver(message_pk=pk))
    return outcomes


@pytest.fixture
def tcc(settings):
    """The TCC simulator over real HTTP; the product's TCC URL points at it. Its texters post to
    whatever product URL the test configures with `tcc.point_at(url)`."""
    from simulators import start_simulators

    sim = start_simulators(port=0, tcc_secret=TCC_SECRET)
    settings.PSCC_TCC_URL = sim.base_url + "/tcc"

    class Tcc:
        base_url = sim.base_url

        def point_at(self, product_url: str) -> None:
            httpx.post(f"{sim.base_url}/_control/config", json={"product_url": product_url}).raise_for_status()
            httpx.post(f"{sim.base_url}/_control/tcc/config", json={"reply_delay": 0.05, "retry_backoff": 0.2}).raise_for_status()

        def start_texter(self, **body) -> dict:
            r = httpx.post(f"{sim.base_url}/_control/tcc/texters", json=body)
            r.raise_for_status()
            return r.json()

        def session(self, session_id: str) -> dict:
            r = httpx.get(f"{sim.base_url}/_control/tcc/sessions/{session_id}")
            r.raise_for_status()
            return r.json()

        def say(self, session_id: str, text: str, kind: str = "text") -> None:
            httpx.post(f"{sim.base_url}/_control/tcc/sessions/{session_id}/say", json={"text": text, "kind": kind}).raise_for_status()

    yield Tcc()
    sim.stop()


@pytest.fixture
def tcc_sim(monkeypatch):
    """The simulator, started first so daphne and the worker get its URL and secret in their environment."""
    from simulators import start_simulators

    sim = start_simulators(port=0, tcc_secret=TCC_SECRET)
    monkeypatch.setenv("PSCC_TCC_URL", sim.base_url + "/tcc")
    monkeypatch.setenv("PSCC_TCC_SECRET", TCC_SECRET)
    yield sim
    sim.stop()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
