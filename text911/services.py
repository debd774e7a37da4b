"""Writes of text-to-911 sessions: each function enforces its SOP rule and appends journal events in the
same transaction. No network I/O happens while a row lock is held: outbound work is queued as rows and
delivered by `text911.tasks` after commit; a rebid reserves its slot, calls the TCC, then records.

Lock order, everywhere: the telecommunicators' `TextDesk` rows (by pk), then sessions (by pk).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pscc.errors import Conflict, Forbidden, NotFound, ServiceError
from pscc.journal import FLOOR, SUPERVISORS, journal_append
from pscc.supervision import alert_raise
from pscc.roles import is_floor_staff, is_supervisor
from text911.gateway import TccClient, TccError
from text911.models import (
    DeliveryState,
    MessageDirection,
    MessageKind,
    QuickMessage,
    SergeantApproval,
    SessionHandover,
    SessionState,
    TextDesk,
    TextMessage,
    TextSession,
)
from text911.quick import quick_message_for, quick_message_render
from text911.selectors import message_as_dict, session_as_dict

log = logging.getLogger(__name__)

STANDBY_TEXT = "Please standby, I am connecting you to Fire/Medical services."  # rule 26, word for word
MAX_TEXT = 1000

# Rule 9: no texting lingo, jargon or abbreviations (map abbreviations such as St, Rd, Ave, Hwy, CA are fine).
LINGO = {"u", "ur", "r", "pls", "plz", "thx", "ty", "asap", "eta", "lol", "omg", "brb", "idk", "k", "10-4",
         "copy", "rp", "veh", "subj", "susp", "wya", "rn", "bc", "b4"}
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


class TccUnavailable(ServiceError):
    status = 503
    code = "tcc_unavailable"


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%H:%M:%S")


def _label(user) -> str:
    return user.get_username() if getattr(user, "pk", None) else "system"


def _session_event(session: TextSession, *, kind: str, actor, extra: dict | None = None) -> None:
    session = (
        TextSession.objects.select_related("owner", "incident", "transferred_to", "location_verified_by", "ended_by")
        .prefetch_related("related_sessions")
        .get(pk=session.pk)
    )
    payload = session_as_dict(session)
    if extra:
        payload = {**payload, **extra}
    journal_append(kind=kind, payload=payload, actor=actor, entity=f"text:{session.pk}", audience=[FLOOR])


def _message_event(message: TextMessage, *, actor) -> None:
    journal_append(kind="text.message", payload=message_as_dict(message), actor=actor,
                   entity=f"text:{message.session_id}", audience=[FLOOR])


def _lock_session(session_id: int) -> TextSession:
    session = TextSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound(f"No text session {session_id}.", field="session")
    return session


def _lock_desks(*users) -> dict[int, TextDesk]:
    """Create missing desks, then lock them in pk order (the first lock every claim/handover takes)."""
    for user in users:
        TextDesk.objects.get_or_create(user=user)
    desks = TextDesk.objects.select_for_update().filter(user__in=[u.pk for u in users]).order_by("pk")
    return {d.user_id: d for d in desks}


def _require_owner(session: TextSession, actor) -> None:
    """Rule 30: whoever accepted the session is responsible for it until it ends or is transferred."""
    if session.state in (SessionState.ENDED, SessionState.TRANSFERRED):
        raise Conflict(
            f"This text session was {session.get_state_display().lower()}; it can no longer be updated (rule 25).",
            field="session", code=f"session_{session.state}",
        )
    if session.state == SessionState.UNASSIGNED:
        raise Conflict("Claim the session first (it is still in the unassigned queue).", field="session",
                       code="not_claimed")
    if session.owner_id != getattr(actor, "pk", None):
        raise Forbidden(f"This session belongs to {session.owner.get_username()}.", field="session", code="not_owner")


def _narrate(session: TextSession, text: str, actor, *, visible_to_partners: bool = False) -> None:
    """Add to the incident's narrative when the session has one (the transcript lives with the event)."""
    if not session.incident_id:
        return
    from incidents.models import NarrativeEntry
    from incidents.services import narrative_add

    narrative_add(incident=session.incident, text=text[:4000], actor=actor, source=NarrativeEntry.Source.TEXT,
                  visible_to_partners=visible_to_partners)


def transcript_line(message: TextMessage) -> str:
    at = _local(message.sent_at or message.created_at)
    if message.kind == MessageKind.MULTIMEDIA:
        return f"[{at}] Texter sent multimedia content — not opened (SOP text rule 27). Received {at}."
    if message.kind == MessageKind.START:
        return f"[{at}] Text session started by {message.session.from_number}."
    if message.kind == MessageKind.TRANSFER:
        return f"[{at}] Session transferred to {message.params.get('target_agency') or message.params.get('target_psap')}."
    who = "Texter" if message.direction == MessageDirection.IN else f"Telecommunicator ({_label(message.author)})"
    prefix = "End session — final message" if message.kind == MessageKind.END else who
    return f"[{at}] {prefix}: {message.text}"


def _transcript(session: TextSession) -> str:
    lines = [transcript_line(m) for m in session.messages.select_related("author", "session").order_by("created_at", "id")]
    return "Text to 9-1-1 transcript:\n" + "\n".join(lines)


