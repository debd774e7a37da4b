"""Recompute the daily roll-ups of the history reports over a range of local days.

    python manage.py rollup_rebuild --from 2016-01-01 --to 2026-11-20
    python manage.py rollup_rebuild --from 2026-03-08 --to 2026-03-08 --rollup answer_times

Each day is rewritten in its own transaction (safe to run while the center works, and to run twice).
Without --to: up to the last complete local day.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from pscc.rollup import last_complete_day, rollup_days_recompute, rollup_names


class Command(BaseCommand):
    help = "Recompute the daily roll-ups (answer times, response times) for a range of local days."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first local day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", default=None, help="last local day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--rollup", action="append", default=None, help=f"one of {', '.join(rollup_names())} (default: all)")

    def handle(self, *args, **options):
        try:
            first = date.fromisoformat(options["first"])
            last = date.fromisoformat(options["last"]) if options["last"] else last_complete_day()
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from exc
        if last > last_complete_day():
            raise CommandError(f"--to: {last} is not over yet (the last complete day is {last_complete_day()})")
        if first > last:
            raise CommandError("--from: after --to")
        names = options["rollup"] or rollup_names()
        unknown = sorted(set(names) - set(rollup_names()))
        if unknown:
            raise CommandError(f"--rollup: unknown {', '.join(unknown)} (known: {', '.join(rollup_names())})")
        for name in names:
            result = rollup_days_recompute(name=name, first=first, last=last)
            self.stdout.write(f"{name}: {result['days']} days, {result['rows']} rows")
