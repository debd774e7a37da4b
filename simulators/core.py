"""Shared plumbing for the simulators: HTTP request/response values, JSON
errors, body validation, routing and the thread-safe shared state.

Nothing here knows about any particular outside system; the service modules
(`telephony`, `wsp`, `location`, `cpe`, `tcc`) build on these pieces.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import random
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

JsonObject = dict[str, Any]

#: The simulated outside systems, also the path prefix each one is served under.
SERVICES: tuple[str, ...] = ("telephony", "wsp", "location", "cpe", "tcc")

#: Seed for every pseudo-random choice that is not derived from a request
#: value, so that a fresh (or reset) simulator always makes the same choices.
RANDOM_SEED = 911

#: Cap on each in-memory log so a long benchmark cannot exhaust memory.
LOG_LIMIT = 10_000

#: Request headers copied into the request log (everything else is dropped).
LOGGED_HEADERS: tuple[str, ...] = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "User-Agent",
    "X-Correlation-Id",
    "X-Request-Id",
)


def utc_now_iso() -> str:
    """Current UTC time as ISO 8601 with milliseconds and a `Z` suffix."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; the exact bytes are what gets signed when signing."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(body: Mapping[str, Any]) -> str:
    """Order-independent identity of a JSON body, for idempotency-key reuse checks."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------
# Requests, responses and errors
# --------------------------------------------------------------------------


@dataclass
class Response:
    """A JSON answer. `body` must be JSON-serialisable."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return encode_json(self.body)


