"""Services of the shift supervisor: alerts to acknowledge, the pass-down log, positions on the floor.

Other apps raise alerts through `alert_raise` (idempotent on its key); supervisors acknowledge them
with `alert_acknowledge`. Every change is journaled to the supervisors' audience.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from pscc.errors import Conflict, Forbidden, NotFound, ServiceError
from pscc.journal import FLOOR, SUPERVISORS, journal_append
from pscc.models import PassDownEntry, PassDownRead, Position, PositionAssignment, SupervisorAlert
from pscc.roles import is_floor_staff, is_supervisor


def alert_as_dict(alert: SupervisorAlert) -> dict:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "text": alert.text,
        "entity": alert.entity,
        "data": alert.data,
        "raised_at": alert.raised_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by_id else None,
        "acknowledgement_note": alert.acknowledgement_note,
    }


def alert_raise(
    *, kind: str, dedupe_key: str, text: str, severity: str = SupervisorAlert.Severity.WARNING,
    entity: str = "", data: dict | None = None, actor=None,
) -> tuple[SupervisorAlert, bool]:
    """Raise an alert once per key; returns (alert, created). Safe to call twice or concurrently."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = SupervisorAlert.objects.create(
                    kind=kind, dedupe_key=dedupe_key, text=text[:500], severity=severity, entity=entity, data=data or {}
                )
        except IntegrityError:
            return SupervisorAlert.objects.get(dedupe_key=dedupe_key), False
        journal_append(kind="alert.raised", payload=alert_as_dict(alert), actor=actor, entity=f"alert:{alert.pk}",
                       audience=(FLOOR, SUPERVISORS))
    return alert, True


def alert_acknowledge(*, alert_id: int, actor, note: str = "") -> SupervisorAlert:
    """A supervisor acknowledges an alert: who and when are kept, and the board clears it."""
    if not is_supervisor(actor):
        raise Forbidden("Only a shift supervisor or an administrator acknowledges alerts.")
    with transaction.atomic():
        alert = SupervisorAlert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"No alert {alert_id}.", field="alert_id")
        if alert.acknowledged_at is not None:
            raise Conflict(f"Already acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at:%H:%M:%S}.", field="alert_id")
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.acknowledgement_note = (note or "").strip()[:300]
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note"])
        journal_append(kind="alert.acknowledged", payload=alert_as_dict(alert), actor=actor, entity=f"alert:{alert.pk}",
                       audience=(FLOOR, SUPERVISORS))
    return alert


def passdown_add(*, author, text: str, entity: str = "") -> PassDownEntry:
    if not is_floor_staff(author):
        raise Forbidden("Only floor staff write in the pass-down log.")
    text = (text or "").strip()
    if not text:
        raise ServiceError("The pass-down entry is empty.", field="text")
    with transaction.atomic():
        entry = PassDownEntry.objects.create(author=author, text=text[:4000], entity=entity)
        journal_append(kind="passdown.added", payload=passdown_as_dict(entry), actor=author, entity=f"passdown:{entry.pk}")
    return entry


def passdown_as_dict(entry: PassDownEntry) -> dict:
    return {"id": entry.pk, "author": entry.author.get_username(), "text": entry.text, "entity": entry.entity,
            "created_at": entry.created_at.isoformat()}


def passdown_mark_read(*, entry_id: int, user) -> PassDownRead:
    """Record that `user` read an entry (idempotent)."""
    entry = PassDownEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"No pass-down entry {entry_id}.", field="entry_id")
    read, _ = PassDownRead.objects.get_or_create(entry=entry, user=user)
    return read


def passdown_unread(*, user, since=None):
    qs = PassDownEntry.objects.exclude(reads__user=user).select_related("author")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.order_by("created_at")


def position_sign_on(*, user, position_code: str) -> PositionAssignment:
    """Sit `user` at a position; refused while someone else holds it (they must sign off or be relieved)."""
    if not is_floor_staff(user):
        raise Forbidden("Only floor staff sign on at a position.")
    with transaction.atomic():
        position = Position.objects.select_for_update().filter(code=position_code).first()
        if position is None:
            raise ServiceError(f"No position {position_code}.", field="position")
        holder = PositionAssignment.objects.filter(position=position, signed_off_at__isnull=True).first()
        if holder is not None and holder.user_id != user.pk:
            raise Conflict(f"{position_code} is held by {holder.user.get_username()}; they sign off or hand over first.", field="position")
        if holder is not None:
            return holder
        PositionAssignment.objects.filter(user=user, signed_off_at__isnull=True).update(signed_off_at=timezone.now())
        assignment = PositionAssignment.objects.create(position=position, user=user)
        journal_append(kind="position.signed_on", payload=_position_payload(assignment), actor=user,
                       entity=f"position:{position.code}")
    return assignment


def position_hand_over(*, user, relief, position_code: str) -> PositionAssignment:
    """Shift change at a position: `user` hands it to `relief` in one step (never left empty)."""
    if not is_floor_staff(relief):
        raise ServiceError("The relief must be floor staff.", field="relief")
    with transaction.atomic():
        position = Position.objects.select_for_update().filter(code=position_code).first()
        if position is None:
            raise ServiceError(f"No position {position_code}.", field="position")
        holder = PositionAssignment.objects.filter(position=position, signed_off_at__isnull=True).first()
        if holder is None or holder.user_id != user.pk:
            raise Conflict(f"{user.get_username()} does not hold {position_code}.", field="position")
        now = timezone.now()
        holder.signed_off_at = now
        holder.relieved_by = relief
        holder.save(update_fields=["signed_off_at", "relieved_by"])
        PositionAssignment.objects.filter(user=relief, signed_off_at__isnull=True).update(signed_off_at=now)
        assignment = PositionAssignment.objects.create(position=position, user=relief, signed_on_at=now)
        journal_append(kind="position.handed_over", payload={**_position_payload(assignment), "from": user.get_username()},
                       actor=user, entity=f"position:{position.code}")
    return assignment


def position_sign_off(*, user) -> None:
    with transaction.atomic():
        for assignment in PositionAssignment.objects.select_for_update().filter(user=user, signed_off_at__isnull=True):
            assignment.signed_off_at = timezone.now()
            assignment.save(update_fields=["signed_off_at"])
            journal_append(kind="position.signed_off", payload={**_position_payload(assignment), "user": None},
                           actor=user, entity=f"position:{assignment.position.code}")


def _position_payload(assignment: PositionAssignment) -> dict:
    return {"position": assignment.position.code, "user": assignment.user.get_username(),
            "since": assignment.signed_on_at.isoformat()}


def positions_board() -> dict:
    held = {a.position.code: a for a in PositionAssignment.objects.filter(signed_off_at__isnull=True).select_related("position", "user")}
    return {
        p.code: ({"position": p.code, "user": held[p.code].user.get_username(), "since": held[p.code].signed_on_at.isoformat()}
                 if p.code in held else {"position": p.code, "user": None, "since": None})
        for p in Position.objects.all()
    }


def open_alerts() -> list[dict]:
    return [alert_as_dict(a) for a in SupervisorAlert.objects.filter(acknowledged_at__isnull=True).select_related("acknowledged_by")]
