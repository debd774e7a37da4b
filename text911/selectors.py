"""Reads of text-to-911 sessions. What leaves here is what a console may see: multimedia content never
does (it is never stored), only that it arrived and when (SOP text rule 27)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from text911.models import (
    OPEN_STATES,
    MessageKind,
    QuickMessage,
    SessionState,
    TextDesk,
    TextMessage,
    TextSession,
)
from text911.quick import quick_message_render

TOWER_LABEL = "Cell tower location — NOT the caller's location. Verify the location with the texter."


def _iso(value):
    return value.isoformat() if value else None


def _username(user):
    return user.get_username() if user is not None else None


def session_as_dict(session: TextSession) -> dict:
    return {
        "id": session.pk,
        "tcc_session_id": session.tcc_session_id,
        "from_number": session.from_number,
        "tower": {
            "lat": session.tower_lat,
            "lon": session.tower_lon,
            "sector": session.tower_sector,
            "is_caller_location": False,
            "label": TOWER_LABEL,
        },
        "state": session.state,
        "owner": _username(session.owner),
        "claimed_at": _iso(session.claimed_at),
        "started_at": _iso(session.started_at),
        "last_inbound_at": _iso(session.last_inbound_at),
        "psap": session.psap,
        "rebid_count": session.rebid_count,
        "rebid_max": settings.PSCC_TEXT_MAX_REBIDS,
        "rebid": None if session.rebid_at is None else {
            "lat": session.rebid_lat, "lon": session.rebid_lon, "uncertainty_m": session.rebid_uncertainty_m,
            "at": _iso(session.rebid_at), "verified": False,
        },
        "location": {
            "text": session.location_text,
            "lat": session.location_lat,
            "lon": session.location_lon,
            "address_id": session.location_address_id,
            "verified": session.location_verified_at is not None,
            "verified_at": _iso(session.location_verified_at),
            "verified_by": _username(session.location_verified_by),
        },
        "language": session.language,
        "incident": session.incident.number if session.incident_id else None,
        "related": sorted(s.pk for s in session.related_sessions.all()),
        "address_confirmed_at": _iso(session.address_confirmed_at),
        "no_response_at": _iso(session.no_response_at),
        "sergeant_notified_at": _iso(session.sergeant_notified_at),
        "non_emergency_at": _iso(session.non_emergency_at),
        "transferred_to": session.transferred_to.code if session.transferred_to_id else None,
        "transferred_at": _iso(session.transferred_at),
        "ended_at": _iso(session.ended_at),
        "ended_by": _username(session.ended_by),
    }


def message_as_dict(message: TextMessage) -> dict:
    multimedia = message.kind == MessageKind.MULTIMEDIA
    return {
        "id": message.pk,
        "session_id": message.session_id,
        "direction": message.direction,
        "kind": message.kind,
        # Never any content for multimedia: only the fact and the time (rule 27).
        "text": "" if multimedia else message.text,
        "notice": "Multimedia content received — not opened (SOP rule 27)" if multimedia else "",
        "quick_number": message.quick_number,
        "author": _username(message.author),
        "sent_at": _iso(message.sent_at),
        "created_at": _iso(message.created_at),
        "state": message.state,
        "attempts": message.attempts,
        "last_error": message.last_error,
    }


def session_with_messages(session: TextSession) -> dict:
    return {**session_as_dict(session), "messages": [message_as_dict(m) for m in session_messages(session)]}


def session_messages(session: TextSession) -> QuerySet[TextMessage]:
    return session.messages.select_related("author").order_by("created_at", "id")


def open_sessions() -> QuerySet[TextSession]:
    return (
        TextSession.objects.filter(state__in=OPEN_STATES)
        .select_related("owner", "incident", "transferred_to", "location_verified_by", "ended_by")
        .prefetch_related("related_sessions")
        .order_by("started_at", "id")
    )


def recent_closed_sessions(minutes: int = 30) -> QuerySet[TextSession]:
    since = timezone.now() - timedelta(minutes=minutes)
    return (
        TextSession.objects.exclude(state__in=OPEN_STATES)
        .filter(models_closed_since(since))
        .select_related("owner", "incident", "transferred_to", "location_verified_by", "ended_by")
        .prefetch_related("related_sessions")
    )


def models_closed_since(since):
    from django.db.models import Q

    return Q(ended_at__gte=since) | Q(transferred_at__gte=since)


def active_sessions_of(user) -> QuerySet[TextSession]:
    return TextSession.objects.filter(owner=user, state=SessionState.ACTIVE)


def quick_messages() -> list[dict]:
    return [
        {"number": q.number, "purpose": q.purpose, "label": q.label, "text": quick_message_render(q.text)}
        for q in QuickMessage.objects.filter(active=True).order_by("number")
    ]


def desk_status(user) -> str:
    desk = TextDesk.objects.filter(user=user).first()
    return desk.status if desk else TextDesk.Status.AVAILABLE


def text_snapshot(user) -> dict:
    """Everything a console needs to rebuild the text panel after a reload: open sessions and their
    whole conversations, plus the user's sessions that closed in the last half hour."""
    sessions = list(open_sessions())
    sessions += [s for s in recent_closed_sessions() if s.owner_id == getattr(user, "pk", None)]
    messages: dict[str, list] = {}
    by_session = TextMessage.objects.filter(session__in=[s.pk for s in sessions]).select_related("author")
    for m in by_session.order_by("created_at", "id"):
        messages.setdefault(str(m.session_id), []).append(message_as_dict(m))
    return {
        "sessions": {str(s.pk): session_as_dict(s) for s in sessions},
        "messages": messages,
        "quick_messages": quick_messages(),
        "max_active": settings.PSCC_TEXT_MAX_ACTIVE,
        "max_rebids": settings.PSCC_TEXT_MAX_REBIDS,
        "desk": desk_status(user),
        "me": user.get_username() if getattr(user, "pk", None) else None,
        "transfer_agencies": transfer_agencies(),
    }


def transfer_agencies() -> list[dict]:
    """Agencies a session may be transferred to: only those that accept Text to 9-1-1 (rules 21, 24)."""
    from units.models import Agency

    return [{"code": a.code, "name": a.name} for a in Agency.objects.filter(accepts_text=True, active=True).order_by("code")]
