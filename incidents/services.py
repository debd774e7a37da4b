"""Writes of incidents. Every function changes rows and appends journal events in one transaction.

Services lock rows through `incidents.locks` helpers (select_for_update ordered by pk, no network
I/O inside) and never push or enqueue directly: the journal is the outbox.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.models import CallType, Incident, IncidentNumberSequence, IncidentStatus, NarrativeEntry
from incidents.selectors import incident_as_dict, incident_queryset
from pscc.errors import Conflict, NotFound, ServiceError
from pscc.journal import journal_append
from pscc.supervision import alert_raise


def incident_audience(incident: Incident) -> list[str]:
    """The floor, plus every agency with a unit on the incident or responsible for its zone."""
    from pscc.journal import FLOOR, agency_audience

    codes = set()
    for assignment in incident.assignments.select_related("unit__agency"):
        codes.add(assignment.unit.agency.code)
    if incident.esz_id:
        esz = incident.esz
        for discipline in incident.call_type.disciplines:
            agency = esz.agency_for(discipline)
            if agency is not None:
                codes.add(agency.code)
    return [FLOOR, *(agency_audience(code) for code in sorted(codes))]


def incident_journal(incident: Incident, *, kind: str, actor, extra: dict | None = None) -> None:
    """Append the incident's full current state (events are idempotent upserts for consoles)."""
    incident = incident_queryset().get(pk=incident.pk)
    payload = incident_as_dict(incident)
    if extra:
        payload = {**payload, **extra}
    journal_append(kind=kind, payload=payload, actor=actor, entity=f"incident:{incident.number}",
                   audience=incident_audience(incident))


def _next_number(year: int) -> str:
    row, _ = IncidentNumberSequence.objects.select_for_update().get_or_create(year=year)
    row.last += 1
    row.save(update_fields=["last"])
    return f"{year}-{row.last:06d}"


def _call_type(code: str) -> CallType:
    try:
        return CallType.objects.get(code=code, active=True)
    except CallType.DoesNotExist:
        raise ServiceError(f"Unknown call type {code!r}.", field="call_type") from None


