"""Celery tasks of incidents."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="incidents.response_time_rollup", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def response_time_rollup() -> dict:
    """Recompute the last few complete local days of the response-time roll-up (idempotent)."""
    from incidents.rollup import NAME
    from pscc.rollup import rollup_recent_recompute

    return rollup_recent_recompute(name=NAME)
