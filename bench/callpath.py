"""What the intake and burst benchmarks share: the calls and texts they send, a small HTTP client, the
console process that confirms each one on the floor, and the set-up and clean-up of the center.

Every call id is `BK<run>-C<n>` and every text carries `BK<run>-T<n>` in its text: the consoles
(`bench.eventclients`) know a call or a text of this run by it, and the clean-up finds its rows.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass

from bench.common import Clients, Processes

CPE_SCENARIOS = (
    # (scenario of simulators.cpe, share, form): JSON ALI, the legacy fixed-position spill, PIDF-LO
    ("landline-residence-open-line", 20, "json"),
    ("landline-business-misdial", 8, "json"),
    ("wireless-phase1", 12, "json"),
    ("wireless-phase2-hangup", 30, "json"),
    ("wireless-phase2-hangup", 10, "legacy"),
    ("landline-residence-open-line", 5, "legacy"),
    ("voip", 8, "json"),
    ("voip", 7, "pidf"),
)
LINES_911 = [f"911-{n}" for n in range(1, 7)]

PIDF = """<?xml version="1.0"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
  xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:gml="http://www.opengis.net/gml"
  xmlns:gs="http://www.opengis.net/pidflo/1.0" xmlns:con="urn:ietf:params:xml:ns:geopriv:conf" entity="pres:{ani}@voip.example.com">
 <tuple id="t1"><status><gp:geopriv><gp:location-info>
   <ca:civicAddress><ca:A1>WY</ca:A1><ca:A3>Casper</ca:A3><ca:HNO>{house}</ca:HNO><ca:RD>{street}</ca:RD><ca:STS>{suffix}</ca:STS></ca:civicAddress>
   <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat:.6f} {lon:.6f}</gml:pos>
     <gs:radius uom="urn:ogc:def:uom:EPSG::9001">{radius}</gs:radius></gs:Circle>
   <con:confidence pdf="normal">90</con:confidence>
 </gp:location-info></gp:geopriv></status></tuple></presence>"""


def run_tag() -> str:
    return "BK" + format(int(time.time() * 1000) % 10**10, "d")


def call_templates(count: int = 400, seed: int = 4) -> list[dict]:
    """`count` varied call payloads (their `cpe_call_id` is set per request): the shares above."""
    from simulators.cpe import build_call, to_legacy

    rng = random.Random(seed)
    weighted = [s for s in CPE_SCENARIOS for _ in range(s[1])]
    templates = []
    for n in range(count):
        scenario, _share, form = rng.choice(weighted)
        payload = build_call(scenario, f"TEMPLATE-{seed}-{n}", rng.choice(LINES_911), None)
        if form == "legacy":
            payload = to_legacy(payload)
        elif form == "pidf":
            ali = payload.pop("ali")
            payload["pidf_lo"] = PIDF.format(
                ani=payload["ani"], house=ali["house_number"] or "100", street=ali["street_name"].title() or "Center",
                suffix=ali["street_suffix"].title() or "St", lat=42.85 + rng.uniform(-0.03, 0.03),
                lon=-106.32 + rng.uniform(-0.03, 0.03), radius=rng.randint(10, 80))
        payload["_form"] = f"{scenario}/{form}"
        templates.append(payload)
    return templates


def call_body(template: dict, key: str) -> bytes:
    body = {k: v for k, v in template.items() if k != "_form"}
    body["cpe_call_id"] = key
    return json.dumps(body).encode()


TEXTS = ("someone is breaking into my house", "i cant talk he is here", "car crash on CY ave, 2 hurt",
         "my friend took too many pills", "fire in the apartment next door", "help")


def text_bodies(tag: str, count: int, sessions: int) -> list[tuple[str, bytes]]:
    """`count` inbound TCC messages over `sessions` new sessions (first texts, then follow-ups)."""
    from simulators import casper

    rng = random.Random(tag)
    out = []
    for n in range(count):
        session = n % max(1, sessions)
        key = f"{tag}-T{n}"
        body = {"tcc_message_id": f"{key}-msg", "session_id": f"{tag}-S{session}",
                "from_number": f"307{rng.randint(2000000, 9999999)}", "kind": "text",
                "text": f"{TEXTS[n % len(TEXTS)]} [{key}]", "sent_at": None,
                "tower": {"lat": casper.CELL_SITES[session % len(casper.CELL_SITES)].lat,
                          "lon": casper.CELL_SITES[session % len(casper.CELL_SITES)].lon, "sector": "A"}}
        out.append((key, json.dumps(body).encode()))
    return out


def tcc_headers(body: bytes) -> list[tuple[str, str]]:
    from django.conf import settings

    from text911.gateway import tcc_sign

    stamp = str(int(time.time()))
    return [("X-TCC-Timestamp", stamp), ("X-TCC-Signature", tcc_sign(settings.PSCC_TCC_SECRET, stamp, body))]


def center_ensure() -> None:
    """The 911 and administrative lines the CPE rings on, and the call types (as the demo center has)."""
    from calltaking.models import Line
    from incidents.calltypes import load_call_types

    load_call_types()
    for n in range(1, 7):
        Line.objects.get_or_create(code=f"911-{n}", defaults={"kind": "911", "label": f"911 trunk {n}"})
    for n in range(1, 19):
        Line.objects.get_or_create(code=f"ADMIN-{n:02d}", defaults={"kind": "admin", "label": f"Admin {n}"})


def prepare(server: str) -> float:
    """What intake and burst do first: Django, a migrated database, a known server, the demo center,
    no calls or texts left from an earlier run, and the churned tables vacuumed (returns its seconds)."""
    from bench.common import SERVERS, require_migrated, setup_django, vacuum_hot_tables

    setup_django()
    require_migrated()
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: expected one of {SERVERS}")
    center_ensure()
    cleanup()
    return vacuum_hot_tables()


def cleanup(prefix: str = "BK") -> dict:
    """Remove the calls and texts benchmarks rang in (ringing calls and open sessions would otherwise
    stay on every console's floor); their journal events stay. Returns how many went."""
    from calltaking.models import Call
    from text911.models import TextMessage, TextSession

    calls = Call.objects.filter(cpe_call_id__startswith=prefix)
    sessions = TextSession.objects.filter(tcc_session_id__startswith=prefix)
    messages = TextMessage.objects.filter(session__in=sessions)
    counts = {"calls": calls.count(), "text_sessions": sessions.count()}
    messages.delete()
    sessions.delete()
    calls.delete()
    return counts


# --- HTTP ------------------------------------------------------------------------------------------
class StaleConnection(ConnectionError):
    """A kept-alive connection the server had closed: nothing was answered, the request may be resent."""


class HttpConnection:
    """One keep-alive HTTP/1.1 connection (asyncio streams): little CPU, so the server is what is measured.

    Like any HTTP client that keeps connections alive (urllib3, httpx), it resends a request once on a
    new connection when a *reused* connection turns out to have been closed by the server (its
    keep-alive timeout) before any byte of an answer came back; the POSTs sent here are idempotent by
    their keys, as the CPE's and the TCC's are. `stale_retries` counts those resends."""

    stale_retries = 0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.reused = False

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: list[tuple[str, str]] = ()) -> tuple[int, bytes]:
        try:
            return await self._request(method, path, body, headers)
        except StaleConnection:
            HttpConnection.stale_retries += 1
            return await self._request(method, path, body, headers)

    async def _request(self, method: str, path: str, body: bytes = b"",
                       headers: list[tuple[str, str]] = ()) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.reused = False
        reused, self.reused = self.reused, True
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if body:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in headers]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            try:
                status_line = await self.reader.readline()
            except ConnectionResetError:
                status_line = b""
            if not status_line:
                raise StaleConnection("connection closed") if reused else ConnectionError("connection closed")
            status = int(status_line.split()[1])
            length, chunked, closing = 0, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    chunked = True
                elif name == "connection" and value == "close":
                    closing = True
            if chunked:
                data = b""
                while True:
                    size = int((await self.reader.readline()).strip(), 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    data += await self.reader.readexactly(size + 2)
                payload = data
            else:
                payload = await self.reader.readexactly(length) if length else b""
        except Exception:
            self.close()
            raise
        if closing:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Sample:
    key: str
    sent_at: float  # time.time() when the request was written
    ms: float
    status: int
    error: str = ""


async def closed_loop(port: int, *, concurrency: int, seconds: float, make_request) -> tuple[list[Sample], float]:
    """`concurrency` workers, each sending the next request as soon as the previous one answered,
    for `seconds`. `make_request(n)` -> (key, method, path, body, headers). Returns the samples and
    the wall time."""
    counter = iter(range(10**9))
    samples: list[Sample] = []
    started = time.perf_counter()
    stop = started + seconds

    async def worker() -> None:
        conn = HttpConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            key, method, path, body, headers = make_request(next(counter))
            sent_at, t0 = time.time(), time.perf_counter()
            try:
                status, _ = await conn.request(method, path, body, headers)
                error = ""
            except Exception as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
            samples.append(Sample(key, sent_at, (time.perf_counter() - t0) * 1000, status, error))
        conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


async def open_loop(port: int, schedule: list[tuple[float, tuple]], max_connections: int = 256) -> list[Sample]:
    """Send each request at its offset (seconds from now) whatever the answers: arrivals, not a loop.
    `schedule`: [(offset, (key, method, path, body, headers_fn))]; headers_fn() is called at send time."""
    idle: list[HttpConnection] = []
    gate = asyncio.Semaphore(max_connections)
    samples: list[Sample] = []
    start = time.perf_counter()

    async def one(offset: float, request: tuple) -> None:
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        key, method, path, body, headers_fn = request
        async with gate:
            conn = idle.pop() if idle else HttpConnection("127.0.0.1", port)
            sent_at, t0 = time.time(), time.perf_counter()
            try:
                status, _ = await conn.request(method, path, body, headers_fn())
                error = ""
            except Exception as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
            samples.append(Sample(key, sent_at, (time.perf_counter() - t0) * 1000, status, error))
            if conn.writer is not None:
                idle.append(conn)
            else:
                conn.close()

    await asyncio.gather(*(one(offset, request) for offset, request in schedule))
    for conn in idle:
        conn.close()
    return samples


def run_async(coro):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# --- The consoles ----------------------------------------------------------------------------------
class EventClients(Clients):
    """N `/ws/floor/` consoles in one `bench.eventclients` process; `confirm(sent)` waits for every key."""

    module = "bench.eventclients"

    def __init__(self, procs: Processes, env: dict[str, str], *, url: str, origin: str, cookies: list[str],
                 count: int, name: str = "consoles") -> None:
        super().__init__(procs, env, url=url, origin=origin, cookies=cookies, count=count, name=name)

    def confirm(self, sent: dict[str, float], timeout: float) -> dict:
        self.proc.stdin.write((json.dumps({"cmd": "wait", "sent": sent, "timeout": timeout}) + "\n").encode())
        self.proc.stdin.flush()
        return self._next(timeout + 60)


def latency_stats(values: list[float]) -> dict:
    from bench.common import percentile

    values = sorted(values)
    return {"count": len(values), "p50_ms": round(percentile(values, 50), 2), "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(values[-1], 2) if values else 0.0}
