"""Unit recommendation: which available units meet an incident's response plan, and why.

For each line of the call type's response plan (unit type × count) the units still needed are the
count minus the units of that type already on the incident. Candidates are available units of that
type from active agencies, ranked: the agency responsible for the incident's zone for that unit
type's discipline first, then the closest by great-circle distance from the unit's last known
position (its station when it never reported one), then by call sign. The first `needed` are
recommended; the next few are offered as alternates.
"""

from __future__ import annotations

from incidents.geography import haversine_m
from incidents.models import Incident
from units.models import Unit, UnitStatus
from units.selectors import UNIT_TYPE_DISCIPLINE

ALTERNATES = 3


def _position(unit: Unit) -> tuple[float | None, float | None, str]:
    if unit.lat is not None and unit.lon is not None:
        return unit.lat, unit.lon, "last known position"
    if unit.station_id:
        return unit.station.lat, unit.station.lon, f"station {unit.station.code}"
    return None, None, ""


def recommend_units(incident: Incident) -> dict:
    """The response plan, how much of it is covered, and ranked candidate units with reasons."""
    plan = list(incident.call_type.response_plan.all().order_by("unit_type"))
    active = [a for a in incident.assignments.select_related("unit").all() if a.cleared_at is None]
    on_incident: dict[str, int] = {}
    for assignment in active:
        on_incident[assignment.unit.unit_type] = on_incident.get(assignment.unit.unit_type, 0) + 1
    wanted_types = [item.unit_type for item in plan]
    pool = list(
        Unit.objects.select_related("agency", "station")
        .filter(status=UnitStatus.AVAILABLE, unit_type__in=wanted_types, agency__active=True)
    )
    lines, units = [], []
    for item in plan:
        needed = max(0, item.count - on_incident.get(item.unit_type, 0))
        discipline = UNIT_TYPE_DISCIPLINE.get(item.unit_type, "")
        responsible = incident.esz.agency_for(discipline) if incident.esz_id and discipline else None
        ranked = []
        for unit in (u for u in pool if u.unit_type == item.unit_type):
            lat, lon, where = _position(unit)
            distance = None
            if lat is not None and incident.lat is not None:
                distance = haversine_m(incident.lat, incident.lon, lat, lon)
            is_responsible = responsible is not None and unit.agency_id == responsible.pk
            ranked.append((not is_responsible, distance is None, distance or 0.0, unit.call_sign, unit, distance,
                           is_responsible, where))
        ranked.sort(key=lambda r: r[:4])
        recommended_ids = []
        for index, (_, _, _, _, unit, distance, is_responsible, where) in enumerate(ranked[: needed + ALTERNATES]):
            recommended = index < needed
            parts = [f"Available {unit.get_unit_type_display().lower()}"]
            if is_responsible:
                parts.append(f"{unit.agency.code} is the responsible {discipline} agency for ESN {incident.esz.esn}")
            elif responsible is not None:
                parts.append(f"{unit.agency.code} is not the responsible agency ({responsible.code})")
            if distance is not None:
                parts.append(f"{distance / 1000:.1f} km from the incident ({where})")
            else:
                parts.append("distance unknown" + ("" if incident.lat is not None else " (no incident location)"))
            if not recommended:
                parts.append("alternate")
            units.append({
                "unit_id": unit.pk,
                "call_sign": unit.call_sign,
                "agency": unit.agency.code,
                "unit_type": unit.unit_type,
                "distance_m": round(distance) if distance is not None else None,
                "responsible_agency": is_responsible,
                "recommended": recommended,
                "reason": "; ".join(parts) + ".",
            })
            if recommended:
                recommended_ids.append(unit.pk)
        lines.append({
            "unit_type": item.unit_type,
            "count": item.count,
            "assigned": on_incident.get(item.unit_type, 0),
            "needed": needed,
            "recommended": recommended_ids,
            "short": needed - len(recommended_ids),
            "responsible_agency": responsible.code if responsible is not None else None,
        })
    return {
        "number": incident.number,
        "plan": lines,
        "satisfied": all(line["needed"] == 0 for line in lines),
        "can_satisfy": all(line["short"] == 0 for line in lines),
        "units": units,
    }
