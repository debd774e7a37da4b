"""Sign-in rules: the acknowledged banner, and 5 failed attempts in 15 minutes lock the account.

django-axes counts failures and keeps the lock (until a supervisor or admin unlocks it). Axes' own
counter has no time window, so before each attempt the counter of an account that is not locked is
brought back to the number of failures inside the window, read from axes' per-failure log.
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog
from axes.utils import reset
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.utils import timezone

from pscc.journal import SUPERVISORS, journal_append


def lockout_window_apply(*, username: str) -> None:
    """Forget failures older than the lockout window for an account that is not yet locked."""
    since = timezone.now() - settings.PSCC_LOCKOUT_WINDOW
    recent = AccessFailureLog.objects.filter(username=username, attempt_time__gte=since).count()
    AccessAttempt.objects.filter(
        username=username, failures_since_start__lt=settings.AXES_FAILURE_LIMIT, failures_since_start__gt=recent
    ).update(failures_since_start=recent)


def account_is_locked(*, username: str) -> bool:
    return AccessAttempt.objects.filter(
        username=username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()


def account_unlock(*, username: str, actor) -> int:
    """Unlock a locked account (supervisor or admin); recorded on the floor journal."""
    with transaction.atomic():
        count = reset(username=username)
        journal_append(
            kind="account.unlocked",
            payload={"username": username, "by": actor.get_username()},
            actor=actor,
            entity=f"account:{username}",
            audience=(SUPERVISORS,),
        )
    return count


class BannerAuthenticationForm(AuthenticationForm):
    acknowledge = forms.BooleanField(
        required=True,
        label="I have read and accept the notice above",
        error_messages={"required": "Acknowledge the notice to sign in."},
    )

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            lockout_window_apply(username=username)
        return super().clean()
