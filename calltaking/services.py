"""Writes of call-taking. Every function changes rows and appends journal events in one transaction;
tasks are enqueued only on commit (and the sweeper finds anything whose enqueue was lost).

The SOP-SSD-17 paths live in `calltaking/sop.py`; this module holds the call's life (intake,
answer, hold, release, transfer, location verification) and the background work around it.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from calltaking import ali as ali_parsing
from calltaking.models import (
    AliRecord, Call, CallbackAttempt, CallState, ClassOfService, Job, Line, ManualAliLookup,
    MisrouteReport, Rebid, SubscriberSearch, SupplementalLocation, Transfer,
)
from calltaking.selectors import NO_RELATED_ROWS, call_as_dict, records_by_phone
from pscc.errors import Conflict, Forbidden, NotFound, ServiceError, ServiceUnavailable
from pscc.journal import FLOOR, SUPERVISORS, journal_append
from pscc.supervision import alert_raise

log = logging.getLogger(__name__)
CALL_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ANI = re.compile(r"\d{7,16}")


# --- helpers --------------------------------------------------------------------------------------
def actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username()


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def call_journal(call: Call, *, kind: str = "call.updated", actor=None, extra: dict | None = None,
                 related: dict[str, list] | None = None) -> None:
    """Append the call's full current state for the floor (consoles upsert by id).

    The call is read back with everything the floor shows, unless the caller hands over `related`:
    the call's related rows, complete, because it has just created them (intake, where re-reading a
    call made a moment ago was two thirds of the cost of a ringing call)."""
    if related is None:
        call = Call.objects.select_related("line", "answered_by", "incident__call_type").get(pk=call.pk)
    payload = call_as_dict(call, related=related)
    if extra:
        payload.update(extra)
    journal_append(kind=kind, payload=payload, actor=actor, entity=f"call:{call.pk}", audience=[FLOOR])


def enqueue(task_name: str, pk: int, *, countdown: float | None = None) -> None:
    """Send a task after commit; a lost send is harmless (the sweeper re-enqueues due rows)."""

    def send() -> None:
        from pscc.celery import app

        try:
            app.send_task(task_name, args=[pk], countdown=countdown if countdown and countdown > 0 else None)
        except Exception:  # Redis down: the row stays due and the sweeper sends it later
            log.warning("could not enqueue %s(%s); the sweeper will", task_name, pk, exc_info=True)

    transaction.on_commit(send)


def _narrate(call: Call, text: str, *, actor=None, source: str = "call") -> None:
    from incidents.services import narrative_add

    if call.incident_id:
        narrative_add(incident=call.incident, text=text, actor=actor or "system", source=source)


def _get_call(call_id: int) -> Call:
    call = Call.objects.select_related("line", "incident").filter(pk=call_id).first()
    if call is None:
        raise NotFound(f"No call {call_id}.", field="call")
    return call


def _locked(call_id: int) -> Call:
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise NotFound(f"No call {call_id}.", field="call")
    return call


# --- intake ---------------------------------------------------------------------------------------
def call_receive(
    *,
    cpe_call_id: str,
    line: str,
    ani: str = "",
    class_of_service: str = "",
    ali: dict | None = None,
    ali_raw: str = "",
    ali_format: str = "",
    pidf_lo: str = "",
    received_at: datetime | str | None = None,
) -> tuple[Call, bool]:
    """A call rings in from the CPE. Idempotent on `cpe_call_id`: the same id again returns the same
    call (created=False) and changes nothing. Bad ALI is refused whole, naming the field."""
    if not isinstance(cpe_call_id, str) or not CALL_ID.fullmatch(cpe_call_id):
        raise ServiceError("cpe_call_id must be 1-64 letters, digits or . _ : -", field="cpe_call_id")
    existing = Call.objects.filter(cpe_call_id=cpe_call_id).first()
    if existing is not None:
        return existing, False
    line_row = Line.objects.filter(code=line).first() if isinstance(line, str) else None
    if line_row is None:
        raise ServiceError(f"Unknown line {line!r}.", field="line")
    values: dict = {}
    raw = ""
    if ali_raw:
        values = ali_parsing.parse_legacy_spill(ali_raw, ali_format or "vesta-512")
        raw = ali_raw
    elif ali:
        if not isinstance(ali, dict):
            raise ServiceError("ali must be an object.", field="ali")
        values = ali_parsing.normalise_ali(ali)
    if pidf_lo:
        values.update({k: v for k, v in ali_parsing.parse_pidf_lo(pidf_lo).items() if v not in (None, "")})
    ani = (ani or values.pop("ani", "") or "").strip()
    values.pop("ani", None)
    spill_cos = values.pop("class_of_service", "") or ""
    class_of_service = (class_of_service or spill_cos or "").strip().upper()
    if ani and not ANI.fullmatch(ani):
        raise ServiceError("ANI must be 7-16 digits.", field="ani")
    if class_of_service and class_of_service not in ClassOfService.values:
        raise ServiceError(f"Unknown class of service {class_of_service!r}.", field="class_of_service")
    if line_row.kind == Line.Kind.EMERGENCY and not class_of_service:
        raise ServiceError("A 911 call carries a class of service.", field="class_of_service")
    if isinstance(received_at, str):
        try:
            parsed = parse_datetime(received_at.replace("Z", "+00:00"))
            # In UTC: PostgreSQL cannot store every offset Python parses (-23:59).
            received_at = parsed.astimezone(dt_timezone.utc) if parsed and timezone.is_aware(parsed) else parsed
        except (ValueError, OverflowError):  # well formed but not a real time (month 13, year 10000 in UTC)
            parsed = None
        if parsed is None:
            raise ServiceError("received_at is not an ISO 8601 time.", field="received_at")
    ringing_at = timezone.now()  # our clock decides the answer time; the CPE's is kept in the ALI record
    try:
        with transaction.atomic():
            call = Call.objects.create(
                cpe_call_id=cpe_call_id, line=line_row, ani=ani, class_of_service=class_of_service,
                ali_raw=raw, ali_format=ali_format if raw else "", ringing_at=ringing_at, **values,
            )
            ali_records = []
            if values:
                ali_records.append(AliRecord.objects.create(
                    call=call, source=AliRecord.Source.PIDF if pidf_lo and not ali and not raw else AliRecord.Source.INTAKE,
                    raw=raw or pidf_lo, received_at=received_at or ringing_at, **values))
            # A call that has just rung in has no other related rows yet: no need to read it back.
            call_journal(call, kind="call.ringing", related={**NO_RELATED_ROWS, "ali_records": ali_records})
    except IntegrityError:
        # The same call delivered twice at once: the other delivery created it.
        existing = Call.objects.filter(cpe_call_id=cpe_call_id).first()
        if existing is None:
            raise
        return existing, False
    return call, True


def call_event(*, cpe_call_id: str, event: str) -> Call:
    """The CPE reports the caller hung up: `abandoned` (before answer) or `released`. Idempotent."""
    if event not in ("abandoned", "released"):
        raise ServiceError("event must be abandoned or released.", field="event")
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(cpe_call_id=cpe_call_id).first()
        if call is None:
            raise NotFound(f"No call {cpe_call_id}.", field="cpe_call_id")
        now = timezone.now()
        if call.state == CallState.RINGING:
            call.state, call.abandoned_at = CallState.ABANDONED, now
            call.save(update_fields=["state", "abandoned_at"])
            call_journal(call, kind="call.abandoned")
        elif call.state in (CallState.ANSWERED, CallState.ON_HOLD):
            call.state, call.released_at = CallState.RELEASED, now
            call.save(update_fields=["state", "released_at"])
            _narrate(call, "Caller disconnected.")
            call_journal(call, kind="call.released")
    return call


# --- answering ------------------------------------------------------------------------------------
def call_answer(*, call_id: int, actor, position: str = "") -> tuple[Call, dict]:
    """Answer a ringing call (or take an abandoned one to process). Two positions answering the
    same call: one wins, the other gets a Conflict. Returns the call and the records search."""
    with transaction.atomic():
        call = _locked(call_id)
        now = timezone.now()
        if call.state == CallState.RINGING:
            call.state, call.answered_at = CallState.ANSWERED, now
        elif call.state == CallState.ABANDONED and call.answered_by_id is None:
            pass  # taken to process the hang-up (SOP II.3); it was never answered
        else:
            who = call.answered_by.get_username() if call.answered_by_id else "another position"
            raise Conflict(f"This call was already answered by {who}.", field="call", code="already_answered")
        call.answered_by = _user(actor)
        call.position = (position or "")[:32]
        call.save(update_fields=["state", "answered_at", "answered_by", "position"])
        call_journal(call, kind="call.answered", actor=actor)
        records = records_by_phone(call.ani, exclude_call_id=call.pk)
        _audit(actor, "ani_ali", f"call:{call.pk}", "answered the call", {"ani": call.ani})
        _audit(actor, "records_search", f"phone:{call.ani}", "records search on answer",
               {"calls": len(records["calls"]), "incidents": len(records["incidents"])})
    return call, records


def _audit(actor, kind: str, object_ref: str, reason: str, detail: dict | None = None, request=None) -> None:
    """Every access to caller data by a person goes to the center's caller-data access log."""
    if _user(actor) is None:
        return
    try:
        from pscc.audit import caller_data_access_record
    except ImportError:  # the audit log is another app's; without it there is nothing to write to
        return
    caller_data_access_record(user=actor, kind=kind, object_ref=object_ref, reason=reason, detail=detail,
                              request=request)


