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
from pscc.models import CallerDataAccess
from simulators.cpe import ali_database_record, build_call
from tests.calltaking.conftest import CPE_TOKEN

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


def ali_queries(sim) -> list[dict]:
    return [r for r in sim.control.get("/_control/requests", params={"service": "cpe"}).json()["requests"]
            if r["path"] == "/cpe/v1/ali-queries"]


def lookup(client, status, **body):
    response = client.post("/api/v1/manual-ali-lookups/", {"line_code": "ADMIN-02", **body}, format="json")
    assert response.status_code == status, response.content
    return response.json()


def test_manual_ali_lookup_with_all_four_conditions_queries_the_ali_database_and_is_audited(center, sim, staff_client):
    # given a caller on a seven-digit line who gave the number 307-555-0171
    client = staff_client()
    # when all four conditions are affirmed
    body = lookup(client, 201, phone_number="3075550171", **ALL_FOUR)
    # then the ALI database provider was asked once, over HTTP, with our token, and its record is the answer
    (query,) = ali_queries(sim)
    assert query["body"]["number"] == "3075550171" and query["headers"]["Authorization"] == f"Bearer {CPE_TOKEN}"
    expected = ali_database_record("3075550171")
    result = body["result"]
    assert body["allowed"] and result["found"] and result["source"] == "ali_database"
    assert result["ani"] == "3075550171" and result["class_of_service"] == expected["class_of_service"]
    assert result["ali"]["street_name"] == expected["ali"]["street_name"]
    assert result["ali"]["ali_name"] == expected["ali"]["name"] and result["ali"]["esn"] == expected["ali"]["esn"]
    assert expected["ali"]["street_name"] in result["address_text"] and result["received_at"]
    lookup_row = ManualAliLookup.objects.get()
    assert lookup_row.allowed and lookup_row.requested_by == client.user and lookup_row.result == result
    event = JournalEvent.objects.get(kind="call.manual_ali_lookup")
    assert event.audience == ["supervisor"] and event.payload["found"] is True
    access = CallerDataAccess.objects.get(kind="manual_ali_lookup")
    assert access.username == client.user.username and access.object_ref == "phone:3075550171"


def test_a_seven_digit_number_is_looked_up_in_the_home_area_code(center, sim, staff_client):
    body = lookup(staff_client(), 201, phone_number="5550172", **ALL_FOUR)
    assert body["result"]["found"] and body["result"]["ani"] == "3075550172"
    assert ali_queries(sim)[0]["body"]["number"] == "5550172"


def test_a_number_the_ali_database_does_not_know_is_not_found_and_still_audited(center, sim, staff_client):
    body = lookup(staff_client(), 201, phone_number="3075550100", **ALL_FOUR)
    assert body["allowed"] and body["result"]["found"] is False and "ali" not in body["result"]
    assert len(ali_queries(sim)) == 1
    assert CallerDataAccess.objects.get(kind="manual_ali_lookup").detail["found"] is False


@pytest.mark.parametrize("mode", ["error", "timeout"])
def test_a_failing_ali_database_gives_a_503_saying_what_to_do_and_the_attempt_is_audited(
        center, sim, staff_client, settings, mode):
    settings.PSCC_ALI_DATABASE_TIMEOUT_SECONDS = 0.5
    sim.control.post("/_control/behaviour", json={"service": "cpe", "mode": mode, "delay": 3, "count": 1})
    body = lookup(staff_client(), 503, phone_number="3075550171", **ALL_FOUR)
    assert body["code"] == "ali_database_unavailable"
    assert "try the lookup again" in body["error"] and "24x7 line" in body["error"]
    assert ("no answer within 0.5 s" if mode == "timeout" else "503") in body["error"]
    row = ManualAliLookup.objects.get()
    assert row.allowed and row.result["found"] is False and row.result["error"].startswith("ALI database")
    assert JournalEvent.objects.get(kind="call.manual_ali_lookup").payload["error"]
    # the provider is back: the same lookup answers
    assert lookup(staff_client(), 201, phone_number="3075550171", **ALL_FOUR)["result"]["found"]


def test_an_ali_database_refusing_our_token_is_a_503_naming_the_setting(center, sim, staff_client, settings):
    settings.PSCC_ALI_DATABASE_TOKEN = "not-the-token"
    body = lookup(staff_client(), 503, phone_number="3075550171", **ALL_FOUR)
    assert "PSCC_ALI_DATABASE_TOKEN" in body["error"]


def test_a_number_the_ali_database_refuses_is_a_400_on_phone_number(center, sim, staff_client):
    body = lookup(staff_client(), 400, phone_number="307555017199", **ALL_FOUR)
    assert body["field"] == "phone_number" and "7 or 10 digits" in body["error"]
    assert ManualAliLookup.objects.get().result["found"] is False


@pytest.mark.parametrize("missing", sorted(ALL_FOUR))
def test_manual_ali_lookup_is_refused_unless_all_four_conditions_hold_and_the_refusal_is_audited(
        center, sim, staff_client, missing):
    client = staff_client()
    response = client.post("/api/v1/manual-ali-lookups/", {"phone_number": "3075550171", "line_code": "ADMIN-02",
                                                           **ALL_FOUR, missing: False}, format="json")
    assert response.status_code == 403
    assert missing in response.json()["refusal_reason"] and response.json()["result"] is None
    lookup_row = ManualAliLookup.objects.get()
    assert not lookup_row.allowed and lookup_row.result is None and missing in lookup_row.refusal_reason
    assert JournalEvent.objects.get(kind="call.manual_ali_lookup").payload["allowed"] is False
    assert ali_queries(sim) == []  # the ALI database was never asked


def test_manual_ali_lookup_is_refused_for_a_call_on_a_911_line(center, sim, staff_client):
    response = staff_client().post("/api/v1/manual-ali-lookups/", {"phone_number": "3075550171", "line_code": "911-1",
                                                                   **ALL_FOUR}, format="json")
    assert response.status_code == 403 and "seven-digit" in response.json()["refusal_reason"]
    assert ManualAliLookup.objects.filter(allowed=False).count() == 1
    assert ali_queries(sim) == []
