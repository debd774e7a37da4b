"""The supervisor's live board: a ringing call with its timer, an unclaimed-text alert acknowledged
from the keyboard, and the answer-time figure moving when a call is answered late."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from calltaking.models import Call, Line
from calltaking.services import call_answer, call_receive
from pscc.models import SupervisorAlert
from text911.models import TextSession
from text911.services import text_unclaimed_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(150)]


def test_the_board_shows_a_ringing_call_an_unclaimed_text_alert_and_the_answer_time_figure(
    page, asgi_live_server, make_staff, console_login, settings
):
    now = timezone.now()
    if now.minute == 0 and now.second < 45:  # keep the late call inside the current clock hour
        time.sleep(46 - now.second)
    supervisor = make_staff("supervisor", username="sgt")
    telecom = make_staff("telecommunicator", username="tc")
    Line.objects.create(code="911-1", kind="911", label="911 Line 1")
    console_login(page, asgi_live_server, "sgt")
    page.goto(f"{asgi_live_server}/board/")
    page.wait_for_selector("#floor[data-last-seq]", state="attached")
    page.wait_for_selector("#compliance .figure[data-window='hour']", timeout=15000)
    before = page.inner_text("#compliance .figure[data-window='hour']")
    assert before.startswith("hour: 0 calls")

    # a 911 call rings: it appears with its timer counting
    call, _ = call_receive(cpe_call_id="board-1", line="911-1", ani="3075550142", class_of_service="RESD")
    page.wait_for_selector("#lines tr.ringing .timer", timeout=10000)
    first = page.inner_text("#lines tr.ringing .timer")
    time.sleep(2.2)
    assert page.inner_text("#lines tr.ringing .timer") != first
    # it has been ringing for 30 s by the time it is answered (the CAD's clock decides answer time)
    Call.objects.filter(pk=call.pk).update(ringing_at=timezone.now() - timedelta(seconds=30))

    # a text waits unclaimed past the threshold: the alert shows until a supervisor acknowledges it
    settings.PSCC_TEXT_UNCLAIMED_ALERT_SECONDS = 20
    TextSession.objects.create(tcc_session_id="board-text", from_number="3075559876",
                               started_at=timezone.now() - timedelta(seconds=25))
    assert text_unclaimed_sweep() == 1
    page.wait_for_selector("#alerts li.alert-critical", timeout=10000)
    assert "unclaimed" in page.inner_text("#alerts")
    page.keyboard.press("Alt+k")
    page.wait_for_selector("#alerts li", state="detached", timeout=10000)
    alert = SupervisorAlert.objects.get(kind="unclaimed_text")
    assert alert.acknowledged_by == supervisor and alert.acknowledged_at is not None

    # the call is answered 30 s after it rang: the hour's figure now counts it, outside 15 s
    call_answer(call_id=call.pk, actor=telecom)
    page.wait_for_function(
        "() => document.querySelector(\"#compliance .figure[data-window='hour']\").textContent.startsWith('hour: 1 calls')",
        timeout=15000,
    )
    after = page.inner_text("#compliance .figure[data-window='hour']")
    assert "0.0% within 15 s" in after and "below standard" in after
    page.wait_for_selector("#lines tr.ringing", state="detached", timeout=10000)
