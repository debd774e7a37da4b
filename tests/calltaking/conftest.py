"""Fixtures of the call-taking tests: the center's lines and call types, a CPE client, and the
simulators over HTTP with the adapters (here and in the worker subprocess) pointed at them."""

from __future__ import annotations

import time

import httpx
import pytest
from rest_framework.test import APIClient

CPE_TOKEN = "test-cpe-token-calltaking"

# Fast timings for tests; passed to this process (settings) and to the worker (environment).
FAST = {
    "PSCC_CALLBACK_SPACING_SECONDS": "2",
    "PSCC_JOB_RETRY_BASE_SECONDS": "0.5",
    "PSCC_JOB_MAX_TRIES": "3",
    "PSCC_ADAPTER_TIMEOUT_SECONDS": "1.5",
    "PSCC_WSP_POLL_SECONDS": "0.5",
    "PSCC_JOB_STUCK_SECONDS": "3",
    "PSCC_LINE_CHECK_SECONDS": "1",
}


@pytest.fixture
def center(db, settings):
    from calltaking.models import Line
    from incidents.calltypes import load_call_types

    settings.PSCC_CPE_TOKEN = CPE_TOKEN
    load_call_types()
    for n in range(1, 7):
        Line.objects.update_or_create(code=f"911-{n}", defaults={"kind": "911", "label": f"911 trunk {n}"})
    for n in range(1, 19):
        Line.objects.update_or_create(code=f"ADMIN-{n:02d}", defaults={"kind": "admin", "label": f"Admin {n}"})


@pytest.fixture
def cpe(center):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {CPE_TOKEN}")
    return client


@pytest.fixture
def staff_client(make_staff):
    def make(role="telecommunicator", username=None):
        user = make_staff(role, username=username)
        client = APIClient()
        client.force_authenticate(user)
        client.user = user
        return client

    return make


@pytest.fixture
def sim(settings, monkeypatch):
    """The simulators over HTTP; the adapters of this process and of a worker started after this
    fixture point at them."""
    from simulators import start_simulators

    running = start_simulators(port=0, cpe_token=CPE_TOKEN)
    base = running.base_url
    env = {
        "PSCC_ALI_URL": f"{base}/cpe", "PSCC_ALI_TOKEN": CPE_TOKEN, "PSCC_CPE_TOKEN": CPE_TOKEN,
        "PSCC_TELEPHONY_URL": f"{base}/telephony", "PSCC_WSP_URL": f"{base}/wsp",
        "PSCC_LOCATION_URL": f"{base}/location", **FAST,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        if name == "PSCC_JOB_MAX_TRIES":
            setattr(settings, name, int(value))
        elif name in FAST:
            setattr(settings, name, float(value))
        else:
            setattr(settings, name, value)
    running.control = httpx.Client(base_url=base, timeout=10)
    httpx.post(f"{base}/_control/wsp/config", json={"delay": 1.0})
    yield running
    running.control.close()
    running.stop()


@pytest.fixture
def worker(sim, celery_worker_process):
    """A Celery worker subprocess whose environment points at the simulators."""
    return celery_worker_process


@pytest.fixture
def product(sim, live_server, center):
    """The product served over HTTP (pytest-django's live server) and the CPE simulator ringing into it."""
    sim.control.post("/_control/config", json={"product_url": live_server.url, "cpe_token": CPE_TOKEN})
    return live_server


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
