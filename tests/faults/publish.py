"""Publish N floor events through the journal, one transaction each, as fast as PostgreSQL allows.

`python -m tests.faults.publish N PAD` with DATABASE_URL pointing at a drill database; each event
carries PAD bytes of payload (a unit's full state is about that size).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")


def main(count: int, pad: int) -> None:
    import django

    django.setup()
    from django.db import transaction

    from pscc.journal import journal_append

    for n in range(count):
        with transaction.atomic():
            journal_append(kind="drill.tick", payload={"n": n, "pad": "x" * pad}, entity=f"drill:{n}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
