"""Daily roll-ups of the history reports, and how a report splits its range between them and the live rows.

A roll-up is per *local* day (settings.TIME_ZONE: a DST day is 23 or 25 hours long). A day is rolled
up only once it is over; each report app registers a function that recomputes one day (delete and
insert in one transaction, under an advisory lock, so running it twice — or twice at once — leaves
the same rows). The periodic task of each app recomputes the last `PSCC_ROLLUP_RECOMPUTE_DAYS`
complete days on every run, because late answers, closures and corrections arrive; older
corrections need `manage.py rollup_rebuild --from ... --to ...`.

A report over [start, end) then reads the roll-up for every local day that lies wholly inside the
range *and* has been rolled up, and the live rows for everything else: partial days at the edges,
today, and days not rolled up yet (`split_range`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

_rollups: dict[str, tuple[Callable[..., int], str]] = {}


def register_rollup(name: str, days_rollup: Callable[..., int], *, day_table: str) -> None:
    """`days_rollup(days=[...])` rewrites the roll-up rows of those local days and returns how many it
    wrote; `day_table` has one row (`day`) per rolled-up day."""
    _rollups[name] = (days_rollup, day_table)


def rollup_names() -> list[str]:
    return sorted(_rollups)


def rollup_missing_days(*, name: str, first: date, last: date) -> list[date]:
    """The days of first..last not rolled up."""
    with connection.cursor() as cur:
        cur.execute(f"""SELECT d::date FROM generate_series(%s::date, %s::date, interval '1 day') d
                        WHERE NOT EXISTS (SELECT 1 FROM {_rollups[name][1]} t WHERE t.day = d::date) ORDER BY 1""",
                    [first, last])
        return [r[0] for r in cur.fetchall()]


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[local midnight of `day`, local midnight of the next day), as UTC datetimes."""
    tz = local_tz()
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(dt_timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(dt_timezone.utc)
    return start, end


def last_complete_day(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(local_tz()).date() - timedelta(days=1)


@dataclass(frozen=True)
class Split:
    first_day: date | None  # the rolled-up days used: first_day..last_day (every rolled day between them)
    last_day: date | None
    live: list[tuple[datetime, datetime]]  # [lo, hi) ranges read from the live rows

    @property
    def uses_rollup(self) -> bool:
        return self.first_day is not None


def split_range(start: datetime, end: datetime, day_table: str) -> Split:
    """Which whole local days of [start, end) come from the roll-up (those with a row in `day_table`,
    the roll-up's table of computed days), and the [lo, hi) ranges to read live."""
    if start >= end:
        return Split(None, None, [])
    tz = local_tz()
    day = start.astimezone(tz).date()
    if day_bounds(day)[0] < start:
        day += timedelta(days=1)
    last = end.astimezone(tz).date() - timedelta(days=1)
    while last >= day and day_bounds(last)[1] > end:
        last -= timedelta(days=1)
    rolled: list[date] = []
    if last >= day:
        with connection.cursor() as cur:
            cur.execute(f"SELECT day FROM {day_table} WHERE day >= %s AND day <= %s ORDER BY day", [day, last])
            rolled = [r[0] for r in cur.fetchall()]
    live: list[tuple[datetime, datetime]] = []
    cursor = start
    for d in rolled:
        lo, hi = day_bounds(d)
        if lo > cursor:
            live.append((cursor, lo))
        cursor = hi
    if cursor < end:
        live.append((cursor, end))
    return Split(rolled[0] if rolled else None, rolled[-1] if rolled else None, live)


def live_ranges_params(split: Split) -> dict:
    return {"live_lo": [lo for lo, _ in split.live], "live_hi": [hi for _, hi in split.live]}


def days_params(days: list[date]) -> dict:
    """SQL parameters for a set of local days: `days`, their UTC bounds `lo`/`hi`, and `span_lo`/`span_hi`
    around them all (a plain range the planner estimates well; rows are then matched to their day)."""
    bounds = [day_bounds(d) for d in days]
    return {"days": list(days), "lo": [lo for lo, _ in bounds], "hi": [hi for _, hi in bounds],
            "span_lo": min(lo for lo, _ in bounds), "span_hi": max(hi for _, hi in bounds)}


def rollup_days_rewrite(*, name: str, days: list[date]) -> int:
    """Rewrite these days of one roll-up in one transaction (delete + insert); concurrent runs for the
    same days wait for each other (a lock per day, taken in day order). Only days that are over: a
    rolled-up day is read instead of its rows, so a partial one would hide the calls still to come."""
    days = sorted(set(days))
    if days and days[-1] > last_complete_day():
        raise ValueError(f"{days[-1]} is not over yet")
    key = zlib.crc32(f"rollup:{name}".encode()) - 2**31
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")  # compiling costs more than these statements
            for day in days:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [key, day.toordinal()])
        return _rollups[name][0](days=days) if days else 0


def rollup_day_recompute(*, name: str, day: date) -> int:
    """One day of one roll-up, in one transaction."""
    return rollup_days_rewrite(name=name, days=[day])


def rollup_days_recompute(*, name: str, first: date, last: date, chunk: int = 31) -> dict:
    """Every day of first..last, `chunk` days per statement and transaction (a decade in minutes, and
    never one long transaction)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    written = sum(rollup_days_rewrite(name=name, days=days[i:i + chunk]) for i in range(0, len(days), chunk))
    return {"rollup": name, "days": len(days), "rows": written}


def rollup_recent_recompute(*, name: str, now: datetime | None = None) -> dict:
    """The periodic run: the last `PSCC_ROLLUP_RECOMPUTE_DAYS` complete local days, and every day since
    the newest rolled-up one if that is older (beat was down): no gap opens behind the window. Days
    before the first roll-up (a fresh install, an imported history) are `rollup_rebuild`'s."""
    last = last_complete_day(now)
    first = last - timedelta(days=settings.PSCC_ROLLUP_RECOMPUTE_DAYS - 1)
    with connection.cursor() as cur:
        cur.execute(f"SELECT max(day) FROM {_rollups[name][1]}")
        newest = cur.fetchone()[0]
    if newest is not None and newest + timedelta(days=1) < first:
        first = newest + timedelta(days=1)
    return rollup_days_recompute(name=name, first=first, last=last)


def lerp_percentile(fraction: float, n: int, value_at: Callable[[int], float]) -> float | None:
    """PostgreSQL's percentile_cont over n ordered values, with its float arithmetic
    (percentile_cont_final_common + float8_lerp): `value_at(rank)` gives the rank-th smallest value."""
    if n == 0:
        return None
    position = fraction * (n - 1)
    first, second = math.floor(position), math.ceil(position)
    low = value_at(first)
    if second == first:
        return low
    return low + ((position - first) * (value_at(second) - low))


def percentile_cont(sorted_us, fraction: float) -> float | None:
    """percentile_cont(fraction) in seconds of sorted microsecond values, as PostgreSQL computes it
    over `extract(epoch FROM interval)` (µs / 10⁶ in float8 is the same correctly rounded double)."""
    return lerp_percentile(fraction, len(sorted_us), lambda rank: int(sorted_us[rank]) / 1000000.0)


@contextmanager
def report_cursor(*, binary: bool = False):
    """A cursor for the roll-up reports: in a transaction with JIT compilation off (the live ranges are
    parameters, so the planner's estimate for them is large enough to trigger JIT, whose compilation
    costs more than the whole query), binary results if asked (packed values arrive as raw bytes,
    not hex), and still through Django's execute wrappers (query logging, the benchmark's capture)."""
    with transaction.atomic():
        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
        if not binary:
            with connection.cursor() as cur:
                yield cur
            return
        raw = psycopg.Cursor(connection.connection)
        raw.format = psycopg.pq.Format.BINARY
        try:
            yield CursorWrapper(raw, connection)
        finally:
            raw.close()
