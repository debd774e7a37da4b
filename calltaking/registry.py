"""What `calltaking` plugs into the center: lines on the floor snapshot, and the demo lines."""

from calltaking.models import Line
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
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


register_snapshot_provider("lines", _lines_snapshot)
register_demo_loader(40, "lines", load_lines)
