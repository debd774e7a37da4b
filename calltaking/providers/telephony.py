"""Telephony gateway: places a callback call and connects the position.

The Idempotency-Key makes a repeated request (a retry, or a worker killed after sending) return the
stored answer instead of placing the call again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from calltaking.providers.base import AdapterError, json_or_error, request

OUTCOMES = {"answered", "no_answer", "busy", "voicemail_left", "invalid_number"}


@dataclass(frozen=True)
class CallbackResult:
    outcome: str
    gateway_call_id: str


def place_callback(*, number: str, position: str, reference: str, idempotency_key: str) -> CallbackResult:
    response = request(
        "telephony gateway", "POST", f"{settings.PSCC_TELEPHONY_URL.rstrip('/')}/v1/calls",
        json={"number": number, "position": position or "console", "reference": reference},
        headers={"Idempotency-Key": idempotency_key},
    )
    body = json_or_error("telephony gateway", response, ok=(200, 201))
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise AdapterError("telephony gateway", f"unknown outcome {outcome!r}", transient=False)
    return CallbackResult(outcome=outcome, gateway_call_id=str(body.get("call_id") or ""))
