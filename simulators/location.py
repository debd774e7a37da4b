"""Supplemental location provider (RapidSOS-style): OAuth2 client-credentials
tokens, then device locations by caller id.

Guarantees:
* only the configured client id/secret get a token (HTTP Basic only);
* a location query without a live token is answered 401, whatever the caller id;
* caller ids ending in an odd digit always get the same point near Casper,
  every other caller id gets 404 `no_location`.
"""

from __future__ import annotations

import hmac
import random
import re
import secrets
import time
from dataclasses import dataclass, field

from . import casper
from .core import HttpError, Request, Response, Route, SimState, require_str, utc_now_iso

DEFAULT_CLIENT_ID = "pscc-demo"
DEFAULT_CLIENT_SECRET = "pscc-demo-secret"
TOKEN_LIFETIME_S = 3600
CALLER_ID_PATTERN = re.compile(r"\+?\d{1,15}")
SOURCES = ("device", "wearable", "vehicle")


@dataclass
class LocationData:
    clients: dict[str, str] = field(
        default_factory=lambda: {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
    )
    tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry


def location_for(caller_id: str) -> dict[str, object] | None:
    """Deterministic fix within ~3 km of Casper for odd last digits, else None."""
    if not caller_id[-1].isdigit() or int(caller_id[-1]) % 2 == 0:
        return None
    rng = random.Random(f"location:{caller_id}")
    lat, lon = casper.point_near(rng, casper.CASPER_LAT, casper.CASPER_LON, 3000.0)
    return {
        "caller_id": caller_id,
        "lat": lat,
        "lon": lon,
        "uncertainty_m": rng.randint(5, 60),
        "source": rng.choice(SOURCES),
        "timestamp": utc_now_iso(),
    }


def _unauthorized(error: str) -> HttpError:
    return HttpError(401, error, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


class LocationService:
    name = "location"

    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/location/oauth/token", self.issue_token),
            Route("GET", "/location/v1/locations", self.get_location),
        ]

    def control_routes(self) -> list[Route]:
        return [
            Route("POST", "/_control/location/clients", self.set_client),
            Route("POST", "/_control/location/expire-tokens", self.expire_tokens),
        ]

    def issue_token(self, request: Request) -> Response:
        """`POST /location/oauth/token` (form `grant_type=client_credentials`, Basic auth)."""
        credentials = request.basic_credentials()
        if credentials is None or not self._client_matches(*credentials):
            raise HttpError(401, "invalid_client", headers={"WWW-Authenticate": "Basic"})
        grant_type = request.form().get("grant_type")
        if grant_type is None:
            raise HttpError(400, "invalid_request", "grant_type")
        if grant_type != "client_credentials":
            raise HttpError(400, "unsupported_grant_type", "grant_type")
        token = secrets.token_urlsafe(32)
        with self.state.lock:
            self.state.data(LocationData).tokens[token] = time.monotonic() + TOKEN_LIFETIME_S
        return Response(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
        )

    def _client_matches(self, client_id: str, client_secret: str) -> bool:
        with self.state.lock:
            expected = self.state.data(LocationData).clients.get(client_id)
        # Constant-time compare: the product's adapter should expect no less.
        return expected is not None and hmac.compare_digest(expected, client_secret)

    def get_location(self, request: Request) -> Response:
        """`GET /location/v1/locations?caller_id=...` with a Bearer token."""
        self._check_token(request.bearer_token())
        caller_id = require_str(request.query, "caller_id", pattern=CALLER_ID_PATTERN)
        found = location_for(caller_id)
        if found is None:
            raise HttpError(404, "no_location")
        return Response(200, found)

    def _check_token(self, token: str | None) -> None:
        if token is None:
            raise _unauthorized("missing_token")
        with self.state.lock:
            expires_at = self.state.data(LocationData).tokens.get(token)
        if expires_at is None:
            raise _unauthorized("invalid_token")
        if time.monotonic() >= expires_at:
            raise _unauthorized("token_expired")

    def set_client(self, request: Request) -> Response:
        """`POST /_control/location/clients`: these become the only valid credentials."""
        body = request.json_object()
        client_id = require_str(body, "client_id")
        client_secret = require_str(body, "client_secret")
        with self.state.lock:
            self.state.data(LocationData).clients = {client_id: client_secret}
        return Response(200, {"client_id": client_id})

    def expire_tokens(self, request: Request) -> Response:
        """`POST /_control/location/expire-tokens`: every issued token is now expired."""
        now = time.monotonic()
        with self.state.lock:
            tokens = self.state.data(LocationData).tokens
            for token in tokens:
                tokens[token] = now
            count = len(tokens)
        return Response(200, {"expired": count})
