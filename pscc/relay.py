"""The journal relay: numbers committed events gap-free and publishes them to Redis.

Sequence numbers are assigned here, after commit, in the order the relay sees committed rows (by id
among those visible). A transaction that commits late simply gets a later number, so the delivery
sequence never skips a number even when transactions commit out of id order.

Only one relay runs at a time: it holds a PostgreSQL advisory lock; a second copy waits for it.
Publishing is best-effort and resumable: `RelayCursor.published_seq` records what reached Redis, so
after a Redis outage the relay publishes everything it missed, in order. Consoles also catch up from
PostgreSQL by sequence number, so a lost push delays an update and never loses it.
"""

from __future__ import annotations

import json
import logging
import select
import time

import psycopg
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from pscc.journal import NOTIFY_CHANNEL
from pscc.models import JournalEvent, RelayCursor, ServiceHeartbeat

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x50534343  # "PSCC"
BATCH = 1000

# Celery tasks the relay sends (at most once per PSCC_RELAY_WAKE_SECONDS) when it has numbered new
# events, so work that follows the journal (partner webhooks) starts at once instead of at the next
# beat sweep. The tasks must be idempotent; the sweeper stays the safety net if a wake is lost.
_wake_tasks: list[str] = []


def register_wake_task(name: str) -> None:
    if name not in _wake_tasks:
        _wake_tasks.append(name)


def wake_workers() -> int:
    """Send each registered wake task once; returns how many were sent."""
    from pscc.celery import app

    for name in _wake_tasks:
        app.send_task(name, retry=False)
    return len(_wake_tasks)


def journal_channel() -> str:
    return f"{settings.PSCC_CHANNEL_PREFIX}:journal"


def sequence_committed(*, batch: int = BATCH) -> int:
    """Give the next delivery numbers to committed, unnumbered events; returns how many."""
    return len(_number_committed(batch=batch)[1])


# One statement numbers a batch: it locks the cursor, numbers the oldest committed unnumbered rows in
# id order from `last_seq + 1`, advances the cursor and returns the numbered rows, in one round trip
# (it replaced BEGIN, four statements and COMMIT on the commit-to-console path). The relay is a
# singleton (advisory lock); the cursor's row lock keeps a second numberer out regardless.
_NUMBER_SQL = """
WITH cur AS (
    SELECT last_seq, published_seq FROM pscc_relaycursor WHERE name = 'floor' FOR UPDATE
), ranked AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n
    FROM (SELECT id FROM pscc_journalevent WHERE seq IS NULL ORDER BY id LIMIT %(batch)s) AS pending
), numbered AS (
    UPDATE pscc_journalevent AS e SET seq = cur.last_seq + ranked.n, sequenced_at = clock_timestamp()
    FROM ranked, cur WHERE e.id = ranked.id
    RETURNING e.id, e.seq, e.kind, e.created_at, e.sequenced_at, e.actor_id, e.actor_label, e.entity,
              e.audience, e.payload
), advanced AS (
    UPDATE pscc_relaycursor SET last_seq = last_seq + (SELECT count(*) FROM numbered), updated_at = %(now)s
    WHERE name = 'floor' AND EXISTS (SELECT 1 FROM numbered)
)
SELECT cur.last_seq, cur.published_seq, numbered.* FROM cur LEFT JOIN numbered ON TRUE ORDER BY numbered.seq
"""


def _number_committed(*, batch: int = BATCH) -> tuple[int, list[JournalEvent]]:
    """Number a batch of committed events (one statement, so one transaction).

    Returns the cursor's `published_seq` as it stood if everything numbered before was published
    (else -1), and the newly numbered events (full rows, in sequence order), so the caller can
    publish them without reading them back.
    """
    payload_field = JournalEvent._meta.get_field("payload")
    with connection.cursor() as cursor:
        cursor.execute(_NUMBER_SQL, {"batch": batch, "now": timezone.now()})  # `now`: the cursor's updated_at
        rows = cursor.fetchall()
    if not rows:  # no cursor row yet (a new database): create it and number on the next pass
        RelayCursor.objects.get_or_create(name="floor")
        return _number_committed(batch=batch)
    last_seq, published_seq = rows[0][0], rows[0][1]
    published_before = published_seq if published_seq == last_seq else -1
    events = [
        JournalEvent(id=r[2], seq=r[3], kind=r[4], created_at=r[5], sequenced_at=r[6], actor_id=r[7],
                     actor_label=r[8], entity=r[9], audience=r[10],
                     payload=payload_field.from_db_value(r[11], None, connection))
        for r in rows if r[2] is not None
    ]
    return published_before, events


def _publish(client: redis.Redis, events: list[JournalEvent]) -> None:
    channel = journal_channel()
    pipe = client.pipeline(transaction=False)
    for event in events:
        pipe.publish(channel, json.dumps(event.as_message(), separators=(",", ":")))
    pipe.execute()
    RelayCursor.objects.filter(name="floor", published_seq__lt=events[-1].seq).update(
        published_seq=events[-1].seq, updated_at=timezone.now()
    )


