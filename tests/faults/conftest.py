"""Fault drills: a private PostgreSQL and Redis for the whole suite, a fresh database and fresh product
processes (daphne, relay, Celery worker and beat) for each drill."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.faults.harness import (
    CPE_TOKEN,
    REPORTS,
    TCC_SECRET,
    PrivatePostgres,
    RestartableRedis,
    Stack,
    seed,
)

TEMPLATE = "drill_template"


def pytest_terminal_summary(terminalreporter):
    if not REPORTS:
        return
    terminalreporter.section("fault drills: injected and counted")
    for title, lines in REPORTS:
        terminalreporter.write_line(title)
        for line in lines:
            terminalreporter.write_line(f"    {line}")


@pytest.fixture(scope="session")
def drill_services():
    """PostgreSQL and Redis of the drills' own (never the machine's), and a migrated, seeded template database."""
    root = Path(tempfile.mkdtemp(prefix="pscc-drills-"))
    root.chmod(0o755)  # PostgreSQL runs as `pgserver` when we are root and must reach its data folder
    pg = PrivatePostgres(root)
    redis = RestartableRedis(root)
    try:
        pg.init()
        pg.start()
        redis.start()
        pg.create_database(TEMPLATE)
        probe = Stack(root=root, pg=pg, redis=redis, database=TEMPLATE, sim=_NoSim(), seed={})
        data = seed(pg.url(TEMPLATE), probe.env())
        yield root, pg, redis, data
    finally:
        redis.stop()
        pg.stop()
        if not os.environ.get("PSCC_DRILL_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


class _NoSim:
    base_url = "http://127.0.0.1:9"


@pytest.fixture
def stack(drill_services, request):
    """A fresh copy of the seeded database, the simulators, and the product's processes on it.

    Parametrised indirectly, `request.param` is `(web server, extra environment for it)`."""
    import httpx

    from simulators import start_simulators

    root, pg, redis, data = drill_services
    if redis.proc is None or redis.proc.poll() is not None:
        redis.start()  # an earlier drill failed while Redis was down
    if pg.proc is None or pg.proc.poll() is not None:
        pg.start()  # an earlier drill failed while PostgreSQL was down
    name = f"drill_{uuid.uuid4().hex[:8]}"
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        # The copy carries the template's sequence pages as they are in memory (a value, plus values
        # "logged ahead"); until a checkpoint, nextval in the copy logs nothing, and crash recovery
        # would replay the copy and hand out those numbers again. A checkpoint makes the first
        # nextval log, as in any database that was not just copied.
        conn.execute("CHECKPOINT")
    sim = start_simulators(port=0, cpe_token=CPE_TOKEN, tcc_secret=TCC_SECRET)
    web_server, web_env = getattr(request, "param", ("daphne", {}))
    stack = Stack(root=root, pg=pg, redis=redis, database=name, sim=sim, seed=data, web_server=web_server,
                  web_env=web_env)
    sim.control = httpx.Client(base_url=sim.base_url, timeout=10)
    try:
        stack.start_all()
        sim.control.post("/_control/config", json={"product_url": stack.base_url, "cpe_token": CPE_TOKEN}).raise_for_status()
        sim.control.post("/_control/tcc/config", json={"reply_delay": 0.05, "retry_backoff": 0.2}).raise_for_status()
        yield stack
    finally:
        stack.stop_all()
        sim.control.close()
        sim.stop()
        if redis.proc is not None and redis.proc.poll() is None:
            redis.resume()
