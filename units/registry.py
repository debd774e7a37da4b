"""What `units` plugs into the center: the unit board snapshot, the status-timer sweeper, the demo loader."""

from pscc.console import ConsolePanel, register_console_panel
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
from pscc.relay import register_wake_task
from pscc.sweeper import register_sweeper
from units.demo import load_units
from units.selectors import unit_as_dict, unit_board


def _units_snapshot(user, audiences):
    from pscc.journal import FLOOR

    units = unit_board()
    if FLOOR not in audiences:
        codes = [a.split(":", 1)[1] for a in audiences if a.startswith("agency:")]
        units = units.filter(agency__code__in=codes)
    return {str(u.pk): unit_as_dict(u) for u in units}


def _unit_timers():
    from units.services import unit_timers_sweep

    return unit_timers_sweep()


register_snapshot_provider("units", _units_snapshot)
register_sweeper("unit_timers", _unit_timers)
register_demo_loader(10, "units", load_units)
register_console_panel(ConsolePanel(name="unit_board", template="units/board_panel.html", order=60, scripts=("js/units.js",)))


# --- Partner webhooks (issue 7): the beat sweeper enqueues a delivery task per subscription with due work.
def _partner_webhooks():
    from units.webhooks import webhooks_sweep

    return webhooks_sweep()


register_sweeper("partner_webhooks", _partner_webhooks)
# ...and the relay wakes the same sweep as soon as new events are numbered, so a partner hears of a
# change in about a second rather than at the next beat.
register_wake_task("units.webhooks_sweep")
