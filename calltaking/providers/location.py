"""Supplemental location (RapidSOS-style): OAuth2 client credentials, then the device location by
caller id. The token is cached per process until shortly before it expires, and fetched again
once when the provider says it is no longer valid."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from calltaking.providers.base import AdapterError, json_or_error, request

SYSTEM = "supplemental location provider"
_token_lock = threading.Lock()
_token: dict = {"value": None, "expires": 0.0, "key": None}


@dataclass(frozen=True)
class DeviceLocation:
    lat: float
    lon: float
    uncertainty_m: float | None
    source: str
    timestamp: str


def _base() -> str:
    return settings.PSCC_LOCATION_URL.rstrip("/")


def access_token(*, refresh: bool = False) -> str:
    key = (_base(), settings.PSCC_LOCATION_CLIENT_ID)
    with _token_lock:
        if not refresh and _token["value"] and _token["key"] == key and time.monotonic() < _token["expires"]:
            return _token["value"]
        response = request(SYSTEM, "POST", f"{_base()}/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(settings.PSCC_LOCATION_CLIENT_ID, settings.PSCC_LOCATION_CLIENT_SECRET))
        if response.status_code == 401:
            raise AdapterError(SYSTEM, "refused our client credentials (check PSCC_LOCATION_CLIENT_ID/SECRET)",
                               transient=False, status=401)
        body = json_or_error(SYSTEM, response, ok=(200,))
        token = body.get("access_token")
        if not token:
            raise AdapterError(SYSTEM, "issued no access token", transient=True)
        lifetime = float(body.get("expires_in") or 300)
        _token.update(value=token, key=key, expires=time.monotonic() + max(lifetime - 30, lifetime / 2))
        return token


def location_by_caller_id(caller_id: str) -> DeviceLocation | None:
    """The device's location, or None when the provider has none for this caller."""
    for attempt in (1, 2):
        token = access_token(refresh=attempt == 2)
        response = request(SYSTEM, "GET", f"{_base()}/v1/locations", params={"caller_id": caller_id},
                           headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401 and attempt == 1:
            continue  # expired or revoked token: fetch a fresh one once
        if response.status_code == 404:
            return None
        body = json_or_error(SYSTEM, response, ok=(200,))
        try:
            return DeviceLocation(float(body["lat"]), float(body["lon"]),
                                  float(body["uncertainty_m"]) if body.get("uncertainty_m") is not None else None,
                                  str(body.get("source") or ""), str(body.get("timestamp") or ""))
        except (KeyError, TypeError, ValueError):
            raise AdapterError(SYSTEM, "answered a location without lat/lon", transient=True) from None
    raise AdapterError(SYSTEM, "refused a fresh access token", transient=False, status=401)
