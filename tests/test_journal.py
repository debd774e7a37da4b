"""The event journal: appended with the change, numbered gap-free after commit, published in order."""

from __future__ import annotations

import json
import threading

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from pscc.journal import journal_append
from pscc.models import JournalEvent, RelayCursor
from pscc.relay import journal_channel, relay_once

pytestmark = pytest.mark.django_db(transaction=True)


def _collect(pubsub, count: int, timeout: float = 10.0) -> list[dict]:
    import time

    messages = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        raw = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if raw and raw["type"] == "message":
            messages.append(json.loads(raw["data"]))
    return messages


def test_two_transactions_committing_out_of_id_order_are_both_delivered_in_sequence():
    # given: a subscriber on the journal channel
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(journal_channel())
    first_appended = threading.Event()
    release_first = threading.Event()
    ids = {}

    def slow_transaction():
        try:
            with transaction.atomic():
                ids["slow"] = journal_append(kind="test.slow", payload={"n": 1}).id
                first_appended.set()
                release_first.wait(10)
        finally:
            connection.close()

    slow = threading.Thread(target=slow_transaction)
    slow.start()
    assert first_appended.wait(10)

    # when: a later transaction (higher id) commits first and the relay runs
    with transaction.atomic():
        ids["fast"] = journal_append(kind="test.fast", payload={"n": 2}).id
    assert ids["fast"] > ids["slow"]
    relay_once(client)
    # then the slow one commits and the relay runs again
    release_first.set()
    slow.join(10)
    relay_once(client)

    # then: both delivered, contiguous sequence, nothing skipped
    messages = _collect(pubsub, 2)
    assert [m["type"] for m in messages] == ["test.fast", "test.slow"]
    assert messages[1]["seq"] == messages[0]["seq"] + 1
    numbered = dict(JournalEvent.objects.values_list("id", "seq"))
    assert numbered[ids["fast"]] == messages[0]["seq"]
    assert numbered[ids["slow"]] == messages[1]["seq"]
    cursor = RelayCursor.objects.get(name="floor")
    assert cursor.last_seq == cursor.published_seq == messages[1]["seq"]
    pubsub.close()
    client.close()


def test_a_rolled_back_transaction_leaves_no_event_and_no_gap():
    class Boom(Exception):
        pass

    with transaction.atomic():
        journal_append(kind="test.before", payload={})
    with pytest.raises(Boom):
        with transaction.atomic():
            journal_append(kind="test.rolled_back", payload={})
            raise Boom
    with transaction.atomic():
        journal_append(kind="test.after", payload={})
    relay_once(None)

    events = list(JournalEvent.objects.order_by("seq").values_list("seq", "kind"))
    assert [kind for _, kind in events] == ["test.before", "test.after"]
    assert [seq for seq, _ in events] == [events[0][0], events[0][0] + 1]


def test_journal_append_refuses_to_run_outside_a_transaction():
    with pytest.raises(transaction.TransactionManagementError):
        journal_append(kind="test.outside", payload={})


def test_events_published_while_redis_was_unreachable_are_published_after_it_returns():
    with transaction.atomic():
        journal_append(kind="test.during_outage", payload={})
    relay_once(None)  # numbered, not pushed: Redis "down"
    cursor = RelayCursor.objects.get(name="floor")
    assert cursor.last_seq == cursor.published_seq + 1

    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(journal_channel())
    pubsub.get_message(timeout=1)
    relay_once(client)
    messages = _collect(pubsub, 1)
    assert [m["type"] for m in messages] == ["test.during_outage"]
    assert RelayCursor.objects.get(name="floor").published_seq == cursor.last_seq
    pubsub.close()
    client.close()


def test_a_new_commit_after_an_outage_is_published_after_the_backlog_in_order():
    # given: one event numbered while Redis was down
    with transaction.atomic():
        journal_append(kind="test.missed", payload={})
    relay_once(None)
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(journal_channel())
    pubsub.get_message(timeout=1)
    # when: another commit arrives and the relay runs with Redis back
    with transaction.atomic():
        journal_append(kind="test.fresh", payload={})
    relay_once(client)
    # then: the missed one first, then the fresh one, numbered consecutively, nothing twice
    messages = _collect(pubsub, 3, timeout=3)
    assert [m["type"] for m in messages] == ["test.missed", "test.fresh"]
    assert messages[1]["seq"] == messages[0]["seq"] + 1
    cursor = RelayCursor.objects.get(name="floor")
    assert cursor.published_seq == cursor.last_seq == messages[1]["seq"]
    pubsub.close()
    client.close()


def test_on_the_hot_path_each_commit_is_published_once_straight_from_numbering():
    client = redis.Redis.from_url(settings.REDIS_URL)
    relay_once(client)  # caught up
    pubsub = client.pubsub()
    pubsub.subscribe(journal_channel())
    pubsub.get_message(timeout=1)
    for n in range(3):
        with transaction.atomic():
            journal_append(kind="test.hot", payload={"n": n})
        assert relay_once(client) == (1, 1)
    assert relay_once(client) == (0, 0)
    messages = _collect(pubsub, 4, timeout=3)
    assert [m["data"]["n"] for m in messages] == [0, 1, 2]
    pubsub.close()
    client.close()
