"""Shared fixtures: real PostgreSQL (pytest-django's test database), real Redis, real processes."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.processes import RelayThread, start_worker, stop_process

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture
def relay(transactional_db):
    """The journal relay running against the test database while the test runs."""
    thread = RelayThread().start()
    yield thread
    thread.stop()


@pytest.fixture
def test_database_url(transactional_db) -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}{':' + s['PASSWORD'] if s['PASSWORD'] else ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(test_database_url):
    """A real Celery worker process using the test database and the configured Redis broker."""
    from django.conf import settings

    proc = start_worker({"DATABASE_URL": test_database_url, "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE})
    yield proc
    stop_process(proc)


@pytest.fixture
def make_staff(db):
    from pscc.services import roles_ensure, staff_account_ensure

    roles_ensure()
    counter = {"n": 0}

    def make(role: str = "telecommunicator", *, username: str | None = None, password: str = "correct-horse-battery",
             agency_code: str = ""):
        counter["n"] += 1
        return staff_account_ensure(
            username=username or f"{role}{counter['n']}", role=role, password=password, agency_code=agency_code,
            first_name="Test", last_name=role.title(),
        )

    return make


def pytest_collection_modifyitems(config, items):
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main thread
    # for the rest of the session, after which `async_to_sync` (socket tests) cannot run there.
    items.sort(key=lambda item: "browser" in item.keywords)
    # Browser tests need Debian's chromium (Playwright cannot download its own browser here).
    if shutil.which("chromium") or os.environ.get("PSCC_CHROMIUM"):
        return
    skip = pytest.mark.skip(reason="chromium is not installed: apt-get install chromium (CI installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# --- A real ASGI server (daphne) on the test database, for sockets and browser tests -------------
@pytest.fixture
def asgi_live_server(test_database_url, relay):
    """daphne serving pscc.asgi on a free port, on the test database, with the relay running."""
    import subprocess
    import sys

    from django.conf import settings

    from tests.support.processes import ROOT, free_port, wait_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url,
        "REDIS_URL": settings.REDIS_URL,
        "PSCC_CHANNEL_PREFIX": settings.PSCC_CHANNEL_PREFIX,
        "PSCC_ENV": "development",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "pscc.asgi:application"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("PSCC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
    }


@pytest.fixture
def console_login():
    """Sign a Playwright page in through the real login form (banner acknowledged)."""

    def login(page, base_url: str, username: str, password: str = "correct-horse-battery"):
        page.goto(f"{base_url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.check("#id_acknowledge")
        page.click("#sign-in")
        page.wait_for_url(f"{base_url}/console/")
        page.wait_for_selector("#conn-state[data-state='connected']", timeout=15000)
        page.wait_for_selector("#floor[data-last-seq]", state="attached", timeout=15000)  # snapshot applied
        return page

    return login


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Playwright's own waiting helpers evaluate strings in the page, which the product's CSP
    # (no eval) forbids; the CSP itself is tested with a context that does not bypass it.
    return {**browser_context_args, "bypass_csp": True}