class HttpError(Exception):
    """Raised anywhere inside a handler to answer `{"error": ..., "field": ...}`.

    `field` is only present in the body when it names the offending input
    (a body field, query parameter or header).
    """

    def __init__(
        self,
        status: int,
        error: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        body: JsonObject = {"error": self.error}
        if self.field is not None:
            body["field"] = self.field
        return Response(self.status, body, self.headers)


@dataclass(frozen=True)
class Request:
    """An incoming request. Header names are stored lower-cased."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> Request:
        """Split a raw request target into path and (last-value-wins) query."""
        path, _, raw_query = target.partition("?")
        query = {name: values[-1] for name, values in parse_qs(raw_query).items()}
        lowered = {name.lower(): value for name, value in headers}
        return cls(method.upper(), path, query, lowered, body)

    def with_params(self, params: Mapping[str, str]) -> Request:
        return dataclasses.replace(self, params=dict(params))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json_object(self) -> JsonObject:
        """The body as a JSON object; an empty body counts as `{}`.

        Raises 400 when the body is not UTF-8 JSON or not an object.
        """
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise HttpError(400, "body is not valid UTF-8 JSON") from None
        if not isinstance(value, dict):
            raise HttpError(400, "body must be a JSON object")
        return value

    def form(self) -> dict[str, str]:
        """The body as `application/x-www-form-urlencoded` (last value wins)."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "form body is not UTF-8") from None
        return {name: values[-1] for name, values in parse_qs(text).items()}

    def bearer_token(self) -> str | None:
        """The token of an `Authorization: Bearer <token>` header, if any."""
        scheme, _, token = (self.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def basic_credentials(self) -> tuple[str, str] | None:
        """`(user, password)` from an `Authorization: Basic ...` header, if well formed."""
        scheme, _, encoded = (self.header("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        user, colon, password = decoded.partition(":")
        return (user, password) if colon else None

    def loggable_body(self) -> Any:
        """Best-effort parsed body for the request log: JSON, form, text or None."""
        if not self.body:
            return None
        content_type = (self.header("Content-Type") or "").lower()
        if "x-www-form-urlencoded" in content_type:
            try:
                return self.form()
            except HttpError:
                pass
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self.body.decode("utf-8", errors="replace")[:2000]


# --------------------------------------------------------------------------
# Body validation. Each helper raises HttpError(400) naming the field.
# --------------------------------------------------------------------------

_MISSING = object()


def require_str(
    body: Mapping[str, Any],
    name: str,
    *,
    pattern: re.Pattern[str] | None = None,
    max_length: int = 200,
) -> str:
    """A required non-empty string field, optionally matching `pattern` in full."""
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        raise HttpError(400, f"{name} is required", name)
    if not isinstance(value, str) or not value.strip():
        raise HttpError(400, f"{name} must be a non-empty string", name)
    if len(value) > max_length:
        raise HttpError(400, f"{name} is longer than {max_length} characters", name)
    if pattern is not None and not pattern.fullmatch(value):
        raise HttpError(400, f"{name} has an invalid format", name)
    return value


def optional_str(
    body: Mapping[str, Any],
    name: str,
    default: str | None = None,
    *,
    pattern: re.Pattern[str] | None = None,
    max_length: int = 200,
) -> str | None:
    """An optional string field; absent or null gives `default`."""
    if body.get(name) is None:
        return default
    return require_str(body, name, pattern=pattern, max_length=max_length)


def require_choice(body: Mapping[str, Any], name: str, choices: Iterable[str]) -> str:
    """A required string field that must be one of `choices`."""
    allowed = tuple(choices)
    value = require_str(body, name)
    if value not in allowed:
        raise HttpError(400, f"{name} must be one of: {', '.join(allowed)}", name)
    return value


def optional_number(
    body: Mapping[str, Any],
    name: str,
    default: float | None,
    *,
    minimum: float = 0.0,
    maximum: float = 3600.0,
) -> float | None:
    """An optional number within [minimum, maximum]; absent or null gives `default`."""
    value = body.get(name)
    if value is None:
        return default
    # bool is an int subclass; `true` is never a sensible number of seconds.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HttpError(400, f"{name} must be a number", name)
    if not minimum <= value <= maximum:
        raise HttpError(400, f"{name} must be between {minimum} and {maximum}", name)
    return float(value)


def optional_int(
    body: Mapping[str, Any],
    name: str,
    default: int | None,
    *,
    minimum: int = 0,
    maximum: int = 1_000_000,
) -> int | None:
    """An optional integer within [minimum, maximum]; absent or null gives `default`."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise HttpError(400, f"{name} must be an integer", name)
    if not minimum <= value <= maximum:
        raise HttpError(400, f"{name} must be between {minimum} and {maximum}", name)
    return value


def require_idempotency_key(request: Request) -> str:
    """The `Idempotency-Key` header; 400 naming the header when it is missing."""
    key = (request.header("Idempotency-Key") or "").strip()
    if not key:
        raise HttpError(400, "Idempotency-Key header is required", "Idempotency-Key")
    if len(key) > 255:
        raise HttpError(400, "Idempotency-Key is longer than 255 characters", "Idempotency-Key")
    return key


def idempotency_conflict() -> HttpError:
    """Reusing a key with a different body is a client bug; say so loudly."""
    return HttpError(409, "Idempotency-Key reused with a different body", "Idempotency-Key")


# --------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """`pattern` is a path such as `/tcc/v1/sessions/{session_id}/rebid`.

    `{name}` matches one non-empty path segment; a trailing slash is optional.
    """

    method: str
    pattern: str
    handler: Handler

    def compile(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern.rstrip("/"))
        return re.compile(f"^{regex}/?$")


class Router:
    """Matches (method, path) to a handler; 404 for unknown paths, 405 for wrong methods."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, route.compile()) for route in routes]

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed: list[str] = []
        for route, regex in self._routes:
            match = regex.match(path)
            if match is None:
                continue
            if route.method == method:
                return route.handler, match.groupdict()
            allowed.append(route.method)
        if allowed:
            raise HttpError(405, "method not allowed", headers={"Allow": ", ".join(allowed)})
        raise HttpError(404, "not found")


class Service(Protocol):
    """What every simulated system offers to the server."""

    name: str

    def routes(self) -> list[Route]:
        """The system's own API (subject to simulated behaviours and logged)."""
        ...

    def control_routes(self) -> list[Route]:
        """Extra `/_control/<name>/...` endpoints for tests and the demo."""
        ...


# --------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------


@dataclass
class Config:
    """Process-wide settings; `/_control/reset` restores the start-up values."""

    product_url: str | None = None
    tcc_secret: str = "pscc-dev-tcc-secret"
    cpe_token: str = "pscc-dev-cpe-token"
    #: Seconds the simulator waits for the product when it calls the product.
    outbound_timeout: float = 5.0

    def product_endpoint(self, path: str) -> str:
        """`product_url` joined with `path`; 409 when no product URL is configured."""
        if not self.product_url:
            raise HttpError(409, "product_url is not configured", "product_url")
        return self.product_url.rstrip("/") + path


BEHAVIOUR_MODES: tuple[str, ...] = ("ok", "slow", "error", "timeout")
DEFAULT_DELAYS: dict[str, float] = {"slow": 2.0, "timeout": 30.0}


@dataclass
class Behaviour:
    """A scripted misbehaviour for the next `remaining` requests (None: until reset)."""

    mode: str
    delay: float
    remaining: int | None

    def as_json(self) -> JsonObject:
        return {"mode": self.mode, "delay": self.delay, "count": self.remaining}


class DataKind(Protocol):
    """A service's data: a class whose no-argument construction is the empty state."""

    def __init__(self) -> None: ...


T = TypeVar("T", bound=DataKind)


class SimState:
    """Everything the simulators remember, guarded by one re-entrant lock.

    Guarantees:
    * every read or write of service data happens under `lock`;
    * `reset()` replaces all service data, logs, behaviours and configuration
      with their start-up values, and wakes every sleeping request or job;
    * snapshots returned to callers are deep copies, safe to use unlocked.

    Never hold `lock` while doing network I/O or sleeping.
    """

    def __init__(self, config: Config, data_kinds: Iterable[type[DataKind]]) -> None:
        self.lock = threading.RLock()
        self._initial_config = config
        self._kinds = tuple(data_kinds)
        self._stopped = False
        self._wake = threading.Event()
        self.generation = 0
        self._install_fresh_state()

    def _install_fresh_state(self) -> None:
        self.config = dataclasses.replace(self._initial_config)
        self._data: dict[type[DataKind], DataKind] = {kind: kind() for kind in self._kinds}
        self._behaviours: dict[str, Behaviour] = {}
        self._requests: deque[JsonObject] = deque(maxlen=LOG_LIMIT)
        self._outbound: deque[JsonObject] = deque(maxlen=LOG_LIMIT)
        self.rng = random.Random(RANDOM_SEED)

    def data(self, kind: type[T]) -> T:
        """The live data object of one service. Call with `lock` held."""
        value = self._data[kind]
        assert isinstance(value, kind)
        return value

    def reset(self) -> None:
        """Forget everything, and cut short every in-progress simulated delay."""
        with self.lock:
            self.generation += 1
            self._install_fresh_state()
            woken, self._wake = self._wake, threading.Event()
        woken.set()

    def stop(self) -> None:
        """Mark the simulators as stopping: sleeps end now and never start again."""
        with self.lock:
            self._stopped = True
            self.generation += 1
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`. True if the full time elapsed, False if a
        reset or stop cut it short (callers should then abandon their work)."""
        with self.lock:
            wake = self._wake
        return not wake.wait(max(0.0, seconds))

    def is_current(self, generation: int) -> bool:
        """Whether work started in `generation` should still go on."""
        return not self._stopped and generation == self.generation

    # -- behaviours ---------------------------------------------------------

    def set_behaviour(self, service: str, behaviour: Behaviour | None) -> None:
        with self.lock:
            if behaviour is None:
                self._behaviours.pop(service, None)
            else:
                self._behaviours[service] = behaviour

    def take_behaviour(self, service: str) -> Behaviour | None:
        """The behaviour for one request to `service`, consuming one use of it."""
        with self.lock:
            behaviour = self._behaviours.get(service)
            if behaviour is None:
                return None
            if behaviour.remaining is not None:
                behaviour.remaining -= 1
                if behaviour.remaining <= 0:
                    del self._behaviours[service]
            return dataclasses.replace(behaviour)

    def behaviours(self) -> JsonObject:
        with self.lock:
            return {name: b.as_json() for name, b in self._behaviours.items()}

    # -- logs ---------------------------------------------------------------

    def log_request(self, service: str, request: Request, behaviour: str) -> JsonObject:
        """Append a request-log entry and return it (its `status` is set later)."""
        headers = {
            name: value
            for name in LOGGED_HEADERS
            if (value := request.header(name)) is not None
        }
        entry: JsonObject = {
            "service": service,
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": headers,
            "body": request.loggable_body(),
            "time": utc_now_iso(),
            "behaviour": behaviour,
            "status": None,
        }
        with self.lock:
            self._requests.append(entry)
        return entry

    def finish_request(self, entry: JsonObject, status: int) -> None:
        with self.lock:
            entry["status"] = status

    def requests(self, service: str | None = None) -> list[JsonObject]:
        """Request-log entries, oldest first, optionally for one service."""
        with self.lock:
            return copy.deepcopy(
                [e for e in self._requests if service is None or e["service"] == service]
            )

    def log_outbound(self, service: str, entry: JsonObject) -> None:
        """Record one call the simulators made to the product."""
        with self.lock:
            self._outbound.append({"service": service, "time": utc_now_iso(), **entry})

    def outbound(self, service: str | None = None) -> list[JsonObject]:
        with self.lock:
            return copy.deepcopy(
                [e for e in self._outbound if service is None or e["service"] == service]
            )
