"""Answer-time compliance (NENA-STA-020 call answering standard), computed in SQL.

90% of 911 calls answered within 15 seconds and 95% within 20 seconds by default; the thresholds
and goals are settings so a center can apply NFPA 1225 (90% within 10 s) instead. Only calls on 911
lines count, and only answered ones (calls abandoned before answer are reported beside the figure).
Windows: the current clock hour and the current shift, in the center's time zone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

_SUMMARY_SQL = """
SELECT count(*) FILTER (WHERE c.answered_at IS NOT NULL) AS answered,
       count(*) FILTER (WHERE c.answered_at IS NOT NULL AND c.answered_at - c.ringing_at <= make_interval(secs => %(first)s)) AS within_first,
       count(*) FILTER (WHERE c.answered_at IS NOT NULL AND c.answered_at - c.ringing_at <= make_interval(secs => %(second)s)) AS within_second,
       count(*) FILTER (WHERE c.answered_at IS NULL AND c.abandoned_at IS NOT NULL) AS abandoned,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.answered_at - c.ringing_at))
           FILTER (WHERE c.answered_at IS NOT NULL) AS p90_seconds
FROM calltaking_call c JOIN calltaking_line l ON l.id = c.line_id
WHERE l.kind = '911' AND c.ringing_at >= %(start)s AND c.ringing_at < %(end)s
"""

_DISTRIBUTION_SQL = """
SELECT least(floor(extract(epoch FROM c.answered_at - c.ringing_at) / %(width)s)::int, %(last)s) AS bucket, count(*)
FROM calltaking_call c JOIN calltaking_line l ON l.id = c.line_id
WHERE l.kind = '911' AND c.answered_at IS NOT NULL AND c.ringing_at >= %(start)s AND c.ringing_at < %(end)s
GROUP BY 1 ORDER BY 1
"""


def _params() -> dict:
    return {
        "first": float(settings.PSCC_ANSWER_FIRST_SECONDS),
        "second": float(settings.PSCC_ANSWER_SECOND_SECONDS),
    }


def answer_time_summary_direct(start: datetime, end: datetime) -> tuple:
    """(answered, within first, within second, abandoned, p90) straight from the calls."""
    with connection.cursor() as cur:
        cur.execute(_SUMMARY_SQL, {**_params(), "start": start, "end": end})
        return cur.fetchone()


def answer_time_summary(start: datetime, end: datetime, *, use_rollup: bool = True) -> dict:
    """Counts and percentages for 911 calls that rang in [start, end).

    Whole local days already rolled up come from the daily roll-up (calltaking/rollup.py), the rest
    from the calls; the figures are identical to the direct computation (`use_rollup=False`)."""
    from calltaking.rollup import answer_time_summary_counts, rollup_applies

    counts = answer_time_summary_counts(start, end) if use_rollup and rollup_applies() else None
    if counts is None:
        counts = answer_time_summary_direct(start, end)
    answered, within_first, within_second, abandoned, p90 = counts
    pct_first = 100.0 * within_first / answered if answered else None
    pct_second = 100.0 * within_second / answered if answered else None
    meets = (
        answered > 0
        and pct_first >= settings.PSCC_ANSWER_FIRST_GOAL_PCT
        and pct_second >= settings.PSCC_ANSWER_SECOND_GOAL_PCT
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "calls": answered,
        "abandoned": abandoned,
        "within_first": within_first,
        "within_second": within_second,
        "pct_within_first": pct_first,
        "pct_within_second": pct_second,
        "p90_seconds": float(p90) if p90 is not None else None,
        "meets": meets,
    }


def answer_time_distribution(start: datetime, end: datetime, *, width: int = 5, buckets: int = 8) -> list[dict]:
    """Answered 911 calls per answer-time bucket of `width` seconds; the last bucket is open-ended."""
    with connection.cursor() as cur:
        cur.execute(_DISTRIBUTION_SQL, {"width": width, "last": buckets - 1, "start": start, "end": end})
        counts = dict(cur.fetchall())
    return [
        {
            "label": f"{i * width}-{(i + 1) * width}s" if i < buckets - 1 else f"{i * width}s+",
            "lower_seconds": i * width,
            "upper_seconds": (i + 1) * width if i < buckets - 1 else None,
            "calls": counts.get(i, 0),
        }
        for i in range(buckets)
    ]


def current_windows(now: datetime | None = None) -> dict[str, tuple[datetime, datetime]]:
    """The current clock hour and the current shift, in the center's local time."""
    tz = ZoneInfo(settings.TIME_ZONE)
    local = (now or timezone.now()).astimezone(tz)
    hour_start = local.replace(minute=0, second=0, microsecond=0)
    starts = sorted(time.fromisoformat(s.strip()) for s in settings.PSCC_SHIFT_STARTS)
    candidates = []
    for day in (local.date() - timedelta(days=1), local.date()):
        for s in starts:
            candidates.append(datetime.combine(day, s, tzinfo=tz))
    shift_start = max(c for c in candidates if c <= local)
    return {"hour": (hour_start, local + timedelta(seconds=1)), "shift": (shift_start, local + timedelta(seconds=1))}


