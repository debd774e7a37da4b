"""Text Control Center (text to 911). The simulator plays the texters.

* product -> TCC: messages to a texter, location rebids, transfers, ending.
* TCC -> product: each texter message is POSTed, HMAC-signed, to
  `{product_url}/api/v1/text911/inbound`.

Guarantees:
* a session's messages reach the product in the order the texter sent
  them: deliveries of one session run one at a time (see KeyedSerialQueue);
* a delivery is retried on connection errors, timeouts and 5xx with
  exponential backoff, always with the same `tcc_message_id` and body (each
  attempt is signed with a fresh timestamp); 4xx is final;
* a product message is processed once per `message_id`; a repeat is
  acknowledged again and ignored;
* a PSAP gets at most 5 rebids per session; the count restarts on transfer;
* `reset` abandons every pending reply and delivery.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
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
    encode_json,
    fingerprint,
    optional_int,
    optional_number,
    optional_str,
    require_str,
    utc_now_iso,
)
from .outbound import KeyedSerialQueue, OutboundResult, post_json

INBOUND_PATH = "/api/v1/text911/inbound"
HOME_PSAP = "PSCC"
REBID_LIMIT = 5
DEFAULT_ADDRESS = "500 E 2nd St, Casper"
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,80}")
NUMBER_PATTERN = re.compile(r"\d{10}")
MAX_TEXT = 4000

LOCATION_WORDS = ("location", "where", "address", "dónde", "donde", "dirección", "direccion", "ubicación")
VOICE_WORDS = ("voice", "call you", "talk", "speak", "llamar", "hablar")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`X-TCC-Signature` value: `sha256=` + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# --------------------------------------------------------------------------
# Personas
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    first_text: str
    location_reply: str  # `{address}` is replaced by the texter's address
    voice_reply: str
    small_talk: tuple[str, ...]  # other replies, used in turn
    replies: bool = True
    sends_picture: bool = False

    @staticmethod
    def topic(text: str) -> str:
        """What a PSAP message asks about: "location", "voice" or "other"."""
        lowered = text.lower()
        if any(word in lowered for word in LOCATION_WORDS):
            return "location"
        if any(word in lowered for word in VOICE_WORDS):
            return "voice"
        return "other"

    def reply(self, topic: str, small_talk_turn: int, address: str) -> str | None:
        """The texter's answer, or None when it stays silent. Small talk is
        used in turn, counting only earlier small-talk replies."""
        if not self.replies:
            return None
        if topic == "location":
            return self.location_reply.format(address=address)
        if topic == "voice":
            return self.voice_reply
        return self.small_talk[small_talk_turn % len(self.small_talk)]


PERSONAS: dict[str, Persona] = {
    "cooperative": Persona(
        first_text="Someone is trying to break into my neighbor's house. I can't call, he might hear me",
        location_reply="{address}",
        voice_reply="No I can't talk",
        small_talk=("Yes", "He is still outside", "OK", "Please hurry"),
    ),
    "silent": Persona(
        first_text="help",
        location_reply="",
        voice_reply="",
        small_talk=("",),
        replies=False,
    ),
    "multimedia": Persona(
        first_text="Car crash in front of my house, someone is hurt. Sending a picture",
        location_reply="{address}",
        voice_reply="No I can't talk",
        small_talk=("Yes", "He is bleeding", "OK"),
        sends_picture=True,
    ),
    "spanish": Persona(
        first_text="Necesito ayuda, hay un incendio en la casa de mi vecino",
        location_reply="Estoy en {address}",
        voice_reply="No puedo hablar",
        small_talk=("Sí", "Por favor, dense prisa", "Gracias"),
    ),
    "non_emergency": Persona(
        first_text="Is this where I report a barking dog? My neighbor's dog has been barking for 3 hours",
        location_reply="{address}",
        voice_reply="Sure, you can call me",
        small_talk=("It's still barking", "OK thanks"),
    ),
}

PICTURE = {"content_type": "image/jpeg", "size_bytes": 245_760}


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


@dataclass
class TccConfig:
    reply_delay: float = 0.2  # seconds before a texter answers
    retry_backoff: float = 0.5  # first retry delay; doubles each retry
    max_retries: int = 5  # retries after the first attempt

    def as_json(self) -> JsonObject:
        return {"reply_delay": self.reply_delay, "retry_backoff": self.retry_backoff,
                "max_retries": self.max_retries}


@dataclass
class Session:
    session_id: str
    from_number: str
    persona: str
    address: str
    tower: JsonObject
    psap: str = HOME_PSAP
    state: str = "active"  # active | transferred | ended
    rebid_count: int = 0  # rebids by the current PSAP
    total_rebids: int = 0
    texts_sent: int = 0  # texter texts so far (the first one carries the tower)
    small_talk_turn: int = 0
    messages: list[JsonObject] = field(default_factory=list)
    events: list[JsonObject] = field(default_factory=list)
    seen_messages: dict[str, str] = field(default_factory=dict)  # message_id -> fingerprint

    def as_json(self) -> JsonObject:
        return {
            "session_id": self.session_id,
            "from_number": self.from_number,
            "persona": self.persona,
            "address": self.address,
            "tower": self.tower,
            "psap": self.psap,
            "state": self.state,
            "rebid_count": self.rebid_count,
            "messages": self.messages,
            "events": self.events,
        }

    def require_open(self) -> None:
        if self.state == "ended":
            raise HttpError(409, "session_ended")


@dataclass
class TccData:
    config: TccConfig = field(default_factory=TccConfig)
    sessions: dict[str, Session] = field(default_factory=dict)


def tower_for(session_id: str) -> JsonObject:
    rng = random.Random(f"tcc-tower:{session_id}")
    site = rng.choice(casper.CELL_SITES)
    return {"lat": site.lat, "lon": site.lon, "sector": f"{site.site_id}-{rng.choice(casper.SECTORS)}"}


def rebid_fix(session: Session) -> tuple[float, float, int]:
    """Device location for the session's `total_rebids`-th rebid: near its tower, drifting."""
    rng = random.Random(f"tcc-rebid:{session.session_id}:{session.total_rebids}")
    lat, lon = casper.point_near(rng, session.tower["lat"], session.tower["lon"], 1500.0)
    return lat, lon, rng.randint(5, 80)


