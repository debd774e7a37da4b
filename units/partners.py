"""Partner agencies' systems: API keys (issue, revoke, authenticate), what a partner may see of the
journal, and the redaction of caller-identifying data for keys without the read_caller_data scope.

A key looks like `pscc_<8 hex>_<43 url-safe chars>`. Only its SHA-256 and its prefix
(`pscc_<8 hex>`) are stored: a stolen database yields no usable key. The key is random with 256
bits of entropy, so a plain (unsalted, fast) hash is as strong as a password hash would be here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from pscc.errors import NotFound, ServiceError
from pscc.journal import agency_audience
from pscc.models import JournalEvent, RelayCursor
from units.models import Agency, PartnerCallerDataAccess, PartnerCredential, PartnerScope

KEY_RE = re.compile(r"^(pscc_[0-9a-f]{8})_[A-Za-z0-9_-]{20,100}$")
# Keys of an incident payload (and of its additional callers) that identify the caller.
CALLER_FIELDS = ("caller_name", "callback_number", "additional_callers")
REDACTED = "[caller data withheld]"
# Event kinds each read scope opens on the event catch-up.
KIND_SCOPES = {"incident.": PartnerScope.READ_INCIDENTS, "unit.": PartnerScope.READ_UNITS}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def partner_credential_create(*, agency: Agency, name: str, scopes: Iterable[str], actor=None) -> tuple[PartnerCredential, str]:
    """Issue a new API key for an agency's system; returns the credential and the key (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Name the system that will use this key.", field="name")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in PartnerScope.values]
    if unknown:
        raise ServiceError(f"Unknown scope {unknown[0]!r}.", field="scopes")
    credential = PartnerCredential(agency=agency, name=name[:120], scopes=scopes,
                                   created_by=actor if getattr(actor, "pk", None) else None)
    key = partner_key_assign(credential)
    credential.save()
    return credential, key


def partner_key_assign(credential: PartnerCredential) -> str:
    """Give an unsaved credential a fresh key; sets its prefix and hash and returns the key."""
    prefix = f"pscc_{secrets.token_hex(4)}"
    while PartnerCredential.objects.filter(prefix=prefix).exists():
        prefix = f"pscc_{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    credential.prefix = prefix
    credential.key_hash = _hash(key)
    return key


def partner_credential_revoke(*, credential: PartnerCredential, actor=None) -> PartnerCredential:
    """Revoke a key: from the next request on it answers 401. Revoking twice changes nothing."""
    PartnerCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor if getattr(actor, "pk", None) else None)
    credential.refresh_from_db()
    return credential


def partner_credential_for_key(key: str) -> PartnerCredential | None:
    """The credential a presented key belongs to (revoked ones included), or None."""
    match = KEY_RE.match(key or "")
    if not match:
        return None
    credential = PartnerCredential.objects.select_related("agency").filter(prefix=match.group(1)).first()
    if credential is None or not hmac.compare_digest(credential.key_hash, _hash(key)):
        return None
    return credential


def partner_credential_touch(credential: PartnerCredential) -> None:
    """Record use, at most once a minute per key (a conditional update, no lock)."""
    now = timezone.now()
    if credential.last_used_at and now - credential.last_used_at < timedelta(minutes=1):
        return
    PartnerCredential.objects.filter(pk=credential.pk).exclude(last_used_at__gt=now - timedelta(minutes=1)).update(
        last_used_at=now)


def partner_caller_data_audit(*, credential: PartnerCredential, path: str, entities: Iterable[str]) -> None:
    """Record that caller-identifying data went to a partner system."""
    entities = [e for e in entities if e]
    if entities:
        PartnerCallerDataAccess.objects.create(credential=credential, path=path[:300], entities=entities[:200])


# --- Redaction -----------------------------------------------------------------------------------
def caller_strings(*values) -> set[str]:
    """The caller-identifying strings found in names/numbers (and lists of additional callers)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            if len(value.strip()) >= 3:
                found.add(value.strip())
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    found |= caller_strings(item.get("name"), item.get("callback_number"))
    return found


def redact_text(text: str, strings: set[str]) -> str:
    """Replace caller names and numbers in free text (the narrative says e.g. 'Callback number: …')."""
    for s in sorted(strings, key=len, reverse=True):
        text = re.sub(re.escape(s), REDACTED, text, flags=re.IGNORECASE)
    return text


def redact_incident_payload(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k not in CALLER_FIELDS}


def _incident_caller_strings(entity: str) -> set[str]:
    # The incident's events carry its caller fields: every value it ever had is withheld.
    rows = (JournalEvent.objects.filter(entity=entity, kind__startswith="incident.")
            .exclude(kind="incident.narrative")
            .values_list("payload__caller_name", "payload__callback_number", "payload__additional_callers")
            .distinct())
    found: set[str] = set()
    for name, number, extra in rows:
        found |= caller_strings(name, number, extra or [])
    return found


def partner_event_message(event: JournalEvent, *, caller_data: bool, cache: dict | None = None) -> dict:
    """The journal event as a partner receives it (caller fields withheld without caller data)."""
    message = event.as_message()
    message.pop("audience", None)
    if caller_data or not event.kind.startswith("incident."):
        return message
    data = dict(message.get("data") or {})
    if event.kind == "incident.narrative":
        cache = cache if cache is not None else {}
        if event.entity not in cache:
            cache[event.entity] = _incident_caller_strings(event.entity)
        if isinstance(data.get("text"), str):
            data["text"] = redact_text(data["text"], cache[event.entity])
    else:
        data = redact_incident_payload(data)
    message["data"] = data
    return message


def partner_kinds_allowed(scopes: Iterable[str]) -> list[str]:
    """Event kind prefixes the scopes open (incident.* with read_incidents, unit.* with read_units)."""
    scopes = set(scopes)
    return [prefix for prefix, scope in KIND_SCOPES.items() if scope in scopes]


def journal_head() -> int:
    return RelayCursor.objects.filter(name="floor").values_list("last_seq", flat=True).first() or 0


def partner_events(*, agency: Agency, after: int, limit: int, kind_prefixes: list[str]) -> tuple[int, list[JournalEvent], bool]:
    """Numbered events after `after` addressed to the agency, oldest first: (head, events, more)."""
    from django.db.models import Q

    head = journal_head()
    kinds = Q(pk__in=[])
    for prefix in kind_prefixes:
        kinds |= Q(kind__startswith=prefix)
    qs = (JournalEvent.objects.filter(seq__gt=after, seq__lte=head, audience__contains=[agency_audience(agency.code)])
          .filter(kinds).order_by("seq"))
    events = list(qs[: limit + 1])
    return head, events[:limit], len(events) > limit


def agency_get(code: str) -> Agency:
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise NotFound(f"No agency {code}.", field="agency")
    return agency
