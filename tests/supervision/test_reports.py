"""The reports page and CSV exports built by a real worker, with progress."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incidents.calltypes import load_call_types
from incidents.models import CallType, Incident
from pscc.models import ReportExport
from pscc.reports import report_export_build, report_export_request


@pytest.mark.django_db
def test_reports_page_shows_events_by_code_for_the_period(make_staff):
    load_call_types()
    Incident.objects.create(number="2026-000001", call_type=CallType.objects.get(code="THEFT"), priority=4)
    client = Client()
    client.force_login(make_staff("supervisor"))
    page = client.get("/reports/")
    assert page.status_code == 200
    assert b"Events by code" in page.content and b"THEFT" in page.content
    peer = Client()
    peer.force_login(make_staff("telecommunicator"))
    assert peer.get("/reports/").status_code == 403


@pytest.mark.django_db
def test_an_export_is_built_once_even_if_the_task_runs_twice(make_staff):
    load_call_types()
    theft = CallType.objects.get(code="THEFT")
    for n in range(3):
        Incident.objects.create(number=f"2026-00010{n}", call_type=theft, priority=4)
    now = timezone.now()
    export = report_export_request(report="events_by_code", start=now - timedelta(days=1), end=now + timedelta(days=1),
                                   actor=make_staff("supervisor"))
    built = report_export_build(export.pk)
    assert built.state == "done" and built.content.splitlines()[1].startswith("THEFT,")
    assert report_export_build(export.pk) is None  # already claimed


@pytest.mark.django_db(transaction=True)
def test_a_csv_export_requested_from_the_api_completes_on_a_worker(make_staff, celery_worker_process):
    load_call_types()
    Incident.objects.create(number="2026-000200", call_type=CallType.objects.get(code="ROBBERY"), priority=1)
    client = Client()
    client.force_login(make_staff("supervisor"))
    now = timezone.now()
    bad = client.post("/api/v1/reports/exports/", {"report": "events_by_code", "start": now.isoformat(),
                                                   "end": (now - timedelta(days=1)).isoformat()}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "end"
    queued = client.post("/api/v1/reports/exports/", {"report": "events_by_code", "start": (now - timedelta(days=1)).isoformat(),
                                                      "end": (now + timedelta(days=1)).isoformat()}, content_type="application/json")
    assert queued.status_code == 202
    export_id = queued.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/reports/exports/{export_id}/").json()
        if status["state"] == "done":
            break
        time.sleep(0.3)
    assert status["state"] == "done" and status["progress_pct"] == 100.0
    csv_text = client.get(status["download"]).content.decode()
    assert "ROBBERY" in csv_text
    assert ReportExport.objects.get(pk=export_id).rows_done == 1


@pytest.mark.parametrize("query", ["?end=9999-12-31", "?start=0001-01-01&end=0001-01-01", "?start=2026-13-01"])
def test_a_reports_period_at_the_edge_of_the_calendar_falls_back_to_the_last_week(make_staff, query):
    client = Client()
    client.force_login(make_staff("supervisor"))
    assert client.get(f"/reports/{query}").status_code == 200
