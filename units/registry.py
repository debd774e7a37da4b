"""What `units` plugs into the center: the unit board snapshot and the demo loader."""

from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
from units.demo import load_units
from units.selectors import unit_as_dict, unit_board


def _units_snapshot(user, audiences):
    from pscc.journal import FLOOR

    units = unit_board()
    if FLOOR not in audiences:
        codes = [a.split(":", 1)[1] for a in audiences if a.startswith("agency:")]
        units = units.filter(agency__code__in=codes)
    return {str(u.pk): unit_as_dict(u) for u in units}


register_snapshot_provider("units", _units_snapshot)
register_demo_loader(10, "units", load_units)