def _enqueue_delivery(message_pk: int, *, countdown: float = 0) -> None:
    def send() -> None:
        from text911.tasks import deliver_outbound

        try:
            deliver_outbound.apply_async(args=[message_pk], countdown=countdown or None)
        except Exception:  # the broker is down: the sweeper picks the row up from PostgreSQL
            log.warning("could not enqueue outbound text %s; the sweeper will", message_pk, exc_info=True)

    transaction.on_commit(send)


def _queue_outbound(session: TextSession, *, kind: str, text: str, actor, quick_number: int | None = None,
                    params: dict | None = None) -> TextMessage:
    now = timezone.now()
    message = TextMessage.objects.create(
        session=session, direction=MessageDirection.OUT, kind=kind, text=text, quick_number=quick_number,
        params=params or {}, author=actor if getattr(actor, "pk", None) else None, created_at=now,
        state=DeliveryState.PENDING, scheduled_at=now,
    )
    _message_event(message, actor=actor)
    if kind in (MessageKind.TEXT, MessageKind.END, MessageKind.TRANSFER):
        _narrate(session, transcript_line(message), actor)
    _enqueue_delivery(message.pk)
    return message


# --------------------------------------------------------------------------------------------------
# Inbound (TCC -> product)
# --------------------------------------------------------------------------------------------------


INBOUND_KINDS = {"session_start": MessageKind.START, "text": MessageKind.TEXT, "multimedia": MessageKind.MULTIMEDIA}