def records_search(*, actor, ani: str, request=None) -> dict:
    """Prior calls and incidents with this phone number, audited as a records search."""
    ani = (ani or "").strip()
    if not ANI.fullmatch(ani):
        raise ServiceError("Search by a 7-16 digit phone number.", field="ani")
    records = records_by_phone(ani)
    with transaction.atomic():
        _audit(actor, "records_search", f"phone:{ani}", "records search by phone number",
               {"calls": len(records["calls"]), "incidents": len(records["incidents"])}, request=request)
    return records


def _require_owner(call: Call, actor) -> None:
    if call.answered_by_id and _user(actor) and call.answered_by_id != actor.pk:
        from pscc.roles import is_supervisor

        if not is_supervisor(actor):
            raise Forbidden("This call is handled at another position.", field="call")


def call_hold(*, call_id: int, actor) -> Call:
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        if call.state != CallState.ANSWERED:
            raise Conflict(f"Only an answered call can be put on hold (it is {call.state}).", field="state")
        call.state, call.on_hold_at = CallState.ON_HOLD, timezone.now()
        call.save(update_fields=["state", "on_hold_at"])
        call_journal(call, kind="call.on_hold", actor=actor)
    return call


def call_resume(*, call_id: int, actor) -> Call:
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        if call.state != CallState.ON_HOLD:
            raise Conflict("Only a call on hold can be resumed.", field="state")
        call.state = CallState.ANSWERED
        call.save(update_fields=["state"])
        call_journal(call, kind="call.answered", actor=actor)
    return call