# --------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------


class TccService:
    name = "tcc"

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.queue = KeyedSerialQueue()

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/tcc/v1/messages", self.receive_message),
            Route("POST", "/tcc/v1/sessions/{session_id}/rebid", self.rebid),
            Route("POST", "/tcc/v1/sessions/{session_id}/transfer", self.transfer),
            Route("POST", "/tcc/v1/sessions/{session_id}/end", self.end),
        ]

    def control_routes(self) -> list[Route]:
        return [
            Route("POST", "/_control/tcc/texters", self.start_texter),
            Route("GET", "/_control/tcc/sessions", self.list_sessions),
            Route("GET", "/_control/tcc/sessions/{session_id}", self.get_session),
            Route("POST", "/_control/tcc/sessions/{session_id}/say", self.say),
            Route("POST", "/_control/tcc/config", self.configure),
        ]

    def _session(self, session_id: str) -> Session:
        """The live session; call with the lock held. 404 when unknown."""
        session = self.state.data(TccData).sessions.get(session_id)
        if session is None:
            raise HttpError(404, "unknown_session", "session_id")
        return session

    # -- product -> TCC -----------------------------------------------------

    def receive_message(self, request: Request) -> Response:
        """`POST /tcc/v1/messages`: 202; the texter may answer a moment later."""
        body = request.json_object()
        session_id = require_str(body, "session_id", pattern=ID_PATTERN)
        message_id = require_str(body, "message_id", max_length=200)
        text = require_str(body, "text", max_length=MAX_TEXT)
        with self.state.lock:
            session = self._session(session_id)
            seen = session.seen_messages.get(message_id)
            if seen is not None:
                if seen != fingerprint(body):
                    raise HttpError(409, "message_id reused with a different body", "message_id")
                return Response(202, {"accepted": True})
            session.require_open()
            session.seen_messages[message_id] = fingerprint(body)
            session.messages.append({"direction": "from_psap", "message_id": message_id,
                                     "text": text, "received_at": utc_now_iso()})
            topic = Persona.topic(text)
            reply = PERSONAS[session.persona].reply(topic, session.small_talk_turn, session.address)
            if reply is not None and topic == "other":
                session.small_talk_turn += 1
        if reply is not None:
            self._send_later(session_id, "text", reply)
        return Response(202, {"accepted": True})

    def rebid(self, request: Request) -> Response:
        """`POST /tcc/v1/sessions/{id}/rebid`: 409 `rebid_limit` on a PSAP's 6th."""
        with self.state.lock:
            session = self._session(request.params["session_id"])
            session.require_open()
            if session.rebid_count >= REBID_LIMIT:
                raise HttpError(409, "rebid_limit")
            session.rebid_count += 1
            session.total_rebids += 1
            lat, lon, uncertainty_m = rebid_fix(session)
            answer = {"lat": lat, "lon": lon, "uncertainty_m": uncertainty_m,
                      "rebid_count": session.rebid_count}
            session.events.append({"type": "rebid", "psap": session.psap, "time": utc_now_iso(), **answer})
        return Response(200, answer)

    def transfer(self, request: Request) -> Response:
        """`POST /tcc/v1/sessions/{id}/transfer`: the session moves to another PSAP."""
        body = request.json_object()
        target_psap = require_str(body, "target_psap")
        target_agency = optional_str(body, "target_agency")
        with self.state.lock:
            session = self._session(request.params["session_id"])
            session.require_open()
            session.events.append({"type": "transfer", "from_psap": session.psap, "target_psap": target_psap,
                                   "target_agency": target_agency, "time": utc_now_iso()})
            session.psap, session.state, session.rebid_count = target_psap, "transferred", 0
        return Response(200, {"status": "transferred"})

    def end(self, request: Request) -> Response:
        """`POST /tcc/v1/sessions/{id}/end`: idempotent; later messages get 409."""
        final_message = optional_str(request.json_object(), "final_message", max_length=MAX_TEXT)
        with self.state.lock:
            session = self._session(request.params["session_id"])
            if session.state != "ended":
                session.state = "ended"
                session.events.append({"type": "end", "final_message": final_message, "time": utc_now_iso()})
                if final_message:
                    session.messages.append({"direction": "from_psap", "message_id": None,
                                             "text": final_message, "received_at": utc_now_iso()})
        return Response(200, {"status": "ended"})

    # -- TCC -> product -----------------------------------------------------

    def _send_later(self, session_id: str, kind: str, text: str, *, delay: float | None = None) -> None:
        """Queue a texter message: wait (reply delay by default), then deliver."""
        with self.state.lock:
            generation = self.state.generation  # a reset from here on abandons the job
            wait = self.state.data(TccData).config.reply_delay if delay is None else delay

        def job() -> None:
            if wait and not self.state.sleep(wait):
                return
            if self.state.is_current(generation):
                self._deliver(session_id, kind, text, generation)

        self.queue.submit(session_id, job)

    def _compose(self, session: Session, kind: str, text: str) -> JsonObject:
        """The inbound payload; call with the lock held (it advances `texts_sent`)."""
        carries_tower = kind == "session_start" or session.texts_sent == 0
        if kind != "session_start":
            session.texts_sent += 1
        return {
            "tcc_message_id": str(uuid.uuid4()),
            "session_id": session.session_id,
            "from_number": session.from_number,
            "sent_at": utc_now_iso(),
            "kind": kind,
            "text": text,
            "media": dict(PICTURE) if kind == "multimedia" else None,
            "tower": dict(session.tower) if carries_tower else None,
        }

    def _deliver(self, session_id: str, kind: str, text: str, generation: int) -> None:
        """Send one texter message, retrying as the module docstring promises."""
        with self.state.lock:
            session = self.state.data(TccData).sessions.get(session_id)
            if session is None or not self.state.is_current(generation):
                return  # reset in the meantime: this texter no longer exists
            message = self._compose(session, kind, text)
            delivery: JsonObject = {"status": "pending", "attempts": 0, "last_status_code": None, "last_error": None}
            session.messages.append({"direction": "to_psap", **message, "delivery": delivery})
            config = self.state.data(TccData).config
            attempts, backoff = 1 + config.max_retries, config.retry_backoff
        body = encode_json(message)
        for attempt in range(1, attempts + 1):
            result = self._attempt(body, message["tcc_message_id"], attempt)
            with self.state.lock:
                delivery.update(attempts=attempt, last_status_code=result.status_code, last_error=result.error)
                if result.ok or not result.retryable or attempt == attempts:
                    delivery["status"] = "delivered" if result.ok else "failed"
                    return
            if not self.state.sleep(backoff * 2 ** (attempt - 1)) or not self.state.is_current(generation):
                return

    def _attempt(self, body: bytes, message_id: str, attempt: int) -> OutboundResult:
        """One signed POST of `body`, logged in the outbound log."""
        config = self.state.config
        try:
            url = config.product_endpoint(INBOUND_PATH)
        except HttpError as exc:  # product_url was removed after the texter started
            return OutboundResult(None, None, exc.error)
        timestamp = str(int(time.time()))
        headers = {"X-TCC-Timestamp": timestamp, "X-TCC-Signature": sign(config.tcc_secret, timestamp, body)}
        result = post_json(url, body, headers, config.outbound_timeout)
        self.state.log_outbound(self.name, {"url": url, "tcc_message_id": message_id, "attempt": attempt,
                                            "status_code": result.status_code, "error": result.error})
        return result

    # -- control ------------------------------------------------------------

    def start_texter(self, request: Request) -> Response:
        """`POST /_control/tcc/texters`: 201; session_start and the first text follow."""
        body = request.json_object()
        persona_name = optional_str(body, "persona", "cooperative") or "cooperative"
        if persona_name not in PERSONAS:
            raise HttpError(400, f"persona must be one of: {', '.join(PERSONAS)}", "persona")
        persona = PERSONAS[persona_name]
        self.state.config.product_endpoint(INBOUND_PATH)  # 409 now rather than failed deliveries later
        with self.state.lock:
            session_id = optional_str(body, "session_id", pattern=ID_PATTERN) or str(uuid.uuid4())
            sessions = self.state.data(TccData).sessions
            if session_id in sessions:
                raise HttpError(409, "session_id already exists", "session_id")
            from_number = optional_str(body, "from_number", pattern=NUMBER_PATTERN) or casper.fictional_number(self.state.rng)
            session = Session(
                session_id=session_id,
                from_number=from_number,
                persona=persona_name,
                address=optional_str(body, "address") or DEFAULT_ADDRESS,
                tower=tower_for(session_id),
            )
            sessions[session_id] = session
            first_text = optional_str(body, "first_text", max_length=MAX_TEXT) or persona.first_text
        self._send_later(session_id, "session_start", "", delay=0.0)
        self._send_later(session_id, "text", first_text, delay=0.0)
        if persona.sends_picture:
            self._send_later(session_id, "multimedia", "This is the crash")
        return Response(201, {"session_id": session_id, "from_number": session.from_number,
                              "persona": persona_name, "address": session.address})

    def say(self, request: Request) -> Response:
        """`POST /_control/tcc/sessions/{id}/say`: the texter sends a text (or picture) now."""
        body = request.json_object()
        kind = optional_str(body, "kind", "text")
        if kind not in ("text", "multimedia"):
            raise HttpError(400, "kind must be text or multimedia", "kind")
        text = optional_str(body, "text", "", max_length=MAX_TEXT) or ""
        if kind == "text" and not text:
            raise HttpError(400, "text is required", "text")
        with self.state.lock:
            self._session(request.params["session_id"]).require_open()
        self._send_later(request.params["session_id"], kind or "text", text, delay=0.0)
        return Response(202, {"queued": True})

    def get_session(self, request: Request) -> Response:
        """`GET /_control/tcc/sessions/{id}`: the conversation, both directions, and state."""
        with self.state.lock:
            return Response(200, copy.deepcopy(self._session(request.params["session_id"]).as_json()))

    def list_sessions(self, request: Request) -> Response:
        with self.state.lock:
            sessions = self.state.data(TccData).sessions.values()
            summary = [{"session_id": s.session_id, "persona": s.persona, "state": s.state} for s in sessions]
        return Response(200, {"sessions": summary})

    def configure(self, request: Request) -> Response:
        """`POST /_control/tcc/config`: reply delay and retry policy (absent: unchanged)."""
        body = request.json_object()
        reply_delay = optional_number(body, "reply_delay", None, maximum=600.0)
        retry_backoff = optional_number(body, "retry_backoff", None, maximum=600.0)
        max_retries = optional_int(body, "max_retries", None, maximum=20)
        with self.state.lock:
            config = self.state.data(TccData).config
            if reply_delay is not None:
                config.reply_delay = reply_delay
            if retry_backoff is not None:
                config.retry_backoff = retry_backoff
            if max_retries is not None:
                config.max_retries = max_retries
            return Response(200, config.as_json())
