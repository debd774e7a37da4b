"""Reads of incidents and geography."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from incidents.models import AdditionalCaller, Assignment, Incident, IncidentStatus, NarrativeEntry, PremiseHazard

# A hazard tied to an address (radius 0) also matches a point this close to it (geocoding jitter).
ADDRESS_HAZARD_TOLERANCE_M = 15.0


def _haversine_m(lat1, lon1, lat2, lon2) -> float:
    from incidents.geography import haversine_m

    return haversine_m(lat1, lon1, lat2, lon2)


def _assignments() -> QuerySet[Assignment]:
    return Assignment.objects.select_related("unit").order_by("dispatched_at", "id")


def _additional_callers() -> QuerySet[AdditionalCaller]:
    return AdditionalCaller.objects.order_by("at", "id")


def incident_queryset() -> QuerySet[Incident]:
    return Incident.objects.select_related("call_type", "beat", "esz", "jurisdiction_agency", "related_to").prefetch_related(
        Prefetch("assignments", queryset=_assignments()),
        Prefetch("additional_callers", queryset=_additional_callers()),
    )


def open_incidents() -> QuerySet[Incident]:
    return incident_queryset().exclude(status=IncidentStatus.CLOSED).order_by("priority", "created_at")


def open_incidents_board(*, agency_codes: list[str] | None = None) -> dict[str, dict]:
    """The open incidents as the board shows them, by number: `incident_as_dict` of each, built in a
    constant number of queries (the incidents, their assignments, their additional callers, the
    active hazards) however many are open. `agency_codes`: only incidents with a unit of one of
    these agencies assigned (a partner's view).

    The relations are prefetched into plain lists (`to_attr`): a prefetch into the related manager
    makes Django clone a filtered queryset per incident and relation, which was most of the board's
    time. The polygons of the beat and the zone are not read (the dict needs only their codes)."""
    incidents = (
        Incident.objects.select_related("call_type", "beat", "esz", "jurisdiction_agency", "related_to")
        .defer("beat__polygon", "esz__polygon")
        .prefetch_related(
            Prefetch("assignments", queryset=_assignments(), to_attr="board_assignments"),
            Prefetch("additional_callers", queryset=_additional_callers(), to_attr="board_additional_callers"),
        )
        .exclude(status=IncidentStatus.CLOSED)
        .order_by("priority", "created_at")
    )
    if agency_codes is not None:
        incidents = incidents.filter(assignments__unit__agency__code__in=agency_codes).distinct()
    hazards = active_hazards()
    return {
        i.number: _incident_dict(i, assignments=i.board_assignments, additional_callers=i.board_additional_callers,
                                 hazards=hazards)
        for i in incidents
    }


def incident_list(*, status: str | None = None, include_closed: bool = False) -> QuerySet[Incident]:
    qs = incident_queryset().order_by("-created_at")
    if status:
        qs = qs.filter(status=status)
    elif not include_closed:
        qs = qs.exclude(status=IncidentStatus.CLOSED)
    return qs


def premise_history(location_text: str, *, limit: int = 20) -> list[dict]:
    """Prior incidents at an address, newest first: what the center has been called to there before.

    Matches the incident's location text whole, ignoring case (the console sends the verified
    address line as the geocoder wrote it)."""
    text = (location_text or "").strip()
    if not text:
        return []
    incidents = (Incident.objects.filter(location_text__iexact=text).select_related("call_type")
                 .order_by("-created_at")[:limit])
    return [
        {"number": i.number, "call_type": i.call_type.code, "priority": i.priority, "status": i.status,
         "disposition": i.disposition, "created_at": _iso(i.created_at), "callback_number": i.callback_number}
        for i in incidents
    ]


def active_hazards(now=None) -> list[PremiseHazard]:
    now = now or timezone.now()
    return list(PremiseHazard.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("kind", "id"))


def hazards_near(lat: float | None, lon: float | None, *, address_id: int | None = None,
                 hazards: list[PremiseHazard] | None = None) -> list[dict]:
    """Unexpired premise hazards that apply at a point: within their radius, or tied to the address.

    `hazards` lets a caller that checks many points (the snapshot) load the active hazards once.
    """
    if lat is None or lon is None:
        if address_id is None:
            return []
    if hazards is None:
        where = Q(address_id=address_id) if address_id is not None else Q(pk__in=[])
        if lat is not None and lon is not None:
            # A bounding box first (no radius we honour is more than a few km) keeps the scan small.
            dlat = 0.05
            dlon = dlat / max(0.1, math.cos(math.radians(lat)))
            where |= Q(lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon))
        qs = PremiseHazard.objects.filter(where)
        now = timezone.now()
        hazards = list(qs.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("kind", "id"))
    found = []
    for hazard in hazards:
        distance = None
        if lat is not None and lon is not None:
            distance = _haversine_m(lat, lon, hazard.lat, hazard.lon)
        tied = address_id is not None and hazard.address_id == address_id
        within = distance is not None and distance <= max(float(hazard.radius_m), ADDRESS_HAZARD_TOLERANCE_M)
        if tied or within:
            found.append({
                "id": hazard.pk,
                "kind": hazard.kind,
                "kind_label": hazard.get_kind_display(),
                "text": hazard.text,
                "radius_m": hazard.radius_m,
                "distance_m": round(distance) if distance is not None else None,
                "expires_at": hazard.expires_at.isoformat() if hazard.expires_at else None,
            })
    return found


def incident_duplicates(*, lat: float | None = None, lon: float | None = None, callback_number: str = "",
                        exclude_number: str | None = None, now=None) -> list[dict]:
    """Open or recent incidents that may be the same event: received within the time window and
    within the radius, or with the same callback number (settings PSCC_DUPLICATE_RADIUS_M and
    PSCC_DUPLICATE_WINDOW_MINUTES). Closest first."""
    now = now or timezone.now()
    window = timedelta(minutes=settings.PSCC_DUPLICATE_WINDOW_MINUTES)
    radius = float(settings.PSCC_DUPLICATE_RADIUS_M)
    callback_number = (callback_number or "").strip()
    recent = Incident.objects.select_related("call_type").filter(received_at__gte=now - window)
    recent = recent.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=now - window))
    if exclude_number:
        recent = recent.exclude(number=exclude_number)
    near = Q(pk__in=[])
    if lat is not None and lon is not None:
        dlat = radius / 111_000.0
        dlon = dlat / max(0.1, math.cos(math.radians(lat)))
        near = Q(lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon))
    if callback_number:
        near |= Q(callback_number=callback_number)
    found = []
    for incident in recent.filter(near).order_by("-received_at")[:50]:
        distance = None
        if lat is not None and lon is not None and incident.lat is not None:
            distance = _haversine_m(lat, lon, incident.lat, incident.lon)
        reasons = []
        if distance is not None and distance <= radius:
            reasons.append(f"{round(distance)} m away")
        if callback_number and incident.callback_number == callback_number:
            reasons.append("same callback number")
        if not reasons:
            continue
        found.append({
            "number": incident.number,
            "call_type": incident.call_type.code,
            "status": incident.status,
            "location_text": incident.location_text,
            "received_at": incident.received_at.isoformat(),
            "distance_m": round(distance) if distance is not None else None,
            "reason": ", ".join(reasons),
        })
    found.sort(key=lambda d: (d["distance_m"] is None, d["distance_m"] or 0))
    return found


def response_times(incident: Incident) -> dict:
    """Seconds from call received to dispatched, en route and on scene, against the call type's goal."""
    def since(value):
        return round((value - incident.received_at).total_seconds()) if value else None

    goal = incident.call_type.response_goal_seconds
    on_scene = since(incident.first_on_scene_at)
    return {
        "to_dispatch_seconds": since(incident.first_dispatched_at),
        "to_en_route_seconds": since(incident.first_en_route_at),
        "to_on_scene_seconds": on_scene,
        "goal_seconds": goal,
        "goal_met": None if goal is None or on_scene is None else on_scene <= goal,
    }