def call_release(*, call_id: int, actor) -> Call:
    """The telecommunicator hangs up. An open-line call under line checks may be released too."""
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        if call.state not in (CallState.ANSWERED, CallState.ON_HOLD):
            raise Conflict(f"The call is {call.state}; only a connected call can be released.", field="state")
        call.state, call.released_at, call.next_line_check_at = CallState.RELEASED, timezone.now(), None
        call.save(update_fields=["state", "released_at", "next_line_check_at"])
        _narrate(call, f"Line released by {actor_label(actor)}.", actor=actor)
        from calltaking.sop import step_skip_by_key

        step_skip_by_key(call, "line_check", actor=actor, note="line released")
        call_journal(call, kind="call.released", actor=actor)
    return call


def call_transfer(*, call_id: int, actor, target: str, caller_announced: bool, location_given: str,
                  nature_given: str, target_agency_code: str = "") -> Transfer:
    """SOP I.5: stay on the line until the other agency answers, announce the transfer, and give
    the location and nature before disconnecting. All three are recorded."""
    from units.models import Agency

    target = (target or "").strip()
    if not target:
        raise ServiceError("Name the agency the call is transferred to.", field="target")
    if caller_announced is not True:
        raise ServiceError("Stay on the line and announce the transfer to the other agency first (SOP I.5).",
                           field="caller_announced")
    if not (location_given or "").strip():
        raise ServiceError("Give the other agency the location (SOP I.5).", field="location_given")
    if not (nature_given or "").strip():
        raise ServiceError("Give the other agency the nature of the call (SOP I.5).", field="nature_given")
    agency = None
    if target_agency_code:
        agency = Agency.objects.filter(code=target_agency_code).first()
        if agency is None:
            raise ServiceError(f"Unknown agency {target_agency_code!r}.", field="target_agency_code")
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        if call.state not in (CallState.ANSWERED, CallState.ON_HOLD):
            raise Conflict(f"The call is {call.state}; only a connected call can be transferred.", field="state")
        transfer = Transfer.objects.create(call=call, target=target[:120], target_agency=agency,
                                           caller_announced=True, location_given=location_given.strip()[:300],
                                           nature_given=nature_given.strip()[:300], transferred_by=_user(actor))
        call.state, call.released_at = CallState.TRANSFERRED, timezone.now()
        call.save(update_fields=["state", "released_at"])
        _narrate(call, f"Transferred to {target} by {actor_label(actor)}: caller announced; location given "
                       f"\"{transfer.location_given}\"; nature given \"{transfer.nature_given}\".", actor=actor)
        from calltaking.sop import step_done_by_key

        step_done_by_key(call, "transfer", actor=actor, note=f"to {target}")
        call_journal(call, kind="call.transferred", actor=actor)
    return transfer


def call_verify_location(*, call_id: int, actor, confirmed: bool, corrected_location: str = "") -> Call:
    """SOP I.4: the location repeated back to the caller is confirmed, or corrected (the correction
    is logged next to the ALI, which is kept as delivered)."""
    corrected_location = (corrected_location or "").strip()
    if not confirmed and not corrected_location:
        raise ServiceError("Give the corrected location, or confirm the ALI location.", field="corrected_location")
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        ali_text = call.address_text()
        call.location_verified_at = timezone.now()
        call.location_corrected = not confirmed
        call.verified_location_text = ali_text if confirmed else corrected_location[:300]
        call.save(update_fields=["location_verified_at", "location_corrected", "verified_location_text"])
        if confirmed:
            text = f"Location verified with the caller (repeated back): {ali_text or 'ALI location'}."
        else:
            text = f"Location CORRECTED by the caller: \"{corrected_location}\" (ALI showed \"{ali_text}\")."
        _narrate(call, text, actor=actor)
        journal_append(kind="call.location_corrected" if not confirmed else "call.location_verified",
                       payload={"call": call.pk, "ali": ali_text, "verified": call.verified_location_text,
                                "by": actor_label(actor)},
                       actor=actor, entity=f"call:{call.pk}", audience=[FLOOR])
        from calltaking.sop import step_done_by_key

        step_done_by_key(call, "verify_location", actor=actor, note=text)
        if call.class_of_service == ClassOfService.VOIP:
            # The registered address of a nomadic VoIP line may be stale: this is its verification.
            step_done_by_key(call, "verify_voip", actor=actor,
                             note="registered address confirmed" if confirmed
                             else f"registered address stale; caller is at {call.verified_location_text}")
        _incident_location_verified(call, actor=actor, confirmed=confirmed)
        call_journal(call, actor=actor)
    return call


