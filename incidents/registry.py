"""What `incidents` plugs into the center: the open-incident snapshot and demo loaders."""

from incidents.calltypes import load_call_types
from incidents.demo import load_geography
from incidents.selectors import incident_as_dict, open_incidents
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider


def _incidents_snapshot(user, audiences):
    from pscc.journal import FLOOR

    incidents = open_incidents()
    if FLOOR not in audiences:
        codes = [a.split(":", 1)[1] for a in audiences if a.startswith("agency:")]
        incidents = incidents.filter(assignments__unit__agency__code__in=codes).distinct()
    return {i.number: incident_as_dict(i) for i in incidents}


register_snapshot_provider("incidents", _incidents_snapshot)
register_demo_loader(20, "geography", load_geography)
register_demo_loader(30, "call types", load_call_types)
