"""The relay wakes webhook delivery as soon as it numbers new events: no waiting for a beat sweep."""

from __future__ import annotations

import json
import time

import pytest

from tests.partners.test_webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    r.down = False
    yield r
    r.stop()


def test_a_status_change_reaches_the_partner_webhook_without_a_beat_sweep(
    transactional_db, world, receiver, relay, celery_worker_process
):
    from units.services import unit_status_change
    from units.webhooks import webhook_subscription_create

    # given: a CPD subscription; no beat runs in the test, so only the relay's wake can start delivery
    sub = webhook_subscription_create(agency=world.county.agencies["CPD"], url=receiver.url)
    # when: a CPD unit changes status
    unit = world.county.units["P2"]
    unit_status_change(unit=unit, to_status="out_of_service", actor="tc")
    # then: the partner hears of it within seconds, once
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        json.loads(r["body"])["entity"] == f"unit:{unit.pk}" for r in receiver.received
    ):
        time.sleep(0.1)
    bodies = [json.loads(r["body"]) for r in receiver.received]
    assert [b["entity"] for b in bodies].count(f"unit:{unit.pk}") == 1, bodies
    # ...and the worker records the delivery once the receiver has answered (just after it has it)
    while time.monotonic() < deadline:
        sub.refresh_from_db()
        if sub.last_delivered_seq >= max(b["seq"] for b in bodies):
            break
        time.sleep(0.1)
    assert sub.last_delivered_seq >= max(b["seq"] for b in bodies)
