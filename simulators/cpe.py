"""Call-handling equipment (CPE) with ALI.

Two directions:
* product -> CPE: `POST /cpe/v1/rebids` asks for a fresh Phase II location;
  `POST /cpe/v1/ali-queries` asks the ALI database for the record of a
  7/10-digit number (SOP §VI manual ALI lookup);
* CPE -> product: the control API (and `--demo`) rings calls into the
  product's `POST /api/v1/calls/` and reports `abandoned`/`released` events.

Guarantees:
* a call payload depends only on (scenario, call id, line, ANI) apart from
  `received_at`, so ringing the same call id twice sends the same call
  (the product is expected to de-duplicate on `Idempotency-Key`);
* the n-th rebid of a call always returns the same point, a few tens of
  metres from the previous fixes, with an uncertainty that shrinks;
* the ALI database record of a number depends only on the number (a 7-digit
  number is taken in the home area code 307); a number ending in "00", or in
  the Phase 0 "911" pseudo area code, has no record.
"""

from __future__ import annotations

import hmac
import logging
import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from . import ali_layouts, casper
from .core import (
    HttpError,
    JsonObject,
    Request,
    Response,
    Route,
    SimState,
    encode_json,
    optional_number,
    optional_str,
    require_choice,
    require_str,
    utc_now_iso,
)
from .outbound import post_json

logger = logging.getLogger("simulators.cpe")

CALL_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ANI_PATTERN = re.compile(r"\d{10}")
ALI_QUERY_NUMBER = re.compile(r"\d{7}|\d{10}")
HOME_AREA_CODE = "307"
NINE_ONE_ONE_LINE = re.compile(r"911-[1-6]")
ADMIN_LINE = re.compile(r"ADMIN-(0[1-9]|1[0-8])")
EVENTS = ("abandoned", "released")
FORMATS = ("json", "legacy")
LEGACY_FORMAT = "vesta-512"

#: ALI fields every JSON `ali` object carries; text is "" and numbers null when absent.
ALI_TEXT_FIELDS = (
    "name", "house_number", "prefix_directional", "street_name", "street_suffix",
    "post_directional", "unit", "community", "state", "esn", "provider_id", "carrier",
)
ALI_NUMBER_FIELDS = ("lat", "lon", "uncertainty_m", "confidence_pct")

PHASE2_CONFIDENCE_PCT = 90


@dataclass
class CpeData:
    rebids: Counter[str] = field(default_factory=Counter)  # by call id


# --------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WirelessOrigin:
    """Where a wireless call comes from: its serving cell sector and true area."""

    site: casper.CellSite
    sector: str
    lat: float
    lon: float
    uncertainty_m: int


def wireless_origin(call_id: str) -> WirelessOrigin:
    rng = random.Random(f"cpe-origin:{call_id}")
    site = rng.choice(casper.CELL_SITES)
    sector = rng.choice(casper.SECTORS)
    lat, lon = casper.point_near(rng, site.lat, site.lon, 1500.0)
    return WirelessOrigin(site, sector, lat, lon, rng.randint(30, 150))


def wireless_fix(call_id: str, rebid: int) -> tuple[float, float, int]:
    """(lat, lon, uncertainty_m) of a call's fix after `rebid` rebids (0: at ring time)."""
    origin = wireless_origin(call_id)
    if rebid == 0:
        return origin.lat, origin.lon, origin.uncertainty_m
    # Callers drift: each rebid lands within 40 m of the original point.
    lat, lon = casper.point_near(random.Random(f"cpe-fix:{call_id}:{rebid}"), origin.lat, origin.lon, 40.0)
    return lat, lon, max(5, round(origin.uncertainty_m / (1 + rebid)))


# --------------------------------------------------------------------------
# Call payloads
# --------------------------------------------------------------------------


def blank_ali() -> JsonObject:
    return {**dict.fromkeys(ALI_TEXT_FIELDS, ""), **dict.fromkeys(ALI_NUMBER_FIELDS)}


def civic_fields(place: casper.CivicAddress) -> JsonObject:
    """ALI address fields (upper-case, as ALI shows them)."""
    return {
        "house_number": place.house_number,
        "prefix_directional": place.street.prefix,
        "street_name": place.street.name.upper(),
        "street_suffix": place.street.suffix.upper(),
        "unit": place.unit.upper(),
        "community": casper.CITY.upper(),
        "state": casper.STATE,
        "esn": place.esn,
    }


def carrier_fields(carrier: casper.Carrier) -> JsonObject:
    return {"provider_id": carrier.provider_id, "carrier": carrier.name}


