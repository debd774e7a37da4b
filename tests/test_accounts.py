"""Sign-in: the banner must be acknowledged; 5 failures in 15 minutes lock until a supervisor unlocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.test import Client
from django.utils import timezone

from pscc.accounts import account_is_locked

pytestmark = pytest.mark.django_db

GOOD = "correct-horse-battery"


def _login(client: Client, username: str, password: str, acknowledge: bool = True):
    data = {"username": username, "password": password}
    if acknowledge:
        data["acknowledge"] = "on"
    return client.post("/login/", data)


def test_sign_in_requires_acknowledging_the_banner(make_staff):
    make_staff("telecommunicator", username="tc")
    client = Client()
    page = client.get("/login/")
    assert b"criminal justice information system" in page.content
    response = _login(client, "tc", GOOD, acknowledge=False)
    assert response.status_code == 200
    assert b"Acknowledge the notice to sign in." in response.content
    assert _login(client, "tc", GOOD).status_code == 302


def test_five_bad_passwords_lock_the_account_even_against_the_right_password(make_staff):
    make_staff("telecommunicator", username="tc")
    client = Client()
    for _ in range(5):
        _login(client, "tc", "wrong-password")
    assert account_is_locked(username="tc")
    response = _login(Client(), "tc", GOOD)
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in Client().session


def test_a_supervisor_unlocks_a_locked_account(make_staff):
    make_staff("telecommunicator", username="tc")
    supervisor = make_staff("supervisor", username="sup")
    for _ in range(5):
        _login(Client(), "tc", "wrong-password")
    assert account_is_locked(username="tc")

    # a telecommunicator may not unlock
    peer = Client()
    peer.force_login(make_staff("telecommunicator", username="peer"))
    assert peer.post("/accounts/unlock/", {"username": "tc"}).status_code == 403
    assert account_is_locked(username="tc")

    boss = Client()
    boss.force_login(supervisor)
    assert b"tc" in boss.get("/accounts/locked/").content
    assert peer.get("/accounts/locked/").status_code == 403
    boss.post("/accounts/unlock/", {"username": "tc"})
    assert not account_is_locked(username="tc")
    assert _login(Client(), "tc", GOOD).status_code == 302


def test_failures_older_than_fifteen_minutes_do_not_count(make_staff):
    make_staff("telecommunicator", username="tc")
    for _ in range(4):
        _login(Client(), "tc", "wrong-password")
    AccessFailureLog.objects.filter(username="tc").update(attempt_time=timezone.now() - timedelta(minutes=16))
    _login(Client(), "tc", "wrong-password")
    assert not account_is_locked(username="tc")
    assert _login(Client(), "tc", GOOD).status_code == 302


def test_the_console_is_for_floor_staff_only(make_staff):
    anonymous = Client().get("/console/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    partner = Client()
    partner.force_login(make_staff("partner", agency_code="CPD"))
    assert partner.get("/console/").status_code == 403
    staff = Client()
    staff.force_login(make_staff("telecommunicator"))
    assert staff.get("/console/").status_code == 200


def test_events_api_requires_a_valid_after(make_staff):
    client = Client()
    client.force_login(make_staff("telecommunicator"))
    bad = client.get("/api/v1/events/?after=abc")
    assert bad.status_code == 400
    assert bad.json()["field"] == "after"
    assert Client().get("/api/v1/events/?after=0").status_code == 403
