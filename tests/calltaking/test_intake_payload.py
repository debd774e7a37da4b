"""The ringing event is built from the rows intake has just written, without reading the call back:
it must be exactly what reading the call back would give."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calltaking.models import Call
from calltaking.selectors import call_as_dict
from pscc.models import JournalEvent
from simulators.cpe import build_call, to_legacy
from tests.calltaking.test_intake import PIDF

pytestmark = pytest.mark.django_db


def _reread(call_id: int) -> dict:
    call = Call.objects.select_related("line", "answered_by", "incident__call_type").get(pk=call_id)
    return json.loads(json.dumps(call_as_dict(call), default=str))


@pytest.mark.parametrize("form", ["json", "legacy", "pidf", "no-ali"])
def test_the_ringing_event_equals_the_call_read_back(cpe, form):
    # given: each way the CPE delivers a call
    payload = build_call("wireless-phase2-hangup", f"CPE-P-{form}", "911-3", None)
    if form == "legacy":
        payload = to_legacy(payload)
    elif form == "pidf":
        payload = {"cpe_call_id": payload["cpe_call_id"], "line": "911-3", "ani": "3075550111",
                   "class_of_service": "VOIP", "pidf_lo": PIDF}
    elif form == "no-ali":
        payload.pop("ali", None)
    # when
    response = cpe.post("/api/v1/calls/", payload, format="json")
    # then
    assert response.status_code == 201, response.content
    event = JournalEvent.objects.get(kind="call.ringing", entity=f"call:{response.json()['id']}")
    assert event.payload == _reread(response.json()["id"])


def test_a_ringing_call_is_committed_and_journalled_in_a_handful_of_queries(center):
    from calltaking.services import call_receive

    payload = build_call("wireless-phase2-hangup", "CPE-Q-1", "911-3", None)
    with CaptureQueriesContext(connection) as captured:
        call_receive(cpe_call_id=payload["cpe_call_id"], line=payload["line"], ani=payload["ani"],
                     class_of_service=payload["class_of_service"], ali=payload["ali"])
    reads_of_the_new_call = [q for q in captured.captured_queries
                             if q["sql"].startswith("SELECT") and "calltaking_" in q["sql"].split("FROM", 1)[-1][:40]
                             and "WHERE" in q["sql"] and "cpe_call_id" not in q["sql"] and "calltaking_line" not in q["sql"]]
    assert reads_of_the_new_call == [], [q["sql"][:120] for q in reads_of_the_new_call]
    assert len(captured.captured_queries) <= 9, [q["sql"][:80] for q in captured.captured_queries]
