"""SOP §V misroute reports (sent to the county 911 coordinator, purged quarterly) and §VI manual
ALI lookups (only with all four conditions; every lookup and refusal audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from calltaking.models import ManualAliLookup, MisrouteReport
from calltaking.services import misroute_report_send, misroute_reports_purge
from pscc.models import JournalEvent
from simulators.cpe import build_call

pytestmark = pytest.mark.django_db


def test_a_misroute_report_goes_to_the_county_coordinator(cpe, staff_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PSCC_MISROUTE_COORDINATOR_EMAIL = "coordinator@natrona.example"
    client = staff_client()
    cpe.post("/api/v1/calls/", build_call("wireless-phase1", "CPE-MIS", "911-1", "3075550190"), format="json")
    from calltaking.models import Call

    call = Call.objects.get(cpe_call_id="CPE-MIS")
    missing = client.post("/api/v1/misroute-reports/", {"call_id": call.pk, "correct_psap": ""}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "correct_psap"
    response = client.post("/api/v1/misroute-reports/", {
        "call_id": call.pk, "correct_psap": "Converse County 911", "correct_ali": "1 MAIN ST, DOUGLAS WY"}, format="json")
    assert response.status_code == 201 and response.json()["sent_to"] == "coordinator@natrona.example"
    assert misroute_report_send(response.json()["id"]) == "sent"
    assert mail.outbox[0].to == ["coordinator@natrona.example"]
    assert "Converse County 911" in mail.outbox[0].body and "3075550190" in mail.outbox[0].body
    report = MisrouteReport.objects.get()
    assert report.state == "done" and report.finished_at is not None and report.reported_by_label == client.user.username
    assert misroute_report_send(report.pk) == "not claimed"  # sent once


def test_misroute_reports_are_purged_after_a_quarter(staff_client):
    client = staff_client()
    from calltaking.services import misroute_report_create

    old = misroute_report_create(actor=client.user, correct_psap="Fremont County 911", correct_ani="3075550100")
    new = misroute_report_create(actor=client.user, correct_psap="Fremont County 911", correct_ani="3075550101")
    MisrouteReport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=93))
    assert misroute_reports_purge() == 1
    assert list(MisrouteReport.objects.values_list("pk", flat=True)) == [new.pk]
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["calltaking-misroute-purge"]["task"] == "calltaking.misroute_reports_purge"


ALL_FOUR = {"requesting_emergency_aid": True, "caller_gave_number": True, "emergency_exists": True,
            "insufficient_information": True}


def test_manual_ali_lookup_with_all_four_conditions_returns_the_ali_and_is_audited(cpe, staff_client):
    client = staff_client()
    payload = build_call("landline-residence-open-line", "CPE-PRIOR", "911-1", "3075550171")
    cpe.post("/api/v1/calls/", payload, format="json")
    response = client.post("/api/v1/manual-ali-lookups/", {"phone_number": "3075550171", "line_code": "ADMIN-02",
                                                           **ALL_FOUR}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["allowed"] and response.json()["result"]["found"]
    assert response.json()["result"]["ali"]["street_name"] == payload["ali"]["street_name"]
    lookup = ManualAliLookup.objects.get()
    assert lookup.allowed and lookup.requested_by == client.user
    assert JournalEvent.objects.get(kind="call.manual_ali_lookup").audience == ["supervisor"]


@pytest.mark.parametrize("missing", sorted(ALL_FOUR))
def test_manual_ali_lookup_is_refused_unless_all_four_conditions_hold_and_the_refusal_is_audited(
        center, staff_client, missing):
    client = staff_client()
    response = client.post("/api/v1/manual-ali-lookups/", {"phone_number": "3075550171", "line_code": "ADMIN-02",
                                                           **ALL_FOUR, missing: False}, format="json")
    assert response.status_code == 403
    assert missing in response.json()["refusal_reason"] and response.json()["result"] is None
    lookup = ManualAliLookup.objects.get()
    assert not lookup.allowed and lookup.result is None and missing in lookup.refusal_reason


def test_manual_ali_lookup_is_refused_for_a_call_on_a_911_line(center, staff_client):
    response = staff_client().post("/api/v1/manual-ali-lookups/", {"phone_number": "3075550171", "line_code": "911-1",
                                                                   **ALL_FOUR}, format="json")
    assert response.status_code == 403 and "seven-digit" in response.json()["refusal_reason"]
    assert ManualAliLookup.objects.filter(allowed=False).count() == 1
