"""Celery tasks of call-taking: each takes an id, claims its row with a conditional update inside
the service it calls, and is safe to run twice. Due times live in `scheduled_at`; the sweeper
(`calltaking.registry`) re-enqueues due rows and releases claims held by a dead worker."""

from __future__ import annotations

from celery import shared_task

from calltaking import services, sop

COMMON = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True,
          "soft_time_limit": 45, "time_limit": 60}


@shared_task(name="calltaking.callback_attempt_run", **COMMON)
def callback_attempt_run(attempt_id: int) -> str:
    return services.callback_attempt_run(attempt_id)


@shared_task(name="calltaking.rebid_run", **COMMON)
def rebid_run(rebid_id: int) -> str:
    return services.rebid_run(rebid_id)


@shared_task(name="calltaking.subscriber_search_run", **COMMON)
def subscriber_search_run(search_id: int) -> str:
    return services.subscriber_search_run(search_id)


@shared_task(name="calltaking.supplemental_location_run", **COMMON)
def supplemental_location_run(location_id: int) -> str:
    return services.supplemental_location_run(location_id)


@shared_task(name="calltaking.misroute_report_send", **COMMON)
def misroute_report_send(report_id: int) -> str:
    return services.misroute_report_send(report_id)


@shared_task(name="calltaking.misroute_reports_purge", **COMMON)
def misroute_reports_purge() -> int:
    return services.misroute_reports_purge()


@shared_task(name="calltaking.line_checks", **COMMON)
def line_checks() -> int:
    return sop.line_checks_due()


@shared_task(name="calltaking.answer_time_rollup", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def answer_time_rollup() -> dict:
    """Recompute the last few complete local days of the answer-time roll-up (idempotent)."""
    from calltaking.rollup import NAME
    from pscc.rollup import rollup_recent_recompute

    return rollup_recent_recompute(name=NAME)
