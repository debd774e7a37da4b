"""Reads of agencies and units."""

from __future__ import annotations

from django.db.models import QuerySet

from units.models import Unit


def unit_board() -> QuerySet[Unit]:
    return Unit.objects.select_related("agency", "station").order_by("agency__code", "call_sign")


def unit_as_dict(unit: Unit) -> dict:
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "agency": unit.agency.code,
        "agency_name": unit.agency.name,
        "unit_type": unit.unit_type,
        "station": unit.station.code if unit.station_id else None,
        "post": unit.post,
        "status": unit.status,
        "status_changed_at": unit.status_changed_at.isoformat(),
        "incident_number": unit.incident_number,
        "lat": unit.lat,
        "lon": unit.lon,
        "position_reported_at": unit.position_reported_at.isoformat() if unit.position_reported_at else None,
    }
