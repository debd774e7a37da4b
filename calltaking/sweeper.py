"""Sweeper for call-taking's background rows: enqueue what is due, release what is stuck."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calltaking.models import CallbackAttempt, Job, MisrouteReport, Rebid, SubscriberSearch, SupplementalLocation
from calltaking.services import CALLBACK_TASK, MISROUTE_TASK, REBID_TASK, SEARCH_TASK, SUPPLEMENTAL_TASK, enqueue

JOBS = ((CallbackAttempt, CALLBACK_TASK), (Rebid, REBID_TASK), (SubscriberSearch, SEARCH_TASK),
        (SupplementalLocation, SUPPLEMENTAL_TASK), (MisrouteReport, MISROUTE_TASK))


def sweep_calltaking() -> int:
    """A claim older than PSCC_JOB_STUCK_SECONDS belongs to a dead worker: the row becomes due
    again. The work is idempotent at the outside system (Idempotency-Key), so it is not repeated."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.PSCC_JOB_STUCK_SECONDS)
    count = 0
    for model, task in JOBS:
        model.objects.filter(state=Job.State.RUNNING, claimed_at__lt=stuck_before).update(
            state=Job.State.DUE, claimed_at=None, scheduled_at=now)
        with transaction.atomic():
            for pk in model.objects.filter(state=Job.State.DUE, scheduled_at__lte=now).values_list("pk", flat=True)[:500]:
                enqueue(task, pk)
                count += 1
    from calltaking.sop import line_checks_due

    return count + line_checks_due()
