"""Reads of agencies and units."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from pscc.errors import NotFound
from units.models import Discipline, Unit, UnitTimerAlert, UnitType

# Which discipline each unit type answers for (the ESZ names the responsible agency per discipline).
UNIT_TYPE_DISCIPLINE: dict[str, str] = {
    UnitType.PATROL: Discipline.LAW,
    UnitType.SUPERVISOR: Discipline.LAW,
    UnitType.SRO: Discipline.LAW,
    UnitType.DETECTIVE: Discipline.LAW,
    UnitType.ENGINE: Discipline.FIRE,
    UnitType.LADDER: Discipline.FIRE,
    UnitType.RESCUE: Discipline.FIRE,
    UnitType.BRUSH: Discipline.FIRE,
    UnitType.TENDER: Discipline.FIRE,
    UnitType.BATTALION: Discipline.FIRE,
    UnitType.MEDIC: Discipline.EMS,
    UnitType.ANIMAL_CONTROL: Discipline.ANIMAL,
    UnitType.UTILITY_CREW: Discipline.UTILITY,
}


def _open_alerts() -> Prefetch:
    return Prefetch(
        "timer_alerts",
        queryset=UnitTimerAlert.objects.filter(acknowledged_at__isnull=True).order_by("-raised_at", "-id"),
        to_attr="open_timer_alerts",
    )


def unit_board() -> QuerySet[Unit]:
    return (
        Unit.objects.select_related("agency", "station")
        .prefetch_related(_open_alerts())
        .order_by("agency__code", "call_sign")
    )


def unit_get(unit_id) -> Unit:
    try:
        unit_id = int(unit_id)
    except (TypeError, ValueError):
        raise NotFound(f"No unit {unit_id}.", field="unit") from None
    unit = unit_board().filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(f"No unit {unit_id}.", field="unit")
    return unit


def open_timer_alert(unit: Unit) -> UnitTimerAlert | None:
    alerts = getattr(unit, "open_timer_alerts", None)
    if alerts is None:
        return unit.timer_alerts.filter(acknowledged_at__isnull=True).order_by("-raised_at", "-id").first()
    return alerts[0] if alerts else None


def timer_alert_as_dict(alert: UnitTimerAlert | None) -> dict | None:
    if alert is None:
        return None
    return {
        "id": alert.pk,
        "status": alert.status,
        "raised_at": alert.raised_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def unit_as_dict(unit: Unit) -> dict:
    """The full current state of a unit as the floor sees it (every `unit.*` event carries this)."""
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "agency": unit.agency.code,
        "agency_name": unit.agency.name,
        "unit_type": unit.unit_type,
        "discipline": UNIT_TYPE_DISCIPLINE.get(unit.unit_type, ""),
        "station": unit.station.code if unit.station_id else None,
        "post": unit.post,
        "status": unit.status,
        "status_changed_at": unit.status_changed_at.isoformat(),
        "incident_number": unit.incident_number,
        "lat": unit.lat,
        "lon": unit.lon,
        "position_reported_at": unit.position_reported_at.isoformat() if unit.position_reported_at else None,
        "timer_alert": timer_alert_as_dict(open_timer_alert(unit)),
    }
