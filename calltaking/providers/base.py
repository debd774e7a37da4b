"""Shared HTTP plumbing of the adapters: one error type that says whether retrying may help."""

from __future__ import annotations

import httpx
from django.conf import settings


class AdapterError(Exception):
    """An outside system failed. `transient`: a retry may succeed (timeout, connection, 5xx)."""

    def __init__(self, system: str, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system
        self.message = message
        self.transient = transient
        self.status = status


def timeout() -> float:
    return float(settings.PSCC_ADAPTER_TIMEOUT_SECONDS)


def request(system: str, method: str, url: str, **kwargs) -> httpx.Response:
    """One HTTP request; every failure becomes an AdapterError naming the system and the cause."""
    seconds = kwargs.pop("timeout", None) or timeout()
    try:
        with httpx.Client(timeout=seconds) as client:
            response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise AdapterError(system, f"no answer within {seconds:g} s", transient=True) from None
    except httpx.HTTPError as exc:
        raise AdapterError(system, f"could not be reached ({exc.__class__.__name__}: {exc})", transient=True) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise AdapterError(system, f"answered {response.status_code} ({_error_text(response)})", transient=True,
                           status=response.status_code)
    return response


def json_or_error(system: str, response: httpx.Response, *, ok=(200, 201, 202)) -> dict:
    if response.status_code not in ok:
        raise AdapterError(system, f"refused the request: {response.status_code} ({_error_text(response)})",
                           transient=False, status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise AdapterError(system, "answered with something that is not JSON", transient=True) from None
    if not isinstance(body, dict):
        raise AdapterError(system, "answered with an unexpected JSON shape", transient=True)
    return body


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("error"):
            return str(body["error"])[:200]
    except ValueError:
        pass
    return response.text[:200] or response.reason_phrase
