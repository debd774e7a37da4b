"""Writes of units: status changes (with history and the legal lifecycle), positions, status timers.

Every function changes rows and appends journal events in one transaction; the unit row is locked
(`select_for_update`) for the change. Apps above `units` (incidents) learn of status changes through
listeners registered with `register_status_listener`, called inside the same transaction, so a unit's
status and its incident move together or not at all. Lock order everywhere: units (by pk), then the
incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from pscc.errors import ServiceError
from pscc.journal import FLOOR, agency_audience, journal_append
from units.models import StatusTimer, Unit, UnitStatus, UnitStatusChange, UnitTimerAlert, UnitType
from pscc.supervision import alert_raise
from units.selectors import timer_alert_as_dict, unit_as_dict, unit_board

log = logging.getLogger(__name__)

S = UnitStatus
# The unit status lifecycle: from each status, where a unit may go next.
LEGAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AVAILABLE: frozenset({S.DISPATCHED, S.OUT_OF_SERVICE, S.OFF_DUTY}),
    S.DISPATCHED: frozenset({S.EN_ROUTE, S.ON_SCENE, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL, S.AVAILABLE}),
    S.AT_HOSPITAL: frozenset({S.AVAILABLE, S.OUT_OF_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE, S.OFF_DUTY}),
    S.OFF_DUTY: frozenset({S.AVAILABLE, S.OUT_OF_SERVICE}),
}
# Statuses in which a unit works an incident (leaving them for another status clears it).
ASSIGNED_STATUSES = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL})
TRANSPORT_TYPES = frozenset({UnitType.MEDIC, UnitType.RESCUE})

StatusListener = Callable[..., None]
_listeners: list[StatusListener] = []


def register_status_listener(fn: StatusListener) -> None:
    """`fn(unit=, from_status=, to_status=, change=, actor=, incident_number=)` runs inside the change's
    transaction (with the unit locked); raising refuses the whole change."""
    if fn not in _listeners:
        _listeners.append(fn)


def unit_audience(unit: Unit) -> list[str]:
    return [FLOOR, agency_audience(unit.agency.code)]


def unit_journal(unit: Unit, *, kind: str, actor, extra: dict | None = None) -> None:
    """Append the unit's full current state (consoles upsert by id)."""
    fresh = unit_board().get(pk=unit.pk)
    payload = unit_as_dict(fresh)
    if extra:
        payload = {**payload, **extra}
    journal_append(kind=kind, payload=payload, actor=actor, entity=f"unit:{unit.pk}", audience=unit_audience(fresh))


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username()


def _lock_unit(unit: Unit | int) -> Unit:
    pk = unit.pk if isinstance(unit, Unit) else unit
    locked = Unit.objects.select_for_update().select_related("agency").filter(pk=pk).first()
    if locked is None:
        raise ServiceError(f"No unit {pk}.", field="unit")
    return locked


def unit_status_change(
    *,
    unit: Unit,
    to_status: str,
    actor,
    reason: str = "",
    source: str = "console",
    incident_number: str | None = None,
) -> Unit:
    """Move a unit to `to_status` if the lifecycle allows it, recording who, when and why.

    Guarantees: the unit row is locked for the change; an illegal transition raises ServiceError
    naming `status` and changes nothing; the history row, the unit, the incident (through the
    registered listeners) and the `unit.status` journal event commit together.
    """
    if to_status not in UnitStatus.values:
        raise ServiceError(f"Unknown unit status {to_status!r}.", field="status")
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ServiceError("The reason is at most 300 characters.", field="reason")
    with transaction.atomic():
        locked = _lock_unit(unit)
        from_status = locked.status
        if to_status == from_status:
            raise ServiceError(f"{locked.call_sign} is already {locked.get_status_display().lower()}.", field="status",
                               code="illegal_transition")
        if to_status not in LEGAL_TRANSITIONS[from_status]:
            raise ServiceError(
                f"{locked.call_sign} cannot go from {UnitStatus(from_status).label.lower()} to "
                f"{UnitStatus(to_status).label.lower()}.",
                field="status", code="illegal_transition",
            )
        if to_status in (S.TRANSPORTING, S.AT_HOSPITAL) and locked.unit_type not in TRANSPORT_TYPES:
            raise ServiceError(f"{locked.call_sign} is not a transporting unit.", field="status", code="illegal_transition")
        if to_status == S.DISPATCHED and not incident_number:
            raise ServiceError("A unit is dispatched to an incident: dispatch it from the incident.",
                               field="incident_number")
        now = timezone.now()
        if to_status == S.DISPATCHED:
            locked.incident_number = incident_number
        elif to_status not in ASSIGNED_STATUSES:
            incident_number = incident_number or locked.incident_number
            locked.incident_number = ""
        else:
            incident_number = locked.incident_number
        locked.status = to_status
        locked.status_changed_at = now
        locked.save(update_fields=["status", "status_changed_at", "incident_number"])
        change = UnitStatusChange.objects.create(
            unit=locked, from_status=from_status, to_status=to_status, at=now,
            actor=actor if getattr(actor, "pk", None) else None, actor_label=_actor_label(actor),
            source=source, reason=reason, incident_number=incident_number or "",
        )
        for listener in list(_listeners):
            listener(unit=locked, from_status=from_status, to_status=to_status, change=change, actor=actor,
                     incident_number=incident_number or "")
        unit_journal(locked, kind="unit.status", actor=actor,
                     extra={"change": {"from": from_status, "to": to_status, "reason": reason, "source": source}})
    unit.refresh_from_db()
    return unit


