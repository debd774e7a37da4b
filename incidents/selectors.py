"""Reads of incidents and geography."""

from __future__ import annotations

from django.db.models import QuerySet

from incidents.models import Incident, IncidentStatus


def open_incidents() -> QuerySet[Incident]:
    return (
        Incident.objects.exclude(status=IncidentStatus.CLOSED)
        .select_related("call_type", "beat", "esz", "jurisdiction_agency")
        .prefetch_related("assignments__unit")
        .order_by("priority", "created_at")
    )


def incident_as_dict(incident: Incident) -> dict:
    """The full current state of an incident as the floor sees it (events carry this whole)."""
    return {
        "number": incident.number,
        "call_type": incident.call_type.code,
        "call_type_name": incident.call_type.name,
        "priority": incident.priority,
        "status": incident.status,
        "location_text": incident.location_text,
        "lat": incident.lat,
        "lon": incident.lon,
        "uncertainty_m": incident.uncertainty_m,
        "location_verified": incident.location_verified,
        "beat": incident.beat.code if incident.beat_id else None,
        "esn": incident.esz.esn if incident.esz_id else None,
        "out_of_jurisdiction": incident.out_of_jurisdiction,
        "jurisdiction_agency": incident.jurisdiction_agency.code if incident.jurisdiction_agency_id else None,
        "caller_name": incident.caller_name,
        "callback_number": incident.callback_number,
        "received_at": incident.received_at.isoformat(),
        "created_at": incident.created_at.isoformat(),
        "first_dispatched_at": _iso(incident.first_dispatched_at),
        "first_en_route_at": _iso(incident.first_en_route_at),
        "first_on_scene_at": _iso(incident.first_on_scene_at),
        "closed_at": _iso(incident.closed_at),
        "disposition": incident.disposition,
        "response_goal_seconds": incident.call_type.response_goal_seconds,
        "units": [
            {"call_sign": a.unit.call_sign, "unit_id": a.unit_id, "status": a.unit.status, "cleared": a.cleared_at is not None}
            for a in incident.assignments.all()
        ],
    }


def _iso(value):
    return value.isoformat() if value else None
