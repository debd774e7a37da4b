"""Reports for a date range: each app registers its sections; CSV exports run in the background.

A section is `fn(start, end) -> (columns, rows iterator)`; `count(start, end)` (optional) gives the
total for the progress bar. `pscc` imports no domain app: sections are registered from each app's
`registry.py`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from pscc.errors import NotFound, ServiceError
from pscc.models import ReportExport


@dataclass(frozen=True)
class ReportSection:
    name: str
    title: str
    rows: Callable[[datetime, datetime], tuple[list[str], Iterable[tuple]]]
    count: Callable[[datetime, datetime], int] | None = None
    order: int = 100


_sections: dict[str, ReportSection] = {}


def register_report_section(section: ReportSection) -> None:
    _sections[section.name] = section


def report_sections() -> list[ReportSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.name))


def report_section(name: str) -> ReportSection:
    if name not in _sections:
        raise NotFound(f"No report {name!r}.", field="report")
    return _sections[name]


def report_range_validate(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    if start is None:
        raise ServiceError("Give the start of the period.", field="start")
    if end is None:
        raise ServiceError("Give the end of the period.", field="end")
    if end <= start:
        raise ServiceError("The end must be after the start.", field="end")
    return start, end


def report_export_request(*, report: str, start: datetime, end: datetime, actor) -> ReportExport:
    """Queue a CSV export; the worker fills it in and reports progress."""
    report_section(report)
    start, end = report_range_validate(start, end)
    with transaction.atomic():
        export = ReportExport.objects.create(report=report, start=start, end=end, requested_by=actor)
        from pscc.tasks import report_export_build

        transaction.on_commit(lambda: report_export_build.delay(export.pk))
    return export


def report_export_build(export_id: int, *, chunk: int = 500) -> ReportExport | None:
    """Build the CSV (safe to run twice: only a queued export is claimed)."""
    claimed = ReportExport.objects.filter(pk=export_id, state=ReportExport.State.QUEUED).update(
        state=ReportExport.State.RUNNING
    )
    if not claimed:
        return None
    export = ReportExport.objects.get(pk=export_id)
    section = report_section(export.report)
    try:
        total = section.count(export.start, export.end) if section.count else None
        ReportExport.objects.filter(pk=export_id).update(rows_total=total)
        columns, rows = section.rows(export.start, export.end)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        done = 0
        for row in rows:
            writer.writerow(row)
            done += 1
            if done % chunk == 0:
                ReportExport.objects.filter(pk=export_id).update(rows_done=done)
        ReportExport.objects.filter(pk=export_id).update(
            state=ReportExport.State.DONE, rows_done=done, rows_total=total if total is not None else done,
            content=buffer.getvalue(), finished_at=timezone.now(),
        )
    except Exception as exc:
        ReportExport.objects.filter(pk=export_id).update(state=ReportExport.State.FAILED, error=str(exc)[:300])
        raise
    return ReportExport.objects.get(pk=export_id)


def report_export_status(export: ReportExport) -> dict:
    return {
        "id": export.pk, "report": export.report, "state": export.state, "rows_done": export.rows_done,
        "rows_total": export.rows_total, "error": export.error,
        "progress_pct": (100.0 * export.rows_done / export.rows_total) if export.rows_total else (100.0 if export.state == "done" else 0.0),
        "download": f"/reports/exports/{export.pk}.csv" if export.state == ReportExport.State.DONE else None,
    }
