"""Webhooks against a real receiver on 127.0.0.1 that is down for a while (503s), then returns."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from pscc.relay import sequence_committed
from units.models import WebhookDelivery


class Receiver:
    """A partner's webhook endpoint: answers 503 while `down`, records what it accepts."""

    def __init__(self) -> None:
        self.down = True
        self.received: list[dict] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down:
                    receiver.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append({"body": body, "timestamp": self.headers["X-PSCC-Timestamp"],
                                          "signature": self.headers["X-PSCC-Signature"],
                                          "seq": self.headers["X-PSCC-Event-Seq"]})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pscc"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def _sweep_and_deliver(subscription_id: int, *, now=None) -> None:
    """What beat + a worker do: the sweeper picks due subscriptions, the task delivers in order."""
    from units.webhooks import webhook_deliver_due, webhook_subscriptions_due

    sequence_committed()
    for pk in webhook_subscriptions_due(now=now):
        if pk == subscription_id:
            webhook_deliver_due(pk, now=now)


def test_a_receiver_that_was_down_gets_every_event_once_in_order_signed(world, receiver):
    from incidents.services import incident_dispatch, narrative_add
    from units.services import unit_status_change
    from units.webhooks import webhook_subscription_create

    # given a CPD subscription and a receiver that is down
    sub = webhook_subscription_create(agency=world.county.agencies["CPD"], url=receiver.url)
    cpd = world.incidents["cpd"]
    units = world.county.units
    incident_dispatch(incident=cpd, unit_ids=[units["P1"].pk], actor="tc")
    narrative_add(incident=cpd, text="Caller's father found well", actor="tc")
    unit_status_change(unit=units["P2"], to_status="out_of_service", actor="tc")
    unit_status_change(unit=units["P3"], to_status="out_of_service", actor="tc")  # NCSO's: not for CPD
    # when the sweeper runs a few times while the receiver is down
    now = timezone.now()
    for i in range(4):
        _sweep_and_deliver(sub.pk, now=now + timedelta(minutes=10 * i))
    # then nothing was accepted, the head of the line keeps its error and backs off
    assert receiver.received == [] and receiver.refused >= 3
    head = WebhookDelivery.objects.filter(subscription=sub).order_by("seq").first()
    assert head.state == "pending" and head.attempts >= 3 and "503" in head.last_error
    assert head.next_attempt_at > now + timedelta(minutes=30)
    assert WebhookDelivery.objects.filter(subscription=sub).exclude(seq=head.seq).filter(attempts__gt=0).count() == 0
    # when more happens while it is down, and then it returns
    unit_status_change(unit=units["P1"], to_status="en_route", actor="tc")
    receiver.down = False
    later = now + timedelta(hours=2)
    for _ in range(3):
        _sweep_and_deliver(sub.pk, now=later)
    # then every CPD event since the subscription arrived once, in journal order, correctly signed
    from pscc.models import JournalEvent

    expected = list(JournalEvent.objects.filter(seq__gt=sub.start_after_seq, audience__contains=["agency:CPD"])
                    .order_by("seq").values_list("seq", flat=True))
    got = [int(r["seq"]) for r in receiver.received]
    assert got == expected and len(expected) >= 5
    for r in receiver.received:
        mac = hmac.new(sub.secret.encode(), r["timestamp"].encode() + b"." + r["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(r["signature"], f"sha256={mac}")
        message = json.loads(r["body"])
        assert message["agency"] == "CPD" and message["seq"] == int(r["seq"])
        assert "Quincaller" not in r["body"].decode() and "3075550111" not in r["body"].decode()
    assert all(not m["entity"].endswith(str(units["P3"].pk)) or not m["entity"].startswith("unit:")
               for m in (json.loads(r["body"]) for r in receiver.received))
    # and nothing is ever sent twice after success
    for _ in range(2):
        _sweep_and_deliver(sub.pk, now=later + timedelta(hours=1))
    assert [int(r["seq"]) for r in receiver.received] == expected
    sub.refresh_from_db()
    assert sub.last_delivered_seq == expected[-1]
    assert not WebhookDelivery.objects.filter(subscription=sub).exclude(state="delivered").exists()


def test_two_workers_racing_for_one_subscription_send_each_event_once(world, receiver):
    from units.webhooks import webhook_deliver_one, webhook_deliveries_enqueue, webhook_subscription_create
    from units.services import unit_status_change

    receiver.down = False
    sub = webhook_subscription_create(agency=world.county.agencies["CPD"], url=receiver.url)
    for call_sign in ("P1", "P2", "S1"):
        unit_status_change(unit=world.county.units[call_sign], to_status="out_of_service", actor="tc")
    sequence_committed()
    webhook_deliveries_enqueue(sub.pk)
    # a delivery claimed by one worker is "busy" for another
    head = WebhookDelivery.objects.filter(subscription=sub).order_by("seq").first()
    WebhookDelivery.objects.filter(pk=head.pk).update(state="sending", claimed_at=timezone.now(), attempts=1)
    assert webhook_deliver_one(sub.pk) == "busy"
    assert receiver.received == []
    # a claim abandoned by a dead worker is released after the stuck limit, then sent once
    from units.webhooks import webhook_release_stuck

    assert webhook_release_stuck(now=timezone.now() + timedelta(hours=1)) == 1
    while webhook_deliver_one(sub.pk) == "delivered":
        pass
    assert [int(r["seq"]) for r in receiver.received] == sorted(
        WebhookDelivery.objects.filter(subscription=sub).values_list("seq", flat=True))


def test_the_sweeper_enqueues_delivery_tasks_for_due_subscriptions(world, receiver, settings):
    from pscc.sweeper import run_sweepers
    from units.services import unit_status_change
    from units.webhooks import webhook_subscription_create

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task runs in-process: the sweeper → task → delivery path
    from pscc.celery import app

    app.conf.task_always_eager = True
    try:
        receiver.down = False
        sub = webhook_subscription_create(agency=world.county.agencies["CPD"], url=receiver.url)
        unit_status_change(unit=world.county.units["P2"], to_status="out_of_service", actor="tc")
        sequence_committed()
        counts = run_sweepers()
        assert counts["partner_webhooks"] >= 1
        assert [json.loads(r["body"])["type"] for r in receiver.received] == ["unit.status"]
        sub.refresh_from_db()
        assert sub.last_delivered_seq > sub.start_after_seq
    finally:
        app.conf.task_always_eager = False
