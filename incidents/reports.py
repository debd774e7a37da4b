"""Response-time compliance per call type and priority, computed in SQL.

For incidents received in a period: received → dispatched → en route → on scene, P50 and P90 of
each interval (seconds), and the share that reached the scene within the call type's goal.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

_SQL = """
SELECT ct.code, i.priority, count(*) AS incidents,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_dispatched_at - i.received_at)) AS dispatch_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_dispatched_at - i.received_at)) AS dispatch_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_en_route_at - i.received_at)) AS en_route_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_en_route_at - i.received_at)) AS en_route_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_on_scene_at - i.received_at)) AS on_scene_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.first_on_scene_at - i.received_at)) AS on_scene_p90,
       max(ct.response_goal_seconds) AS goal_seconds,
       count(*) FILTER (WHERE i.first_on_scene_at IS NOT NULL) AS arrived,
       count(*) FILTER (WHERE ct.response_goal_seconds IS NOT NULL AND i.first_on_scene_at IS NOT NULL
                        AND i.first_on_scene_at - i.received_at <= make_interval(secs => ct.response_goal_seconds)) AS within_goal
FROM incidents_incident i JOIN incidents_calltype ct ON ct.id = i.call_type_id
WHERE i.received_at >= %(start)s AND i.received_at < %(end)s
GROUP BY ct.code, i.priority
ORDER BY i.priority, ct.code
"""


def response_time_report(start: datetime, end: datetime, *, use_rollup: bool = True) -> list[dict]:
    """One row per (call type, priority) for incidents received in [start, end).

    Whole local days already rolled up come from the daily roll-up (incidents/rollup.py), the rest
    from the incidents; identical to the direct computation (`use_rollup=False`)."""
    from incidents.rollup import response_time_rows_raw

    rolled = response_time_rows_raw(start, end) if use_rollup else None
    if rolled is not None:
        columns, raw = rolled
    else:
        with connection.cursor() as cur:
            cur.execute(_SQL, {"start": start, "end": end})
            columns, raw = [c.name for c in cur.description], cur.fetchall()
    rows = [dict(zip(columns, r)) for r in raw]
    for row in rows:
        for key, value in list(row.items()):
            if key.endswith(("_p50", "_p90")) and value is not None:
                row[key] = round(float(value), 1)
        goal = row["goal_seconds"]
        row["pct_within_goal"] = (100.0 * row["within_goal"] / row["arrived"]) if goal and row["arrived"] else None
    return rows


def events_by_code_rows(start: datetime, end: datetime):
    with connection.cursor() as cur:
        cur.execute(
            """SELECT ct.code, ct.name, count(*), count(*) FILTER (WHERE i.status = 'closed'),
                      count(*) FILTER (WHERE i.priority = 1)
               FROM incidents_incident i JOIN incidents_calltype ct ON ct.id = i.call_type_id
               WHERE i.received_at >= %s AND i.received_at < %s GROUP BY ct.code, ct.name ORDER BY 3 DESC, 1""",
            [start, end],
        )
        rows = cur.fetchall()
    return ["code", "call type", "incidents", "closed", "priority 1"], rows


def response_time_rows(start: datetime, end: datetime):
    keys = ["code", "priority", "incidents", "dispatch_p50", "dispatch_p90", "en_route_p50", "en_route_p90",
            "on_scene_p50", "on_scene_p90", "goal_seconds", "pct_within_goal"]
    return keys, [tuple(row[k] for k in keys) for row in response_time_report(start, end)]


def register_incident_reports() -> None:
    from pscc.reports import ReportSection, register_report_section

    register_report_section(ReportSection("events_by_code", "Events by code", events_by_code_rows, order=40))
    register_report_section(ReportSection("response_times", "Response times by call type and priority", response_time_rows, order=50))