def _incident_location_verified(call: Call, *, actor, confirmed: bool) -> None:
    """An open event of this call takes the verified location (a correction replaces the ALI's
    address there; the ALI itself is kept as delivered on the call)."""
    from incidents.services import incident_update

    incident = call.incident
    if incident is None or incident.status == "closed":
        return
    if confirmed:
        incident_update(incident=incident, actor=actor, location_verified=True)
    else:
        incident_update(incident=incident, actor=actor, location_text=call.verified_location_text, lat=None, lon=None,
                        uncertainty_m=None, location_verified=True)


def call_tty_attempt(*, call_id: int, actor, responded: bool) -> Call:
    """SOP II.1: the TTY attempt on an open line, recorded with who and when."""
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        call.tty_attempted_at, call.tty_responded = timezone.now(), bool(responded)
        call.save(update_fields=["tty_attempted_at", "tty_responded"])
        _narrate(call, f"TTY contact attempted by {actor_label(actor)}: {'response' if responded else 'no response'}.",
                 actor=actor)
        call_journal(call, actor=actor)
    return call


# --- background work: claim, retry, finish --------------------------------------------------------
def job_claim(model: type[Job], pk: int) -> Job | None:
    """Take a due row (conditional update): None if another worker has it or it is not due."""
    now = timezone.now()
    slack = timedelta(seconds=1)  # a countdown may fire a hair before the column's time
    updated = model.objects.filter(pk=pk, state=Job.State.DUE, scheduled_at__lte=now + slack).update(
        state=Job.State.RUNNING, claimed_at=now)
    if not updated:
        return None
    return model.objects.get(pk=pk)


def _still_mine(model: type[Job], job: Job) -> Job | None:
    return model.objects.select_for_update().filter(pk=job.pk, state=Job.State.RUNNING,
                                                     claimed_at=job.claimed_at).first()


def _backoff(tries: int) -> float:
    return min(60.0, settings.PSCC_JOB_RETRY_BASE_SECONDS * (2 ** max(0, tries - 1)))


def _job_failed_try(model, job: Job, error: Exception, task_name: str) -> bool:
    """Record a failed try. Returns True when it will be retried, False when it has failed for good.
    Must run inside the caller's atomic block with the row locked."""
    from calltaking.providers.base import AdapterError

    job.tries += 1
    job.last_error = str(error)[:500]
    transient = isinstance(error, AdapterError) and error.transient
    if transient and job.tries < settings.PSCC_JOB_MAX_TRIES:
        delay = _backoff(job.tries)
        job.state, job.scheduled_at, job.claimed_at = Job.State.DUE, timezone.now() + timedelta(seconds=delay), None
        job.save(update_fields=["tries", "last_error", "state", "scheduled_at", "claimed_at"])
        enqueue(task_name, job.pk, countdown=delay)
        return True
    job.state, job.finished_at = Job.State.FAILED, timezone.now()
    job.save(update_fields=["tries", "last_error", "state", "finished_at"])
    return False


# Callback attempts ----------------------------------------------------------------------------------
CALLBACK_TASK = "calltaking.callback_attempt_run"


def callback_schedule(call: Call, *, attempt_number: int, of_attempts: int, at: datetime | None = None) -> CallbackAttempt:
    """Create callback attempt N (idempotent on call + attempt number) and enqueue it when due."""
    at = at or timezone.now()
    attempt, created = CallbackAttempt.objects.get_or_create(
        call=call, attempt_number=attempt_number,
        defaults={"incident": call.incident, "number": call.ani, "of_attempts": of_attempts,
                  "position": call.position, "scheduled_at": at,
                  "idempotency_key": f"pscc-callback-{call.cpe_call_id}-{attempt_number}"},
    )
    if created:
        enqueue(CALLBACK_TASK, attempt.pk, countdown=min(60.0, (at - timezone.now()).total_seconds()))
    return attempt


def callback_attempt_run(attempt_id: int) -> str:
    """Place one callback through the telephony gateway. The Idempotency-Key is fixed per attempt,
    so a retry after a lost answer or a killed worker never places the call twice."""
    from calltaking.providers import telephony
    from calltaking.providers.base import AdapterError

    attempt = job_claim(CallbackAttempt, attempt_id)
    if attempt is None:
        return "not claimed"
    try:
        result = telephony.place_callback(number=attempt.number, position=attempt.position,
                                          reference=f"call:{attempt.call_id}", idempotency_key=attempt.idempotency_key)
    except AdapterError as exc:
        with transaction.atomic():
            job = _still_mine(CallbackAttempt, attempt)
            if job is None:
                return "lost claim"
            if not _job_failed_try(CallbackAttempt, job, exc, CALLBACK_TASK):
                call = Call.objects.get(pk=job.call_id)
                _narrate(call, f"Callback attempt {job.attempt_number} of {job.of_attempts} to {job.number} FAILED: "
                               f"{exc} (after {job.tries} tries).")
                from calltaking.sop import callback_concluded

                callback_concluded(call, job, contact=False)
            call_journal(Call.objects.get(pk=job.call_id))
        return "error"
    with transaction.atomic():
        job = _still_mine(CallbackAttempt, attempt)
        if job is None:
            return "lost claim"
        job.state, job.finished_at = Job.State.DONE, timezone.now()
        job.outcome, job.gateway_call_id = result.outcome, result.gateway_call_id
        job.save(update_fields=["state", "finished_at", "outcome", "gateway_call_id"])
        call = Call.objects.select_related("incident").get(pk=job.call_id)
        label = CallbackAttempt.Outcome(result.outcome).label
        _narrate(call, f"Callback attempt {job.attempt_number} of {job.of_attempts} to {job.number}: {label}.")
        from calltaking.sop import callback_concluded

        callback_concluded(call, job, contact=result.outcome == "answered")
        call_journal(call)
    return result.outcome