def wireless_ali(rng: random.Random, call_id: str, *, phase2: bool) -> JsonObject:
    """Phase I: the serving sector's address. Phase II: that plus the caller's fix."""
    carrier = rng.choice(casper.WIRELESS_CARRIERS)
    origin = wireless_origin(call_id)
    ali = {**blank_ali(), **civic_fields(origin.site.address), **carrier_fields(carrier)}
    ali.update(name=carrier.name, unit=f"SEC {origin.sector}")
    if phase2:
        ali.update(lat=origin.lat, lon=origin.lon, uncertainty_m=origin.uncertainty_m,
                   confidence_pct=PHASE2_CONFIDENCE_PCT)
    return ali


def phase0_ali(rng: random.Random, call_id: str) -> JsonObject:
    """Phase 0: only the carrier is known; no address, no location, no callback."""
    carrier = rng.choice(casper.WIRELESS_CARRIERS)
    return {**blank_ali(), **carrier_fields(carrier), "name": carrier.name, "state": casper.STATE}


def residence_ali(rng: random.Random, call_id: str) -> JsonObject:
    first, last = casper.person(rng)
    ali = {**blank_ali(), **civic_fields(casper.address(rng)), **carrier_fields(casper.LANDLINE_CARRIER)}
    ali["name"] = f"{last} {first}".upper()
    return ali


def business_ali(rng: random.Random, call_id: str) -> JsonObject:
    place = casper.address(rng, unit_chance=0.0)
    ali = {**blank_ali(), **civic_fields(place), **carrier_fields(casper.LANDLINE_CARRIER)}
    ali.update(name=rng.choice(casper.BUSINESSES).upper(), unit=f"STE {rng.randint(1, 4)}00")
    return ali


def duress_ali(rng: random.Random, call_id: str) -> JsonObject:
    """A bank's duress (hold-up) line: a business landline nobody speaks on."""
    ali = business_ali(rng, call_id)
    ali.update(name="PRAIRIE STATE BANK", unit="TELLER 2")
    return ali


def payphone_ali(rng: random.Random, call_id: str) -> JsonObject:
    ali = residence_ali(rng, call_id)
    ali.update(name="PAYPHONE", unit="")
    return ali


def voip_ali(rng: random.Random, call_id: str) -> JsonObject:
    """VoIP: the subscriber's registered civic address, no coordinates."""
    first, last = casper.person(rng)
    carrier = rng.choice(casper.VOIP_CARRIERS)
    ali = {**blank_ali(), **civic_fields(casper.address(rng)), **carrier_fields(carrier)}
    ali["name"] = f"{last} {first}".upper()
    return ali


@dataclass(frozen=True)
class Scenario:
    class_of_service: str | None
    admin: bool
    build_ali: Callable[[random.Random, str], JsonObject] | None
    ani_area: str = "307"  # Phase 0 uses the "911" pseudo area code


SCENARIOS: dict[str, Scenario] = {
    "wireless-phase2-hangup": Scenario("WPH2", False, lambda r, c: wireless_ali(r, c, phase2=True)),
    "wireless-phase1": Scenario("WPH1", False, lambda r, c: wireless_ali(r, c, phase2=False)),
    "landline-residence-open-line": Scenario("RESD", False, residence_ali),
    "landline-business-misdial": Scenario("BUSN", False, business_ali),
    "voip": Scenario("VOIP", False, voip_ali),
    "phase0": Scenario("WRLS0", False, phase0_ali, ani_area="911"),
    "duress": Scenario("BUSN", False, duress_ali),
    "payphone": Scenario("PAY", False, payphone_ali),
    # Admin lines deliver caller ID only: no class of service, no ALI.
    "admin-line": Scenario(None, True, None),
}


def default_ani(rng: random.Random, scenario: Scenario) -> str:
    if scenario.ani_area == "911":
        return f"911{rng.randint(0, 9_999_999):07d}"
    return casper.fictional_number(rng)


def build_call(scenario_name: str, call_id: str, line: str, ani: str | None) -> JsonObject:
    """The JSON call payload for `POST /api/v1/calls/` (format "json")."""
    scenario = SCENARIOS[scenario_name]
    rng = random.Random(f"cpe-call:{call_id}")
    ani = ani or default_ani(rng, scenario)
    ali = scenario.build_ali(rng, call_id) if scenario.build_ali else None
    return {
        "cpe_call_id": call_id,
        "line": line,
        "ani": ani,
        "class_of_service": scenario.class_of_service,
        "received_at": utc_now_iso(),
        "ali": ali,
    }


