"""Wireless Service Provider subscriber search: start a search, then poll it (it may take minutes)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from calltaking.providers.base import AdapterError, json_or_error, request

SYSTEM = "wireless service provider"


@dataclass(frozen=True)
class SearchStatus:
    search_id: str
    status: str  # pending, complete, not_found
    subscriber: dict | None


def search_start(*, ani: str, carrier: str, idempotency_key: str) -> SearchStatus:
    response = request(SYSTEM, "POST", f"{settings.PSCC_WSP_URL.rstrip('/')}/v1/subscriber-searches",
                       json={"ani": ani, "carrier": carrier or "unknown"}, headers={"Idempotency-Key": idempotency_key})
    body = json_or_error(SYSTEM, response)
    if not body.get("search_id"):
        raise AdapterError(SYSTEM, "answered without a search id", transient=True)
    return SearchStatus(str(body["search_id"]), str(body.get("status") or "pending"), None)


def search_get(search_id: str) -> SearchStatus:
    response = request(SYSTEM, "GET", f"{settings.PSCC_WSP_URL.rstrip('/')}/v1/subscriber-searches/{search_id}")
    body = json_or_error(SYSTEM, response, ok=(200,))
    status = body.get("status")
    if status not in {"pending", "complete", "not_found"}:
        raise AdapterError(SYSTEM, f"unknown search status {status!r}", transient=True)
    return SearchStatus(search_id, status, body.get("subscriber"))