# Rebids -------------------------------------------------------------------------------------------
REBID_TASK = "calltaking.rebid_run"


def rebid_request(*, call_id: int, actor) -> Rebid:
    """The ANI/ALI "Update" button: ask the CPE for the most recent location (Phase 2)."""
    with transaction.atomic():
        call = _locked(call_id)
        if call.class_of_service != ClassOfService.WPH2:
            raise ServiceError("Only a Phase 2 wireless call can be rebid.", field="class_of_service")
        rebid = Rebid.objects.create(call=call, requested_by_label=actor_label(actor))
        enqueue(REBID_TASK, rebid.pk)
        call_journal(call, actor=actor)
    return rebid


def rebid_run(rebid_id: int) -> str:
    from calltaking.providers import ali as ali_provider
    from calltaking.providers.base import AdapterError

    rebid = job_claim(Rebid, rebid_id)
    if rebid is None:
        return "not claimed"
    call = Call.objects.get(pk=rebid.call_id)
    try:
        fix = ali_provider.rebid(cpe_call_id=call.cpe_call_id, ani=call.ani)
        values = ali_parsing.normalise_ali({k: fix.get(k) for k in ("lat", "lon", "uncertainty_m", "confidence_pct")},
                                           prefix="rebid.")
    except (AdapterError, ServiceError) as exc:
        with transaction.atomic():
            job = _still_mine(Rebid, rebid)
            if job is None:
                return "lost claim"
            if not _job_failed_try(Rebid, job, exc if isinstance(exc, AdapterError) else AdapterError(
                    "CPE/ALI", str(exc), transient=False), REBID_TASK):
                call = Call.objects.select_related("incident").get(pk=job.call_id)
                _narrate(call, f"Rebid FAILED: {exc} (after {job.tries} tries). ALI location kept as delivered.")
                from calltaking.sop import rebid_concluded

                rebid_concluded(call, job)
            call_journal(call)
        return "error"
    with transaction.atomic():
        job = _still_mine(Rebid, rebid)
        if job is None:
            return "lost claim"
        call = Call.objects.select_for_update(of=("self",)).select_related("incident").get(pk=job.call_id)
        civic = {f: getattr(call, f) for f in Call.ALI_FIELDS if f not in values}
        record = AliRecord.objects.create(call=call, source=AliRecord.Source.REBID, raw="", **civic, **values)
        for field, value in values.items():
            setattr(call, field, value)
        call.save(update_fields=list(values))
        job.state, job.finished_at, job.ali_record = Job.State.DONE, timezone.now(), record
        job.save(update_fields=["state", "finished_at", "ali_record"])
        _narrate(call, f"Rebid: {values['lat']:.6f}, {values['lon']:.6f} ± {values.get('uncertainty_m') or '?'} m"
                       f" ({values.get('confidence_pct') or '?'}% confidence).")
        from calltaking.sop import rebid_concluded

        rebid_concluded(call, job)
        call_journal(call)
    return "done"


# Subscriber searches --------------------------------------------------------------------------------
SEARCH_TASK = "calltaking.subscriber_search_run"


def subscriber_search_start(call: Call) -> SubscriberSearch:
    search, created = SubscriberSearch.objects.get_or_create(
        call=call, idempotency_key=f"pscc-wsp-{call.cpe_call_id}",
        defaults={"incident": call.incident, "ani": call.ani, "carrier": call.carrier or call.provider_id or "unknown"},
    )
    if created:
        enqueue(SEARCH_TASK, search.pk)
    return search


