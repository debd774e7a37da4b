"""The reports page: sections for a date range, CSV exports with progress."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pscc.api import IsSupervisor
from pscc.models import ReportExport
from pscc.reports import report_export_request, report_export_status, report_sections
from pscc.roles import is_supervisor


def _period(request) -> tuple[datetime, datetime, str, str]:
    tz = ZoneInfo(settings.TIME_ZONE)
    today = datetime.now(tz).date()
    start_text = request.GET.get("start") or (today - timedelta(days=7)).isoformat()
    end_text = request.GET.get("end") or today.isoformat()
    try:
        start = datetime.combine(datetime.fromisoformat(start_text).date(), time.min, tzinfo=tz)
        end = datetime.combine(datetime.fromisoformat(end_text).date(), time.min, tzinfo=tz) + timedelta(days=1)
    except (ValueError, OverflowError):  # not a date, or the day after 9999-12-31
        start = datetime.combine(today - timedelta(days=7), time.min, tzinfo=tz)
        end = datetime.combine(today, time.min, tzinfo=tz) + timedelta(days=1)
    return start, end, start_text, end_text


@login_required
def reports(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("Reports are for supervisors and administrators.")
    start, end, start_text, end_text = _period(request)
    sections = []
    for section in report_sections():
        columns, rows = section.rows(start, end)
        rows = list(rows)
        sections.append({"name": section.name, "title": section.title, "columns": columns, "rows": rows[:200],
                         "total": len(rows)})
    return render(request, "pscc/reports.html", {"sections": sections, "start": start_text, "end": end_text,
                                                 "start_iso": start.isoformat(), "end_iso": end.isoformat()})


@login_required
def export_download(request, export_id: int):
    if not is_supervisor(request.user):
        raise PermissionDenied("Reports are for supervisors and administrators.")
    export = get_object_or_404(ReportExport, pk=export_id, state=ReportExport.State.DONE)
    response = HttpResponse(export.content, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{export.report}-{export.start:%Y%m%d}-{export.end:%Y%m%d}.csv"'
    return response


class ExportInput(serializers.Serializer):
    report = serializers.CharField(max_length=40)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ExportView(APIView):
    permission_classes = [IsSupervisor]
    serializer_class = ExportInput

    @extend_schema(operation_id="report_export_request", request=ExportInput, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        data = ExportInput(data=request.data)
        data.is_valid(raise_exception=True)
        export = report_export_request(actor=request.user, **data.validated_data)
        return Response(report_export_status(export), status=202)


class ExportStatusView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(operation_id="report_export_status", responses=OpenApiTypes.OBJECT)
    def get(self, request, export_id: int):
        export = get_object_or_404(ReportExport, pk=export_id)
        return Response(report_export_status(export))
