"""In headless Chromium against a real ASGI server with MFA enforced: a supervisor signs in with a
TOTP code and reaches the board; an enrolment from the QR page works under the CSP; five wrong codes
lock the account."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from pscc.accounts import account_is_locked
from tests.security.conftest import PASSWORD, authenticator_for, current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def mfa_live_server(monkeypatch, request):
    """The daphne server of tests/conftest.py, started with MFA enforced (as in production)."""
    monkeypatch.setenv("PSCC_MFA_ENFORCE", "true")
    return request.getfixturevalue("asgi_live_server")


@pytest.fixture
def csp_page(browser):
    """A page whose context enforces the CSP, collecting any violation."""
    context = browser.new_context()
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda msg: page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()


def _password_step(page, base_url: str, username: str, password: str = PASSWORD, next_url: str = "/board/"):
    page.goto(f"{base_url}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.check("#id_acknowledge")
    page.click("#sign-in")


def test_a_supervisor_signs_in_with_a_totp_code_and_reaches_the_board(csp_page, mfa_live_server, make_staff):
    page = csp_page
    supervisor = make_staff("supervisor", username="sup-mfa")
    device = authenticator_for(supervisor)

    _password_step(page, mfa_live_server, "sup-mfa")
    page.wait_for_url(f"{mfa_live_server}/login/verify/**")
    page.fill("#id_code", current_code(device))
    page.click("#verify")

    page.wait_for_url(f"{mfa_live_server}/board/")
    page.wait_for_selector("#conn-state[data-state='connected']", timeout=15000)
    assert page.csp_violations == []


def test_a_supervisor_enrols_an_authenticator_from_the_qr_page_and_reaches_the_board(csp_page, mfa_live_server, make_staff):
    page = csp_page
    make_staff("supervisor", username="sup-new")

    _password_step(page, mfa_live_server, "sup-new")
    page.wait_for_url(f"{mfa_live_server}/login/enrol/**")
    assert page.locator("#mfa-qr svg").count() == 1
    secret = page.inner_text("#mfa-secret").strip()
    code = f"{TOTP(b32decode(secret)).token():06d}"  # what the phone app computes from the scanned key
    page.fill("#id_code", code)
    page.click("#confirm")

    assert page.locator("#recovery-codes li").count() == 10
    page.click("#continue")
    page.wait_for_url(f"{mfa_live_server}/board/")
    assert page.csp_violations == []


def test_five_wrong_codes_in_the_browser_lock_the_account(csp_page, mfa_live_server, make_staff):
    page = csp_page
    supervisor = make_staff("supervisor", username="sup-lock")
    authenticator_for(supervisor)

    _password_step(page, mfa_live_server, "sup-lock")
    page.wait_for_url(f"{mfa_live_server}/login/verify/**")
    for attempt in range(4):
        page.fill("#id_code", "000000")
        page.click("#verify")
        page.wait_for_selector("#mfa-error")
        assert not account_is_locked(username="sup-lock"), attempt
    page.fill("#id_code", "000000")
    page.click("#verify")

    page.wait_for_selector("text=Account locked")
    assert account_is_locked(username="sup-lock")
    # the right password no longer gets past the first step
    _password_step(page, mfa_live_server, "sup-lock")
    page.wait_for_selector("text=Account locked")
