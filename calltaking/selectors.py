"""Reads of calls: the ringing queue, a call's full state as the floor sees it, records by phone."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from calltaking.models import (AliRecord, Call, CallbackAttempt, CallState, ChecklistStep, Rebid, SubscriberSearch,
                               SupplementalLocation, Transfer)

ACTIVE_STATES = (CallState.RINGING, CallState.ANSWERED, CallState.ON_HOLD)


def ringing_queue() -> QuerySet[Call]:
    """Ringing calls: 911 lines above administrative lines, oldest first (SOP I.1)."""
    return (
        Call.objects.filter(state=CallState.RINGING)
        .select_related("line")
        .annotate(line_rank=Case(When(line__kind="911", then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("line_rank", "ringing_at", "id")
    )


def floor_calls() -> QuerySet[Call]:
    """Calls a console shows: live ones, abandoned ones not yet processed, and those with open work."""
    from incidents.models import Incident, IncidentStatus

    recent = timezone.now() - timedelta(hours=1)
    # One index-backed branch per reason, united, read first as a list of ids. As a single OR across
    # the call and incident tables the planner can only scan every call ever taken (3.5 s on a decade
    # of 3 M calls); as a subquery it misjudges the union's size and still scans them all.
    calls = Call.objects.order_by().values_list("pk", flat=True)
    on_floor = calls.filter(state__in=ACTIVE_STATES).union(
        calls.filter(state=CallState.ABANDONED, sop_path=""),
        calls.filter(incident__in=Incident.objects.order_by().exclude(status=IncidentStatus.CLOSED).values("pk")),
        calls.filter(ringing_at__gte=recent),
    )
    return (
        Call.objects.filter(pk__in=list(on_floor))
        .select_related("line", "answered_by", "incident")
        .order_by("ringing_at", "id")
    )


def _iso(value):
    return value.isoformat() if value else None


def step_as_dict(step: ChecklistStep) -> dict:
    return {
        "id": step.pk, "code": step.code, "key": step.key, "text": step.text, "state": step.state,
        "by_system": step.by_system, "done_by": step.done_by_label, "done_at": _iso(step.done_at), "note": step.note,
    }


# The related rows call_as_dict shows; a service that has just created a call hands them over complete.
NO_RELATED_ROWS: dict[str, list] = {
    "checklist": [], "ali_records": [], "rebids": [], "callbacks": [], "subscriber_searches": [],
    "supplemental_locations": [], "transfers": [],
}


def _related(call: Call, name: str, related: dict[str, list] | None, ordered_by_id: bool = False) -> list:
    if related is not None:
        return related[name]
    manager = getattr(call, name)
    return list(manager.order_by("id") if ordered_by_id else manager.all())


def call_as_dict(call: Call, *, related: dict[str, list] | None = None) -> dict:
    """The full current state of a call (every call.* event carries this whole).

    `related`, when given, holds the call's related rows (keys of NO_RELATED_ROWS) instead of reading them."""
    ali = {f: getattr(call, f) for f in Call.ALI_FIELDS}
    return {
        "id": call.pk,
        "cpe_call_id": call.cpe_call_id,
        "line": call.line.code,
        "line_kind": call.line.kind,
        "ani": call.ani,
        "class_of_service": call.class_of_service,
        "callback_possible": call.callback_possible,
        "ali": ali,
        "address_text": call.address_text(),
        "state": call.state,
        "ringing_at": _iso(call.ringing_at),
        "answered_at": _iso(call.answered_at),
        "released_at": _iso(call.released_at),
        "abandoned_at": _iso(call.abandoned_at),
        "answered_by": call.answered_by.get_username() if call.answered_by_id else None,
        "position": call.position,
        "incident": call.incident.number if call.incident_id else None,
        "incident_status": call.incident.status if call.incident_id else None,
        "incident_call_type": call.incident.call_type.code if call.incident_id else None,
        "incident_priority": call.incident.priority if call.incident_id else None,
        "sop_path": call.sop_path,
        "tty_attempted_at": _iso(call.tty_attempted_at),
        "tty_responded": call.tty_responded,
        "location_verified_at": _iso(call.location_verified_at),
        "verified_location_text": call.verified_location_text,
        "location_corrected": call.location_corrected,
        "checklist": [step_as_dict(s) for s in _related(call, "checklist", related)],
        "ali_history": [
            {"id": r.pk, "source": r.source, "received_at": _iso(r.received_at), "lat": r.lat, "lon": r.lon,
             "uncertainty_m": r.uncertainty_m, "confidence_pct": r.confidence_pct}
            for r in _related(call, "ali_records", related)
        ],
        "rebids": [{"id": r.pk, "state": r.state, "tries": r.tries, "error": r.last_error,
                    "finished_at": _iso(r.finished_at)} for r in _related(call, "rebids", related, True)],
        "callbacks": [
            {"id": a.pk, "attempt": a.attempt_number, "of": a.of_attempts, "number": a.number, "state": a.state,
             "outcome": a.outcome, "scheduled_at": _iso(a.scheduled_at), "finished_at": _iso(a.finished_at),
             "tries": a.tries, "error": a.last_error}
            for a in _related(call, "callbacks", related)
        ],
        "subscriber_searches": [
            {"id": s.pk, "state": s.state, "result_status": s.result_status, "subscriber": s.subscriber,
             "error": s.last_error, "escalated": s.escalated_at is not None}
            for s in _related(call, "subscriber_searches", related, True)
        ],
        "supplemental_locations": [
            {"id": s.pk, "state": s.state, "found": s.found, "lat": s.lat, "lon": s.lon,
             "uncertainty_m": s.uncertainty_m, "source": s.source, "used_at": _iso(s.used_at), "error": s.last_error}
            for s in _related(call, "supplemental_locations", related, True)
        ],
        "transfers": [
            {"target": t.target, "caller_announced": t.caller_announced, "location_given": t.location_given,
             "nature_given": t.nature_given, "at": _iso(t.at)}
            for t in _related(call, "transfers", related, True)
        ],
    }