def publish_sequenced(client: redis.Redis, *, batch: int = BATCH) -> int:
    """Push numbered events not yet pushed to Redis, in order; returns how many were pushed."""
    cursor, _ = RelayCursor.objects.get_or_create(name="floor")
    events = list(
        JournalEvent.objects.filter(seq__gt=cursor.published_seq, seq__lte=cursor.last_seq).order_by("seq")[:batch]
    )
    if not events:
        return 0
    _publish(client, events)
    return len(events)


def relay_once(client: redis.Redis | None) -> tuple[int, int]:
    """One pass: number everything committed, then push what Redis has not seen.

    On the hot path (Redis caught up) each numbered batch is published straight from the rows just
    numbered, saving two round trips to PostgreSQL per commit; after an outage, or when a batch was
    numbered while Redis was behind, `publish_sequenced` replays from `published_seq` in order.
    """
    numbered = pushed = 0
    backlog = client is None
    while True:
        published_before, events = _number_committed()
        numbered += len(events)
        if events and not backlog and published_before == events[0].seq - 1:
            _publish(client, events)
            pushed += len(events)
        elif events:
            backlog = True
        if len(events) < BATCH:
            break
    if client is not None and (backlog or numbered == 0):  # catch up from published_seq
        while True:
            n = publish_sequenced(client)
            pushed += n
            if n < BATCH:
                break
    return numbered, pushed


def relay_lag_seconds() -> float:
    """How long the oldest committed event has waited for a number (0 when none waits)."""
    oldest = JournalEvent.objects.filter(seq__isnull=True).order_by("id").values_list("created_at", flat=True).first()
    if oldest is None:
        return 0.0
    return max(0.0, (timezone.now() - oldest).total_seconds())


def _listen_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    conn = psycopg.Connection.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return conn


def relay_session_settings(sender=None, connection=None, **kwargs) -> None:
    """The relay's own database session: no bitmap scans.

    Every journal row is inserted unnumbered and then updated once with its number, so the table and
    its `seq IS NULL` indexes fill with dead entries between vacuums. A bitmap scan for "the oldest
    unnumbered rows" visits every one of them, every time (measured: 17 ms per pass after a few tens of
    thousands of events, growing until autovacuum ran, all of it on the commit-to-console path). A
    plain index scan (the partial index `journal_unsequenced`, in id order) marks the dead entries it
    meets (`kill_prior_tuple`) and skips them from then on, so each pass pays only for what died since
    the last one."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")


def run_relay(*, stop=lambda: False, idle_wait: float = 0.5) -> None:
    """Run the relay loop until `stop()` is true. Holds the advisory lock while it runs."""
    from django.db.backends.signals import connection_created

    connection_created.connect(relay_session_settings, dispatch_uid="pscc-relay-session")
    if connection.connection is not None:  # already connected before the relay started
        relay_session_settings(connection=connection)
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    listen = None
    last_beat = 0.0
    last_wake = 0.0
    wake_pending = False
    redis_ok = True
    while not stop():
        try:
            if listen is None or listen.closed:
                listen = _listen_connection()
                log.info("relay: waiting for the relay lock")
                while not stop():
                    got = listen.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_KEY]).fetchone()[0]
                    if got:
                        break
                    time.sleep(1.0)
                log.info("relay: running")
            try:
                numbered, _ = relay_once(client)
                if not redis_ok:
                    log.warning("relay: Redis is back; published what it missed")
                redis_ok = True
            except redis.RedisError as exc:
                if redis_ok:
                    log.error("relay: Redis unavailable (%s); events stay numbered in PostgreSQL", exc)
                redis_ok = False
                numbered, _ = relay_once(None)
            wake_pending = wake_pending or numbered > 0
            now = time.monotonic()
            if wake_pending and redis_ok and now - last_wake >= settings.PSCC_RELAY_WAKE_SECONDS:
                wake_pending = False
                last_wake = now
                try:
                    wake_workers()
                except Exception as exc:  # the broker is unreachable: the beat sweeper catches up
                    log.warning("relay: could not wake workers (%s); the sweeper will pick the work up", exc)
            if now - last_beat > 5:
                ServiceHeartbeat.objects.update_or_create(
                    name="relay", defaults={"seen_at": timezone.now(), "detail": {"redis": redis_ok}}
                )
                last_beat = now
            # Sleep until a commit notifies us (or briefly, to retry Redis / catch a lost notify).
            ready, _, _ = select.select([listen.fileno()], [], [], idle_wait if redis_ok else 1.0)
            if ready:
                for _ in listen.notifies(timeout=0):
                    pass
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            log.error("relay: PostgreSQL connection lost (%s); reconnecting", exc)
            if listen is not None:
                listen.close()
            listen = None
            connection.close()
            time.sleep(1.0)
        except Exception as exc:  # a database error through the ORM: reconnect and carry on
            from django.db import Error as DjangoDbError

            if not isinstance(exc, DjangoDbError):
                raise
            log.error("relay: database error (%s); retrying", exc)
            connection.close()
            if listen is not None:
                listen.close()
            listen = None
            time.sleep(1.0)
    if listen is not None:
        listen.close()