def _tcc_time(value) -> datetime | None:
    """The TCC's `sent_at` in UTC, or None when it is not a usable time: a 911 text is never refused over
    its timestamp (month 13, an offset PostgreSQL cannot store, a year past 9999 in UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
        if parsed is None:
            return None
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=dt_timezone.utc)
        return parsed.astimezone(dt_timezone.utc)
    except (ValueError, OverflowError):
        return None


def text_inbound_receive(*, tcc_message_id: str, session_id: str, from_number: str, kind: str, text: str = "",
                         sent_at: str | None = None, tower: dict | None = None) -> tuple[TextMessage | None, str]:
    """Store one message from the TCC, once per `tcc_message_id`. Returns (message, outcome) where outcome is
    "created", "duplicate" or "released" (a transferred session: no further updates reach us, rule 25).

    A new session lands in the unassigned queue (rule 1) with the cell tower marked as not the caller's
    location (rule 2). Multimedia content is dropped here and never stored (rule 27)."""
    if kind not in INBOUND_KINDS:
        raise ServiceError("kind must be session_start, text or multimedia.", field="kind")
    if not tcc_message_id or len(tcc_message_id) > 200:
        raise ServiceError("tcc_message_id is required (at most 200 characters).", field="tcc_message_id")
    if not session_id or len(session_id) > 80:
        raise ServiceError("session_id is required (at most 80 characters).", field="session_id")
    if not from_number or len(from_number) > 20:
        raise ServiceError("from_number is required.", field="from_number")
    if kind == "text" and not (text or "").strip():
        raise ServiceError("A text message needs text.", field="text")
    sent = _tcc_time(sent_at)
    now = timezone.now()
    with transaction.atomic():
        TextSession.objects.bulk_create(
            [TextSession(tcc_session_id=session_id, from_number=from_number, started_at=sent or now)],
            ignore_conflicts=True,
        )
        session = TextSession.objects.select_for_update(of=("self",)).select_related("incident").get(tcc_session_id=session_id)
        existing = TextMessage.objects.filter(tcc_message_id=tcc_message_id).first()
        if existing is not None:
            return existing, "duplicate"
        if session.state == SessionState.TRANSFERRED:
            log.info("text for released session %s ignored (rule 25)", session.pk)
            return None, "released"
        is_new = not session.messages.exists()
        if tower and session.tower_lat is None:
            try:
                lat, lon = float(tower.get("lat")), float(tower.get("lon"))
            except (TypeError, ValueError, OverflowError):
                raise ServiceError("tower needs numeric lat and lon.", field="tower") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses NaN and infinities
                raise ServiceError("tower lat must be -90..90 and lon -180..180.", field="tower")
            session.tower_lat, session.tower_lon = lat, lon
            session.tower_sector = str(tower.get("sector") or "")[:40]
        if kind != "session_start":
            session.last_inbound_at = now
        session.save()
        try:
            with transaction.atomic():
                message = TextMessage.objects.create(
                    session=session, direction=MessageDirection.IN, kind=INBOUND_KINDS[kind],
                    tcc_message_id=tcc_message_id, text=(text or "")[:4000] if kind == "text" else "",
                    sent_at=sent, created_at=now, state=DeliveryState.RECEIVED,
                )
        except IntegrityError:  # the same id, concurrently, for another session: still a duplicate
            return TextMessage.objects.get(tcc_message_id=tcc_message_id), "duplicate"
        if kind != "session_start":
            _message_event(message, actor="TCC")
            _narrate(session, transcript_line(message), "TCC")
        _session_event(session, kind="text.session.started" if is_new else "text.session.updated", actor="TCC")
    return message, "created"


# --------------------------------------------------------------------------------------------------
# Claims, messages, location
# --------------------------------------------------------------------------------------------------


def _claim_locked(session: TextSession, actor, desk: TextDesk) -> bool:
    """Claim a locked session for `actor` (desk locked). Returns False when it was already theirs."""
    if desk.status != TextDesk.Status.AVAILABLE:
        raise Conflict("You are not signed on for text (on break or signed off).", field="desk", code="not_signed_on")
    if session.state != SessionState.UNASSIGNED:
        if session.state == SessionState.ACTIVE and session.owner_id == actor.pk:
            return False
        if session.state == SessionState.ACTIVE:
            raise Conflict(f"Already claimed by {session.owner.get_username()}.", field="session", code="already_claimed")
        raise Conflict(f"This session is {session.state}.", field="session", code=f"session_{session.state}")
    active = TextSession.objects.filter(owner=actor, state=SessionState.ACTIVE).count()
    if active >= settings.PSCC_TEXT_MAX_ACTIVE:
        raise Conflict(
            f"You already have {active} active text conversations; the limit is {settings.PSCC_TEXT_MAX_ACTIVE} (rule 19).",
            field="session", code="too_many_sessions",
        )
    session.state, session.owner, session.claimed_at = SessionState.ACTIVE, actor, timezone.now()
    session.save(update_fields=["state", "owner", "claimed_at"])
    return True


def text_session_claim(*, session_id: int, actor) -> TextSession:
    """Move a session from the unassigned queue to `actor`'s active sessions. Under a row lock: of two
    telecommunicators claiming at once exactly one becomes the owner; a third active session is refused."""
    if not is_floor_staff(actor):
        raise Forbidden("Only floor staff take text sessions.")
    with transaction.atomic():
        desk = _lock_desks(actor)[actor.pk]
        session = _lock_session(session_id)
        if _claim_locked(session, actor, desk):
            _session_event(session, kind="text.session.claimed", actor=actor)
    return session


def _check_lingo(text: str) -> None:
    words = {w.lower() for w in _WORD.findall(text)}
    found = sorted(words & LINGO)
    if found:
        raise ServiceError(f"Write in full, without texting lingo or abbreviations (rule 9): {', '.join(found)}.",
                           field="text", code="lingo")


def text_message_send(*, session_id: int, actor, text: str | None = None, quick_number: int | None = None) -> TextMessage:
    """Send a free text or a quick message. Replying to an unassigned session claims it (rule 3)."""
    quick = None
    if quick_number is not None:
        quick = QuickMessage.objects.filter(number=quick_number, active=True).first()
        if quick is None:
            raise ServiceError(f"No quick message {quick_number}.", field="quick_number")
        if quick.purpose == QuickMessage.Purpose.FINAL:
            raise ServiceError("The final message is sent by End session.", field="quick_number", code="use_end")
        body = quick_message_render(quick.text)
    else:
        body = (text or "").strip()
        if not body:
            raise ServiceError("Type a message.", field="text")
        if len(body) > MAX_TEXT:
            raise ServiceError(f"A text is at most {MAX_TEXT} characters.", field="text")
        _check_lingo(body)
    with transaction.atomic():
        desk = _lock_desks(actor)[actor.pk]
        session = _lock_session(session_id)
        claimed = session.state == SessionState.UNASSIGNED and _claim_locked(session, actor, desk)
        _require_owner(session, actor)
        fields = []
        if quick is not None:
            if quick.purpose == QuickMessage.Purpose.NON_EMERGENCY and session.non_emergency_at is None:
                session.non_emergency_at = timezone.now()
                fields.append("non_emergency_at")
            elif quick.purpose == QuickMessage.Purpose.SPANISH:
                session.language = "es"
                fields.append("language")
            elif quick.purpose == QuickMessage.Purpose.ENGLISH_ONLY and session.language == "en":
                session.language = "other"
                fields.append("language")
        if fields:
            session.save(update_fields=fields)
        message = _queue_outbound(session, kind=MessageKind.TEXT, text=body, actor=actor,
                                  quick_number=quick.number if quick else None)
        if claimed or fields:
            _session_event(session, kind="text.session.claimed" if claimed else "text.session.updated", actor=actor)
    return message


def text_location_rebid(*, session_id: int, actor) -> TextSession:
    """Ask the TCC for an updated device location: at most PSCC_TEXT_MAX_REBIDS per PSAP allocation
    (rule 23). The answer is shown, never trusted: it still has to be verified (rules 2, 29)."""
    limit = settings.PSCC_TEXT_MAX_REBIDS
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        if session.rebid_count >= limit:
            raise Conflict(f"All {limit} location rebids for this PSAP are used (rule 23).", field="rebid",
                           code="rebid_limit")
        tcc_session_id = session.tcc_session_id
    try:
        answer = TccClient().rebid(session_id=tcc_session_id)
        error = None
    except TccError as exc:
        answer, error = None, exc
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        if error is not None:
            if error.code == "rebid_limit":
                session.rebid_count = limit
                session.save(update_fields=["rebid_count"])
                _session_event(session, kind="text.session.updated", actor=actor)
            else:
                raise TccUnavailable(f"The TCC did not answer the rebid: {error}", field="rebid")
        else:
            try:
                lat, lon = float(answer["lat"]), float(answer["lon"])
                uncertainty = float(answer.get("uncertainty_m") or 0) or None
                tcc_count = int(answer.get("rebid_count") or 0)
            except (KeyError, TypeError, ValueError):
                raise TccUnavailable("The TCC's rebid answer was unreadable.", field="rebid") from None
            session.rebid_count = min(limit, max(session.rebid_count + 1, tcc_count))
            session.rebid_lat, session.rebid_lon, session.rebid_uncertainty_m = lat, lon, uncertainty
            session.rebid_at = timezone.now()
            session.save(update_fields=["rebid_count", "rebid_lat", "rebid_lon", "rebid_uncertainty_m", "rebid_at"])
            _narrate(session, f"Location rebid {session.rebid_count}/{limit}: {lat:.6f}, {lon:.6f}"
                              f"{f' ±{uncertainty:.0f} m' if uncertainty else ''} (not verified with the texter).", actor)
            _session_event(session, kind="text.session.updated", actor=actor)
    if error is not None:
        raise Conflict(f"All {limit} location rebids for this PSAP are used (rule 23).", field="rebid", code="rebid_limit")
    return session


def text_location_verify(*, session_id: int, actor, location_text: str = "", lat: float | None = None,
                         lon: float | None = None, address_id: int | None = None) -> TextSession:
    """Record the location the texter confirmed (the telecommunicator repeated it back): the only
    location an event may be created with (rules 2, 7, 29)."""
    from incidents.models import AddressPoint

    address = None
    if address_id is not None:
        address = AddressPoint.objects.filter(pk=address_id).first()
        if address is None:
            raise ServiceError(f"No address {address_id}.", field="address_id")
        location_text = location_text or address.one_line()
        lat, lon = address.lat, address.lon
    location_text = (location_text or "").strip()
    if not location_text:
        raise ServiceError("Give the location the texter confirmed.", field="location_text")
    if len(location_text) > 300:
        raise ServiceError("A location is at most 300 characters.", field="location_text")
    if (lat is None) != (lon is None):
        raise ServiceError("Give both latitude and longitude, or neither.", field="lat")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ServiceError("Latitude/longitude out of range.", field="lat")
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        session.location_text, session.location_lat, session.location_lon = location_text, lat, lon
        session.location_address = address
        session.location_verified_at, session.location_verified_by = timezone.now(), actor
        session.save()
        _narrate(session, f"Location verified with the texter by {_label(actor)}: {location_text}.", actor)
        _session_event(session, kind="text.session.updated", actor=actor)
    return session


# --------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------


def text_incident_create(*, session_id: int, actor, priority: int | None = None, nature: str = ""):
    """Create the 911T call for service from the session (rule 7): "Received via Text to 9-1-1" in the
    first narrative, the verified location (rules 2, 29), and the transcript so far kept with the event;
    every later message is added to its narrative as it happens."""
    from incidents.models import NarrativeEntry
    from incidents.services import incident_create, narrative_add

    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        if session.incident_id:
            raise Conflict(f"This session already has event {session.incident.number}.", field="incident",
                           code="incident_exists")
        if session.location_verified_at is None:
            raise ServiceError("Verify the location with the texter before creating the event (rules 2, 29).",
                               field="location", code="location_unverified")
        nature = (nature or "").strip()[:500]
        narrative = (f"Received via Text to 9-1-1 from {session.from_number} (TCC session {session.tcc_session_id})."
                     f" Location verified with the texter: {session.location_text}."
                     + (f" {nature}" if nature else ""))
        incident = incident_create(
            call_type_code="911T", actor=actor, location_text=session.location_text, lat=session.location_lat,
            lon=session.location_lon, address_id=session.location_address_id, callback_number=session.from_number,
            priority=priority, source="text", narrative=narrative, narrative_source=NarrativeEntry.Source.TEXT,
            received_at=session.started_at, location_verified=True,
        )
        session.incident = incident
        session.save(update_fields=["incident"])
        narrative_add(incident=incident, text=_transcript(session)[:4000], actor=actor,
                      source=NarrativeEntry.Source.TEXT, visible_to_partners=False)
        _session_event(session, kind="text.session.updated", actor=actor)
    return incident


def text_address_confirm(*, session_id: int, actor, text: str = "") -> TextMessage:
    """Rule 12: tell the texter where help is being sent, so the address is confirmed before the end."""
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        if session.location_verified_at is None:
            raise ServiceError("Verify the location first.", field="location", code="location_unverified")
        body = (text or "").strip() or f"Help is being sent to {session.location_text}."
        if len(body) > MAX_TEXT:
            raise ServiceError(f"A text is at most {MAX_TEXT} characters.", field="text")
        _check_lingo(body)
        message = _queue_outbound(session, kind=MessageKind.TEXT, text=body, actor=actor)
        session.address_confirmed_at = timezone.now()
        session.save(update_fields=["address_confirmed_at"])
        _session_event(session, kind="text.session.updated", actor=actor)
    return message


def text_no_response_record(*, session_id: int, actor, emergency_indicated: bool = False, note: str = ""):
    """Rules 16 and 18: the texter does not answer. A 911T event documents every contact attempt at the
    map location (the only case where the unverified location is used, as the SOP directs), and the
    on-duty sergeant is notified (with an emergency indicated: to obtain subscriber information)."""
    from incidents.models import NarrativeEntry
    from incidents.services import incident_create

    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        if session.no_response_at is not None:
            raise Conflict("No response was already recorded.", field="session", code="already_recorded")
        attempts = list(session.messages.filter(direction=MessageDirection.OUT, kind=MessageKind.TEXT)
                        .order_by("created_at", "id"))
        if not attempts:
            raise ServiceError("Try to reach the texter first (no message was sent).", field="session",
                               code="no_attempts")
        lines = [f"  {i}. {_local(m.created_at)} {m.text} ({m.get_state_display().lower()})"
                 for i, m in enumerate(attempts, start=1)]
        note = (note or "").strip()[:500]
        text = ("Text to 9-1-1: no response from the texter. Contact attempts:\n" + "\n".join(lines)
                + ("\nIndications of an emergency: call for service created; on-duty sergeant notified to obtain "
                   "subscriber information (rule 18)." if emergency_indicated else
                   "\nNo indication of an emergency; on-duty sergeant advised (rule 16).")
                + (f"\n{note}" if note else ""))
        if session.incident_id is None:
            lat, lon = (session.rebid_lat, session.rebid_lon) if session.rebid_at else (session.tower_lat, session.tower_lon)
            where = "latest rebid" if session.rebid_at else f"cell tower {session.tower_sector}".strip()
            incident = incident_create(
                call_type_code="911T", actor=actor, lat=lat, lon=lon,
                location_text=f"Map location ({where}) — not verified, texter did not respond",
                callback_number=session.from_number, priority=1 if emergency_indicated else None, source="text",
                narrative=f"Received via Text to 9-1-1 from {session.from_number} (TCC session {session.tcc_session_id}).",
                narrative_source=NarrativeEntry.Source.TEXT, received_at=session.started_at,
                location_verified=False,
                location_override_reason="SOP text rule 16: no response; location of occurrence taken from the map",
            )
            session.incident = incident
        session.no_response_at = session.sergeant_notified_at = timezone.now()
        session.save(update_fields=["incident", "no_response_at", "sergeant_notified_at"])
        _narrate(session, _transcript(session), actor)
        _narrate(session, text, actor)
        journal_append(
            kind="text.sergeant_notified",
            payload={"session": session_as_dict(session), "incident": session.incident.number,
                     "emergency_indicated": emergency_indicated, "attempts": len(attempts), "note": note,
                     "reason": "no response to Text to 9-1-1"},
            actor=actor, entity=f"text:{session.pk}", audience=[SUPERVISORS],
        )
        alert_raise(kind="text_no_response", dedupe_key=f"text:{session.pk}:no-response",
                    text=f"No response to Text to 9-1-1 from {session.from_number}: {session.incident.number} "
                         f"({len(attempts)} attempts){' — emergency indicated' if emergency_indicated else ''}",
                    severity="critical" if emergency_indicated else "warning", entity=f"text:{session.pk}")
        _session_event(session, kind="text.session.updated", actor=actor)
    return session.incident


# --------------------------------------------------------------------------------------------------
# Transfer and end
# --------------------------------------------------------------------------------------------------


def text_session_transfer(*, session_id: int, actor, agency_code: str) -> TextSession:
    """Rules 21, 22, 24, 26: the standby message first, then the transfer to an agency that accepts text.
    Once released the session takes no further updates (rule 25); the receiving PSAP starts with a fresh
    allocation of rebids (rule 23)."""
    from units.models import Agency

    agency = Agency.objects.filter(code=(agency_code or "").strip(), active=True).first()
    if agency is None:
        raise ServiceError(f"No agency {agency_code!r}.", field="agency")
    if not agency.accepts_text:
        raise ServiceError(f"{agency.name} does not accept Text to 9-1-1 transfers: relay by voice.", field="agency",
                           code="no_text")
    standby = quick_message_for(QuickMessage.Purpose.STANDBY)
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        _queue_outbound(session, kind=MessageKind.TEXT, text=quick_message_render(standby.text) if standby else STANDBY_TEXT,
                        actor=actor, quick_number=standby.number if standby else None)
        _queue_outbound(session, kind=MessageKind.TRANSFER, text="", actor=actor,
                        params={"target_psap": agency.code, "target_agency": agency.name})
        session.state, session.transferred_to, session.transferred_at = SessionState.TRANSFERRED, agency, timezone.now()
        session.psap, session.rebid_count = agency.code, 0
        session.save(update_fields=["state", "transferred_to", "transferred_at", "psap", "rebid_count"])
        _session_event(session, kind="text.session.transferred", actor=actor)
    return session


def _unit_on_scene(incident) -> bool:
    return bool(incident.first_on_scene_at) or incident.assignments.filter(on_scene_at__isnull=False).exists()


def text_session_end(*, session_id: int, actor, force: bool = False, force_reason: str = "") -> TextSession:
    """Rules 6, 11, 12: only the telecommunicator who holds the session ends it; the dispatch address must
    have been confirmed to the texter; an in-progress event keeps the session open until a unit is on
    scene unless the telecommunicator confirms; End session sends the final message (never without it)."""
    from incidents.models import IncidentStatus

    final = quick_message_for(QuickMessage.Purpose.FINAL)
    if final is None:
        raise ServiceError("No final message is configured (quick message \"final\"): a session cannot end without it.",
                           field="quick_message", code="no_final_message")
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_owner(session, actor)
        incident = session.incident
        if incident is not None and session.no_response_at is None:
            if session.address_confirmed_at is None:
                raise ServiceError("Confirm the dispatch address with the texter before ending (rule 12).",
                                   field="address_confirmed", code="address_not_confirmed")
            in_progress = incident.status != IncidentStatus.CLOSED and not _unit_on_scene(incident)
            if in_progress and not force:
                raise Conflict("No unit is on scene yet: in-progress sessions stay open until a unit arrives (rule 11)."
                               " Confirm to end anyway.", field="force", code="no_unit_on_scene")
            if in_progress:
                _narrate(session, f"Text session ended before a unit arrived, confirmed by {_label(actor)}"
                                  + (f": {force_reason.strip()[:300]}" if force_reason.strip() else "."), actor)
        _queue_outbound(session, kind=MessageKind.END, text=quick_message_render(final.text), actor=actor,
                        quick_number=final.number)
        session.state, session.ended_at, session.ended_by = SessionState.ENDED, timezone.now(), actor
        session.end_note = (force_reason or "").strip()[:300]
        session.save(update_fields=["state", "ended_at", "ended_by", "end_note"])
        _narrate(session, f"Text session ended by {_label(actor)}.", actor)
        _session_event(session, kind="text.session.ended", actor=actor)
    return session


# --------------------------------------------------------------------------------------------------
# Related sessions, voice callback
# --------------------------------------------------------------------------------------------------


def text_sessions_relate(*, session_id: int, other_id: int, actor) -> TextSession:
    """Rule 20: several texts about the same call are related to each other (and noted on the events)."""
    if session_id == other_id:
        raise ServiceError("A session cannot be related to itself.", field="other")
    if not is_floor_staff(actor):
        raise Forbidden("Only floor staff relate sessions.")
    with transaction.atomic():
        first, second = sorted([session_id, other_id])
        a, b = _lock_session(first), _lock_session(second)
        a.related_sessions.add(b)
        for this, other in ((a, b), (b, a)):
            _narrate(this, f"Related Text to 9-1-1 session from {other.from_number}"
                           + (f" (event {other.incident.number})" if other.incident_id else "") + ".", actor)
            _session_event(this, kind="text.session.updated", actor=actor)
    return TextSession.objects.get(pk=session_id)


def text_callback_request(*, session_id: int, actor, requesting_unit: str, reason: str) -> SergeantApproval:
    """Rule 13: a field unit asks for a voice callback to a text caller: the sergeant must approve it."""
    requesting_unit, reason = (requesting_unit or "").strip(), (reason or "").strip()
    if not requesting_unit:
        raise ServiceError("Name the unit requesting the callback.", field="requesting_unit")
    if not reason:
        raise ServiceError("Say why the unit wants a voice callback.", field="reason")
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.owner_id != actor.pk and not is_supervisor(actor):
            raise Forbidden("Only the session's telecommunicator requests a callback.", field="session")
        approval = SergeantApproval.objects.create(session=session, requested_by=actor,
                                                   requesting_unit=requesting_unit[:40], reason=reason[:300])
        _narrate(session, f"{requesting_unit} requests a voice callback to the text caller ({reason}); the unit was "
                          f"informed the caller texted; sergeant approval requested.", actor)
        journal_append(kind="text.callback_requested",
                       payload={"approval": approval.pk, "session": session_as_dict(session),
                                "requesting_unit": requesting_unit, "reason": reason,
                                "requested_by": _label(actor)},
                       actor=actor, entity=f"text:{session.pk}", audience=[SUPERVISORS, FLOOR])
    return approval


def text_callback_decide(*, approval_id: int, actor, approve: bool, note: str = "") -> SergeantApproval:
    """The sergeant's decision, logged with who and when."""
    if not is_supervisor(actor):
        raise Forbidden("Only a sergeant (supervisor) approves a voice callback to a text caller.")
    with transaction.atomic():
        approval = SergeantApproval.objects.select_for_update().filter(pk=approval_id).first()
        if approval is None:
            raise NotFound(f"No callback request {approval_id}.", field="approval")
        if approval.decision != SergeantApproval.Decision.REQUESTED:
            raise Conflict("This request was already decided.", field="approval", code="decided")
        approval.decision = SergeantApproval.Decision.APPROVED if approve else SergeantApproval.Decision.DENIED
        approval.sergeant, approval.decided_at, approval.note = actor, timezone.now(), (note or "").strip()[:300]
        approval.save()
        session = approval.session
        _narrate(session, f"Voice callback {approval.decision} by {_label(actor)}"
                          + (f": {approval.note}" if approval.note else "."), actor)
        journal_append(kind="text.callback_decided",
                       payload={"approval": approval.pk, "session": session.pk, "decision": approval.decision,
                                "sergeant": _label(actor)},
                       actor=actor, entity=f"text:{session.pk}", audience=[SUPERVISORS, FLOOR])
    return approval


