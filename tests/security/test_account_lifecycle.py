"""Idle accounts are disabled; a disabled account's sessions and floor sockets end at once; idle
sessions end unless the position is in the secure room."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from pscc.accounts import account_disable, account_enable
from pscc.asgi import application
from pscc.models import JournalEvent, Position, StaffProfile
from pscc.tasks import accounts_disable_idle

User = get_user_model()


def _age(user, *, last_login_days: int | None, joined_days: int = 400) -> None:
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(
        last_login=None if last_login_days is None else now - timedelta(days=last_login_days),
        date_joined=now - timedelta(days=joined_days),
    )


@pytest.mark.django_db
def test_accounts_unused_for_ninety_days_are_disabled_by_the_task_and_their_sessions_end(make_staff):
    # given
    idle = make_staff("telecommunicator", username="idle")
    recent = make_staff("telecommunicator", username="recent")
    never = make_staff("supervisor", username="never-signed-in")
    new = make_staff("telecommunicator", username="new-hire")
    session = Client()
    session.force_login(idle)
    assert session.get("/console/").status_code == 200
    _age(idle, last_login_days=91)
    _age(recent, last_login_days=89)
    _age(never, last_login_days=None, joined_days=120)
    _age(new, last_login_days=None, joined_days=10)

    # when: the periodic task runs (twice: it is idempotent)
    first = accounts_disable_idle()
    second = accounts_disable_idle()

    # then
    assert sorted(first) == ["idle", "never-signed-in"]
    assert second == []
    active = dict(User.objects.values_list("username", "is_active"))
    assert active["idle"] is False and active["never-signed-in"] is False
    assert active["recent"] is True and active["new-hire"] is True
    assert session.get("/console/").status_code == 302  # its session ended
    assert JournalEvent.objects.filter(kind="account.disabled", entity="account:idle").count() == 1
    from django.conf import settings

    assert "pscc-accounts-disable-idle" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_a_re_enabled_account_counts_its_idle_days_from_the_re_enabling(make_staff):
    admin = make_staff("admin", username="boss")
    idle = make_staff("telecommunicator", username="idle")
    _age(idle, last_login_days=200)
    assert accounts_disable_idle() == ["idle"]
    account_enable(user=idle, actor=admin)
    assert accounts_disable_idle() == []
    assert User.objects.get(username="idle").is_active


@pytest.mark.django_db(transaction=True)
def test_a_disabled_accounts_floor_socket_closes_at_once_and_others_stay_open(relay, make_staff):
    doomed = make_staff("telecommunicator", username="doomed")
    colleague = make_staff("telecommunicator", username="colleague")

    def cookie(user) -> bytes:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    def communicator(raw_cookie: bytes) -> WebsocketCommunicator:
        return WebsocketCommunicator(
            application, "/ws/floor/",
            headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", raw_cookie)],
        )

    doomed_cookie, colleague_cookie = cookie(doomed), cookie(colleague)

    async def scenario():
        mine, theirs = communicator(doomed_cookie), communicator(colleague_cookie)
        assert (await mine.connect(timeout=10))[0]
        assert (await theirs.connect(timeout=10))[0]
        for comm in (mine, theirs):
            assert json.loads(await comm.receive_from(timeout=10))["type"] == "snapshot"

        # when: the account is disabled (by the idle task, an admin…)
        started = time.monotonic()
        await sync_to_async(account_disable)(user=doomed, reason="test")

        # then: its socket is closed by the server within moments
        closed = None
        while closed is None:
            assert time.monotonic() - started < 10, "the disabled account's socket stayed open"
            output = await mine.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                closed = output
        assert closed["code"] == 4401

        # the colleague's socket is still live: it hears a ping
        await theirs.send_to(text_data=json.dumps({"type": "ping"}))
        while True:
            message = json.loads(await theirs.receive_from(timeout=10))
            if message["type"] == "pong":
                break
        await theirs.disconnect()

        # and the disabled account cannot open a new one
        again = communicator(doomed_cookie)
        connected, code = await again.connect(timeout=10)
        assert not connected and code == 4401

    async_to_sync(asyncio.wait_for)(scenario(), 30)


@pytest.mark.django_db
def test_an_idle_session_ends_after_the_inactivity_limit(settings, make_staff):
    settings.PSCC_INACTIVITY_SECONDS = 600
    client = Client()
    client.force_login(make_staff("telecommunicator", username="tc"))
    assert client.get("/console/").status_code == 200

    session = client.session
    session["pscc_seen"] = time.time() - 601
    session.save()

    page = client.get("/console/")
    assert page.status_code == 302 and "idle=1" in page["Location"]
    assert b"inactivity" in client.get(page["Location"]).content
    assert client.get("/console/")["Location"].startswith("/login/")


@pytest.mark.django_db
def test_an_api_request_after_the_inactivity_limit_gets_a_401(settings, make_staff):
    settings.PSCC_INACTIVITY_SECONDS = 600
    client = Client()
    client.force_login(make_staff("telecommunicator", username="tc"))
    client.get("/console/")
    session = client.session
    session["pscc_seen"] = time.time() - 900
    session.save()
    assert client.get("/api/v1/events/?after=0").status_code == 401


@pytest.mark.django_db
def test_a_position_in_the_secure_room_is_exempt_from_the_inactivity_limit(settings, make_staff):
    settings.PSCC_INACTIVITY_SECONDS = 600
    user = make_staff("telecommunicator", username="tc")
    secure = Position.objects.create(code="P1", secure_room=True)
    lobby = Position.objects.create(code="FRONT", secure_room=False)
    StaffProfile.objects.filter(user=user).update(position=secure)
    client = Client()
    client.force_login(user)

    session = client.session
    session["pscc_seen"] = time.time() - 3600
    session.save()
    assert client.get("/console/").status_code == 200

    StaffProfile.objects.filter(user=user).update(position=lobby)
    session = client.session
    session["pscc_seen"] = time.time() - 3600
    session.save()
    assert client.get("/console/").status_code == 302


@pytest.mark.django_db
def test_the_inactivity_limit_of_zero_never_ends_a_session(settings, make_staff):
    settings.PSCC_INACTIVITY_SECONDS = 0
    client = Client()
    client.force_login(make_staff("telecommunicator", username="tc"))
    session = client.session
    session["pscc_seen"] = time.time() - 10**6
    session.save()
    assert client.get("/console/").status_code == 200
