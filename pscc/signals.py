"""Process-level signals: the beat process stamps its own heartbeat row while it runs."""

from __future__ import annotations

import logging
import threading
import time

from celery.signals import beat_init

log = logging.getLogger(__name__)


@beat_init.connect
def _start_beat_heartbeat(sender=None, **kwargs) -> None:
    def stamp_forever() -> None:
        from django.db import close_old_connections
        from django.utils import timezone

        from pscc.models import ServiceHeartbeat

        while True:
            try:
                ServiceHeartbeat.objects.update_or_create(name="beat", defaults={"seen_at": timezone.now()})
            except Exception as exc:
                log.warning("beat heartbeat not recorded (%s)", exc)
                close_old_connections()
            time.sleep(5)

    threading.Thread(target=stamp_forever, name="beat-heartbeat", daemon=True).start()