def subscriber_search_run(search_id: int) -> str:
    """Start the WSP search, or poll it; pending answers come back later (the search may take
    minutes). Failures are retried with backoff, then escalated to the supervisor."""
    from calltaking.providers import wsp
    from calltaking.providers.base import AdapterError

    search = job_claim(SubscriberSearch, search_id)
    if search is None:
        return "not claimed"
    try:
        status = (wsp.search_get(search.search_id) if search.search_id else
                  wsp.search_start(ani=search.ani, carrier=search.carrier, idempotency_key=search.idempotency_key))
    except AdapterError as exc:
        with transaction.atomic():
            job = _still_mine(SubscriberSearch, search)
            if job is None:
                return "lost claim"
            if not _job_failed_try(SubscriberSearch, job, exc, SEARCH_TASK):
                _subscriber_search_escalate(job, str(exc))
            call_journal(Call.objects.get(pk=job.call_id))
        return "error"
    with transaction.atomic():
        job = _still_mine(SubscriberSearch, search)
        if job is None:
            return "lost claim"
        job.search_id, job.result_status = status.search_id, status.status
        if status.status == "pending":
            waited = (timezone.now() - job.created_at).total_seconds()
            if waited > settings.PSCC_WSP_MAX_WAIT_SECONDS:
                job.save(update_fields=["search_id", "result_status"])
                job.tries += 1
                _subscriber_search_escalate(job, f"no answer after {waited:.0f} s")
            else:
                delay = settings.PSCC_WSP_POLL_SECONDS
                job.state, job.claimed_at = Job.State.DUE, None
                job.scheduled_at = timezone.now() + timedelta(seconds=delay)
                job.save(update_fields=["search_id", "result_status", "state", "claimed_at", "scheduled_at"])
                enqueue(SEARCH_TASK, job.pk, countdown=min(60.0, delay))
            call_journal(Call.objects.get(pk=job.call_id))
            return "pending"
        job.subscriber = status.subscriber
        job.state, job.finished_at = Job.State.DONE, timezone.now()
        job.save(update_fields=["search_id", "result_status", "subscriber", "state", "finished_at"])
        call = Call.objects.select_related("incident").get(pk=job.call_id)
        from calltaking.sop import subscriber_search_concluded

        subscriber_search_concluded(call, job)
        call_journal(call)
    return status.status


def _subscriber_search_escalate(search: SubscriberSearch, reason: str) -> None:
    search.state, search.finished_at, search.escalated_at = Job.State.FAILED, timezone.now(), timezone.now()
    search.last_error = reason[:500]
    search.save(update_fields=["state", "finished_at", "escalated_at", "last_error", "tries"])
    call = Call.objects.select_related("incident").get(pk=search.call_id)
    text = (f"WSP subscriber search for {search.ani} ({search.carrier}) FAILED: {reason}. Escalated to the shift "
            f"supervisor: call the WSP 24x7 line and request the account search by phone.")
    _narrate(call, text)
    journal_append(kind="call.subscriber_search_escalated",
                   payload={"call": call.pk, "incident": call.incident.number if call.incident_id else None,
                            "ani": search.ani, "carrier": search.carrier, "reason": reason},
                   entity=f"call:{call.pk}", audience=[SUPERVISORS, FLOOR])
    alert_raise(kind="subscriber_search_failed", dedupe_key=f"wsp-search:{search.pk}:escalated", severity="critical",
                text=f"WSP subscriber search for {search.ani} ({search.carrier}) failed: {reason[:150]}. Call the WSP 24x7 line.",
                entity=f"call:{call.pk}")
    from calltaking.sop import step_add

    step_add(call, code="III.2.d", key="wsp_phone",
             text=f"WSP search failed: call the {search.carrier} 24x7 line and request the subscriber's address")


# Supplemental location --------------------------------------------------------------------------------
SUPPLEMENTAL_TASK = "calltaking.supplemental_location_run"


def supplemental_location_request(call: Call) -> SupplementalLocation:
    loc = SupplementalLocation.objects.create(call=call, caller_id=call.ani)
    enqueue(SUPPLEMENTAL_TASK, loc.pk)
    return loc


def supplemental_location_run(loc_id: int) -> str:
    from calltaking.providers import location
    from calltaking.providers.base import AdapterError

    loc = job_claim(SupplementalLocation, loc_id)
    if loc is None:
        return "not claimed"
    try:
        found = location.location_by_caller_id(loc.caller_id)
    except AdapterError as exc:
        with transaction.atomic():
            job = _still_mine(SupplementalLocation, loc)
            if job is None:
                return "lost claim"
            if not _job_failed_try(SupplementalLocation, job, exc, SUPPLEMENTAL_TASK):
                call = Call.objects.select_related("incident").get(pk=job.call_id)
                _narrate(call, f"Supplemental location query FAILED: {exc} (after {job.tries} tries).")
                from calltaking.sop import supplemental_concluded

                supplemental_concluded(call, job)
            call_journal(Call.objects.get(pk=job.call_id))
        return "error"
    with transaction.atomic():
        job = _still_mine(SupplementalLocation, loc)
        if job is None:
            return "lost claim"
        job.state, job.finished_at, job.found = Job.State.DONE, timezone.now(), found is not None
        if found is not None:
            job.lat, job.lon, job.uncertainty_m = found.lat, found.lon, found.uncertainty_m
            job.source, job.located_at = found.source[:32], found.timestamp[:40]
        job.save()
        call = Call.objects.select_related("incident").get(pk=job.call_id)
        from calltaking.sop import supplemental_concluded

        supplemental_concluded(call, job)
        call_journal(call)
    return "found" if found else "none"


def supplemental_location_use(*, location_id: int, actor) -> SupplementalLocation:
    """"Use this location": logged (who, when); the ALI stays as delivered beside it."""
    with transaction.atomic():
        loc = SupplementalLocation.objects.select_for_update().filter(pk=location_id).first()
        if loc is None:
            raise NotFound(f"No supplemental location {location_id}.", field="location")
        if not loc.found:
            raise ServiceError("There is no supplemental location to use.", field="location")
        loc.used_at, loc.used_by = timezone.now(), _user(actor)
        loc.save(update_fields=["used_at", "used_by"])
        call = Call.objects.select_related("incident").get(pk=loc.call_id)
        _narrate(call, f"Supplemental location USED by {actor_label(actor)}: {loc.lat:.6f}, {loc.lon:.6f} ± "
                       f"{loc.uncertainty_m or '?'} m ({loc.source}); ALI kept as delivered.", actor=actor)
        journal_append(kind="call.supplemental_location_used",
                       payload={"call": call.pk, "location": loc.pk, "by": actor_label(actor)},
                       actor=actor, entity=f"call:{call.pk}", audience=[FLOOR])
        call_journal(call, actor=actor)
    return loc