def text_voice_callback_record(*, session_id: int, actor) -> SergeantApproval:
    """Record a voice callback to the texter: refused without a logged sergeant approval (rule 13)."""
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.owner_id != actor.pk:
            raise Forbidden("Only the session's telecommunicator places the callback.", field="session")
        approval = (SergeantApproval.objects.select_for_update()
                    .filter(session=session, decision=SergeantApproval.Decision.APPROVED, callback_made_at__isnull=True)
                    .order_by("decided_at").first())
        if approval is None:
            raise Forbidden("A voice callback to a text caller needs a logged sergeant approval (rule 13).",
                            field="approval", code="sergeant_approval_required")
        approval.callback_made_at = timezone.now()
        approval.save(update_fields=["callback_made_at"])
        _narrate(session, f"Voice callback to {session.from_number} placed by {_label(actor)}, approved by "
                          f"{_label(approval.sergeant)} at {_local(approval.decided_at)}.", actor)
        _session_event(session, kind="text.session.updated", actor=actor)
    return approval


# --------------------------------------------------------------------------------------------------
# Sign-on, breaks, handovers (preparation rules 2–4)
# --------------------------------------------------------------------------------------------------


def text_sessions_hand_over(*, from_user, to_user, actor, reason: str = "shift_change", briefing: str = "") -> list[TextSession]:
    """Hand every active session of `from_user` to a named relief, with the briefing recorded. The relief
    must be signed on and stays within the two-conversation limit (rule 19)."""
    if to_user is None or not is_floor_staff(to_user) or not to_user.is_active:
        raise ServiceError("Name a relief telecommunicator.", field="relief")
    if to_user.pk == from_user.pk:
        raise ServiceError("The relief must be someone else.", field="relief")
    if actor.pk != from_user.pk and not is_supervisor(actor):
        raise Forbidden("Only the telecommunicator or a supervisor hands sessions over.")
    briefing = (briefing or "").strip()[:2000]
    with transaction.atomic():
        desks = _lock_desks(from_user, to_user)
        if desks[to_user.pk].status != TextDesk.Status.AVAILABLE:
            raise Conflict(f"{to_user.get_username()} is not signed on for text.", field="relief", code="relief_unavailable")
        sessions = list(TextSession.objects.select_for_update().filter(owner=from_user, state=SessionState.ACTIVE)
                        .order_by("pk"))
        held = TextSession.objects.filter(owner=to_user, state=SessionState.ACTIVE).count()
        if held + len(sessions) > settings.PSCC_TEXT_MAX_ACTIVE:
            raise Conflict(f"{to_user.get_username()} would hold {held + len(sessions)} conversations; the limit is "
                           f"{settings.PSCC_TEXT_MAX_ACTIVE} (rule 19).", field="relief", code="too_many_sessions")
        for session in sessions:
            SessionHandover.objects.create(session=session, from_user=from_user, to_user=to_user, reason=reason[:20],
                                           briefing=briefing)
            session.owner, session.claimed_at = to_user, timezone.now()
            session.save(update_fields=["owner", "claimed_at"])
            _narrate(session, f"Text session handed over from {_label(from_user)} to {_label(to_user)} ({reason})"
                              + (f". Briefing: {briefing}" if briefing else "."), actor)
            _session_event(session, kind="text.session.handed_over", actor=actor,
                           extra={"handover": {"from": _label(from_user), "to": _label(to_user), "reason": reason}})
    return sessions


