"""The product and the TCC simulator over real HTTP: inbound deliveries, outbound texts with retries,
rebids (five per PSAP, the sixth refused), and a transfer giving the next PSAP a fresh five."""

from __future__ import annotations

import httpx
import pytest

from pscc.errors import Conflict
from text911 import services
from text911.models import TextMessage, TextSession
from tests.text911.conftest import deliver_pending, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def texter(center, tcc, live_server, make_staff):
    """A texter started in the simulator, delivered to the product through the inbound gateway."""
    tcc.point_at(live_server.url)

    def start(persona="cooperative", **body):
        started = tcc.start_texter(persona=persona, **body)
        session = wait_for(lambda: TextSession.objects.filter(tcc_session_id=started["session_id"]).first(),
                           message="the session to reach the product")
        wait_for(lambda: session.messages.filter(kind="text").exists(), message="the first text")
        return started, session

    return start


def test_the_sixth_rebid_is_refused_and_a_transfer_gives_a_fresh_five(texter, tcc, make_staff):
    tc = make_staff("telecommunicator")
    started, session = texter("silent")
    services.text_session_claim(session_id=session.pk, actor=tc)

    for n in range(1, 6):
        services.text_location_rebid(session_id=session.pk, actor=tc)
        session.refresh_from_db()
        assert session.rebid_count == n and session.rebid_lat is not None
    with pytest.raises(Conflict) as refused:
        services.text_location_rebid(session_id=session.pk, actor=tc)
    assert refused.value.code == "rebid_limit"
    assert tcc.session(started["session_id"])["rebid_count"] == 5

    services.text_session_transfer(session_id=session.pk, actor=tc, agency_code="CFD")
    assert deliver_pending() == ["sent", "sent"]

    session.refresh_from_db()
    assert session.state == "transferred" and session.psap == "CFD" and session.rebid_count == 0
    at_tcc = tcc.session(started["session_id"])
    assert (at_tcc["state"], at_tcc["psap"], at_tcc["rebid_count"]) == ("transferred", "CFD", 0)
    standby = [m["text"] for m in at_tcc["messages"] if m["direction"] == "from_psap"]
    assert standby == ["Please standby, I am connecting you to Fire/Medical services."]
    # the standby reached the TCC before the transfer did
    assert at_tcc["events"][-1]["type"] == "transfer"


def test_outbound_texts_are_retried_with_backoff_and_sent_once(texter, tcc, make_staff, settings):
    tc = make_staff("telecommunicator")
    started, session = texter("cooperative")
    services.text_session_claim(session_id=session.pk, actor=tc)
    httpx.post(f"{tcc.base_url}/_control/behaviour", json={"service": "tcc", "mode": "error", "count": 1}).raise_for_status()

    message = services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    assert deliver_pending() == ["retry"]
    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 1 and "503" in message.last_error
    assert services.text_outbound_deliver(message_pk=message.pk) == "skipped"  # not due yet: backoff
    TextMessage.objects.filter(pk=message.pk).update(scheduled_at=message.created_at)
    assert deliver_pending() == ["sent"]
    assert services.text_outbound_deliver(message_pk=message.pk) == "skipped"  # a second run does nothing

    # the texter answers the location question through the gateway
    reply = wait_for(lambda: session.messages.filter(direction="in", text__contains="500 E 2nd St").first(),
                     message="the texter's answer")
    assert reply.kind == "text"
    sent = [m for m in tcc.session(started["session_id"])["messages"] if m["direction"] == "from_psap"]
    assert len(sent) == 1 and sent[0]["message_id"] == str(message.message_id)


def test_the_sweeper_releases_a_stuck_delivery_and_sends_it(texter, make_staff):
    from datetime import timedelta

    from django.utils import timezone

    tc = make_staff("telecommunicator")
    _, session = texter("silent")
    message = services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    TextMessage.objects.filter(pk=message.pk).update(state="sending", claimed_at=timezone.now() - timedelta(minutes=5))

    assert services.text_outbound_sweep() == 1
    message.refresh_from_db()
    assert message.state == "pending"
    assert deliver_pending() == ["sent"]
