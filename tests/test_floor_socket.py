"""The floor socket: authenticated, origin-checked, snapshot on connect, gap-free resume."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from pscc.asgi import application
from pscc.journal import journal_append
from pscc.models import RelayCursor

pytestmark = pytest.mark.django_db(transaction=True)


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _communicator(cookie: bytes | None, path: str = "/ws/floor/", origin: bytes = b"http://testserver"):
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


def _append_events(count: int, kind: str = "test.tick") -> None:
    for n in range(count):
        with transaction.atomic():
            journal_append(kind=kind, payload={"n": n}, entity=f"test:{n}")


async def _receive(comm, timeout: float = 10.0) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def _receive_events(comm, count: int, timeout: float = 20.0) -> list[dict]:
    events = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(events) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"received only {len(events)} of {count} events"
        message = await _receive(comm, remaining)
        if "seq" in message and message.get("type") not in ("snapshot", "heartbeat", "pong"):
            events.append(message)
    return events


async def _wait_numbered(through: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        last = await sync_to_async(lambda: RelayCursor.objects.filter(name="floor").values_list("last_seq", flat=True).first() or 0)()
        if last >= through:
            return
        assert asyncio.get_running_loop().time() < deadline, f"relay numbered only {last} of {through}"
        await asyncio.sleep(0.05)


def test_a_dropped_console_resumes_and_receives_all_150_missed_events_in_order(relay, make_staff):
    user = make_staff("telecommunicator")
    cookie = _cookie_for(user)

    async def scenario():
        # given: a connected console that has its snapshot and one live event
        comm = _communicator(cookie)
        connected, _ = await comm.connect()
        assert connected
        snapshot = await _receive(comm)
        assert snapshot["type"] == "snapshot"
        await sync_to_async(_append_events)(1, "test.live")
        (live,) = await _receive_events(comm, 1)
        assert live["type"] == "test.live"
        assert live["seq"] == snapshot["seq"] + 1
        last_seen = live["seq"]
        # when: it drops, 150 events are written, and it comes back asking for what it missed
        await comm.disconnect()
        await sync_to_async(_append_events)(150)
        await _wait_numbered(last_seen + 150)
        comm = _communicator(cookie, f"/ws/floor/?after={last_seen}")
        connected, _ = await comm.connect()
        assert connected
        replayed = await _receive_events(comm, 150)
        # then: all 150, in order, no gap, no duplicate
        assert [m["seq"] for m in replayed] == list(range(last_seen + 1, last_seen + 151))
        assert [m["data"]["n"] for m in replayed] == list(range(150))
        # and the console is live again after the replay
        await sync_to_async(_append_events)(1, "test.after")
        (after,) = await _receive_events(comm, 1)
        assert after["seq"] == last_seen + 151
        assert after.get("prev", after["seq"] - 1) == last_seen + 150
        await comm.disconnect()

    async_to_sync(scenario)()


def test_resume_message_on_an_open_socket_replays_from_the_journal(relay, make_staff):
    user = make_staff("supervisor")
    cookie = _cookie_for(user)

    async def scenario():
        comm = _communicator(cookie)
        assert (await comm.connect())[0]
        snapshot = await _receive(comm)
        await sync_to_async(_append_events)(3)
        first = await _receive_events(comm, 3)
        await comm.send_to(text_data=json.dumps({"type": "resume", "after": snapshot["seq"]}))
        replayed = await _receive_events(comm, 3)
        assert [m["seq"] for m in replayed] == [m["seq"] for m in first]
        await comm.disconnect()

    async_to_sync(scenario)()


def test_a_resume_older_than_the_replay_limit_gets_a_fresh_snapshot(relay, make_staff, settings):
    settings.PSCC_JOURNAL_REPLAY_LIMIT = 5
    cookie = _cookie_for(make_staff("telecommunicator"))

    async def scenario():
        await sync_to_async(_append_events)(10)
        await _wait_numbered(10)
        comm = _communicator(cookie, "/ws/floor/?after=0")
        assert (await comm.connect())[0]
        message = await _receive(comm)
        assert message["type"] == "snapshot"
        assert message["seq"] >= 10
        await comm.disconnect()

    async_to_sync(scenario)()


def test_the_floor_socket_refuses_anonymous_users_and_foreign_origins(make_staff):
    cookie = _cookie_for(make_staff("telecommunicator"))

    async def scenario():
        anonymous = _communicator(None)
        connected, code = await anonymous.connect()
        assert not connected or code == 4401
        await anonymous.disconnect()
        foreign = _communicator(cookie, origin=b"http://evil.example")
        connected, _ = await foreign.connect()
        assert not connected
        await foreign.disconnect()

    async_to_sync(scenario)()


def test_a_partner_socket_hears_only_its_own_agency(relay, make_staff):
    from pscc.journal import agency_audience

    partner = make_staff("partner", agency_code="CPD")
    cookie = _cookie_for(partner)

    def write():
        with transaction.atomic():
            journal_append(kind="test.other", payload={}, audience=["floor", agency_audience("NCSO")])
        with transaction.atomic():
            journal_append(kind="test.mine", payload={}, audience=["floor", agency_audience("CPD")])

    async def scenario():
        comm = _communicator(cookie)
        assert (await comm.connect())[0]
        snapshot = await _receive(comm)
        await sync_to_async(write)()
        (event,) = await _receive_events(comm, 1)
        assert event["type"] == "test.mine"
        assert event["prev"] == snapshot["seq"]  # the other agency's event is not in this stream
        await comm.disconnect()

    async_to_sync(scenario)()
