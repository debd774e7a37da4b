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
