"""The center's own part of the demo: role groups, positions and staff logins."""

from __future__ import annotations

from pscc.demo import DEMO_PASSWORD
from pscc.models import Position
from pscc.services import roles_ensure, staff_account_ensure


def load_staff(data: dict) -> str:
    roles_ensure()
    for n in range(1, 9):
        Position.objects.update_or_create(code=f"P{n}", defaults={"label": f"Dispatch position {n}"})
    for person in data["staff"]:
        staff_account_ensure(
            username=person["username"],
            role=person["role"],
            password=DEMO_PASSWORD,
            first_name=person.get("first_name", ""),
            last_name=person.get("last_name", ""),
            email=person.get("email", ""),
            agency_code=person.get("agency") or "",
            position_code=person.get("position"),
        )
    return f"{len(data['staff'])} staff logins, 8 positions"
