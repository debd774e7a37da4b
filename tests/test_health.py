"""/healthz reports every part and goes 503 while Redis is down, 200 when it is back; nothing lost."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.db import transaction
from django.test import Client

from pscc.journal import journal_append
from pscc.models import JournalEvent, RelayCursor
from tests.support.processes import ROOT, PrivateRedis, RelayThread, start_worker, stop_process

pytestmark = pytest.mark.django_db(transaction=True)


def _poll(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout} s (last: {last})")


def test_healthz_is_503_while_redis_is_down_and_200_when_it_returns_with_nothing_lost(
    tmp_path, settings, test_database_url
):
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    settings.REDIS_URL = redis_server.url
    env = {"DATABASE_URL": test_database_url, "REDIS_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url,
           "PSCC_WORKER_HEARTBEAT_SECONDS": "1", "PSCC_CHANNEL_PREFIX": settings.PSCC_CHANNEL_PREFIX}
    worker = start_worker(env)
    import os

    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pscc", "beat", "-l", "WARNING", "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True,
    )
    relay = RelayThread().start()
    client = Client()
    try:
        # given: everything up
        healthy = _poll(lambda: client.get("/healthz").status_code == 200 and client.get("/healthz"), 60, "healthz 200")
        body = healthy.json()
        assert set(body["checks"]) == {"postgres", "redis", "worker", "beat", "relay"}

        # when: Redis dies
        redis_server.kill()
        down = client.get("/healthz")
        assert down.status_code == 503
        assert down.json()["checks"]["redis"]["ok"] is False
        assert down.json()["checks"]["postgres"]["ok"] is True
        # and the floor keeps committing to PostgreSQL meanwhile
        for n in range(5):
            with transaction.atomic():
                journal_append(kind="test.during_outage", payload={"n": n})
        committed = set(JournalEvent.objects.filter(kind="test.during_outage").values_list("id", flat=True))
        assert len(committed) == 5

        # then: Redis returns on the same port and health comes back
        redis_server.start()
        _poll(lambda: client.get("/healthz").status_code == 200, 60, "healthz back to 200")
        # nothing committed was lost: every event is numbered and pushed
        _poll(lambda: not JournalEvent.objects.filter(seq__isnull=True).exists(), 20, "all events numbered")
        cursor = _poll(lambda: (c := RelayCursor.objects.get(name="floor")).published_seq == c.last_seq and c, 20, "all events pushed")
        assert set(JournalEvent.objects.filter(kind="test.during_outage", seq__isnull=False).values_list("id", flat=True)) == committed
        assert cursor.last_seq >= 5
    finally:
        relay.stop()
        stop_process(beat)
        stop_process(worker)
        redis_server.stop()