def _call_relations() -> dict[str, QuerySet]:
    """Each list in a call's dict, ordered as `call_as_dict` reads it (keys of NO_RELATED_ROWS)."""
    return {
        "checklist": ChecklistStep.objects.all(),  # Meta ordering: order, id
        "ali_records": AliRecord.objects.all(),  # received_at, id
        "rebids": Rebid.objects.order_by("id"),
        "callbacks": CallbackAttempt.objects.all(),  # attempt_number
        "subscriber_searches": SubscriberSearch.objects.order_by("id"),
        "supplemental_locations": SupplementalLocation.objects.order_by("id"),
        "transfers": Transfer.objects.order_by("id"),
    }


def floor_calls_board() -> dict[str, dict]:
    """`call_as_dict` of every call on the floor (`floor_calls`), by id, in a constant number of
    queries (the calls, then one per list in the dict) however many calls there are.

    The lists are prefetched into plain lists (`to_attr`): reading them through the related
    managers cost seven queries per call."""
    relations = _call_relations()
    calls = floor_calls().select_related("incident__call_type").prefetch_related(
        *(Prefetch(name, queryset=qs, to_attr=f"floor_{name}") for name, qs in relations.items())
    )
    return {str(call.pk): call_as_dict(call, related={name: getattr(call, f"floor_{name}") for name in relations})
            for call in calls}


def records_by_phone(ani: str, *, exclude_call_id: int | None = None, limit: int = 20) -> dict:
    """Prior calls and incidents with this phone number (SOP IV.2.j), newest first."""
    from incidents.models import Incident

    if not ani:
        return {"calls": [], "incidents": []}
    calls = Call.objects.filter(ani=ani).select_related("incident").order_by("-ringing_at")
    incidents = Incident.objects.filter(callback_number=ani).select_related("call_type").order_by("-created_at")
    if exclude_call_id:
        calls = calls.exclude(pk=exclude_call_id)
        # The call's own event is not a prior record (its location is the ALI just delivered).
        incidents = incidents.exclude(calls__pk=exclude_call_id)
    return {
        "calls": [
            {"id": c.pk, "ringing_at": _iso(c.ringing_at), "class_of_service": c.class_of_service,
             "address_text": c.address_text(), "incident": c.incident.number if c.incident_id else None}
            for c in calls[:limit]
        ],
        "incidents": [
            {"number": i.number, "call_type": i.call_type.code, "location_text": i.location_text,
             "created_at": _iso(i.created_at), "status": i.status, "disposition": i.disposition}
            for i in incidents[:limit]
        ],
    }


def addresses_in_records(records: dict) -> list[str]:
    """Distinct addresses found in a records search, in order of appearance."""
    seen: list[str] = []
    for row in records["incidents"]:
        if row["location_text"] and row["location_text"] not in seen:
            seen.append(row["location_text"])
    for row in records["calls"]:
        if row["address_text"] and row["address_text"] not in seen:
            seen.append(row["address_text"])
    return seen
