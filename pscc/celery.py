"""The Celery app. Periodic work is registered by each app's `ready()` through `register_periodic`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")

app = Celery("pscc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def register_periodic(name: str, task: str, seconds: float, **options) -> None:
    """Add a beat entry (one beat process runs them all)."""
    from django.conf import settings

    settings.CELERY_BEAT_SCHEDULE[name] = {"task": task, "schedule": seconds, "options": options}
    app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