def unit_position_update(*, unit: Unit, lat: float, lon: float, actor, reported_at: datetime | None = None,
                         source: str = "console") -> Unit:
    """Record a unit's last known position (used for distance in recommendations)."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ServiceError("Latitude and longitude must be numbers.", field="lat") from None
    if not -90 <= lat <= 90:
        raise ServiceError("Latitude out of range.", field="lat")
    if not -180 <= lon <= 180:
        raise ServiceError("Longitude out of range.", field="lon")
    reported_at = reported_at or timezone.now()
    with transaction.atomic():
        locked = _lock_unit(unit)
        if locked.position_reported_at and reported_at < locked.position_reported_at:
            # An older report arriving late never moves the unit backwards.
            return locked
        locked.lat, locked.lon, locked.position_reported_at = lat, lon, reported_at
        locked.save(update_fields=["lat", "lon", "position_reported_at"])
        unit_journal(locked, kind="unit.position", actor=actor, extra={"source": source})
    unit.refresh_from_db()
    return unit


# --- Status timers -------------------------------------------------------------------------------
def timer_minutes(timers: dict[tuple[str, str], int], status: str, unit_type: str) -> int | None:
    """The timer for a status and unit type: a type-specific row wins over the all-types row."""
    return timers.get((status, unit_type), timers.get((status, "")))


def unit_timers_sweep(now: datetime | None = None) -> int:
    """Raise one alert per stay in a status that outlasted its timer; returns how many were raised.

    Safe to run concurrently and repeatedly: the unique constraint on the status change means one
    alert per stay, and the unit is re-checked under its lock before the alert is raised.
    """
    now = now or timezone.now()
    timers = {(t.status, t.unit_type): t.minutes for t in StatusTimer.objects.all()}
    if not timers:
        return 0
    statuses = {status for status, _ in timers}
    last_change = UnitStatusChange.objects.filter(unit=OuterRef("pk"), to_status=OuterRef("status")).order_by("-at", "-id")
    candidates = (
        Unit.objects.filter(status__in=statuses)
        .annotate(stay_id=Subquery(last_change.values("id")[:1]))
        .annotate(alerted=Exists(UnitTimerAlert.objects.filter(status_change_id=OuterRef("stay_id"))))
        .filter(alerted=False, stay_id__isnull=False)
        .values_list("pk", "status", "unit_type", "status_changed_at", "stay_id")
    )
    raised = 0
    for pk, status, unit_type, changed_at, stay_id in candidates:
        minutes = timer_minutes(timers, status, unit_type)
        if minutes is None or changed_at + timedelta(minutes=minutes) > now:
            continue
        try:
            with transaction.atomic():
                unit = _lock_unit(pk)
                if unit.status != status or unit.status_changed_at != changed_at:
                    continue  # it moved on while we looked
                alert = UnitTimerAlert.objects.create(unit=unit, status_change_id=stay_id, status=status, raised_at=now)
                unit_journal(unit, kind="unit.timer_alert", actor="system",
                             extra={"alert": timer_alert_as_dict(alert), "minutes": minutes})
                alert_raise(kind="unit_overdue", dedupe_key=f"unit-timer:{alert.pk}",
                            text=f"{unit.call_sign} {status.replace('_', ' ')} for more than {minutes} min without a check",
                            entity=f"unit:{unit.pk}", data={"unit_id": unit.pk, "status": status, "minutes": minutes})
                raised += 1
        except IntegrityError:
            continue  # another sweeper raised it first
    return raised


def unit_timer_alert_acknowledge(*, alert: UnitTimerAlert, actor, note: str = "") -> UnitTimerAlert:
    """Acknowledge an overdue-status alert; it leaves the floor. Acknowledging twice changes nothing."""
    with transaction.atomic():
        unit = _lock_unit(alert.unit_id)
        locked = UnitTimerAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor if getattr(actor, "pk", None) else None
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        unit_journal(unit, kind="unit.timer_acknowledged", actor=actor,
                     extra={"alert": timer_alert_as_dict(locked), "note": (note or "").strip()[:300]})
    return locked
