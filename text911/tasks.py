"""Background work of text to 911: delivering outbound rows to the TCC. Tasks take ids and call services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from text911.services import text_outbound_deliver, text_outbound_sweep


@shared_task(
    name="text911.deliver_outbound", ignore_result=True, acks_late=True, reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=30, max_retries=8,
    soft_time_limit=30, time_limit=45,
)
def deliver_outbound(message_pk: int) -> str:
    """Claim the row (conditional update), send it, record the result; a second run finds nothing to do."""
    return text_outbound_deliver(message_pk=message_pk)


@shared_task(name="text911.sweep_outbound", ignore_result=True, soft_time_limit=30, time_limit=45)
def sweep_outbound() -> int:
    return text_outbound_sweep()