def text_desk_status_set(*, user, status: str, actor=None, relief=None, briefing: str = "") -> TextDesk:
    """Sign on, go on break or sign off for text. Going on break or signing off with active sessions is
    refused unless a named relief takes them (preparation rule 3)."""
    actor = actor or user
    if status not in TextDesk.Status.values:
        raise ServiceError(f"status must be one of {', '.join(TextDesk.Status.values)}.", field="status")
    if actor.pk != user.pk and not is_supervisor(actor):
        raise Forbidden("Only the telecommunicator or a supervisor changes this sign-on.")
    with transaction.atomic():
        desk = _lock_desks(user)[user.pk]
        if status != TextDesk.Status.AVAILABLE:
            active = TextSession.objects.filter(owner=user, state=SessionState.ACTIVE).count()
            if active and relief is None:
                raise ServiceError(f"You hold {active} active text session(s): name a relief to hand them to first.",
                                   field="relief", code="relief_required")
            if active:
                text_sessions_hand_over(from_user=user, to_user=relief, actor=actor,
                                        reason="break" if status == TextDesk.Status.BREAK else "sign_off",
                                        briefing=briefing)
        desk.status, desk.changed_at = status, timezone.now()
        desk.save(update_fields=["status", "changed_at"])
        journal_append(kind="text.desk", payload={"user": _label(user), "status": status}, actor=actor,
                       entity=f"textdesk:{user.pk}", audience=[FLOOR])
    return desk


