"""Daily roll-up of 911 answer times, and the answer-time summary read from it.

Per complete local day (by ringing time, 911 lines): the answered and abandoned counts
(AnswerTimeDay) and, per whole second of answer time, rounded up, the number of answered calls
with their exact answer times in microseconds (AnswerTimeBucket). "Answered within N s" (N a whole
number of seconds, as the settings are) is then the sum of the buckets up to N — exact, since
t <= N exactly when ceil(t) <= N — and the 90th percentile is PostgreSQL's percentile_cont computed
over the exact values of the one or two buckets that hold the two ranks it interpolates between.
The result is identical to `compliance._SUMMARY_SQL` on the raw calls.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from django.conf import settings
from django.db import connection

from pscc.rollup import (
    Split, days_params, lerp_percentile, live_ranges_params, register_rollup, report_cursor,
    split_range,
)

NAME = "answer_times"
_ANSWERED_US = "(extract(epoch FROM c.answered_at - c.ringing_at) * 1000000)::bigint"
_CALLS_911 = "calltaking_call c JOIN calltaking_line l ON l.id = c.line_id AND l.kind = '911'"


def answer_time_days_rollup(*, days: list[date]) -> int:
    """Rewrite these local days (the caller holds the transaction and the days' locks): each day's
    calls are those that rang in [its local midnight, the next), as `day_bounds` gives them."""
    bounds = days_params(days)
    ranges = "unnest(%(days)s::date[], %(lo)s::timestamptz[], %(hi)s::timestamptz[]) r(day, lo, hi)"
    calls = (f"(SELECT c.ringing_at, c.answered_at, c.abandoned_at FROM {_CALLS_911} "
             "WHERE c.ringing_at >= %(span_lo)s AND c.ringing_at < %(span_hi)s)")
    with connection.cursor() as cur:
        cur.execute("DELETE FROM calltaking_answertimebucket WHERE day = ANY(%(days)s::date[])", bounds)
        cur.execute("DELETE FROM calltaking_answertimeday WHERE day = ANY(%(days)s::date[])", bounds)
        cur.execute(
            f"""INSERT INTO calltaking_answertimebucket (day, second, calls, micros)
                SELECT day, ceil(us / 1000000.0)::int, count(*), array_agg(us ORDER BY us)
                FROM (SELECT r.day, {_ANSWERED_US} AS us FROM {calls} c
                      JOIN {ranges} ON c.ringing_at >= r.lo AND c.ringing_at < r.hi
                      WHERE c.answered_at IS NOT NULL) a
                GROUP BY 1, 2""",
            bounds,
        )
        buckets = cur.rowcount
        cur.execute(
            f"""INSERT INTO calltaking_answertimeday (day, answered, abandoned, computed_at)
                SELECT r.day, count(c.ringing_at) FILTER (WHERE c.answered_at IS NOT NULL),
                       count(c.ringing_at) FILTER (WHERE c.answered_at IS NULL AND c.abandoned_at IS NOT NULL), now()
                FROM {ranges} LEFT JOIN {calls} c ON c.ringing_at >= r.lo AND c.ringing_at < r.hi
                GROUP BY r.day""",
            bounds,
        )
    return buckets + len(days)


register_rollup(NAME, answer_time_days_rollup, day_table="calltaking_answertimeday")


def rollup_applies() -> bool:
    """Buckets are whole seconds: a fractional threshold setting falls back to the direct query."""
    return all(float(getattr(settings, s)).is_integer()
               for s in ("PSCC_ANSWER_FIRST_SECONDS", "PSCC_ANSWER_SECOND_SECONDS"))


def _live_buckets(cur, split: Split) -> tuple[dict[int, list[int]], int]:
    """{second: sorted answer times (µs)} and the abandoned count of the live ranges."""
    if not split.live:
        return {}, 0
    ranges = "unnest(%(live_lo)s::timestamptz[], %(live_hi)s::timestamptz[]) r(lo, hi)"
    cur.execute(
        f"""SELECT ceil(us / 1000000.0)::int, array_agg(us ORDER BY us)
            FROM (SELECT {_ANSWERED_US} AS us FROM {ranges}
                  JOIN calltaking_call c ON c.ringing_at >= r.lo AND c.ringing_at < r.hi
                  JOIN calltaking_line l ON l.id = c.line_id AND l.kind = '911'
                  WHERE c.answered_at IS NOT NULL) a
            GROUP BY 1""",
        live_ranges_params(split),
    )
    buckets = {second: list(values) for second, values in cur.fetchall()}
    cur.execute(
        f"""SELECT count(*) FROM {ranges}
            JOIN calltaking_call c ON c.ringing_at >= r.lo AND c.ringing_at < r.hi
            JOIN calltaking_line l ON l.id = c.line_id AND l.kind = '911'
            WHERE c.answered_at IS NULL AND c.abandoned_at IS NOT NULL""",
        live_ranges_params(split),
    )
    return buckets, cur.fetchone()[0]


def _percentile_cont(fraction: float, n: int, counts: dict[int, int], values_of) -> float | None:
    """percentile_cont over n values spread in ordered buckets: only the one or two buckets holding
    the ranks it interpolates between are read (`values_of(buckets)` -> {bucket: sorted µs})."""
    if n == 0:
        return None
    position = fraction * (n - 1)
    ranks = (math.floor(position), math.ceil(position))
    where: dict[int, tuple[int, int]] = {}  # rank -> (bucket, rank within the bucket)
    seen = 0
    for bucket in sorted(counts):
        for rank in ranks:
            if seen <= rank < seen + counts[bucket]:
                where[rank] = (bucket, rank - seen)
        seen += counts[bucket]
    values = values_of(sorted({bucket for bucket, _ in where.values()}))
    return lerp_percentile(fraction, n, lambda rank: values[where[rank][0]][where[rank][1]] / 1000000.0)


def answer_time_summary_counts(start: datetime, end: datetime) -> tuple[int, int, int, int, float | None] | None:
    """(answered, within first, within second, abandoned, p90 seconds) for [start, end), as the SQL
    gives them; None when no rolled-up day lies in the range (the hour and shift windows, today):
    the direct query is then the cheaper way to the same figures."""
    first_s, second_s = int(settings.PSCC_ANSWER_FIRST_SECONDS), int(settings.PSCC_ANSWER_SECOND_SECONDS)
    split = split_range(start, end, "calltaking_answertimeday")
    if not split.uses_rollup:
        return None
    with report_cursor() as cur:
        live, abandoned = _live_buckets(cur, split)
        counts = {second: len(values) for second, values in live.items()}
        days = {"first": split.first_day, "last": split.last_day}
        cur.execute("SELECT second, sum(calls)::bigint FROM calltaking_answertimebucket "
                    "WHERE day >= %(first)s AND day <= %(last)s GROUP BY second", days)
        for second, calls in cur.fetchall():
            counts[second] = counts.get(second, 0) + calls
        cur.execute("SELECT coalesce(sum(abandoned), 0)::bigint FROM calltaking_answertimeday "
                    "WHERE day >= %(first)s AND day <= %(last)s", days)
        abandoned += cur.fetchone()[0]

        def values_of(buckets: list[int]) -> dict[int, list[int]]:
            out = {b: list(live.get(b, [])) for b in buckets}
            if buckets:
                cur.execute("SELECT second, array_agg(v) FROM calltaking_answertimebucket, unnest(micros) v "
                            "WHERE day >= %(first)s AND day <= %(last)s AND second = ANY(%(buckets)s) GROUP BY second",
                            {"first": split.first_day, "last": split.last_day, "buckets": buckets})
                for b, vs in cur.fetchall():
                    out[b].extend(vs)
            for vs in out.values():
                vs.sort()
            return out

        answered = sum(counts.values())
        within_first = sum(n for s, n in counts.items() if s <= first_s)
        within_second = sum(n for s, n in counts.items() if s <= second_s)
        p90 = _percentile_cont(0.9, answered, counts, values_of)
    return answered, within_first, within_second, abandoned, p90
