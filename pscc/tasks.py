"""Center-wide background work: liveness of the worker and beat, and the due-work sweeper."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from pscc.models import ServiceHeartbeat
from pscc.sweeper import run_sweepers


@shared_task(name="pscc.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat, run by a worker: the queue flows end to end while this row is fresh."""
    ServiceHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": timezone.now(), "detail": {}})


@shared_task(name="pscc.sweep", ignore_result=True)
def sweep() -> dict:
    """Re-enqueue due or stuck work of every app (each sweeper is idempotent)."""
    return run_sweepers()


@shared_task(name="pscc.report_export_build", ignore_result=True, acks_late=True)
def report_export_build(export_id: int) -> None:
    from pscc.reports import report_export_build as build

    build(export_id)


@shared_task(name="pscc.accounts_disable_idle", ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=180)
def accounts_disable_idle() -> list[str]:
    """Disable accounts unused for PSCC_ACCOUNT_IDLE_DAYS; their sessions and sockets end (idempotent)."""
    from pscc.accounts import accounts_disable_idle as disable

    return disable()


@shared_task(name="pscc.audit_purge", ignore_result=True, acks_late=True, soft_time_limit=300, time_limit=360)
def audit_purge() -> int:
    """Retention: delete caller-data access records older than PSCC_AUDIT_RETENTION_DAYS (idempotent)."""
    from pscc.audit import caller_data_access_purge

    return caller_data_access_purge()
