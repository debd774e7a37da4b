"""Drill: a console stops reading while 500 events are published; it detects the gap and catches up,
the other consoles are not held back, and the server's memory stays bounded."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from tests.faults.harness import (
    Console,
    Load,
    assert_nothing_lost_or_duplicated,
    count_lines,
    new_tag,
    report_counts,
    settle,
    wait_until,
    warm_up,
)
from tests.support.processes import ROOT

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

EVENTS = 500
PAD = 16000  # bytes of payload per event: ~8 MB in all, more than the stalled console's buffers hold
RSS_BOUND_MB = 64  # what the server process may grow by while one console holds 500 events unread


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


@pytest.mark.parametrize("stack", [
    ("daphne", {}),
    # Production's server: it stops writing to a socket whose buffers are full, so a console that
    # does not read must not hold the hub back; with a small outbox the server also drops it (4408)
    # and the console comes back with ?after=N.
    ("uvicorn", {"PSCC_CONSOLE_OUTBOX_MAX": "200"}),
], ids=["daphne", "uvicorn-outbox-200"], indirect=True)
def test_a_console_that_stops_reading_during_500_events_catches_up_and_the_server_stays_bounded(stack):
    tag = new_tag("sc")
    healthy = Console(stack).start()
    stalled = Console(stack, max_queue=4, rcvbuf=64 * 1024).start()
    load = Load(stack, tag, interval=0.3).start()
    warm_up(load)
    web_pid = stack.procs["web"].pid
    rss_before = rss_mb(web_pid)

    # Inject: one console stops reading from its socket (a frozen tab); its buffers fill up.
    stalled.paused.set()
    stopped_at_seq = stalled.last
    head_before = stack.head()
    started = time.monotonic()
    pad = PAD
    subprocess.run([sys.executable, "-m", "tests.faults.publish", str(EVENTS), str(pad)], cwd=ROOT,
                   env=stack.env(), check=True, timeout=120)
    published_head = stack.head()
    assert published_head >= head_before + EVENTS
    # The other console is not held back by the one that does not read.
    wait_until(lambda: healthy.has(published_head), 60, "the healthy console to receive all 500 events")
    healthy_in = time.monotonic() - started
    rss_peak = rss_mb(web_pid)
    unread = published_head - stalled.last

    # The stalled console wakes: it sees the server is ahead of it and fetches the gap by number.
    fetched = stalled.catch_up_over_rest()
    stalled.paused.clear()
    counts = settle(stack, load, stalled)
    counts["healthy console"] = settle_console(stack, healthy)
    rss_after = rss_mb(web_pid)
    healthy.stop()
    stalled.stop()
    lines = [f"injected: one console stopped reading at seq {stopped_at_seq}; {EVENTS} events of ~{pad // 1000} kB "
             f"published (seq {head_before + 1}..{published_head}) plus the steady load",
             f"the healthy console had all of them {healthy_in:.1f} s after publishing began",
             f"the stalled console was {unread} events behind; it detected the gap and fetched {fetched} over "
             f"/api/v1/events/?after=N, then its socket resumed ({stalled.duplicates} buffered resends ignored)",
             f"server ({stack.web_server}) RSS: {rss_before:.0f} MB before, {rss_peak:.0f} MB with 500 events unread, "
             f"{rss_after:.0f} MB after (bound: +{RSS_BOUND_MB} MB)",
             *count_lines(counts)]
    if stack.web_env.get("PSCC_CONSOLE_OUTBOX_MAX"):
        lines.append(f"its outbox passed {stack.web_env['PSCC_CONSOLE_OUTBOX_MAX']} frames: the server closed it "
                     f"(4408) and it reconnected with ?after=N ({stalled.reconnects} reconnects)")
    report_counts(f"drill 5 — a console stops reading during 500 events ({stack.web_server})", lines)
    assert_nothing_lost_or_duplicated(counts)
    assert unread >= EVENTS and stalled.gaps_detected >= 1 and fetched >= EVENTS
    assert rss_peak - rss_before < RSS_BOUND_MB, f"{stack.web_server} grew {rss_peak - rss_before:.0f} MB"
    if stack.web_env.get("PSCC_CONSOLE_OUTBOX_MAX"):
        assert stalled.reconnects >= 1, "the server should have closed the console that stopped reading"


def settle_console(stack, console: Console) -> dict:
    head = stack.head()
    wait_until(lambda: console.has(head), 60, f"the healthy console to reach seq {head}")
    expected = stack.floor_seqs(console.snapshot_seq, head)
    got = [s for s in console.applied if s <= head]
    return {"sent": len(expected), "delivered": len(got), "lost": len(set(expected) - set(got)),
            "duplicated": len(got) - len(set(got)), "in_order": got == sorted(got),
            "gaps_detected": console.gaps_detected, "unexpected": sorted(set(got) - set(expected))[:5]}
