"""Telephony gateway: places callback calls on behalf of telecommunicators.

Guarantees:
* a call is placed at most once per `Idempotency-Key`; a repeated key gets
  the stored answer back and does not count as another placement;
* outcomes are scripted per number, or else follow the number's last digit,
  so tests can rely on them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .core import (
    HttpError,
    JsonObject,
    Request,
    Response,
    Route,
    SimState,
    fingerprint,
    idempotency_conflict,
    optional_str,
    require_idempotency_key,
    require_str,
    utc_now_iso,
)

OUTCOMES: tuple[str, ...] = ("answered", "no_answer", "busy", "voicemail_left", "invalid_number")

#: Default outcome by the last digit of a 10-digit number.
OUTCOME_BY_LAST_DIGIT: dict[str, str] = {
    **dict.fromkeys("0123", "answered"),
    **dict.fromkeys("45", "no_answer"),
    "6": "busy",
    **dict.fromkeys("78", "voicemail_left"),
    "9": "invalid_number",
}


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    answer: JsonObject


@dataclass
class TelephonyData:
    answers: dict[str, StoredAnswer] = field(default_factory=dict)  # by Idempotency-Key
    placements: Counter[str] = field(default_factory=Counter)  # by number
    scripts: dict[str, list[str]] = field(default_factory=dict)  # by number


def default_outcome(number: str) -> str:
    """Outcome for an unscripted number: anything but 10 digits is invalid."""
    if len(number) != 10 or not number.isdigit():
        return "invalid_number"
    return OUTCOME_BY_LAST_DIGIT[number[-1]]


def next_outcome(data: TelephonyData, number: str) -> str:
    """Consume the number's script (its last entry repeats forever), or use the default."""
    script = data.scripts.get(number)
    if not script:
        return default_outcome(number)
    return script.pop(0) if len(script) > 1 else script[0]


class TelephonyService:
    name = "telephony"

    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [Route("POST", "/telephony/v1/calls", self.place_call)]

    def control_routes(self) -> list[Route]:
        return [
            Route("POST", "/_control/telephony/script", self.set_script),
            Route("GET", "/_control/telephony/placements", self.placements),
        ]

    def place_call(self, request: Request) -> Response:
        """`POST /telephony/v1/calls`: place (or replay) one callback call."""
        key = require_idempotency_key(request)
        body = request.json_object()
        number = require_str(body, "number", max_length=32)
        position = require_str(body, "position", max_length=32)
        reference = optional_str(body, "reference")
        body_fingerprint = fingerprint(body)
        with self.state.lock:
            data = self.state.data(TelephonyData)
            stored = data.answers.get(key)
            if stored is not None:
                if stored.fingerprint != body_fingerprint:
                    raise idempotency_conflict()
                return Response(200, stored.answer)
            outcome = next_outcome(data, number)
            data.placements[number] += 1
            answer = {
                "call_id": str(uuid.uuid4()),
                "number": number,
                "reference": reference,
                "outcome": outcome,
                "connected_position": position if outcome == "answered" else None,
                "placed_at": utc_now_iso(),
            }
            data.answers[key] = StoredAnswer(body_fingerprint, answer)
        return Response(200, answer)

    def set_script(self, request: Request) -> Response:
        """`POST /_control/telephony/script`: replace the outcome script of a number."""
        body = request.json_object()
        number = require_str(body, "number", max_length=32)
        outcomes = _outcome_list(body.get("outcomes"))
        with self.state.lock:
            self.state.data(TelephonyData).scripts[number] = outcomes
        return Response(200, {"number": number, "outcomes": outcomes})

    def placements(self, request: Request) -> Response:
        """`GET /_control/telephony/placements[?number=...]`: calls placed per number."""
        number = request.query.get("number")
        with self.state.lock:
            counts = self.state.data(TelephonyData).placements
            result = {number: counts[number]} if number else dict(counts)
        return Response(200, {"placements": result, "total": sum(result.values())})


def _outcome_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise HttpError(400, "outcomes must be a non-empty list", "outcomes")
    for outcome in value:
        if outcome not in OUTCOMES:
            raise HttpError(400, f"outcomes must each be one of: {', '.join(OUTCOMES)}", "outcomes")
    return list(value)
