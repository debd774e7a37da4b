"""Wireless Service Provider subscriber search (a slow, asynchronous lookup).

Guarantees:
* one search per `Idempotency-Key`; repeating the key returns the same search;
* a search stays `pending` for the delay configured when it was created, then
  is `complete` with a subscriber derived only from the ANI, or `not_found`
  when the ANI ends in "00".
"""

from __future__ import annotations

import random
import re
import time
import uuid
from dataclasses import dataclass, field

from . import casper
from .core import (
    HttpError,
    JsonObject,
    Request,
    Response,
    Route,
    SimState,
    fingerprint,
    idempotency_conflict,
    optional_number,
    require_idempotency_key,
    require_str,
)

ANI_PATTERN = re.compile(r"\d{10}")
ACCOUNT_TYPES = ("individual", "family_plan", "business", "prepaid")


@dataclass(frozen=True)
class Search:
    search_id: str
    ani: str
    carrier: str
    ready_at: float  # time.monotonic() when the answer is available

    def as_json(self, now: float) -> JsonObject:
        if now < self.ready_at:
            status, subscriber = "pending", None
        else:
            subscriber = subscriber_for(self.ani)
            status = "complete" if subscriber else "not_found"
        return {
            "search_id": self.search_id,
            "ani": self.ani,
            "carrier": self.carrier,
            "status": status,
            "subscriber": subscriber,
        }


@dataclass
class WspData:
    delay: float = 1.0
    searches: dict[str, Search] = field(default_factory=dict)  # by search_id
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (fingerprint, id)


def subscriber_for(ani: str) -> JsonObject | None:
    """The subscriber record for an ANI: deterministic, None when it ends in "00"."""
    if ani.endswith("00"):
        return None
    rng = random.Random(f"wsp-subscriber:{ani}")
    first, last = casper.person(rng)
    home = casper.address(rng)
    account_type = rng.choice(ACCOUNT_TYPES)
    name = rng.choice(casper.BUSINESSES) if account_type == "business" else f"{first} {last}"
    return {
        "name": name,
        "street": home.street_line(),
        "city": casper.CITY,
        "state": casper.STATE,
        "zip": home.zip_code,
        "account_type": account_type,
    }


class WspService:
    name = "wsp"

    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/wsp/v1/subscriber-searches", self.start_search),
            Route("GET", "/wsp/v1/subscriber-searches/{search_id}", self.get_search),
        ]

    def control_routes(self) -> list[Route]:
        return [Route("POST", "/_control/wsp/config", self.configure)]

    def start_search(self, request: Request) -> Response:
        """`POST /wsp/v1/subscriber-searches`: 202 with a pending search."""
        key = require_idempotency_key(request)
        body = request.json_object()
        ani = require_str(body, "ani", pattern=ANI_PATTERN)
        carrier = require_str(body, "carrier", max_length=100)
        body_fingerprint = fingerprint(body)
        with self.state.lock:
            data = self.state.data(WspData)
            known = data.by_key.get(key)
            if known is not None:
                if known[0] != body_fingerprint:
                    raise idempotency_conflict()
                return Response(202, {"search_id": known[1], "status": "pending"})
            search = Search(str(uuid.uuid4()), ani, carrier, time.monotonic() + data.delay)
            data.searches[search.search_id] = search
            data.by_key[key] = (body_fingerprint, search.search_id)
        return Response(202, {"search_id": search.search_id, "status": "pending"})

    def get_search(self, request: Request) -> Response:
        """`GET /wsp/v1/subscriber-searches/{id}`: current status; 404 if unknown."""
        with self.state.lock:
            search = self.state.data(WspData).searches.get(request.params["search_id"])
        if search is None:
            raise HttpError(404, "unknown search_id", "search_id")
        return Response(200, search.as_json(time.monotonic()))

    def configure(self, request: Request) -> Response:
        """`POST /_control/wsp/config`: `delay` for searches created from now on."""
        delay = optional_number(request.json_object(), "delay", None, maximum=600.0)
        with self.state.lock:
            data = self.state.data(WspData)
            if delay is not None:
                data.delay = delay
            return Response(200, {"delay": data.delay})
