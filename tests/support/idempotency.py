"""Holding a request in flight for idempotency tests, with PostgreSQL itself (no mocks): another
connection locks the table the request writes, the request waits inside its transaction holding its
idempotency key, and a duplicate sent meanwhile meets the key's lock."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from django.db import connections

from pscc.idempotency import LOCK_CLASS


@contextmanager
def table_locked(table: str, mode: str = "EXCLUSIVE"):
    """Hold `LOCK TABLE <table> IN <mode> MODE` from a separate connection until the block ends."""
    conn = connections.create_connection("default")
    conn.ensure_connection()
    conn.set_autocommit(False)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{table}" IN {mode} MODE')
        yield
    finally:
        conn.rollback()
        conn.close()


def idempotency_keys_held() -> int:
    """How many idempotency keys a transaction holds right now (PostgreSQL's advisory locks)."""
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted "
                           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                           [LOCK_CLASS])
            return cursor.fetchone()[0]
    finally:
        conn.close()


def wait_until_a_key_is_held(deadline_s: float = 20.0) -> None:
    end = time.monotonic() + deadline_s
    while idempotency_keys_held() == 0:
        assert time.monotonic() < end, "the first request never took its idempotency key"
        time.sleep(0.02)


class InFlight(threading.Thread):
    """Runs `send()` in a real thread with its own database connection; `.result` is its response."""

    def __init__(self, send) -> None:
        super().__init__(daemon=True)
        self.send = send
        self.result = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection

        try:
            self.result = self.send()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()

    def outcome(self, timeout: float = 30.0):
        self.join(timeout)
        assert not self.is_alive(), "the first request did not finish"
        if self.error is not None:
            raise self.error
        return self.result