def incident_as_dict(incident: Incident, *, hazards: list[PremiseHazard] | None = None) -> dict:
    """The full current state of an incident as the floor sees it (events carry this whole)."""
    return _incident_dict(incident, assignments=incident.assignments.all(),
                          additional_callers=incident.additional_callers.all(), hazards=hazards)


def _incident_dict(incident: Incident, *, assignments, additional_callers,
                   hazards: list[PremiseHazard] | None) -> dict:
    return {
        "number": incident.number,
        "call_type": incident.call_type.code,
        "call_type_name": incident.call_type.name,
        "priority": incident.priority,
        "status": incident.status,
        "location_text": incident.location_text,
        "address_id": incident.address_id,
        "lat": incident.lat,
        "lon": incident.lon,
        "uncertainty_m": incident.uncertainty_m,
        "location_verified": incident.location_verified,
        "location_override_reason": incident.location_override_reason,
        "beat": incident.beat.code if incident.beat_id else None,
        "esn": incident.esz.esn if incident.esz_id else None,
        "out_of_jurisdiction": incident.out_of_jurisdiction,
        "jurisdiction_agency": incident.jurisdiction_agency.code if incident.jurisdiction_agency_id else None,
        "jurisdiction_agency_name": incident.jurisdiction_agency.name if incident.jurisdiction_agency_id else None,
        "jurisdiction_agency_phone": (incident.jurisdiction_agency.non_emergency_number
                                      if incident.jurisdiction_agency_id else None),
        "caller_name": incident.caller_name,
        "callback_number": incident.callback_number,
        "source": incident.source,
        "related_to": incident.related_to.number if incident.related_to_id else None,
        "received_at": incident.received_at.isoformat(),
        "created_at": incident.created_at.isoformat(),
        "first_dispatched_at": _iso(incident.first_dispatched_at),
        "first_en_route_at": _iso(incident.first_en_route_at),
        "first_on_scene_at": _iso(incident.first_on_scene_at),
        "closed_at": _iso(incident.closed_at),
        "disposition": incident.disposition,
        "response_goal_seconds": incident.call_type.response_goal_seconds,
        "response_goal_alerted_at": _iso(incident.response_goal_alerted_at),
        "response_times": response_times(incident),
        "hazards": hazards_near(incident.lat, incident.lon, address_id=incident.address_id, hazards=hazards),
        "additional_callers": [
            {"id": c.pk, "name": c.name, "callback_number": c.callback_number, "location_text": c.location_text,
             "at": c.at.isoformat()}
            for c in additional_callers
        ],
        "units": [
            {"call_sign": a.unit.call_sign, "unit_id": a.unit_id, "status": a.unit.status,
             "dispatched_at": _iso(a.dispatched_at), "en_route_at": _iso(a.en_route_at),
             "on_scene_at": _iso(a.on_scene_at), "cleared_at": _iso(a.cleared_at), "cleared": a.cleared_at is not None}
            for a in assignments
        ],
    }


def narrative_as_dict(entry: NarrativeEntry) -> dict:
    return {"id": entry.pk, "text": entry.text, "author": entry.author_label, "at": entry.at.isoformat(),
            "source": entry.source, "visible_to_partners": entry.visible_to_partners}


def _iso(value):
    return value.isoformat() if value else None
