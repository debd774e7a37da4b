"""Appending to the event journal: the outbox every console, board and partner is fed from.

Services call `journal_append` inside their transaction. The row and a PostgreSQL NOTIFY commit (or
roll back) together with the change itself, so nothing is pushed that did not happen and nothing
that happened is left unpushed: the relay numbers and publishes committed rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from pscc.models import JournalEvent

NOTIFY_CHANNEL = "pscc_journal"
FLOOR = "floor"
SUPERVISORS = "supervisor"


def agency_audience(agency_code: str) -> str:
    return f"agency:{agency_code}"


def journal_append(
    *,
    kind: str,
    payload: dict[str, Any],
    actor=None,
    entity: str = "",
    audience: Iterable[str] = (FLOOR,),
) -> JournalEvent:
    """Append one event in the caller's transaction (required: called outside one it raises).

    The payload should carry the full current state of the entity it is about, so that applying an
    event twice, or after a snapshot that already includes it, leaves a console in the same state.
    """
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("journal_append must run inside transaction.atomic()")
    event = JournalEvent.objects.create(
        kind=kind,
        payload=payload,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        entity=entity,
        audience=sorted(set(audience)),
    )
    # The relay is woken by the journal's own trigger (pscc/migrations/0006_journal_notify_trigger.py):
    # a NOTIFY on NOTIFY_CHANNEL that PostgreSQL delivers only if and when this transaction commits.
    return event


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)
