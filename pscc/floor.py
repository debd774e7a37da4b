"""Snapshot providers: each app tells `pscc` how to describe its part of the floor.

`pscc` imports no domain app: `units`, `incidents`, `calltaking` and `text911` register a provider
from their `AppConfig.ready()`. A snapshot is built in one REPEATABLE READ transaction together with
the sequence number it corresponds to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

SnapshotProvider = Callable[[Any, frozenset[str]], Any]
_providers: dict[str, SnapshotProvider] = {}


def register_snapshot_provider(name: str, provider: SnapshotProvider) -> None:
    """`provider(user, audiences)` returns JSON-ready data visible to that user."""
    _providers[name] = provider


def snapshot_providers() -> dict[str, SnapshotProvider]:
    return dict(_providers)


def build_snapshot(user, audiences: frozenset[str]) -> dict:
    """The floor as `user` may see it, with the sequence number it is consistent with."""
    from pscc.models import RelayCursor

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        seq = RelayCursor.objects.filter(name="floor").values_list("last_seq", flat=True).first() or 0
        data = {name: provider(user, audiences) for name, provider in sorted(_providers.items())}
    return {"type": "snapshot", "seq": seq, "data": data}
