"""The floor snapshot's calls: the same dicts as `call_as_dict` (every call.* event's payload), the same
calls as the one-OR query it replaced, in a constant number of queries however many calls there are."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calltaking.models import (AliRecord, Call, CallbackAttempt, ChecklistStep, Rebid, SubscriberSearch,
                               SupplementalLocation, Transfer)
from calltaking.registry import _calls_snapshot
from calltaking.selectors import call_as_dict, floor_calls
from calltaking.services import call_receive
from incidents.services import incident_close, incident_create
from pscc.journal import FLOOR

FLOOR_ONLY = frozenset({FLOOR})
LEGACY_ALI = {"ali_name": "J SMITH", "house_number": "100", "street_name": "MAIN", "street_suffix": "ST",
              "community": "CASPER", "state_code": "WY", "esn": "101", "lat": 42.85, "lon": -106.32,
              "uncertainty_m": 25.0, "confidence_pct": 90, "carrier": "VZW"}


def _ring(n: int, **after) -> Call:
    call, _ = call_receive(cpe_call_id=f"FLOOR-{n}", line="911-1" if n % 3 else "ADMIN-01", ani=f"30755512{n:02d}",
                           class_of_service="WPH2" if n % 2 else "RESD", ali=LEGACY_ALI)
    if after:
        Call.objects.filter(pk=call.pk).update(**after)
    return call


def _with_work(call: Call, n: int, user) -> None:
    """Every list a call's dict shows, two of each where order matters (written newest id first
    where the dict's order is not the id's)."""
    now = timezone.now()
    ChecklistStep.objects.create(call=call, code="IV.1.c", key="callback", text="Call back", order=2)
    ChecklistStep.objects.create(call=call, code="IV.1.a", key="answer", text="Answer", order=1, state="done",
                                 by_system=True, done_at=now)
    AliRecord.objects.create(call=call, source="rebid", received_at=now + timedelta(seconds=30), lat=42.851, lon=-106.321)
    Rebid.objects.create(call=call, state="done", finished_at=now, requested_by_label=user.get_username())
    Rebid.objects.create(call=call, state="failed", tries=3, last_error="CPE timeout")
    CallbackAttempt.objects.create(call=call, number=call.ani, attempt_number=2, idempotency_key=f"cb-{n}-2")
    CallbackAttempt.objects.create(call=call, number=call.ani, attempt_number=1, idempotency_key=f"cb-{n}-1",
                                   state="done", outcome="no_answer", finished_at=now)
    SubscriberSearch.objects.create(call=call, ani=call.ani, carrier="VZW", idempotency_key=f"ss-{n}",
                                    result_status="complete", subscriber={"name": "J SMITH"}, escalated_at=now)
    SupplementalLocation.objects.create(call=call, caller_id=call.ani, found=True, lat=42.85, lon=-106.32,
                                        uncertainty_m=8.0, source="device", used_at=now, used_by=user)
    Transfer.objects.create(call=call, target="Converse County 911", caller_announced=True,
                            location_given="100 Main St", nature_given="fire", transferred_by=user)


def _floor(center, user, start: int, count: int) -> None:
    """Calls in every state the floor shows, and some it does not."""
    old = timezone.now() - timedelta(hours=3)
    for k in range(count):
        n = start + k
        reason = n % 6
        if reason == 0:
            _ring(n)  # ringing
        elif reason == 1:
            _with_work(_ring(n, state="answered", answered_at=timezone.now(), answered_by=user, position="P-01"), n, user)
        elif reason == 2:
            _ring(n, state="abandoned", abandoned_at=old, ringing_at=old)  # not yet processed
        elif reason == 3:
            incident = incident_create(call_type_code="DISTURB", actor=user, location_text=f"{n} Main St",
                                       location_override_reason="test")
            _with_work(_ring(n, state="released", released_at=old, ringing_at=old, incident=incident), n, user)
        elif reason == 4:
            _ring(n, state="released", released_at=timezone.now())  # recent
        else:
            # Not on the floor: processed and old, or old with a closed incident.
            _ring(n, state="abandoned", sop_path="landline_hangup", abandoned_at=old, ringing_at=old)
            incident = incident_create(call_type_code="THEFT", actor=user, location_text="closed",
                                       location_override_reason="test")
            incident_close(incident=incident, disposition="Report taken", actor=user)
            _ring(1000 + n, state="released", released_at=old, ringing_at=old, incident=incident)


def _one_or() -> list[int]:
    """The calls on the floor as the single OR query before the snapshot was reworked said."""
    recent = timezone.now() - timedelta(hours=1)
    return list(Call.objects.filter(
        Q(state__in=("ringing", "answered", "on_hold")) | Q(state="abandoned", sop_path="")
        | (Q(incident__isnull=False) & ~Q(incident__status="closed")) | Q(ringing_at__gte=recent)
    ).order_by("ringing_at", "id").values_list("pk", flat=True))


def test_the_calls_snapshot_equals_call_as_dict_of_each_call_on_the_floor(center, make_staff):
    # given calls ringing, answered with all their work, abandoned, tied to open and closed incidents, old and recent
    user = make_staff("telecommunicator", username="tc-floor")
    _floor(center, user, 0, 12)

    # when
    snapshot = _calls_snapshot(user, FLOOR_ONLY)

    # then the same calls as the one-OR query, each as call_as_dict (what call.* events carry)
    assert [int(pk) for pk in snapshot] == _one_or()
    assert len(snapshot) == 10  # 12 made, 2 of them (reason 5) made off-floor twins; the twins are not here
    for pk, data in snapshot.items():
        call = Call.objects.select_related("line", "answered_by", "incident__call_type").get(pk=pk)
        assert data == call_as_dict(call)
    worked = [d for d in snapshot.values() if d["transfers"]]
    assert len(worked) == 4
    first = worked[0]
    assert [s["code"] for s in first["checklist"]] == ["IV.1.a", "IV.1.c"]
    assert [c["attempt"] for c in first["callbacks"]] == [1, 2]
    assert [r["state"] for r in first["rebids"]] == ["done", "failed"]
    assert [a["source"] for a in first["ali_history"]][-1] == "rebid"
    assert first["supplemental_locations"][0]["found"] is True and first["subscriber_searches"][0]["escalated"]


def test_the_floor_calls_are_the_calls_the_one_or_query_found(center, make_staff):
    user = make_staff("telecommunicator", username="tc-floor")
    _floor(center, user, 0, 18)

    assert list(floor_calls().values_list("pk", flat=True)) == _one_or()


def test_the_calls_snapshot_costs_the_same_number_of_queries_however_many_calls_are_on_the_floor(center, make_staff):
    # given a few calls on the floor, counted
    user = make_staff("telecommunicator", username="tc-floor")
    _floor(center, user, 0, 6)
    with CaptureQueriesContext(connection) as small_ctx:
        small = _calls_snapshot(user, FLOOR_ONLY)

    # when three times as many are on the floor, with their checklists, rebids, callbacks …
    _floor(center, user, 6, 18)
    with CaptureQueriesContext(connection) as large_ctx:
        large = _calls_snapshot(user, FLOOR_ONLY)

    # then: the ids on the floor, the calls, and one query per list in the dict, for both
    assert len(large) > 2 * len(small)
    assert len(large_ctx.captured_queries) == len(small_ctx.captured_queries) == 9
