"""The caller-data access log cannot be edited, is kept a year, and is reviewable by supervisors;
change history (pghistory) records bulk updates and raw SQL on tracked tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from pscc.audit import caller_data_access_purge, caller_data_access_record
from pscc.errors import ServiceError
from pscc.models import CallerDataAccess, StaffProfile
from tests.security.conftest import verified_client

pytestmark = pytest.mark.django_db


def _record(user, **kwargs) -> CallerDataAccess:
    defaults = {"kind": "ani_ali", "object_ref": "call:1", "reason": "answered 911 call"}
    return caller_data_access_record(user=user, **{**defaults, **kwargs})


def test_an_access_is_recorded_with_who_what_why_route_and_address(make_staff):
    user = make_staff("telecommunicator", username="tc")
    request = RequestFactory().get("/api/v1/calls/7/", REMOTE_ADDR="10.1.2.3")
    request.user = user

    row = caller_data_access_record(
        user=user, kind="subscriber_search", object_ref="phone:3075550100", reason="duress 911W", request=request,
        detail={"carrier": "Wyoming Wireless"},
    )

    row.refresh_from_db()
    assert (row.username, row.role, row.kind, row.object_ref) == ("tc", "telecommunicator", "subscriber_search", "phone:3075550100")
    assert row.route == "GET /api/v1/calls/7/" and row.ip_address == "10.1.2.3"
    assert row.detail == {"carrier": "Wyoming Wireless"} and row.at is not None


def test_an_unknown_kind_is_refused_with_the_field(make_staff):
    with pytest.raises(ServiceError) as error:
        _record(make_staff(), kind="gossip")
    assert error.value.field == "kind"


def test_the_access_log_refuses_queryset_update_and_delete(make_staff):
    row = _record(make_staff())
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        CallerDataAccess.objects.filter(pk=row.pk).update(reason="nothing to see")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        CallerDataAccess.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        row.reason = "edited"
        row.save()
    row.refresh_from_db()
    assert row.reason == "answered 911 call"


def test_the_access_log_refuses_raw_sql_update_and_delete(make_staff):
    row = _record(make_staff())
    for sql in (
        "UPDATE pscc_callerdataaccess SET username = 'someone-else' WHERE id = %s",
        "DELETE FROM pscc_callerdataaccess WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [row.pk])
    assert CallerDataAccess.objects.filter(pk=row.pk, username=row.username).exists()


def test_the_retention_purge_deletes_only_records_older_than_a_year_and_the_log_stays_protected(make_staff):
    user = make_staff()
    old = CallerDataAccess.objects.create(
        username="tc", kind="transcript", object_ref="text:1", at=timezone.now() - timedelta(days=400)
    )
    eleven_months = CallerDataAccess.objects.create(
        username="tc", kind="transcript", object_ref="text:2", at=timezone.now() - timedelta(days=330)
    )
    fresh = _record(user)

    assert caller_data_access_purge() == 1
    assert caller_data_access_purge() == 0  # safe to run twice

    assert not CallerDataAccess.objects.filter(pk=old.pk).exists()
    assert set(CallerDataAccess.objects.values_list("pk", flat=True)) == {eleven_months.pk, fresh.pk}
    # the trigger is back in force outside the purge
    with pytest.raises(DatabaseError), transaction.atomic():
        CallerDataAccess.objects.filter(pk=fresh.pk).delete()
    from pscc.tasks import audit_purge

    assert audit_purge() == 0


def test_the_review_page_filters_and_is_for_supervisors_and_admins_only(mfa_on, make_staff):
    tc = make_staff("telecommunicator", username="tc")
    other = make_staff("telecommunicator", username="other")
    _record(tc, kind="ani_ali", object_ref="call:11")
    _record(tc, kind="manual_ali_lookup", object_ref="phone:3075551234", reason="7-digit call, all four conditions")
    _record(other, kind="transcript", object_ref="text:5")

    peer = Client()
    peer.force_login(tc)
    assert peer.get("/audit/access/").status_code == 403
    unverified = Client()
    unverified.force_login(make_staff("supervisor", username="sup"))
    assert unverified.get("/audit/access/").status_code == 302  # second factor first

    boss = verified_client(make_staff("supervisor", username="boss"))
    everything = boss.get("/audit/access/").content.decode()
    assert "call:11" in everything and "phone:3075551234" in everything and "text:5" in everything
    by_user = boss.get("/audit/access/", {"username": "tc"}).content.decode()
    assert "call:11" in by_user and "text:5" not in by_user
    by_kind = boss.get("/audit/access/", {"kind": "manual_ali_lookup"}).content.decode()
    assert "phone:3075551234" in by_kind and "call:11" not in by_kind
    today = timezone.localdate().isoformat()
    assert "call:11" in boss.get("/audit/access/", {"since": today, "until": today}).content.decode()
    assert "call:11" not in boss.get("/audit/access/", {"until": "2000-01-01"}).content.decode()
    assert boss.get("/audit/access/", {"since": "yesterday"}).status_code == 200  # a bad date is shown, not a 500

    admin = verified_client(make_staff("admin", username="root"))
    assert "call:11" in admin.get("/audit/access/").content.decode()


def test_the_admin_shows_the_access_log_read_only(make_staff):
    row = _record(make_staff())
    admin = Client()
    admin.force_login(make_staff("admin", username="root"))
    assert admin.get("/admin/pscc/callerdataaccess/").status_code == 200
    assert admin.get(f"/admin/pscc/callerdataaccess/{row.pk}/change/").status_code == 200
    assert admin.get("/admin/pscc/callerdataaccess/add/").status_code == 403
    assert admin.post(f"/admin/pscc/callerdataaccess/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CallerDataAccess.objects.filter(pk=row.pk).exists()


def test_a_queryset_update_on_a_staff_profile_is_recorded_in_its_history(make_staff):
    user = make_staff("telecommunicator", username="tc")
    profile = StaffProfile.objects.get(user=user)

    StaffProfile.objects.filter(pk=profile.pk).update(role="supervisor")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pscc_staffprofile SET agency_code = 'CPD' WHERE id = %s", [profile.pk])

    history = list(profile.events.order_by("pgh_id").values_list("pgh_label", "role", "agency_code"))
    assert history[-2:] == [("update", "supervisor", ""), ("update", "supervisor", "CPD")]
    assert history[0][0] == "insert"


def test_a_queryset_update_on_an_incident_is_recorded_in_its_history(make_staff):
    """Acceptance (issue 8): trigger-based history records even a bulk update and raw SQL."""
    import pghistory.models
    from django.apps import apps

    from incidents.calltypes import load_call_types
    from incidents.models import CallType, Incident

    event_models = [m for m in apps.get_models() if getattr(m, "pgh_tracked_model", None) is Incident]
    assert event_models, "incidents.Incident must be tracked by pghistory"

    load_call_types()
    incident = Incident.objects.create(number="T-000001", call_type=CallType.objects.order_by("pk").first(), priority=3)

    Incident.objects.filter(pk=incident.pk).update(priority=1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_incident SET priority = 2 WHERE id = %s", [incident.pk])

    history = list(
        pghistory.models.Events.objects.tracks(incident).order_by("pgh_created_at", "pgh_id").values_list("pgh_label", "pgh_data")
    )
    priorities = [(label, data["priority"]) for label, data in history]
    assert priorities[-2:] == [("update", 1), ("update", 2)]


def test_a_change_made_by_a_celery_task_names_the_task_in_its_history(make_staff):
    import pghistory.models

    from calltaking.models import MisrouteReport
    from calltaking.services import misroute_report_create
    from calltaking.tasks import misroute_reports_purge

    # given: a misroute report older than a quarter
    actor = make_staff("telecommunicator")
    report = misroute_report_create(actor=actor, correct_psap="Fremont County 911", correct_ani="3075550100")
    MisrouteReport.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(days=93))

    # when: the scheduled purge runs as a task
    result = misroute_reports_purge.apply()

    # then: the deletion's history row carries the task's name and run id
    assert result.get() == 1
    deleted = pghistory.models.Events.objects.filter(
        pgh_model="calltaking.MisrouteReportEvent", pgh_obj_id=str(report.pk), pgh_label="delete"
    ).get()
    assert deleted.pgh_context["celery_task"] == "calltaking.misroute_reports_purge"
    assert deleted.pgh_context["celery_task_id"] == result.id
