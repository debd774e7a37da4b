"""Drill: the Celery worker killed (SIGKILL) in the middle of a callback attempt, a subscriber search
and an outbound text; a new worker finishes each exactly once."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from tests.faults.harness import (
    Console,
    Load,
    assert_nothing_lost_or_duplicated,
    count_lines,
    new_tag,
    report_counts,
    settle,
    staff_client,
    text_session,
    texts_at_tcc,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

HOLD_SECONDS = 8  # the simulators hold each first answer this long: the kill lands mid-request


def ring(stack, scenario: str, call_id: str, ani: str, *, hangup: bool = False) -> int:
    r = stack.sim.control.post("/_control/cpe/ring", json={"scenario": scenario, "call_id": call_id, "line": "911-2",
                                                           "ani": ani})
    assert r.status_code == 200 and r.json()["status_code"] == 201, r.text
    if hangup:
        stack.sim.control.post("/_control/cpe/event", json={"call_id": call_id, "event": "abandoned"}).raise_for_status()
    return stack.scalar("SELECT id FROM calltaking_call WHERE cpe_call_id = %s", [call_id])


def act(client, url: str, body: dict | None = None) -> dict:
    r = client.post(url, json=body or {})
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    return r.json()


def requests_to(stack, service: str, path: str) -> list[dict]:
    log = stack.sim.control.get("/_control/requests", params={"service": service}).json()["requests"]
    return [r for r in log if r["path"].startswith(path) and r["method"] == "POST"]


def test_a_worker_killed_mid_callback_search_and_text_finishes_each_exactly_once_on_a_new_worker(stack):
    tag = new_tag("wk")
    staff = staff_client(stack, timeout=30)
    session_id = f"{tag}-out"
    session_pk = text_session(stack, staff, session_id)
    stack.sim.control.post("/_control/wsp/config", json={"delay": 1.0}).raise_for_status()
    console = Console(stack).start()
    load = Load(stack, tag, interval=0.3).start()

    # The three outside systems each hold their first answer back, so the worker is mid-request in all three.
    for service in ("telephony", "wsp", "tcc"):
        stack.sim.control.post("/_control/behaviour", json={"service": service, "mode": "timeout",
                                                            "delay": HOLD_SECONDS, "count": 1}).raise_for_status()
    callback_number, search_ani = "3075550145", "3075550112"
    call_cb = ring(stack, "landline-residence-open-line", f"ring-{tag}-cb", callback_number, hangup=True)
    act(staff, f"/api/v1/calls/{call_cb}/answer/")
    act(staff, f"/api/v1/calls/{call_cb}/classify/", {"path": "landline_hangup"})
    call_ws = ring(stack, "wireless-phase1", f"ring-{tag}-ws", search_ani)
    act(staff, f"/api/v1/calls/{call_ws}/answer/")
    act(staff, f"/api/v1/calls/{call_ws}/classify/",
        {"path": "duress", "duress_code": "911W", "assessment": "Heavy breathing, a thud"})
    text = f"Officers are on the way to you ({tag})"
    act(staff, f"/api/v1/text911/sessions/{session_pk}/messages", {"text": text})

    wait_until(lambda: requests_to(stack, "telephony", "/telephony/v1/calls")
               and requests_to(stack, "wsp", "/wsp/v1/subscriber-searches")
               and [r for r in requests_to(stack, "tcc", "/tcc/v1/messages") if text in str(r.get("body"))],
               40, "the worker to be mid-request at all three outside systems")
    states_at_kill = {
        "callback": stack.scalar("SELECT state FROM calltaking_callbackattempt WHERE call_id = %s", [call_cb]),
        "search": stack.scalar("SELECT state FROM calltaking_subscribersearch WHERE call_id = %s", [call_ws]),
        "text": stack.scalar("SELECT state FROM text911_textmessage WHERE text = %s", [text]),
    }
    # Inject: the whole worker (main process and its pool) dies at once.
    worker = stack.procs.pop("worker")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    killed_at = time.monotonic()
    stack.start_worker("worker2")
    stack.wait_worker("worker2")

    def finished():
        cb = stack.sql("SELECT state FROM calltaking_callbackattempt WHERE call_id = %s", [call_cb])
        ss = stack.sql("SELECT state FROM calltaking_subscribersearch WHERE call_id = %s", [call_ws])
        tx = stack.sql("SELECT state FROM text911_textmessage WHERE text = %s", [text])
        return cb and ss and tx and cb[0][0] == "done" and ss[0][0] == "done" and tx[0][0] == "sent"

    wait_until(finished, 90, "the new worker to finish the callback, the search and the text")
    recovered_in = time.monotonic() - killed_at
    counts = settle(stack, load, console)
    console.stop()
    staff.close()

    placements = stack.sim.control.get("/_control/telephony/placements",
                                       params={"number": callback_number}).json()["total"]
    telephony_keys = Counter(r["headers"].get("Idempotency-Key") for r in requests_to(stack, "telephony", "/telephony/v1/calls"))
    wsp_keys = Counter(r["headers"].get("Idempotency-Key") for r in requests_to(stack, "wsp", "/wsp/v1/subscriber-searches"))
    at_tcc = texts_at_tcc(stack, session_id, [text])[text]
    attempts = stack.sql("SELECT count(*), max(outcome) FROM calltaking_callbackattempt WHERE call_id = %s", [call_cb])[0]
    narrated = stack.scalar(
        "SELECT count(*) FROM incidents_narrativeentry n JOIN calltaking_call c ON c.incident_id = n.incident_id "
        "WHERE c.id = %s AND n.text LIKE 'Callback attempt 1 of %%'", [call_cb])
    searches = stack.sql("SELECT count(*), max(result_status) FROM calltaking_subscribersearch WHERE call_id = %s", [call_ws])[0]
    out_rows = stack.scalar("SELECT count(*) FROM text911_textmessage WHERE text = %s", [text])
    counts["callback attempt"] = {"sent": 1, "rows": attempts[0], "delivered": placements,
                                  "lost": int(placements == 0), "duplicated": max(0, placements - 1) + max(0, narrated - 1),
                                  "gateway requests": sum(telephony_keys.values()), "idempotency keys": len(telephony_keys),
                                  "outcome": attempts[1], "narrative entries": narrated}
    counts["subscriber search"] = {"sent": 1, "rows": searches[0], "delivered": len(wsp_keys),
                                   "lost": int(not wsp_keys), "duplicated": max(0, len(wsp_keys) - 1) + max(0, searches[0] - 1),
                                   "WSP requests": sum(wsp_keys.values()), "result": searches[1]}
    counts["outbound text"] = {"sent": 1, "rows": out_rows, "delivered": at_tcc, "lost": int(at_tcc == 0),
                               "duplicated": max(0, at_tcc - 1) + max(0, out_rows - 1)}
    lines = [f"injected: SIGKILL to the Celery worker's process group while the callback, the subscriber search "
             f"and the outbound text were in flight (rows were {states_at_kill})",
             f"a new worker started; all three finished {recovered_in:.1f} s after the kill",
             *count_lines(counts)]
    report_counts("drill 3 — Celery worker killed mid-task", lines)
    # The kill landed mid-task: each request had reached its outside system and no row was finished.
    assert not {"done", "failed", "sent"} & set(states_at_kill.values()), states_at_kill
    assert_nothing_lost_or_duplicated(counts)
    assert placements == 1 and len(telephony_keys) == 1 and attempts[0] == 1 and narrated == 1
    assert len(wsp_keys) == 1 and searches[0] == 1 and searches[1] == "complete"
    assert at_tcc == 1 and out_rows == 1
