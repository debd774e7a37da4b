"""Migrate a drill database and load what the drills need; prints one JSON line of ids.

Run as a subprocess (`python -m tests.faults.seed`) with DATABASE_URL pointing at the drill's private
PostgreSQL, so the test process never opens Django's own connection to it.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)

    from calltaking.models import Line
    from incidents.calltypes import load_call_types
    from pscc.services import roles_ensure, staff_account_ensure
    from text911.quick import quick_messages_ensure
    from units.models import Agency, Unit

    load_call_types()
    quick_messages_ensure()
    for n in range(1, 7):
        Line.objects.update_or_create(code=f"911-{n}", defaults={"kind": "911", "label": f"911 trunk {n}"})
    agency, _ = Agency.objects.update_or_create(
        code="CPD", defaults={"name": "Casper Police Department", "kind": "law", "disciplines": ["law"]})
    units = [Unit.objects.update_or_create(call_sign=f"DRILL{n}", defaults={"agency": agency, "unit_type": "patrol"})[0].pk
             for n in range(1, 7)]
    roles_ensure()
    user = staff_account_ensure(username="drill_tc", role="telecommunicator", password="correct-horse-battery",
                                first_name="Drill", last_name="Console")
    client = Client()
    client.force_login(user)
    print(json.dumps({"session": client.cookies["sessionid"].value, "units": units, "user": user.pk}))


if __name__ == "__main__":
    main()