def text_signed_out(*, user) -> None:
    """On sign-out: with no active sessions, sign off from text; with some, alert the supervisors (the
    console asks for a relief before sign-out, this is the safety net)."""
    with transaction.atomic():
        desk = _lock_desks(user)[user.pk]
        active = list(TextSession.objects.filter(owner=user, state=SessionState.ACTIVE).values_list("pk", flat=True))
        if active:
            journal_append(kind="text.unattended", payload={"user": _label(user), "sessions": active,
                                                            "reason": "signed out with active text sessions"},
                           actor=user, entity=f"textdesk:{user.pk}", audience=[SUPERVISORS])
            alert_raise(kind="text_unattended", dedupe_key=f"textdesk:{user.pk}:unattended:{timezone.now():%Y%m%d%H%M%S}",
                        text=f"{_label(user)} signed out holding {len(active)} text session(s) with no relief",
                        severity="critical", entity=f"textdesk:{user.pk}")
        desk.status, desk.changed_at = TextDesk.Status.SIGNED_OFF, timezone.now()
        desk.save(update_fields=["status", "changed_at"])


# --------------------------------------------------------------------------------------------------
# Outbound delivery (called by text911.tasks)
# --------------------------------------------------------------------------------------------------


def _earlier_undelivered():
    return TextMessage.objects.filter(
        session=OuterRef("session"), direction=MessageDirection.OUT,
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING], id__lt=OuterRef("id"),
    )


