"""The caller-data access log: who viewed or searched caller data, when, why and from where.

Other apps call `caller_data_access_record(...)` wherever caller data reaches a person (the ANI/ALI
on a console, a wireless subscriber search result, a manual ALI lookup, a text transcript, a records
search by phone number). The table is append-only in PostgreSQL itself (a trigger on
`pscc.CallerDataAccess` refuses UPDATE, DELETE and TRUNCATE from any client, the ORM and raw SQL
alike), so nothing in the application can edit or erase what was seen.

The one exception is the retention purge: rows older than `PSCC_AUDIT_RETENTION_DAYS` (at least a
year) are deleted by the periodic task `pscc.audit_purge`, the only code that runs inside
`pgtrigger.ignore("pscc.CallerDataAccess:append_only")`. Nothing else may use that ignore.
"""

from __future__ import annotations

from datetime import timedelta

import pgtrigger
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pscc.errors import ServiceError
from pscc.models import CallerDataAccess
from pscc.roles import role_of

KINDS = frozenset(CallerDataAccess.Kind.values)
APPEND_ONLY_TRIGGER = "pscc.CallerDataAccess:append_only"


def _client_ip(request) -> str | None:
    if request is None:
        return None
    ip = getattr(request, "axes_ip_address", None)
    if not ip:
        try:
            from axes.helpers import get_client_ip_address

            ip = get_client_ip_address(request)
        except Exception:
            ip = request.META.get("REMOTE_ADDR")
    return ip or None


def caller_data_access_record(
    *,
    user,
    kind: str,
    object_ref: str,
    reason: str = "",
    route: str = "",
    request=None,
    ip_address: str | None = None,
    detail: dict | None = None,
) -> CallerDataAccess:
    """Record that `user` saw caller data of `kind` about `object_ref`.

    Guarantees: one row, committed with the caller's transaction (if there is one); the user's name
    and role are copied so the record stays readable after the account changes; the route and IP
    address come from `request` when given. A kind outside the known list is refused (400) rather
    than recorded under a wrong label.
    """
    if kind not in KINDS:
        raise ServiceError(f"Unknown caller-data access kind {kind!r}.", field="kind")
    if not object_ref:
        raise ServiceError("Name what was accessed (object_ref).", field="object_ref")
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    role = role_of(user) if authenticated else None
    if request is not None and not route:
        route = f"{request.method} {request.path}"
    return CallerDataAccess.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        role=role.value if role else "",
        kind=kind,
        object_ref=object_ref[:200],
        reason=(reason or "")[:300],
        route=(route or "")[:300],
        ip_address=ip_address or _client_ip(request),
        detail=detail or {},
    )


def caller_data_access_purge(*, now=None) -> int:
    """Delete access records older than the retention period (never younger than a year).

    This is the only code path allowed past the append-only trigger; it deletes by age alone.
    """
    days = max(settings.PSCC_AUDIT_RETENTION_DAYS, 365)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic(), pgtrigger.ignore(APPEND_ONLY_TRIGGER):
        deleted, _ = CallerDataAccess.objects.filter(at__lt=cutoff).delete()
    return deleted


def caller_data_access_search(*, username: str = "", kind: str = "", object_ref: str = "", since=None, until=None):
    """Selector for the review page: newest first, filtered."""
    qs = CallerDataAccess.objects.all()
    if username:
        qs = qs.filter(username__iexact=username)
    if kind:
        qs = qs.filter(kind=kind)
    if object_ref:
        qs = qs.filter(object_ref__icontains=object_ref)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")
