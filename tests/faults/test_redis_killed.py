"""Drill: Redis killed (SIGKILL) for 10 s under load, then restarted on the same port."""

from __future__ import annotations

import time

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
    warm_up,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def test_redis_killed_for_ten_seconds_loses_nothing_and_delivers_every_push_and_task_once(stack):
    tag = new_tag("rk")
    staff = staff_client(stack)
    session_id = f"{tag}-out"
    session_pk = text_session(stack, staff, session_id)
    console = Console(stack).start()
    load = Load(stack, tag).start()
    warm_up(load)

    # Inject: Redis dies without warning and stays down for 10 s.
    stack.redis.kill()
    killed_at = time.monotonic()
    outbound = []
    for n in range(3):  # outbound texts queued while the broker is gone: tasks that fall due during the outage
        text = f"Help is coming, stay on the line ({tag} {n})"
        r = staff.post(f"/api/v1/text911/sessions/{session_pk}/messages", json={"text": text})
        assert r.status_code == 200, r.text
        outbound.append(text)
    committed_during = {t.name: len(t.done) for t in load.tallies()}
    time.sleep(max(0.0, 10 - (time.monotonic() - killed_at)))  # the outage itself is the fault: 10 s
    committed_during = {k: len(t.done) - committed_during[k] for k, t in zip(committed_during, load.tallies())}
    stack.redis.start()

    counts = settle(stack, load, console)
    wait_until(lambda: stack.scalar("SELECT count(*) FROM text911_textmessage WHERE text = ANY(%s) AND state = 'sent'",
                                    [outbound]) == len(outbound), 60, "the outbound texts to be sent")
    at_tcc = texts_at_tcc(stack, session_id, outbound)
    states = dict(stack.sql("SELECT text, state FROM text911_textmessage WHERE text = ANY(%s)", [outbound]))
    counts["outbound texts (tasks)"] = {
        "sent": len(outbound), "committed": len(states), "delivered": sum(1 for v in at_tcc.values() if v),
        "lost": sum(1 for v in at_tcc.values() if v == 0), "duplicated": sum(v - 1 for v in at_tcc.values() if v > 1),
    }
    console.stop()
    staff.close()
    lines = [f"injected: Redis SIGKILL, down {10:.0f} s, restarted on port {stack.redis.port} (empty)",
             f"committed while Redis was down: {committed_during}",
             *count_lines(counts),
             f"outbound text rows after recovery: {sorted(set(states.values()))}"]
    report_counts("drill 1 — Redis killed for 10 s", lines)
    assert_nothing_lost_or_duplicated(counts)
    assert all(n > 0 for n in committed_during.values()), f"intake stopped while Redis was down: {committed_during}"
    assert set(states.values()) == {"sent"}