def to_legacy(call: JsonObject) -> JsonObject:
    """The same call with its ALI as a fixed-position `vesta-512` text record."""
    values = {**call["ali"], "ani": call["ani"], "class_of_service": call["class_of_service"]}
    return {
        "cpe_call_id": call["cpe_call_id"],
        "line": call["line"],
        "received_at": call["received_at"],
        "ali_raw": ali_layouts.render(LEGACY_FORMAT, values),
        "ali_format": LEGACY_FORMAT,
    }


# --------------------------------------------------------------------------
# The ALI database (manual ALI lookup)
# --------------------------------------------------------------------------

#: Class of service of a number's ALI database record, chosen by its last digit.
ALI_DATABASE_CLASSES: dict[str, tuple[str, Callable[[random.Random, str], JsonObject]]] = {
    **{digit: ("RESD", residence_ali) for digit in "1234567"},
    "8": ("BUSN", business_ali),
    "9": ("VOIP", voip_ali),
    "0": ("RESD", residence_ali),
}


def ali_database_record(ani: str) -> JsonObject | None:
    """`{"class_of_service", "ali"}` for a 10-digit number, or None when the
    ALI database has no record (ends in "00", or a "911" Phase 0 pseudo-ANI)."""
    if ani.endswith("00") or ani.startswith("911"):
        return None
    class_of_service, build = ALI_DATABASE_CLASSES[ani[-1]]
    return {"class_of_service": class_of_service, "ali": build(random.Random(f"ali-db:{ani}"), ani)}


# --------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RingRequest:
    scenario: str
    call_id: str
    line: str
    ani: str | None
    format: str
    hangup_after: float | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> RingRequest:
        scenario = require_choice(body, "scenario", SCENARIOS)
        admin = SCENARIOS[scenario].admin
        line = optional_str(body, "line", "ADMIN-01" if admin else "911-1")
        assert line is not None
        if not (ADMIN_LINE if admin else NINE_ONE_ONE_LINE).fullmatch(line):
            expected = "ADMIN-01..ADMIN-18" if admin else "911-1..911-6"
            raise HttpError(400, f"line must be one of {expected} for scenario {scenario}", "line")
        call_format = optional_str(body, "format", "json")
        if call_format not in FORMATS:
            raise HttpError(400, "format must be json or legacy", "format")
        if admin and call_format == "legacy":
            raise HttpError(400, "admin lines carry no ALI, so there is no legacy record", "format")
        return cls(
            scenario=scenario,
            call_id=optional_str(body, "call_id", pattern=CALL_ID_PATTERN) or f"CPE-{uuid.uuid4().hex[:16].upper()}",
            line=line,
            ani=optional_str(body, "ani", pattern=ANI_PATTERN),
            format=call_format,
            hangup_after=optional_number(body, "hangup_after", None, maximum=3600.0),
        )


