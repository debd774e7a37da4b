"""Daily roll-up of response times, and the response-time report read from it.

Per complete local day (by received time), call type and priority: the number of incidents and
the exact intervals from receipt to first dispatch, first en route and first on scene (microseconds,
sorted, packed as 8-byte integers; an incident that never reached a step is absent from that step's
values, as percentile_cont ignores NULLs). A report over [start, end) concatenates, per call type
and priority, those values for its whole rolled-up days with the live incidents of the rest (one
statement, 24-ish rows back), sorts them with numpy and takes PostgreSQL's percentile_cont (same
float arithmetic), the arrived count and the share within the call type's *current* goal: the
result is identical to `reports._SQL` on the raw incidents. Per-day histograms would not help here:
a day has a handful of incidents per call type and priority, so a year of them is ~all the values.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
from django.db import connection

from pscc.rollup import (
    days_params, live_ranges_params, percentile_cont, register_rollup, report_cursor,
    split_range,
)

NAME = "response_times"


def _us(column: str) -> str:
    return f"(extract(epoch FROM i.{column} - i.received_at) * 1000000)::bigint"


def _group_select(source: str, *, by_day: bool = False) -> str:
    """Per (call type, priority) — and day `r.day` if `by_day` — of the incidents `source` yields (a
    FROM ... over `i`)."""
    day, day_column = ("day, ", "r.day, ") if by_day else ("", "")
    return f"""
    SELECT {day}call_type_id, priority, count(*) AS incidents,
           coalesce(string_agg(int8send(d), ''::bytea ORDER BY d) FILTER (WHERE d IS NOT NULL), ''::bytea) AS d,
           coalesce(string_agg(int8send(e), ''::bytea ORDER BY e) FILTER (WHERE e IS NOT NULL), ''::bytea) AS e,
           coalesce(string_agg(int8send(s), ''::bytea ORDER BY s) FILTER (WHERE s IS NOT NULL), ''::bytea) AS s
    FROM (SELECT {day_column}i.call_type_id, i.priority, {_us('first_dispatched_at')} AS d, {_us('first_en_route_at')} AS e,
                 {_us('first_on_scene_at')} AS s
          {source}) x
    GROUP BY {day}call_type_id, priority"""


def response_time_days_rollup(*, days: list[date]) -> int:
    """Rewrite these local days (the caller holds the transaction and the days' locks): each day's
    incidents are those received in [its local midnight, the next), as `day_bounds` gives them."""
    bounds = days_params(days)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM incidents_responsetimegroup WHERE day = ANY(%(days)s::date[])", bounds)
        cur.execute("DELETE FROM incidents_responsetimeday WHERE day = ANY(%(days)s::date[])", bounds)
        cur.execute(
            f"""INSERT INTO incidents_responsetimegroup (day, call_type_id, priority, incidents, dispatched_us,
                                                         en_route_us, on_scene_us)
                SELECT g.day, g.call_type_id, g.priority, g.incidents, g.d, g.e, g.s FROM (
                    {_group_select("FROM (SELECT * FROM incidents_incident "
                                   "      WHERE received_at >= %(span_lo)s AND received_at < %(span_hi)s) i "
                                   "JOIN unnest(%(days)s::date[], %(lo)s::timestamptz[], %(hi)s::timestamptz[]) r(day, lo, hi) "
                                   "ON i.received_at >= r.lo AND i.received_at < r.hi", by_day=True)}
                ) g""",
            bounds,
        )
        groups = cur.rowcount
        cur.execute("INSERT INTO incidents_responsetimeday (day, computed_at) SELECT d, now() FROM unnest(%(days)s::date[]) d",
                    bounds)
    return groups + len(days)


register_rollup(NAME, response_time_days_rollup, day_table="incidents_responsetimeday")

# A plain SELECT (no leading WITH): pghistory's execute wrapper leaves SELECTs alone, and anything
# else gets a context statement prepended, which a server-side-bound (binary) statement refuses.
_REPORT_SQL = f"""
SELECT ct.code, m.priority, m.incidents, ct.response_goal_seconds, m.d, m.e, m.s
FROM (
    SELECT call_type_id, priority, sum(incidents)::bigint AS incidents,
           string_agg(d, ''::bytea) AS d, string_agg(e, ''::bytea) AS e, string_agg(s, ''::bytea) AS s
    FROM (
        SELECT call_type_id, priority, incidents, dispatched_us AS d, en_route_us AS e, on_scene_us AS s
        FROM incidents_responsetimegroup WHERE day >= %(first)s AND day <= %(last)s
        UNION ALL
        {_group_select("FROM unnest(%(live_lo)s::timestamptz[], %(live_hi)s::timestamptz[]) r(lo, hi) "
                       "JOIN incidents_incident i ON i.received_at >= r.lo AND i.received_at < r.hi")}
    ) groups
    GROUP BY call_type_id, priority
) m JOIN incidents_calltype ct ON ct.id = m.call_type_id
ORDER BY m.priority, ct.code
"""

COLUMNS = ["code", "priority", "incidents", "dispatch_p50", "dispatch_p90", "en_route_p50", "en_route_p90",
           "on_scene_p50", "on_scene_p90", "goal_seconds", "arrived", "within_goal"]


def _sorted_us(packed) -> np.ndarray:
    return np.sort(np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64))


def response_time_rows_raw(start: datetime, end: datetime) -> tuple[list[str], list[tuple]] | None:
    """The report's columns and rows, before rounding, from the roll-up plus the live incidents —
    the same values `reports._SQL` gives; None when no rolled-up day lies in the range (the direct
    query is then the cheaper way to them)."""
    split = split_range(start, end, "incidents_responsetimeday")
    if not split.uses_rollup:
        return None
    with report_cursor(binary=True) as cur:
        cur.execute(_REPORT_SQL, {"first": split.first_day, "last": split.last_day,
                                  **live_ranges_params(split)})
        fetched = cur.fetchall()
    rows = []
    for code, priority, incidents, goal, d, e, s in fetched:
        dispatched, en_route, on_scene = _sorted_us(d), _sorted_us(e), _sorted_us(s)
        within = int(np.searchsorted(on_scene, goal * 1_000_000, side="right")) if goal is not None else 0
        rows.append((code, priority, int(incidents),
                     percentile_cont(dispatched, 0.5), percentile_cont(dispatched, 0.9),
                     percentile_cont(en_route, 0.5), percentile_cont(en_route, 0.9),
                     percentile_cont(on_scene, 0.5), percentile_cont(on_scene, 0.9),
                     goal, len(on_scene), within))
    return COLUMNS, rows
