"""Sign-in rules: the acknowledged banner, and 5 failed attempts in 15 minutes lock the account;
idle accounts are disabled, and a disabled account's sessions and floor sockets end at once.

django-axes counts failures and keeps the lock (until a supervisor or admin unlocks it). Axes' own
counter has no time window, so before each attempt the counter of an account that is not locked is
brought back to the number of failures inside the window, read from axes' per-failure log.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog
from axes.utils import reset
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import DateTimeField, Q
from django.db.models.functions import Coalesce, Greatest
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


def sign_in_succeeded(*, request, username: str) -> None:
    """The whole sign-in (password, and the second factor when required) succeeded: forget failures.

    Axes' own reset-on-success is off, because it fires on the password step and would let wrong
    codes be retried forever behind a correct password.
    """
    reset(username=username)


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


# -- disabled and idle accounts --------------------------------------------------------------------
def user_sessions_end(*, user) -> int:
    """Delete every stored session of this user (the database session backend); returns how many."""
    ended = 0
    user_pk = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            data = session.get_decoded()
        except Exception:
            continue
        if data.get("_auth_user_id") == user_pk:
            session.delete()
            ended += 1
    return ended


def account_disable(*, user, reason: str, actor=None) -> bool:
    """Disable a login: it cannot sign in, its sessions end now, and its floor sockets close now.

    The sockets close through the journal: every web process's floor hub receives `account.disabled`
    and closes that user's sockets (`pscc.hub`). Idempotent: an account already disabled is left as
    it is and False is returned.
    """
    from pscc.models import AccountActivity

    User = get_user_model()
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if not changed:
            return False
        now = timezone.now()
        AccountActivity.objects.update_or_create(
            user_id=user.pk, defaults={"disabled_at": now, "disabled_reason": reason[:200]}
        )
        user_sessions_end(user=user)
        journal_append(
            kind="account.disabled",
            payload={
                "user_id": user.pk, "username": user.get_username(), "is_active": False, "reason": reason,
                "disabled_at": now.isoformat(), "by": actor.get_username() if actor is not None else "",
            },
            actor=actor,
            entity=f"account:{user.get_username()}",
            audience=(SUPERVISORS,),
        )
    user.is_active = False
    return True


def account_enable(*, user, actor) -> None:
    """Re-enable a login; its idle period starts again now (recorded on the supervisors' journal)."""
    from pscc.models import AccountActivity

    User = get_user_model()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        now = timezone.now()
        AccountActivity.objects.update_or_create(user_id=user.pk, defaults={"enabled_at": now})
        journal_append(
            kind="account.enabled",
            payload={"user_id": user.pk, "username": user.get_username(), "is_active": True, "by": actor.get_username()},
            actor=actor,
            entity=f"account:{user.get_username()}",
            audience=(SUPERVISORS,),
        )
    user.is_active = True


def idle_accounts(*, now=None):
    """Selector: active logins whose last sign-in (or creation, or re-enabling) is older than the limit."""
    User = get_user_model()
    cutoff = (now or timezone.now()) - timedelta(days=settings.PSCC_ACCOUNT_IDLE_DAYS)
    last_activity = Greatest(
        Coalesce("last_login", "date_joined"),
        Coalesce("account_activity__enabled_at", "date_joined"),
        output_field=DateTimeField(),
    )
    return (
        User.objects.filter(is_active=True)
        .exclude(Q(username__in=settings.PSCC_ACCOUNT_IDLE_EXEMPT))
        .annotate(last_activity=last_activity)
        .filter(last_activity__lt=cutoff)
        .order_by("pk")
    )


def accounts_disable_idle(*, now=None) -> list[str]:
    """Disable every account unused for PSCC_ACCOUNT_IDLE_DAYS (90); safe to run twice."""
    disabled = []
    for user in idle_accounts(now=now):
        if account_disable(user=user, reason=f"unused for {settings.PSCC_ACCOUNT_IDLE_DAYS} days"):
            disabled.append(user.get_username())
    return disabled
