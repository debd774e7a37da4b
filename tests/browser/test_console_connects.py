"""A telecommunicator signs in through the real login page and sees the console connect live."""

from __future__ import annotations

import pytest
from django.db import transaction

from pscc.journal import journal_append

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_telecommunicator_signs_in_and_the_console_connects_and_follows_events(
    page, asgi_live_server, make_staff, console_login
):
    make_staff("telecommunicator", username="telecom")
    console_login(page, asgi_live_server, "telecom")
    assert "Connected" in page.inner_text("#conn-state")
    first = int(page.get_attribute("#floor", "data-last-seq"))

    with transaction.atomic():
        journal_append(kind="test.ping", payload={})
    page.wait_for_function(f"Number(document.getElementById('floor').dataset.lastSeq) > {first}", timeout=10000)
    assert page.inner_text("#last-seq") == str(first + 1)


def test_the_console_page_sends_a_content_security_policy_without_inline_script(browser, asgi_live_server, make_staff, console_login):
    make_staff("telecommunicator", username="telecom2")
    context = browser.new_context()  # enforces the CSP (the default fixtures bypass it)
    page = context.new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    console_login(page, asgi_live_server, "telecom2")
    response = page.request.get(f"{asgi_live_server}/console/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    page.reload()
    page.wait_for_selector("#conn-state[data-state='connected']")
    assert violations == []
    context.close()
