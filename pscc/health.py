"""GET /healthz: PostgreSQL, Redis, the Celery worker, beat and the relay lag; 503 when one is down."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_postgres() -> dict:
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_redis() -> dict:
    started = time.monotonic()
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_heartbeat(name: str, stale_after: float) -> dict:
    from pscc.models import ServiceHeartbeat

    seen = ServiceHeartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
    if seen is None:
        return {"ok": False, "error": f"no heartbeat from the {name} yet"}
    age = (timezone.now() - seen).total_seconds()
    return {"ok": age <= stale_after, "age_s": round(age, 1)}


def _check_relay() -> dict:
    from pscc.models import RelayCursor
    from pscc.relay import relay_lag_seconds

    lag = relay_lag_seconds()
    cursor = RelayCursor.objects.filter(name="floor").first()
    beat = _check_heartbeat("relay", 30.0)
    return {
        "ok": lag <= settings.PSCC_RELAY_LAG_LIMIT_SECONDS and beat["ok"],
        "lag_s": round(lag, 2),
        "seq": cursor.last_seq if cursor else 0,
        "published_seq": cursor.published_seq if cursor else 0,
        "heartbeat_age_s": beat.get("age_s"),
    }


def _guard(check, *args) -> dict:
    try:
        return check(*args)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


@never_cache
@require_GET
def healthz(request):
    checks = {"postgres": _guard(_check_postgres), "redis": _guard(_check_redis)}
    if checks["postgres"]["ok"]:
        stale = settings.PSCC_WORKER_STALE_SECONDS
        checks["worker"] = _guard(_check_heartbeat, "worker", stale)
        checks["beat"] = _guard(_check_heartbeat, "beat", stale)
        checks["relay"] = _guard(_check_relay)
    else:
        for name in ("worker", "beat", "relay"):
            checks[name] = {"ok": False, "error": "PostgreSQL is down"}
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)
