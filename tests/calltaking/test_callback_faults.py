"""Callback attempts under faults: a worker killed mid-attempt, a gateway that times out."""

from __future__ import annotations

import os
import signal

import pytest

from calltaking.models import CallbackAttempt
from incidents.models import NarrativeEntry
from tests.calltaking.conftest import wait_until
from tests.calltaking.test_sop_paths import act, desk, ring  # noqa: F401  (desk is a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def patient_adapters(sim, settings, monkeypatch):
    """The worker waits long enough on the gateway for the test to kill it mid-request."""
    monkeypatch.setenv("PSCC_ADAPTER_TIMEOUT_SECONDS", "20")
    settings.PSCC_ADAPTER_TIMEOUT_SECONDS = 20.0


def placements(sim, number):
    return sim.control.get("/_control/telephony/placements", params={"number": number}).json()["total"]


def test_a_worker_killed_mid_attempt_neither_loses_nor_repeats_the_callback(
        product, sim, patient_adapters, worker, desk, test_database_url):
    from calltaking.sweeper import sweep_calltaking
    from tests.support.processes import start_worker, stop_process

    # given the gateway places the call, then holds its answer back for 8 s
    sim.control.post("/_control/behaviour", json={"service": "telephony", "mode": "timeout", "delay": 8, "count": 1})
    call = ring(sim, "landline-residence-open-line", "CPE-KILL", "3075550145", hangup=True)
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    wait_until(lambda: sim.control.get("/_control/requests", params={"service": "telephony"}).json()["requests"],
               20, message="the gateway request")
    assert CallbackAttempt.objects.get(call=call).state == "running"
    # when the worker is killed in the middle of the attempt
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert placements(sim, "3075550145") == 1
    # then a new worker and the sweeper pick the stuck attempt up, with the same Idempotency-Key
    from django.conf import settings

    second = start_worker({"DATABASE_URL": test_database_url, "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE})
    try:
        wait_until(lambda: sweep_calltaking() >= 0 and CallbackAttempt.objects.get(call=call).state == "done",
                   40, 1.0, "the attempt to finish")
    finally:
        stop_process(second)
    attempt = CallbackAttempt.objects.get(call=call)
    assert attempt.outcome == "no_answer"
    assert placements(sim, "3075550145") == 1  # never placed twice
    keys = {r["headers"].get("Idempotency-Key") for r in
            sim.control.get("/_control/requests", params={"service": "telephony"}).json()["requests"]}
    assert keys == {attempt.idempotency_key}
    texts = NarrativeEntry.objects.filter(incident__number=attempt.incident.number).values_list("text", flat=True)
    assert sum(t.startswith("Callback attempt 1 of 1") for t in texts) == 1


def test_a_gateway_that_times_out_is_retried_then_fails_clearly_in_the_narrative(product, sim, worker, desk):
    sim.control.post("/_control/behaviour", json={"service": "telephony", "mode": "timeout", "delay": 4})
    call = ring(sim, "landline-residence-open-line", "CPE-TMO", "3075550135", hangup=True)
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    body = act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    wait_until(lambda: CallbackAttempt.objects.get(call=call).state == "failed", 40, message="the attempt to fail")
    attempt = CallbackAttempt.objects.get(call=call)
    assert attempt.tries == 3 and "no answer within 1.5 s" in attempt.last_error
    requests = sim.control.get("/_control/requests", params={"service": "telephony"}).json()["requests"]
    assert len(requests) == 3 and placements(sim, "3075550135") == 1  # same key every try
    texts = list(NarrativeEntry.objects.filter(incident__number=body["incident"]).values_list("text", flat=True))
    assert any("Callback attempt 1 of 1 to 3075550135 FAILED: telephony gateway: no answer within 1.5 s (after 3 tries)"
               in t for t in texts)
    assert any("recommends sending officers" in t for t in texts)  # the SOP's next step is proposed


def test_a_gateway_timeout_once_is_retried_and_the_stored_answer_is_used(product, sim, worker, desk):
    sim.control.post("/_control/behaviour", json={"service": "telephony", "mode": "timeout", "delay": 4, "count": 1})
    call = ring(sim, "landline-residence-open-line", "CPE-TMO1", "3075550138", hangup=True)
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/classify/", {"path": "landline_hangup"})
    wait_until(lambda: CallbackAttempt.objects.get(call=call).state == "done", 30, message="the attempt")
    attempt = CallbackAttempt.objects.get(call=call)
    assert attempt.tries == 1 and attempt.outcome == "voicemail_left"
    assert placements(sim, "3075550138") == 1


def test_a_subscriber_search_that_keeps_failing_is_escalated_to_the_supervisor(product, sim, worker, desk):
    from pscc.models import JournalEvent

    sim.control.post("/_control/behaviour", json={"service": "wsp", "mode": "error"})
    call = ring(sim, "wireless-phase1", "CPE-WSPX", "3075550112")
    act(desk, f"/api/v1/calls/{call.pk}/answer/")
    act(desk, f"/api/v1/calls/{call.pk}/classify/",
        {"path": "duress", "duress_code": "911W", "assessment": "Heavy breathing, a thud"})
    wait_until(lambda: call.subscriber_searches.filter(state="failed").exists(), 30, message="the escalation")
    search = call.subscriber_searches.get()
    assert search.tries == 3 and search.escalated_at is not None and "503" in search.last_error
    event = JournalEvent.objects.get(kind="call.subscriber_search_escalated")
    assert "supervisor" in event.audience
    assert call.checklist.filter(key="wsp_phone", state="open").exists()
