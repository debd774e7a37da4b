"""Idempotency keys for the POSTs that create something from outside the center: CPE call intake
(the CPE's call id), TCC inbound (the TCC's message id) and partner unit status updates (the
partner's `Idempotency-Key` header).

One rule for all three, decided by PostgreSQL:
- The first request under a key runs, and its answer (status and body) is recorded in the same
  transaction as its effect: a crash or a lost database loses both or neither.
- A later retry with the same request gets the first answer again, and nothing is done twice.
- The same key with a different request: 422 naming the key (the client has a bug).
- A duplicate that arrives while the first is still running: 409 at once, without waiting. The
  first holds a transaction-scoped advisory lock on (scope, key) (`pg_try_advisory_xact_lock`);
  the unique constraint on (scope, key) backs it up.

Only answers below 400 are recorded: a refused request changed nothing, so its retry is judged
afresh. Records are purged after PSCC_IDEMPOTENCY_KEEP_HOURS by the sweeper; after that the natural
keys (Call.cpe_call_id, TextMessage.tcc_message_id) still stop a duplicate row.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from pscc.errors import Conflict, ServiceError, Unprocessable
from pscc.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Two-int advisory locks live in their own key space (the relay's single bigint lock cannot collide).
LOCK_CLASS = 0x1DE0
KEY_PATTERN = re.compile(r"[!-~]{1,200}")  # printable ASCII, no spaces


@dataclass(frozen=True)
class IdempotentAnswer:
    status: int
    body: object
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def idempotency_key_from_header(request) -> str | None:
    """The request's `Idempotency-Key` header: None when absent, 400 naming it when malformed."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not KEY_PATTERN.fullmatch(raw):
        raise ServiceError(f"{HEADER} must be 1-200 printable ASCII characters without spaces.", field=HEADER)
    return raw


def request_fingerprint(*, method: str, path: str, data: object) -> str:
    """SHA-256 of what the request asks for: method, path and the parsed body (key order ignored)."""
    if hasattr(data, "lists"):  # a form QueryDict: every value of every field
        data = {k: v for k, v in data.lists()}
    canonical = json.dumps([method.upper(), path, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_id(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def idempotent_answer(*, scope: str, key: str, key_field: str, fingerprint: str,
                      produce: Callable[[], tuple[int, object]]) -> IdempotentAnswer:
    """Run `produce` (which does the work and returns (status, JSON body)) once per (scope, key).

    Guarantees: the effect and the recorded answer commit together; a retry with the same fingerprint
    returns the first answer (replayed=True) without running `produce`; the same key with another
    fingerprint raises Unprocessable (422) naming `key_field`; a duplicate while the first holds the key
    raises Conflict (409) naming `key_field`, without waiting. Errors from `produce` roll everything back
    and are not recorded."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_CLASS, _lock_id(scope, key)])
            (locked,) = cursor.fetchone()
        if not locked:
            raise Conflict(f"A request with this {key_field} is still being processed; retry when it has finished.",
                           field=key_field, code="idempotency_in_flight")
        first = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if first is not None:
            if first.fingerprint != fingerprint:
                raise Unprocessable(f"This {key_field} was already used for a different request; use a new "
                                    f"{key_field} for a new request.", field=key_field, code="idempotency_key_reused")
            return IdempotentAnswer(first.response_status, first.response_body, replayed=True)
        status, body = produce()
        # What is recorded is what is answered, byte for byte on replay.
        body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        if status < 400:
            IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=fingerprint,
                                             response_status=status, response_body=body)
        return IdempotentAnswer(status, body)


def idempotency_records_purge(*, now=None) -> int:
    """Delete recorded answers older than PSCC_IDEMPOTENCY_KEEP_HOURS (idempotent; the sweeper calls it)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.PSCC_IDEMPOTENCY_KEEP_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