def answer_time_board(now: datetime | None = None) -> dict:
    windows = current_windows(now)
    shift_start, shift_end = windows["shift"]
    return {
        "standard": settings.PSCC_ANSWER_STANDARD,
        "first_seconds": settings.PSCC_ANSWER_FIRST_SECONDS,
        "first_goal_pct": settings.PSCC_ANSWER_FIRST_GOAL_PCT,
        "second_seconds": settings.PSCC_ANSWER_SECOND_SECONDS,
        "second_goal_pct": settings.PSCC_ANSWER_SECOND_GOAL_PCT,
        "windows": {name: answer_time_summary(start, end) for name, (start, end) in windows.items()},
        "distribution": answer_time_distribution(shift_start, shift_end),
    }


# --- Report sections (registered from calltaking/registry.py) -----------------------------------
def calls_by_line_rows(start: datetime, end: datetime):
    with connection.cursor() as cur:
        cur.execute(
            """SELECT l.code, l.kind, coalesce(nullif(c.class_of_service, ''), '—'), count(*),
                      count(*) FILTER (WHERE c.answered_at IS NOT NULL),
                      count(*) FILTER (WHERE c.answered_at IS NULL AND c.abandoned_at IS NOT NULL)
               FROM calltaking_call c JOIN calltaking_line l ON l.id = c.line_id
               WHERE c.ringing_at >= %s AND c.ringing_at < %s
               GROUP BY 1, 2, 3 ORDER BY 2, 1, 3""",
            [start, end],
        )
        rows = cur.fetchall()
    return ["line", "kind", "class of service", "calls", "answered", "abandoned"], rows


def answer_time_rows(start: datetime, end: datetime):
    summary = answer_time_summary(start, end)
    distribution = answer_time_distribution(start, end)
    rows = [("answered 911 calls", summary["calls"]), ("abandoned before answer", summary["abandoned"]),
            (f"within {settings.PSCC_ANSWER_FIRST_SECONDS} s (%)", _pct(summary["pct_within_first"])),
            (f"within {settings.PSCC_ANSWER_SECOND_SECONDS} s (%)", _pct(summary["pct_within_second"])),
            ("90th percentile (s)", summary["p90_seconds"]), ("meets the standard", summary["meets"])]
    rows += [(f"answered in {b['label']}", b["calls"]) for b in distribution]
    return ["measure", "value"], rows


def _pct(value):
    return None if value is None else round(value, 1)


def abandoned_callback_rows(start: datetime, end: datetime):
    """Abandoned calls and what their callback attempts came to."""
    from calltaking.models import CallbackAttempt

    table = CallbackAttempt._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT c.cpe_call_id, l.code, c.ani, c.ringing_at, c.abandoned_at,
                       coalesce(string_agg(coalesce(nullif(a.outcome, ''), a.state), ', ' ORDER BY a.attempt_number), 'no callback')
                FROM calltaking_call c JOIN calltaking_line l ON l.id = c.line_id
                LEFT JOIN {table} a ON a.call_id = c.id
                WHERE c.abandoned_at IS NOT NULL AND c.ringing_at >= %s AND c.ringing_at < %s
                GROUP BY c.id, l.code ORDER BY c.ringing_at""",
            [start, end],
        )
        rows = cur.fetchall()
    return ["call", "line", "ANI", "rang", "abandoned", "callback outcomes"], rows


def register_call_reports() -> None:
    from pscc.reports import ReportSection, register_report_section

    register_report_section(ReportSection("calls_by_line", "Calls by line and class of service", calls_by_line_rows, order=10))
    register_report_section(ReportSection("answer_times", "Answer times (911 lines)", answer_time_rows, order=20))
    register_report_section(ReportSection("abandoned_calls", "Abandoned calls and callback outcomes", abandoned_callback_rows, order=30))
