"""The Text Control Center (TCC) adapter: signature checks on what it POSTs to us, and an HTTP client for
what we send it. The product reaches the TCC only through this module.

Signature (both directions): `X-TCC-Timestamp: <unix seconds>` and
`X-TCC-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings


def tcc_sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class SignatureRejected(Exception):
    """A request that is not from the TCC, or is a replay. `reason` is safe to log and to answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def tcc_signature_verify(*, body: bytes, timestamp: str | None, signature: str | None, now: float | None = None) -> None:
    """Raise SignatureRejected unless the body is signed with our secret within the replay window."""
    secret = settings.PSCC_TCC_SECRET
    if not secret:
        raise SignatureRejected("no TCC secret is configured")
    if not timestamp or not signature:
        raise SignatureRejected("missing X-TCC-Timestamp or X-TCC-Signature")
    try:
        sent = int(timestamp)
        timestamp.encode("ascii")
    except (ValueError, UnicodeEncodeError):
        raise SignatureRejected("X-TCC-Timestamp is not a unix time") from None
    expected = tcc_sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureRejected("bad signature")
    # Checked after the signature so an attacker learns nothing about the window from a forged request.
    skew = (time.time() if now is None else now) - sent
    if abs(skew) > settings.PSCC_TCC_REPLAY_WINDOW_SECONDS:
        raise SignatureRejected("timestamp outside the replay window (replay refused)")


@dataclass
class TccError(Exception):
    """A TCC call that did not succeed. `retryable`: connection trouble, timeouts, 5xx, 429."""

    message: str
    status: int | None = None
    code: str = ""
    retryable: bool = True

    def __str__(self) -> str:
        return f"TCC {self.status or 'unreachable'}: {self.message}"


class TccClient:
    """One small interface: send a text, rebid, transfer, end. Raises TccError."""

    def __init__(self, base_url: str | None = None, secret: str | None = None, timeout: float | None = None) -> None:
        self.base_url = (base_url or settings.PSCC_TCC_URL).rstrip("/")
        self.secret = secret if secret is not None else settings.PSCC_TCC_SECRET
        self.timeout = timeout or settings.PSCC_TCC_TIMEOUT

    def _post(self, path: str, payload: dict[str, Any]) -> dict:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-TCC-Timestamp": timestamp,
                   "X-TCC-Signature": tcc_sign(self.secret, timestamp, body)}
        try:
            response = httpx.post(self.base_url + path, content=body, headers=headers,
                                  timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 3.0)))
        except httpx.HTTPError as exc:
            raise TccError(f"{type(exc).__name__}: {exc}"[:300]) from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            code = str(data.get("error", "")) if isinstance(data, dict) else ""
            retryable = response.status_code >= 500 or response.status_code == 429
            raise TccError(code or f"HTTP {response.status_code}", response.status_code, code, retryable)
        return data if isinstance(data, dict) else {}

    def send_text(self, *, session_id: str, message_id: str, text: str) -> dict:
        return self._post("/v1/messages", {"session_id": session_id, "message_id": message_id, "text": text})

    def rebid(self, *, session_id: str) -> dict:
        return self._post(f"/v1/sessions/{session_id}/rebid", {})

    def transfer(self, *, session_id: str, target_psap: str, target_agency: str) -> dict:
        return self._post(f"/v1/sessions/{session_id}/transfer",
                          {"target_psap": target_psap, "target_agency": target_agency})

    def end(self, *, session_id: str, final_message: str) -> dict:
        return self._post(f"/v1/sessions/{session_id}/end", {"final_message": final_message})
