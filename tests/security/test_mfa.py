"""Multi-factor sign-in: enrolment with recovery codes, the verification step, and the lockout."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pscc.accounts import account_is_locked
from pscc.mfa import mfa_required
from tests.security.conftest import authenticator_for, current_code, sign_in_with_password, verified_client

pytestmark = pytest.mark.django_db


def _code_from(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return current_code(device)


def test_a_supervisor_without_an_authenticator_enrols_sees_recovery_codes_once_and_reaches_the_board(mfa_on, make_staff):
    # given: a supervisor with a password only
    make_staff("supervisor", username="sup")
    client = Client()

    # when: the password step succeeds
    response = sign_in_with_password(client, "sup", next_url="/board/")

    # then: the session goes to enrolment, and nothing else is reachable yet
    assert response.status_code == 302 and response["Location"].startswith("/login/enrol/")
    assert client.get("/board/")["Location"].startswith("/login/enrol/")
    assert client.get("/console/")["Location"].startswith("/login/enrol/")
    api = client.get("/api/v1/alerts/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"

    page = client.get("/login/enrol/?next=/board/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'id="mfa-secret"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script (CSP)"
    device = TOTPDevice.objects.get(user__username="sup", confirmed=False)

    # a wrong first code does not confirm it
    assert client.post("/login/enrol/", {"code": "000000", "next": "/board/"}).status_code == 400
    assert client.get("/board/").status_code == 302

    # the right code confirms it and shows ten recovery codes, once
    shown = client.post("/login/enrol/", {"code": _code_from(device), "next": "/board/"})
    assert shown.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", shown.content.decode())
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user__username="sup").count() == 10
    assert client.get("/board/").status_code == 200
    assert client.get("/api/v1/alerts/").status_code == 200
    # a verified session re-enrolling gets a new secret; the old codes are never shown again
    again = client.get("/login/enrol/").content.decode()
    assert not any(code in again for code in codes)


def test_a_supervisor_with_an_authenticator_signs_in_with_the_current_code(mfa_on, make_staff):
    supervisor = make_staff("supervisor", username="sup")
    device = authenticator_for(supervisor)
    client = Client()

    response = sign_in_with_password(client, "sup", next_url="/board/")
    assert response.status_code == 302 and response["Location"].startswith("/login/verify/")
    assert client.get("/board/")["Location"].startswith("/login/verify/")

    verified = client.post("/login/verify/", {"code": current_code(device), "next": "/board/"})
    assert verified.status_code == 302 and verified["Location"] == "/board/"
    assert client.get("/board/").status_code == 200
    # the same code cannot be replayed in another session
    other = Client()
    sign_in_with_password(other, "sup")
    assert other.post("/login/verify/", {"code": current_code(device)}).status_code == 400


def test_a_recovery_code_signs_in_once(mfa_on, make_staff):
    from pscc.mfa import recovery_codes_issue

    supervisor = make_staff("supervisor", username="sup")
    authenticator_for(supervisor)
    code = recovery_codes_issue(user=supervisor)[0]

    first = Client()
    sign_in_with_password(first, "sup")
    assert first.post("/login/verify/", {"code": code.upper()})["Location"] == "/console/"
    assert first.get("/board/").status_code == 200

    second = Client()
    sign_in_with_password(second, "sup")
    assert second.post("/login/verify/", {"code": code}).status_code == 400


def test_five_wrong_codes_lock_the_account_end_the_session_and_a_supervisor_unlocks_it(mfa_on, make_staff):
    supervisor = make_staff("supervisor", username="sup")
    device = authenticator_for(supervisor)
    boss = verified_client(make_staff("supervisor", username="boss"))
    client = Client()
    sign_in_with_password(client, "sup")

    for attempt in range(4):
        assert client.post("/login/verify/", {"code": "123456"}).status_code == 400, attempt
    assert not account_is_locked(username="sup")
    fifth = client.post("/login/verify/", {"code": "123456"})

    assert fifth.status_code == 429 and b"locked" in fifth.content
    assert account_is_locked(username="sup")
    assert client.get("/board/")["Location"].startswith("/login/")  # the half-signed-in session ended
    assert sign_in_with_password(Client(), "sup").status_code == 429  # even the right password

    # the existing supervisor unlock works for a code lockout too
    assert b"sup" in boss.get("/accounts/locked/").content
    boss.post("/accounts/unlock/", {"username": "sup"})
    assert not account_is_locked(username="sup")
    again = Client()
    assert sign_in_with_password(again, "sup")["Location"].startswith("/login/verify/")
    assert again.post("/login/verify/", {"code": _code_from(device)}).status_code == 302


def test_wrong_passwords_and_wrong_codes_count_together(mfa_on, make_staff):
    supervisor = make_staff("supervisor", username="sup")
    authenticator_for(supervisor)
    for _ in range(3):
        sign_in_with_password(Client(), "sup", password="wrong-password")
    client = Client()
    assert sign_in_with_password(client, "sup")["Location"].startswith("/login/verify/")
    client.post("/login/verify/", {"code": "111111"})
    assert not account_is_locked(username="sup")
    client.post("/login/verify/", {"code": "111111"})
    assert account_is_locked(username="sup")


def test_a_correct_password_does_not_forgive_earlier_wrong_codes(mfa_on, make_staff):
    supervisor = make_staff("supervisor", username="sup")
    authenticator_for(supervisor)
    client = Client()
    sign_in_with_password(client, "sup")
    for _ in range(4):
        client.post("/login/verify/", {"code": "222222"})
    retry = Client()
    assert sign_in_with_password(retry, "sup").status_code == 302
    retry.post("/login/verify/", {"code": "222222"})
    assert account_is_locked(username="sup")


def test_a_full_sign_in_forgives_earlier_failures(mfa_on, make_staff):
    supervisor = make_staff("supervisor", username="sup")
    device = authenticator_for(supervisor)
    client = Client()
    sign_in_with_password(client, "sup")
    for _ in range(4):
        client.post("/login/verify/", {"code": "333333"})
    assert client.post("/login/verify/", {"code": _code_from(device)}).status_code == 302
    later = Client()
    sign_in_with_password(later, "sup")
    later.post("/login/verify/", {"code": "333333"})
    assert not account_is_locked(username="sup")


def test_telecommunicators_use_mfa_only_when_the_console_setting_is_on(mfa_on, make_staff):
    telecommunicator = make_staff("telecommunicator", username="tc")
    assert not mfa_required(telecommunicator)
    client = Client()
    assert sign_in_with_password(client, "tc")["Location"] == "/console/"
    assert client.get("/console/").status_code == 200

    mfa_on.PSCC_MFA_FOR_CONSOLES = True
    assert mfa_required(telecommunicator)
    assert client.get("/console/")["Location"].startswith("/login/enrol/")


def test_without_enforcement_force_login_sessions_work_as_before(settings, make_staff):
    settings.PSCC_MFA_ENFORCE = False
    client = Client()
    client.force_login(make_staff("supervisor"))
    assert client.get("/board/").status_code == 200


def test_an_unverified_session_is_refused_by_the_floor_socket_and_a_verified_one_connects(mfa_on, make_staff, transactional_db):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from pscc.asgi import application

    supervisor = make_staff("supervisor", username="sup")
    half = Client()
    half.force_login(supervisor)
    full = verified_client(supervisor)

    async def connect(client):
        comm = WebsocketCommunicator(
            application, "/ws/floor/",
            headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"),
                     (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())],
        )
        connected, code = await comm.connect(timeout=10)
        await comm.disconnect()
        return connected, code

    assert async_to_sync(connect)(half) == (False, 4401)
    connected, _ = async_to_sync(connect)(full)
    assert connected