def incident_create(
    *,
    call_type_code: str,
    actor,
    location_text: str = "",
    lat: float | None = None,
    lon: float | None = None,
    uncertainty_m: float | None = None,
    address_id: int | None = None,
    caller_name: str = "",
    callback_number: str = "",
    priority: int | None = None,
    source: str = "console",
    narrative: str = "",
    narrative_source: str = NarrativeEntry.Source.CONSOLE,
    received_at: datetime | None = None,
    location_verified: bool = False,
    location_override_reason: str = "",
    msag_range_id: int | None = None,
    related_to_number: str | None = None,
) -> Incident:
    """Create an incident with a new number (year + sequence, never reused) and its first narrative.

    The location is resolved against the county's geography (ESZ, beat, jurisdiction) when the
    geography module is present; an unverified location is kept only with an override reason.
    """
    call_type = _call_type(call_type_code)
    if priority is not None and not 1 <= int(priority) <= 5:
        raise ServiceError("Priority must be 1 (most urgent) to 5.", field="priority")
    if (lat is None) != (lon is None):
        raise ServiceError("Give both latitude and longitude, or neither.", field="lat" if lat is None else "lon")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ServiceError("Latitude/longitude out of range.", field="lat")
    now = timezone.now()
    address = None
    if address_id is not None:
        from incidents.models import AddressPoint

        address = AddressPoint.objects.select_related("esz", "beat").filter(pk=address_id).first()
        if address is None:
            raise ServiceError(f"No address {address_id}.", field="address_id")
        lat, lon = address.lat, address.lon
        location_text = location_text or address.one_line()
        location_verified = True
    msag_range = None
    if msag_range_id is not None and address is None:
        from incidents.models import StreetRange

        msag_range = StreetRange.objects.select_related("esz").filter(pk=msag_range_id).first()
        if msag_range is None:
            raise ServiceError(f"No MSAG range {msag_range_id}.", field="msag_range_id")
        location_verified = True
    related_to = None
    if related_to_number:
        related_to = Incident.objects.filter(number=related_to_number).first()
        if related_to is None:
            raise ServiceError(f"No incident {related_to_number}.", field="related_to")
    location_override_reason = (location_override_reason or "").strip()
    if len(location_override_reason) > 300:
        raise ServiceError("The override reason is at most 300 characters.", field="location_override_reason")
    with transaction.atomic():
        incident = Incident(
            number=_next_number(now.year),
            call_type=call_type,
            priority=priority or call_type.default_priority,
            location_text=location_text.strip(),
            address=address,
            lat=lat,
            lon=lon,
            uncertainty_m=uncertainty_m,
            location_verified=location_verified,
            location_override_reason=location_override_reason.strip(),
            caller_name=caller_name.strip(),
            callback_number=callback_number.strip(),
            source=source,
            received_at=received_at or now,
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        incident.related_to = related_to
        _resolve_geography(incident)
        if msag_range is not None and incident.esz_id is None:
            incident.esz = msag_range.esz
        incident.save()
        if narrative.strip():
            _narrative(incident, text=narrative.strip(), actor=actor, source=narrative_source)
        if not location_verified and location_override_reason:
            _narrative(incident, text=f"Location kept unverified by {_label(actor)}: {location_override_reason}",
                       actor=actor, source=NarrativeEntry.Source.SYSTEM)
        if incident.out_of_jurisdiction:
            agency = incident.jurisdiction_agency
            _narrative(incident, text="Location is outside our jurisdiction" + (
                f": notify {agency.name} ({agency.non_emergency_number or 'no number on file'})." if agency else "."),
                actor="system", source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.created", actor=actor)
    return incident


def _resolve_geography(incident: Incident) -> None:
    """Fill ESZ, beat and jurisdiction from the point (hook: incidents.geography when present)."""
    try:
        from incidents import geography
    except ImportError:
        return
    geography.incident_locate(incident)


def _label(actor) -> str:
    return actor if isinstance(actor, str) else (actor.get_username() if actor is not None else "system")


def _narrative(incident: Incident, *, text: str, actor, source: str, visible_to_partners: bool = True) -> NarrativeEntry:
    label = _label(actor)
    return NarrativeEntry.objects.create(
        incident=incident,
        text=text,
        author=actor if getattr(actor, "pk", None) else None,
        author_label=label,
        source=source,
        visible_to_partners=visible_to_partners,
    )


def narrative_add(
    *, incident: Incident, text: str, actor, source: str = NarrativeEntry.Source.CONSOLE, visible_to_partners: bool = True
) -> NarrativeEntry:
    """Append one narrative entry (append-only) and tell the floor."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("The narrative entry is empty.", field="text")
    if len(text) > 4000:
        raise ServiceError("A narrative entry is at most 4000 characters.", field="text")
    with transaction.atomic():
        entry = _narrative(incident, text=text, actor=actor, source=source, visible_to_partners=visible_to_partners)
        journal_append(
            kind="incident.narrative",
            payload={"number": incident.number, "id": entry.pk, "text": entry.text, "author": entry.author_label,
                     "at": entry.at.isoformat(), "source": entry.source, "visible_to_partners": entry.visible_to_partners},
            actor=actor,
            entity=f"incident:{incident.number}",
            audience=incident_audience(incident) if visible_to_partners else ["floor"],
        )
    return entry


def incident_get(number: str) -> Incident:
    incident = Incident.objects.select_related("call_type").filter(number=number).first()
    if incident is None:
        raise NotFound(f"No incident {number}.", field="number")
    return incident


def incident_close(*, incident: Incident, disposition: str, actor, note: str = "") -> Incident:
    """Close an incident with a disposition (units still assigned must be cleared first)."""
    disposition = (disposition or "").strip()
    if not disposition:
        raise ServiceError("A disposition is required to close an incident.", field="disposition")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == IncidentStatus.CLOSED:
            raise ServiceError(f"Incident {incident.number} is already closed.", field="status", code="already_closed")
        if incident.assignments.filter(cleared_at__isnull=True).exists():
            raise ServiceError("Clear the assigned units before closing.", field="status", code="units_assigned")
        incident.status = IncidentStatus.CLOSED
        incident.disposition = disposition
        incident.closed_at = timezone.now()
        incident.save(update_fields=["status", "disposition", "closed_at"])
        _narrative(incident, text=f"Closed: {disposition}" + (f" — {note.strip()}" if note.strip() else ""),
                   actor=actor, source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.closed", actor=actor)
    return incident


def incident_reopen(*, incident: Incident, reason: str, actor) -> Incident:
    if not (reason or "").strip():
        raise ServiceError("Say why the incident is reopened.", field="reason")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.CLOSED:
            raise ServiceError("Only a closed incident can be reopened.", field="status")
        incident.status = IncidentStatus.PENDING
        incident.closed_at = None
        incident.save(update_fields=["status", "closed_at"])
        _narrative(incident, text=f"Reopened: {reason.strip()}", actor=actor, source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.updated", actor=actor)
    return incident


# --- Updates, additional callers -----------------------------------------------------------------
_UPDATABLE = {"priority", "call_type", "caller_name", "callback_number", "location_text", "lat", "lon", "uncertainty_m",
              "address_id", "location_verified", "location_override_reason"}


def incident_update(*, incident: Incident, actor, **changes) -> Incident:
    """Change an open incident's call type, priority, caller or location; each change is narrated.

    A new location is resolved again (ESZ, beat, jurisdiction); keeping an unverified location needs
    `location_override_reason`, recorded in the narrative with who and why.
    """
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ServiceError(f"{sorted(unknown)[0]} cannot be changed here.", field=sorted(unknown)[0])
    with transaction.atomic():
        incident = Incident.objects.select_for_update().select_related("call_type").get(pk=incident.pk)
        if incident.status == IncidentStatus.CLOSED:
            raise ServiceError(f"Incident {incident.number} is closed; reopen it first.", field="status")
        notes = []
        if "call_type" in changes and changes["call_type"] != incident.call_type.code:
            call_type = _call_type(changes["call_type"])
            notes.append(f"Call type {incident.call_type.code} → {call_type.code}")
            incident.call_type = call_type
            if "priority" not in changes:
                incident.priority = call_type.default_priority
        if "priority" in changes and changes["priority"] is not None:
            priority = int(changes["priority"])
            if not 1 <= priority <= 5:
                raise ServiceError("Priority must be 1 (most urgent) to 5.", field="priority")
            if priority != incident.priority:
                notes.append(f"Priority {incident.priority} → {priority}")
                incident.priority = priority
        for name in ("caller_name", "callback_number"):
            if name in changes and (changes[name] or "").strip() != getattr(incident, name):
                setattr(incident, name, (changes[name] or "").strip())
                notes.append(f"{name.replace('_', ' ').capitalize()}: {getattr(incident, name) or '(none)'}")
        location_keys = {"location_text", "lat", "lon", "uncertainty_m", "address_id", "location_verified"}
        if location_keys & set(changes):
            _update_location(incident, changes, actor, notes)
        if not notes:
            return incident
        incident.save()
        _narrative(incident, text="; ".join(notes), actor=actor, source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.updated", actor=actor)
    return incident


def _update_location(incident: Incident, changes: dict, actor, notes: list[str]) -> None:
    from incidents.models import AddressPoint

    address_id = changes.get("address_id")
    if address_id is not None:
        address = AddressPoint.objects.filter(pk=address_id).first()
        if address is None:
            raise ServiceError(f"No address {address_id}.", field="address_id")
        incident.address = address
        incident.lat, incident.lon = address.lat, address.lon
        incident.location_text = (changes.get("location_text") or address.one_line()).strip()
        incident.location_verified = True
        incident.location_override_reason = ""
    else:
        lat, lon = changes.get("lat", incident.lat), changes.get("lon", incident.lon)
        if (lat is None) != (lon is None):
            raise ServiceError("Give both latitude and longitude, or neither.", field="lat" if lat is None else "lon")
        if lat is not None and not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
            raise ServiceError("Latitude/longitude out of range.", field="lat")
        if "location_text" in changes or "lat" in changes:
            incident.address = None
        incident.lat, incident.lon = lat, lon
        if "location_text" in changes:
            incident.location_text = (changes["location_text"] or "").strip()
        incident.location_verified = bool(changes.get("location_verified", False))
        reason = (changes.get("location_override_reason") or "").strip()
        if not incident.location_verified:
            if not reason:
                raise ServiceError("Verify the location, or say why you keep it unverified.",
                                   field="location_override_reason")
            incident.location_override_reason = reason[:300]
            notes.append(f"Location kept unverified by {_label(actor)}: {reason}")
    if "uncertainty_m" in changes:
        incident.uncertainty_m = changes["uncertainty_m"]
    incident.jurisdiction_agency = None
    _resolve_geography(incident)
    notes.insert(0, f"Location: {incident.location_text or 'lat/lon only'}")
    if incident.out_of_jurisdiction and incident.jurisdiction_agency is not None:
        notes.append(f"Outside our jurisdiction: notify {incident.jurisdiction_agency.name}")


def incident_attach_caller(*, incident: Incident, actor, name: str = "", callback_number: str = "", location_text: str = "",
                           call_reference: str = "", note: str = "") -> "AdditionalCaller":
    """Attach a further caller to an existing incident (a duplicate call): their name, number and
    location stay on the incident as an additional caller, and the narrative says so."""
    from incidents.models import AdditionalCaller

    if not ((name or "").strip() or (callback_number or "").strip() or (location_text or "").strip()):
        raise ServiceError("Give the additional caller's name, callback number or location.", field="callback_number")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().select_related("call_type").get(pk=incident.pk)
        if incident.status == IncidentStatus.CLOSED:
            raise ServiceError(f"Incident {incident.number} is closed.", field="status")
        caller = AdditionalCaller.objects.create(
            incident=incident, name=(name or "").strip()[:120], callback_number=(callback_number or "").strip()[:20],
            location_text=(location_text or "").strip()[:300], call_reference=(call_reference or "").strip()[:64],
            added_by=actor if getattr(actor, "pk", None) else None,
        )
        who = ", ".join(p for p in (caller.name, caller.callback_number, caller.location_text) if p)
        _narrative(incident, text=f"Additional caller: {who}" + (f" — {note.strip()}" if (note or "").strip() else ""),
                   actor=actor, source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.updated", actor=actor)
    return caller


# --- Dispatch and the unit status that moves the incident ----------------------------------------
def incident_dispatch(*, incident: Incident, unit_ids, actor) -> Incident:
    """Dispatch one or more units to an incident in one transaction.

    Guarantees: the units are locked in pk order, then the incident (the same order every status
    change uses), so two telecommunicators dispatching the same unit to two incidents cannot both
    win: the second sees the unit no longer available and gets a Conflict naming it. Assignments,
    unit statuses (dispatched) and the incident's status and first-dispatched time commit together.
    """
    from incidents.models import Assignment
    from units.models import Unit, UnitStatus
    from units.services import unit_status_change

    try:
        ids = sorted({int(u) for u in unit_ids})
    except (TypeError, ValueError):
        raise ServiceError("unit_ids must be a list of unit ids.", field="unit_ids") from None
    if not ids:
        raise ServiceError("Choose at least one unit to dispatch.", field="unit_ids")
    with transaction.atomic():
        units = list(Unit.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        missing = set(ids) - {u.pk for u in units}
        if missing:
            raise NotFound(f"No unit {min(missing)}.", field="unit_ids")
        incident = Incident.objects.select_for_update().select_related("call_type").get(pk=incident.pk)
        if incident.status == IncidentStatus.CLOSED:
            raise ServiceError(f"Incident {incident.number} is closed.", field="status")
        for unit in units:
            if unit.status != UnitStatus.AVAILABLE:
                where = f" on {unit.incident_number}" if unit.incident_number else ""
                raise Conflict(f"{unit.call_sign} is not available ({unit.get_status_display().lower()}{where}).",
                               field="unit_ids", code="unit_not_available")
        now = timezone.now()
        for unit in units:
            Assignment.objects.create(incident=incident, unit=unit, dispatched_at=now,
                                      dispatched_by=actor if getattr(actor, "pk", None) else None)
            unit_status_change(unit=unit, to_status=UnitStatus.DISPATCHED, actor=actor, source="console",
                               incident_number=incident.number, reason=f"Dispatched to {incident.number}")
        incident.refresh_from_db()
        if incident.first_dispatched_at is None:
            incident.first_dispatched_at = now
        if incident.status == IncidentStatus.PENDING:
            incident.status = IncidentStatus.DISPATCHED
        incident.save(update_fields=["first_dispatched_at", "status"])
        _narrative(incident, text="Dispatched " + ", ".join(u.call_sign for u in units), actor=actor,
                   source=NarrativeEntry.Source.SYSTEM)
        incident_journal(incident, kind="incident.dispatched", actor=actor)
    return incident


_INCIDENT_ORDER = [IncidentStatus.PENDING, IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE]


def _on_unit_status(*, unit, from_status, to_status, change, actor, incident_number) -> None:
    """A unit status listener: move the unit's assignment and its incident with it (same transaction)."""
    from incidents.models import Assignment
    from units.models import UnitStatus
    from units.services import ASSIGNED_STATUSES

    if not incident_number or to_status == UnitStatus.DISPATCHED:
        return  # dispatch itself writes the assignment and the incident
    incident = Incident.objects.select_for_update().select_related("call_type").filter(number=incident_number).first()
    if incident is None:
        return
    assignment = Assignment.objects.filter(incident=incident, unit=unit, cleared_at__isnull=True).first()
    now = change.at
    fields: set[str] = set()
    if to_status == UnitStatus.EN_ROUTE:
        if assignment and assignment.en_route_at is None:
            assignment.en_route_at = now
        if incident.first_en_route_at is None:
            incident.first_en_route_at = now
            fields.add("first_en_route_at")
        fields |= _advance(incident, IncidentStatus.EN_ROUTE)
    elif to_status == UnitStatus.ON_SCENE:
        if assignment and assignment.on_scene_at is None:
            assignment.on_scene_at = now
        if incident.first_on_scene_at is None:
            incident.first_on_scene_at = now
            fields.add("first_on_scene_at")
        if incident.first_en_route_at is None:
            incident.first_en_route_at = now
            fields.add("first_en_route_at")
        fields |= _advance(incident, IncidentStatus.ON_SCENE)
    elif to_status not in ASSIGNED_STATUSES and assignment is not None:
        assignment.cleared_at = now
        _narrative(incident, text=f"{unit.call_sign} cleared ({UnitStatus(to_status).label.lower()})"
                   + (f": {change.reason}" if change.reason else ""), actor=actor, source=NarrativeEntry.Source.UNIT)
    if assignment is not None:
        assignment.save(update_fields=["en_route_at", "on_scene_at", "cleared_at"])
    if fields:
        incident.save(update_fields=sorted(fields))
    # The incident's payload lists its units' statuses, so every change of an assigned unit re-sends it.
    incident_journal(incident, kind="incident.updated", actor=actor)


def _advance(incident: Incident, to: str) -> set[str]:
    if incident.status in _INCIDENT_ORDER and _INCIDENT_ORDER.index(incident.status) < _INCIDENT_ORDER.index(to):
        incident.status = to
        return {"status"}
    return set()


def incident_response_sweep(now=None) -> int:
    """Alert once per incident whose response goal has passed with no unit on scene."""
    from datetime import timedelta

    from django.db.models import DurationField, ExpressionWrapper, F

    now = now or timezone.now()
    due = (
        Incident.objects.filter(call_type__response_goal_seconds__isnull=False, first_on_scene_at__isnull=True,
                                response_goal_alerted_at__isnull=True)
        .exclude(status=IncidentStatus.CLOSED)
        .annotate(goal=ExpressionWrapper(F("call_type__response_goal_seconds") * timedelta(seconds=1),
                                         output_field=DurationField()))
        .filter(received_at__lt=now - F("goal"))
        .values_list("pk", flat=True)
    )
    raised = 0
    for pk in list(due):
        with transaction.atomic():
            # The conditional update is the claim: a second sweeper updates nothing and moves on.
            claimed = Incident.objects.filter(pk=pk, response_goal_alerted_at__isnull=True,
                                              first_on_scene_at__isnull=True).update(response_goal_alerted_at=now)
            if not claimed:
                continue
            incident = Incident.objects.select_related("call_type").get(pk=pk)
            goal = incident.call_type.response_goal_seconds
            _narrative(incident, text=f"Response goal of {goal // 60} min {goal % 60:02d} s passed with no unit on scene.",
                       actor="system", source=NarrativeEntry.Source.SYSTEM)
            incident_journal(incident, kind="incident.response_overdue", actor="system")
            alert_raise(kind="response_goal", dedupe_key=f"incident-goal:{incident.number}",
                        text=f"{incident.number} {incident.call_type.code} P{incident.priority}: response goal passed, no unit on scene",
                        severity="critical" if incident.priority == 1 else "warning", entity=f"incident:{incident.number}")
            raised += 1
    return raised
