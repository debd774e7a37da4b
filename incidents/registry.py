"""What `incidents` plugs into the center: the open-incident snapshot, the unit status listener,
the response-goal sweeper, console panels and demo loaders."""

from incidents.calltypes import load_call_types
from incidents.demo import load_geography
from incidents.selectors import open_incidents_board
from pscc.console import ConsolePanel, register_console_panel
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
from pscc.sweeper import register_sweeper
from units.services import register_status_listener


def _incidents_snapshot(user, audiences):
    from pscc.journal import FLOOR

    if FLOOR in audiences:
        return open_incidents_board()
    return open_incidents_board(agency_codes=[a.split(":", 1)[1] for a in audiences if a.startswith("agency:")])


def _unit_status_listener(**kwargs):
    from incidents.services import _on_unit_status

    _on_unit_status(**kwargs)


def _response_goals():
    from incidents.services import incident_response_sweep

    return incident_response_sweep()


register_snapshot_provider("incidents", _incidents_snapshot)
register_status_listener(_unit_status_listener)
register_sweeper("incident_response_goals", _response_goals)
register_demo_loader(20, "geography", load_geography)
register_demo_loader(30, "call types", load_call_types)


register_console_panel(ConsolePanel(name="incident_create", template="incidents/create_panel.html", order=20,
                                    scripts=("js/incidents.js",)))
register_console_panel(ConsolePanel(name="incident_list", template="incidents/list_panel.html", order=40,
                                    scripts=("js/incidents.js",)))
register_console_panel(ConsolePanel(name="incident_detail", template="incidents/detail_panel.html", order=50,
                                    scripts=("js/incidents.js",)))

from incidents.reports import register_incident_reports  # noqa: E402

register_incident_reports()
