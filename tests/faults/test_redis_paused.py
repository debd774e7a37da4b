"""Drill: Redis paused (SIGSTOP) for 3 s under load, then continued (SIGCONT)."""

from __future__ import annotations

import threading
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

INTAKE_BUDGET_SECONDS = 2.0


def test_redis_paused_for_three_seconds_keeps_intake_within_budget_and_catches_up(stack):
    tag = new_tag("rp")
    staff = staff_client(stack, timeout=30)
    session_id = f"{tag}-out"
    session_pk = text_session(stack, staff, session_id)
    console = Console(stack).start()
    load = Load(stack, tag).start()
    warm_up(load)
    head_before = stack.head()

    # Inject: Redis stops answering (the process is frozen, its sockets stay open) for 3 s.
    marks = {t.name: len(t.latencies) for t in load.tallies()}
    stack.redis.pause()
    paused_at = time.monotonic()
    text = f"Stay where you are, help is coming ({tag})"
    sent: dict = {}

    def send_text() -> None:  # a console's send commits, then hands its delivery to the (frozen) broker
        started = time.monotonic()
        sent["response"] = staff.post(f"/api/v1/text911/sessions/{session_pk}/messages", json={"text": text})
        sent["seconds"] = time.monotonic() - started

    sender = threading.Thread(target=send_text)
    sender.start()
    time.sleep(max(0.0, 3 - (time.monotonic() - paused_at)))
    paused_for = time.monotonic() - paused_at
    during = {t.name: t.latencies[marks[t.name]:] for t in load.tallies()}
    committed_during = {t.name: sum(1 for _ in during[t.name]) for t in load.tallies()}
    stack.redis.resume()
    sender.join(30)
    assert sent["response"].status_code == 200, sent["response"].text

    counts = settle(stack, load, console)
    wait_until(lambda: stack.scalar("SELECT state FROM text911_textmessage WHERE text = %s", [text]) == "sent", 60,
               "the outbound text to be sent")
    at_tcc = texts_at_tcc(stack, session_id, [text])
    counts["outbound text (task)"] = {"sent": 1, "delivered": int(at_tcc[text] > 0), "lost": int(at_tcc[text] == 0),
                                      "duplicated": max(0, at_tcc[text] - 1)}
    worst = {name: max(lat, default=0.0) for name, lat in during.items()}
    console.stop()
    staff.close()
    lines = [f"injected: Redis SIGSTOP for {paused_for:.1f} s, then SIGCONT",
             f"requests answered while paused: {committed_during}; slowest (s): "
             + ", ".join(f"{k} {v:.2f}" for k, v in worst.items()) + f" (budget {INTAKE_BUDGET_SECONDS} s)",
             f"an outbound text sent while paused was answered in {sent['seconds']:.1f} s (its task waits for the broker)",
             f"events numbered after the pause began and pushed once Redis answered: {stack.head() - head_before}",
             *count_lines(counts)]
    report_counts("drill 2 — Redis paused for 3 s", lines)
    assert_nothing_lost_or_duplicated(counts)
    assert committed_during["calls"] > 0, "no call was answered while Redis was paused"
    for name, latency in worst.items():
        assert latency <= INTAKE_BUDGET_SECONDS, f"{name} took {latency:.2f} s while Redis was paused"