class CpeService:
    name = "cpe"

    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [Route("POST", "/cpe/v1/rebids", self.rebid),
                Route("POST", "/cpe/v1/ali-queries", self.ali_query)]

    def control_routes(self) -> list[Route]:
        return [
            Route("POST", "/_control/cpe/ring", self.ring_control),
            Route("POST", "/_control/cpe/event", self.event_control),
        ]

    # -- product -> CPE -----------------------------------------------------

    def rebid(self, request: Request) -> Response:
        """`POST /cpe/v1/rebids`: the next fix of a call (Bearer cpe_token)."""
        self._check_token(request)
        body = request.json_object()
        call_id = require_str(body, "call_id", pattern=CALL_ID_PATTERN)
        ani = require_str(body, "ani", pattern=ANI_PATTERN)
        with self.state.lock:
            counts = self.state.data(CpeData).rebids
            counts[call_id] += 1
            count = counts[call_id]
        lat, lon, uncertainty_m = wireless_fix(call_id, count)
        return Response(200, {
            "call_id": call_id,
            "ani": ani,
            "class_of_service": "WPH2",
            "lat": lat,
            "lon": lon,
            "uncertainty_m": uncertainty_m,
            "confidence_pct": PHASE2_CONFIDENCE_PCT,
            "rebid_at": utc_now_iso(),
            "rebid_count": count,
        })

    def ali_query(self, request: Request) -> Response:
        """`POST /cpe/v1/ali-queries`: the ALI database record of a number (Bearer cpe_token)."""
        self._check_token(request)
        body = request.json_object()
        number = require_str(body, "number", pattern=ALI_QUERY_NUMBER)
        ani = number if len(number) == 10 else HOME_AREA_CODE + number
        record = ali_database_record(ani)
        if record is None:
            raise HttpError(404, "no_record", "number")
        return Response(200, {"number": number, "ani": ani, **record, "queried_at": utc_now_iso()})

    def _check_token(self, request: Request) -> None:
        token = request.bearer_token() or ""
        if not hmac.compare_digest(token.encode(), self.state.config.cpe_token.encode()):
            raise HttpError(401, "invalid_token", "Authorization",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # -- CPE -> product -----------------------------------------------------

    def ring_control(self, request: Request) -> Response:
        """`POST /_control/cpe/ring`: build a call and POST it to the product once."""
        ring = RingRequest.parse(request.json_object())
        self.state.config.product_endpoint("/")  # fail fast (409) before building anything
        return Response(200, self.ring(ring))

    def ring(self, ring: RingRequest) -> JsonObject:
        """Deliver one call; also used by the demo. Returns what the product said."""
        call = build_call(ring.scenario, ring.call_id, ring.line, ring.ani)
        payload = to_legacy(call) if ring.format == "legacy" else call
        result = self._post("/api/v1/calls/", payload, idempotency_key=ring.call_id)
        if ring.hangup_after is not None:
            self._hang_up_later(ring.call_id, ring.hangup_after)
        return {"call_id": ring.call_id, **result, "payload": payload}

    def event_control(self, request: Request) -> Response:
        """`POST /_control/cpe/event`: tell the product a call was abandoned/released."""
        body = request.json_object()
        call_id = require_str(body, "call_id", pattern=CALL_ID_PATTERN)
        event = require_choice(body, "event", EVENTS)
        self.state.config.product_endpoint("/")
        return Response(200, {"call_id": call_id, "event": event, **self.send_event(call_id, event)})

    def send_event(self, call_id: str, event: str) -> JsonObject:
        path = f"/api/v1/calls/{quote(call_id, safe='')}/events/"
        body = {"event": event, "occurred_at": utc_now_iso()}
        return self._post(path, body, idempotency_key=f"{call_id}:{event}")

    def _post(self, path: str, payload: JsonObject, *, idempotency_key: str) -> JsonObject:
        """One POST to the product, logged; never retried (the caller may ring again)."""
        config = self.state.config
        url = config.product_endpoint(path)
        headers = {"Authorization": f"Bearer {config.cpe_token}", "Idempotency-Key": idempotency_key}
        result = post_json(url, encode_json(payload), headers, config.outbound_timeout)
        self.state.log_outbound(self.name, {
            "url": url, "attempt": 1, "status_code": result.status_code, "error": result.error,
            "body": payload,
        })
        answer: JsonObject = {"status_code": result.status_code, "response": result.body}
        if result.error is not None:
            answer["error"] = result.error
        return answer

    def _hang_up_later(self, call_id: str, delay: float) -> None:
        generation = self.state.generation

        def hang_up() -> None:
            if self.state.sleep(delay) and self.state.is_current(generation):
                try:
                    self.send_event(call_id, "abandoned")
                except HttpError:  # product_url removed meanwhile
                    logger.warning("could not send abandoned for %s: no product_url", call_id)

        threading.Thread(target=hang_up, name=f"sim-hangup-{call_id}", daemon=True).start()


class DemoRinger:
    """`--demo`: rings a random scenario into the product every 45-90 s.

    The first call comes `first_delay` seconds after start so the floor comes
    alive quickly. Hang-up scenarios are followed by `abandoned` 5 s later.
    Does nothing (but keeps ticking) while no product URL is configured.
    """

    DEMO_SCENARIOS = tuple(name for name in SCENARIOS if name != "payphone")

    def __init__(
        self,
        cpe: CpeService,
        interval: tuple[float, float] = (45.0, 90.0),
        first_delay: float = 10.0,
        seed: int = 911,
    ) -> None:
        self.cpe = cpe
        self.interval = interval
        self.first_delay = first_delay
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-demo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        wait = self.first_delay
        while not self._stop.wait(wait):
            self.ring_once()
            wait = self._rng.uniform(*self.interval)

    def ring_once(self) -> JsonObject | None:
        if not self.cpe.state.config.product_url:
            return None
        scenario = self._rng.choice(self.DEMO_SCENARIOS)
        line = f"ADMIN-{self._rng.randint(1, 18):02d}" if SCENARIOS[scenario].admin else f"911-{self._rng.randint(1, 6)}"
        ring = RingRequest(
            scenario=scenario,
            call_id=f"CPE-{uuid.uuid4().hex[:16].upper()}",
            line=line,
            ani=None,
            format="json",
            hangup_after=5.0 if scenario.endswith("hangup") else None,
        )
        try:
            result = self.cpe.ring(ring)
        except HttpError as exc:
            logger.warning("demo ring failed: %s", exc.error)
            return None
        logger.info("demo rang %s on %s: %s", scenario, line, result.get("status_code") or result.get("error"))
        return result
