"""Background work of units: partner webhook delivery (ids in, services do the work, safe to run twice)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="units.webhook_deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=60, time_limit=90)
def webhook_deliver(subscription_id: int) -> int:
    """Send a subscription's due events in order (the claim makes a concurrent second run a no-op)."""
    from units.webhooks import webhook_deliver_due

    return webhook_deliver_due(int(subscription_id))


@shared_task(name="units.webhooks_sweep", ignore_result=True, soft_time_limit=30, time_limit=45)
def webhooks_sweep() -> int:
    from units.webhooks import webhooks_sweep as sweep

    return sweep()
