"""The due-work sweeper: apps register a function that enqueues whatever is due or stuck.

Due times live in PostgreSQL (`scheduled_at` columns), never in long broker countdowns, so a lost
Redis message or a killed worker only delays work until the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
_sweepers: dict[str, Callable[[], int]] = {}


def register_sweeper(name: str, fn: Callable[[], int]) -> None:
    _sweepers[name] = fn


def run_sweepers() -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, fn in sorted(_sweepers.items()):
        try:
            counts[name] = fn()
        except Exception:
            log.exception("sweeper %s failed", name)
            counts[name] = -1
    return counts
