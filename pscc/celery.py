"""The Celery app. Periodic work is registered by each app's `ready()` through `register_periodic`."""

from __future__ import annotations

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")


class HistoryContextTask(Task):
    """Every task runs inside a django-pghistory context naming the task, so a history row written by
    background work says which task (and which run of it) made the change, as request rows name the
    user and URL."""

    def __call__(self, *args, **kwargs):
        import pghistory

        with pghistory.context(celery_task=self.name, celery_task_id=self.request.id):
            return super().__call__(*args, **kwargs)


app = Celery("pscc", task_cls=HistoryContextTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def register_periodic(name: str, task: str, seconds: float, **options) -> None:
    """Add a beat entry (one beat process runs them all)."""
    from django.conf import settings

    settings.CELERY_BEAT_SCHEDULE[name] = {"task": task, "schedule": seconds, "options": options}
    app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