# --- misroute reports (SOP §V) and manual ALI lookups (SOP §VI) ----------------------------------------
MISROUTE_TASK = "calltaking.misroute_report_send"


def misroute_report_create(*, actor, correct_psap: str, call_id: int | None = None, correct_ani: str = "",
                           correct_ali: str = "", notes: str = "") -> MisrouteReport:
    """Fill out the misroute form: the correct ANI/ALI and the PSAP it should have gone to; it is
    sent to the county 911 coordinator by a task, and purged after a quarter."""
    correct_psap = (correct_psap or "").strip()
    if not correct_psap:
        raise ServiceError("Name the PSAP the call should have been routed to.", field="correct_psap")
    if correct_ani and not ANI.fullmatch(correct_ani.strip()):
        raise ServiceError("The correct ANI must be 7-16 digits.", field="correct_ani")
    if not (correct_ani or correct_ali or "").strip():
        raise ServiceError("Note the correct ANI or ALI.", field="correct_ali")
    with transaction.atomic():
        call = _locked(call_id) if call_id else None
        report = MisrouteReport.objects.create(
            call=call, received_ani=call.ani if call else "", received_ali=call.address_text()[:300] if call else "",
            correct_ani=correct_ani.strip(), correct_ali=(correct_ali or "").strip()[:300],
            correct_psap=correct_psap[:120], notes=(notes or "").strip()[:500], reported_by=_user(actor),
            reported_by_label=actor_label(actor), sent_to=settings.PSCC_MISROUTE_COORDINATOR_EMAIL,
        )
        journal_append(kind="call.misroute_reported",
                       payload={"report": report.pk, "call": call.pk if call else None, "correct_psap": correct_psap},
                       actor=actor, entity=f"misroute:{report.pk}", audience=[FLOOR])
        if call:
            from calltaking.sop import step_done_by_key

            step_done_by_key(call, "misroute", actor=actor, note=f"misroute report {report.pk}")
            call_journal(call, actor=actor)
        enqueue(MISROUTE_TASK, report.pk)
    return report


def misroute_report_send(report_id: int) -> str:
    from django.core.mail import send_mail

    report = job_claim(MisrouteReport, report_id)
    if report is None:
        return "not claimed"
    body = "\n".join([
        "9-1-1 MISROUTE REPORT (SOP-SSD-17 §V)",
        f"Report: {report.pk}   Filed: {report.created_at.isoformat()}   By: {report.reported_by_label}",
        f"Received ANI: {report.received_ani or '-'}",
        f"Received ALI: {report.received_ali or '-'}",
        f"Correct ANI: {report.correct_ani or '-'}",
        f"Correct ALI: {report.correct_ali or '-'}",
        f"Correct PSAP: {report.correct_psap}",
        f"Notes: {report.notes or '-'}",
    ])
    try:
        send_mail(f"9-1-1 misroute report {report.pk}", body, settings.DEFAULT_FROM_EMAIL, [report.sent_to])
    except Exception as exc:  # SMTP trouble: retried like any adapter
        from calltaking.providers.base import AdapterError

        with transaction.atomic():
            job = _still_mine(MisrouteReport, report)
            if job is not None:
                _job_failed_try(MisrouteReport, job, AdapterError("mail", str(exc), transient=True), MISROUTE_TASK)
        return "error"
    with transaction.atomic():
        job = _still_mine(MisrouteReport, report)
        if job is None:
            return "lost claim"
        job.state, job.finished_at = Job.State.DONE, timezone.now()
        job.save(update_fields=["state", "finished_at"])
        journal_append(kind="call.misroute_sent", payload={"report": job.pk, "sent_to": job.sent_to,
                                                             "sent_at": job.finished_at.isoformat()},
                       entity=f"misroute:{job.pk}", audience=[FLOOR])
    return "sent"


def misroute_reports_purge() -> int:
    """Reports older than the retention (a quarter by default) are deleted: 'purged quarterly'."""
    cutoff = timezone.now() - timedelta(days=settings.PSCC_MISROUTE_RETENTION_DAYS)
    with transaction.atomic():
        deleted, _ = MisrouteReport.objects.filter(created_at__lt=cutoff).exclude(state=Job.State.RUNNING).delete()
        if deleted:
            journal_append(kind="call.misroutes_purged", payload={"deleted": deleted, "before": cutoff.isoformat()},
                           audience=[SUPERVISORS])
    return deleted


