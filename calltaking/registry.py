"""What `calltaking` plugs into the center: lines and calls on the floor snapshot, the console
panel, the sweeper of due/stuck work, the quarterly misroute purge, and the demo lines."""

from django.conf import settings

from calltaking.models import Line
from pscc.celery import register_periodic
from pscc.console import ConsolePanel, register_console_panel
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
from pscc.sweeper import register_sweeper
from units.models import Agency


def load_lines(data: dict) -> str:
    agencies = {a.code: a for a in Agency.objects.all()}
    for row in data["lines"]:
        Line.objects.update_or_create(
            code=row["code"], defaults={"kind": row["kind"], "label": row["label"], "agency": agencies.get(row.get("agency") or "")}
        )
    return f"{Line.objects.filter(kind='911').count()} 911 lines, {Line.objects.filter(kind='admin').count()} administrative lines"


def _lines_snapshot(user, audiences):
    from pscc.journal import FLOOR

    if FLOOR not in audiences:
        return {}
    return {line.code: {"code": line.code, "kind": line.kind, "label": line.label} for line in Line.objects.all()}


def _calls_snapshot(user, audiences):
    from calltaking.selectors import floor_calls_board
    from pscc.journal import FLOOR

    if FLOOR not in audiences:
        return {}
    return floor_calls_board()


def _sweep() -> int:
    from calltaking.sweeper import sweep_calltaking

    return sweep_calltaking()


register_snapshot_provider("lines", _lines_snapshot)
register_snapshot_provider("calls", _calls_snapshot)
register_demo_loader(40, "lines", load_lines)
register_sweeper("calltaking", _sweep)
# "This file can be purged quarterly" (SOP §V): the purge runs daily and deletes what is past retention.
register_periodic("calltaking-misroute-purge", "calltaking.misroute_reports_purge", 24 * 3600)
# The daily answer-time roll-up (calltaking/rollup.py): the last few complete days, every run.
register_periodic("calltaking-answer-time-rollup", "calltaking.answer_time_rollup", settings.PSCC_ROLLUP_SECONDS)
import calltaking.rollup  # noqa: E402,F401  (registers the roll-up for manage.py rollup_rebuild)
register_console_panel(ConsolePanel(name="calltaking", template="calltaking/panel.html", order=10,
                                    scripts=("js/calltaking.js",)))


def _compliance_snapshot(user, audiences):
    from calltaking.compliance import answer_time_board
    from pscc.journal import SUPERVISORS

    return answer_time_board() if SUPERVISORS in audiences else None


register_snapshot_provider("compliance", _compliance_snapshot)

from calltaking.compliance import register_call_reports  # noqa: E402

register_call_reports()