def text_outbound_claim(*, message_pk: int) -> TextMessage | None:
    """Claim one due outbound row by conditional update; None when it is not due, already taken, or an
    earlier one of the same session is still on its way (a session's messages go out in order)."""
    now = timezone.now()
    claimed = (
        TextMessage.objects.filter(pk=message_pk, direction=MessageDirection.OUT, state=DeliveryState.PENDING,
                                   scheduled_at__lte=now)
        .filter(~Exists(_earlier_undelivered()))
        .update(state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return TextMessage.objects.select_related("session").get(pk=message_pk)


def text_outbound_deliver(*, message_pk: int) -> str:
    """Send one claimed outbound row to the TCC (idempotent there on our message id) and record the result."""
    message = text_outbound_claim(message_pk=message_pk)
    if message is None:
        return "skipped"
    client = TccClient()
    session_id = message.session.tcc_session_id
    try:
        if message.kind == MessageKind.TEXT:
            client.send_text(session_id=session_id, message_id=str(message.message_id), text=message.text)
        elif message.kind == MessageKind.END:
            client.end(session_id=session_id, final_message=message.text)
        elif message.kind == MessageKind.TRANSFER:
            client.transfer(session_id=session_id, target_psap=message.params.get("target_psap", ""),
                            target_agency=message.params.get("target_agency", ""))
        error = None
    except TccError as exc:
        error = exc
    return text_outbound_result(message_pk=message.pk, error=error)


def text_outbound_result(*, message_pk: int, error: TccError | None) -> str:
    max_attempts = settings.PSCC_TEXT_OUTBOUND_MAX_ATTEMPTS
    with transaction.atomic():
        message = TextMessage.objects.select_for_update().select_related("session").get(pk=message_pk)
        if message.state != DeliveryState.SENDING:
            return "stale"
        now = timezone.now()
        if error is None:
            message.state, message.delivered_at, message.last_error = DeliveryState.SENT, now, ""
            outcome = "sent"
        elif error.retryable and message.attempts < max_attempts:
            delay = min(2 ** (message.attempts - 1), 60)
            message.state, message.scheduled_at = DeliveryState.PENDING, now + timedelta(seconds=delay)
            message.last_error = str(error)[:300]
            _enqueue_delivery(message.pk, countdown=delay)
            outcome = "retry"
        else:
            message.state, message.last_error = DeliveryState.FAILED, str(error)[:300]
            outcome = "failed"
        message.save(update_fields=["state", "delivered_at", "last_error", "scheduled_at"])
        _message_event(message, actor="TCC")
        if outcome in ("sent", "failed"):
            following = (TextMessage.objects.filter(session=message.session, direction=MessageDirection.OUT,
                                                    state=DeliveryState.PENDING, id__gt=message.pk)
                         .order_by("id").values_list("pk", flat=True).first())
            if following:
                _enqueue_delivery(following)
        if outcome == "failed":
            session = TextSession.objects.select_for_update().get(pk=message.session_id)
            journal_append(kind="text.delivery_failed",
                           payload={"message": message_as_dict(message), "session": session.pk,
                                    "from_number": session.from_number, "error": message.last_error},
                           actor="TCC", entity=f"text:{session.pk}", audience=[FLOOR, SUPERVISORS])
            if message.kind == MessageKind.TRANSFER and session.state == SessionState.TRANSFERRED:
                # The TCC refused the transfer: the caller is still anchored to us (rule 21).
                session.state, session.transferred_to, session.transferred_at = SessionState.ACTIVE, None, None
                session.psap = "PSCC"
                session.save(update_fields=["state", "transferred_to", "transferred_at", "psap"])
                _narrate(session, f"Transfer failed ({message.last_error}); the session is still ours.", "TCC")
                _session_event(session, kind="text.session.updated", actor="TCC")
    return outcome


def text_outbound_sweep() -> int:
    """Re-enqueue outbound rows that are due, and release rows stuck in "sending" (a killed worker)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.PSCC_TEXT_STUCK_SECONDS)
    TextMessage.objects.filter(direction=MessageDirection.OUT, state=DeliveryState.SENDING,
                               claimed_at__lt=stuck_before).update(state=DeliveryState.PENDING, scheduled_at=now)
    due = list(
        TextMessage.objects.filter(direction=MessageDirection.OUT, state=DeliveryState.PENDING, scheduled_at__lte=now)
        .filter(~Exists(_earlier_undelivered())).order_by("id").values_list("pk", flat=True)[:500]
    )
    if due:
        from text911.tasks import deliver_outbound

        for pk in due:
            try:
                deliver_outbound.delay(pk)
            except Exception:
                log.warning("sweeper could not enqueue outbound text %s", pk, exc_info=True)
                break
    return len(due)


def user_by_username(username: str):
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise ServiceError(f"No active user {username!r}.", field="relief")
    return user



def text_unclaimed_sweep() -> int:
    """Alert the supervisors, once per session, when a text waits unclaimed past the threshold."""
    from django.conf import settings

    limit = timezone.now() - timedelta(seconds=settings.PSCC_TEXT_UNCLAIMED_ALERT_SECONDS)
    raised = 0
    for session in TextSession.objects.filter(state=SessionState.UNASSIGNED, started_at__lt=limit):
        waited = int((timezone.now() - session.started_at).total_seconds())
        _, created = alert_raise(kind="unclaimed_text", dedupe_key=f"text:{session.pk}:unclaimed",
                                 text=f"Text to 9-1-1 from {session.from_number} unclaimed for {waited} s",
                                 severity="critical", entity=f"text:{session.pk}")
        raised += created
    return raised