def _ali_database_result(phone_number: str) -> tuple[dict, ServiceError | None]:
    """Ask the ALI database provider. Returns the result to store (and answer), and the error to
    raise after the lookup is audited when the provider failed or refused the number."""
    from calltaking.providers import ali as ali_provider
    from calltaking.providers.base import AdapterError

    reference = f"pscc-manual-ali-{uuid.uuid4().hex[:16]}"
    base = {"ani": phone_number, "source": "ali_database", "reference": reference}
    try:
        record = ali_provider.database_query(number=phone_number, reference=reference)
    except AdapterError as exc:
        if exc.status == 400:
            return ({**base, "found": False, "error": str(exc)[:300]},
                    ServiceError(f"The ALI database refused the number {phone_number} ({exc.message}). Check the "
                                 f"number the caller gave (7 or 10 digits).", field="phone_number"))
        return ({**base, "found": False, "error": str(exc)[:300]},
                ServiceUnavailable(f"The ALI database could not be queried: {exc.message}. Nothing was found; try "
                                   f"the lookup again, and if it keeps failing call the ALI database provider's "
                                   f"24x7 line and tell the shift supervisor.", code="ali_database_unavailable"))
    queried_at = timezone.now().isoformat()
    if record is None:
        return {**base, "found": False, "queried_at": queried_at}, None
    try:
        fields = ali_parsing.normalise_ali({k: v for k, v in record.ali.items()
                                            if k in ali_parsing.RENAMES or k in Call.ALI_FIELDS}, prefix="ali_database.")
    except ServiceError as exc:
        return ({**base, "found": False, "error": f"ALI database: unusable record ({exc.message})"[:300]},
                ServiceUnavailable(f"The ALI database answered an unusable record ({exc.message}). Call the ALI "
                                   f"database provider's 24x7 line.", code="ali_database_unavailable"))
    ali = {f: fields.get(f, None if f in ("lat", "lon", "uncertainty_m", "confidence_pct") else "")
           for f in Call.ALI_FIELDS}
    return {**base, "found": True, "ani": record.ani, "class_of_service": record.class_of_service,
            "address_text": AliRecord(**{k: v for k, v in ali.items()}).address_text(), "ali": ali,
            "received_at": queried_at, "queried_at": queried_at, "provider_queried_at": record.queried_at}, None


MANUAL_ALI_CONDITIONS = ("requesting_emergency_aid", "caller_gave_number", "emergency_exists",
                         "insufficient_information")


def manual_ali_lookup(*, actor, phone_number: str, line_code: str = "", call_id: int | None = None,
                      requesting_emergency_aid: bool = False, caller_gave_number: bool = False,
                      emergency_exists: bool = False, insufficient_information: bool = False) -> ManualAliLookup:
    """SOP §VI: ANI/ALI for a caller on a seven-digit (administrative) line, only when all four
    conditions are affirmed; then, and only then, the ALI database provider is queried. Every
    request is audited — refusals, lookups and failed lookups alike. A provider failure raises
    ServiceUnavailable (503) and a number it refuses ServiceError on `phone_number`, after the audit."""
    phone_number = (phone_number or "").strip()
    if not ANI.fullmatch(phone_number):
        raise ServiceError("The caller's telephone number must be 7-16 digits.", field="phone_number")
    line = Line.objects.filter(code=line_code).first() if line_code else None
    if line_code and line is None:
        raise ServiceError(f"Unknown line {line_code!r}.", field="line")
    call = Call.objects.select_related("line").filter(pk=call_id).first() if call_id else None
    if call_id and call is None:
        raise NotFound(f"No call {call_id}.", field="call")
    line = line or (call.line if call else None)
    conditions = {"requesting_emergency_aid": requesting_emergency_aid is True,
                  "caller_gave_number": caller_gave_number is True, "emergency_exists": emergency_exists is True,
                  "insufficient_information": insufficient_information is True}
    refusal = ""
    if line is not None and line.kind == Line.Kind.EMERGENCY:
        refusal = "Manual ALI lookup is only for calls on a seven-digit line; this call came in on 911."
    elif not all(conditions.values()):
        missing = [name for name, ok in conditions.items() if not ok]
        refusal = "Not all four conditions of SOP §VI are affirmed: " + ", ".join(missing) + "."
    result, failure = None, None
    if not refusal:
        # Only now, with all four conditions affirmed, is the ALI database asked (no lock held).
        result, failure = _ali_database_result(phone_number)
    with transaction.atomic():
        lookup = ManualAliLookup.objects.create(
            line=line, call=call, phone_number=phone_number, allowed=not refusal, refusal_reason=refusal,
            result=result, requested_by=_user(actor), requested_by_label=actor_label(actor), **conditions,
        )
        if lookup.allowed:
            _audit(actor, "manual_ali_lookup", f"phone:{phone_number}", "SOP §VI manual ALI lookup",
                   {"lookup": lookup.pk, "found": bool(result and result.get("found")),
                    **({"error": result["error"]} if result and result.get("error") else {})})
        journal_append(kind="call.manual_ali_lookup",
                       payload={"lookup": lookup.pk, "allowed": lookup.allowed, "refusal_reason": refusal,
                                "phone_number": phone_number, "by": actor_label(actor), **conditions,
                                "found": bool(result and result.get("found")),
                                "error": (result or {}).get("error", "")},
                       actor=actor, entity=f"manual_ali:{lookup.pk}", audience=[SUPERVISORS])
    if failure is not None:  # audited above; the telecommunicator is told what to do instead
        raise failure
    return lookup
