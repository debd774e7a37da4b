"""SOP-SSD-17 §I–IV as services: classifying an answered call into its path creates the event
(911D/M/O/S/W) with the SOP's priority, the path's checklist, and the background work the system
does itself (rebid, callbacks, subscriber search, supplemental location, records search).

Every checklist step's completion — by a person or by the system — is written into the event's
narrative with who and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calltaking.models import (
    Call, CallbackAttempt, CallState, ChecklistStep, ClassOfService, Job, LANDLINE_CLASSES, Rebid, SopPath,
    SubscriberSearch, SupplementalLocation,
)
from calltaking.selectors import addresses_in_records, records_by_phone
from calltaking.services import (
    REBID_TASK, _locked, _narrate, _require_owner, _user, actor_label, call_journal, callback_schedule, enqueue,
    subscriber_search_start, supplemental_location_request,
)
from pscc.errors import Conflict, NotFound, ServiceError
from pscc.journal import SUPERVISORS, journal_append
from pscc.supervision import alert_raise

DURESS_CODES = ("911W", "911S")
CLOSE_KEYS = ("close", "close_log")


# --- steps -----------------------------------------------------------------------------------------
def step_add(call: Call, *, code: str, key: str, text: str, state: str = ChecklistStep.State.OPEN,
             by_system: bool = False, note: str = "") -> ChecklistStep:
    order = (call.checklist.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    closing = call.checklist.filter(key__in=CLOSE_KEYS, state=ChecklistStep.State.OPEN).order_by("order").first()
    if closing is not None and key not in CLOSE_KEYS:
        # A step that comes up later (a callback's outcome, a failed search) goes before the close.
        order, closing.order = closing.order, order
        closing.save(update_fields=["order"])
    step = ChecklistStep.objects.create(call=call, incident_id=call.incident_id, code=code, key=key, text=text[:400],
                                        order=order, state=ChecklistStep.State.OPEN, by_system=by_system)
    if state != ChecklistStep.State.OPEN:
        _step_finish(call, step, actor=None, state=state, note=note)
    return step


def _step_finish(call: Call, step: ChecklistStep, *, actor, state: str = ChecklistStep.State.DONE,
                 note: str = "") -> None:
    now = timezone.now()
    step.state, step.done_at = state, now
    step.done_by, step.done_by_label = _user(actor), actor_label(actor)
    step.note = (note or "")[:500]
    step.save(update_fields=["state", "done_at", "done_by", "done_by_label", "note"])
    verb = "done" if state == ChecklistStep.State.DONE else "not applicable"
    text = f"SOP {step.code} — {step.text}: {verb} by {step.done_by_label} at {now:%Y-%m-%d %H:%M:%S} UTC"
    _narrate(call, text + (f" ({note})" if note else "") + ".", actor=actor, source="sop")


def step_done_by_key(call: Call, key: str, *, actor=None, note: str = "") -> ChecklistStep | None:
    step = call.checklist.filter(key=key, state=ChecklistStep.State.OPEN).order_by("order").first()
    if step is not None:
        _step_finish(call, step, actor=actor, note=note)
    return step


def step_skip_by_key(call: Call, key: str, *, actor=None, note: str = "") -> int:
    """Every open step of this kind becomes not applicable (with why); returns how many."""
    steps = list(call.checklist.filter(key=key, state=ChecklistStep.State.OPEN).order_by("order"))
    for step in steps:
        _step_finish(call, step, actor=actor, state=ChecklistStep.State.SKIPPED, note=note)
    return len(steps)


# --- the paths -------------------------------------------------------------------------------------
def _phase(call: Call) -> str:
    return {"WPH1": "III", "WRLS0": "III", "WPH2": "IV"}.get(call.class_of_service, "II")


def call_classify(*, call_id: int, actor, path: str, duress_code: str = "911W", assessment: str = "",
                  verify_voip: bool = True) -> Call:
    """Turn an answered (or taken abandoned) call into its SOP path: the event with the right code
    and priority, the checklist, and the work the system does itself."""
    from incidents.services import incident_create

    if path not in SopPath.values:
        raise ServiceError(f"Unknown SOP path {path!r}.", field="path")
    with transaction.atomic():
        call = _locked(call_id)
        _require_owner(call, actor)
        if call.sop_path:
            raise Conflict(f"This call is already classified ({call.sop_path}).", field="path", code="already_classified")
        if call.state == CallState.RINGING:
            raise ServiceError("Answer the call first.", field="state")
        cos = call.class_of_service
        wireless = call.is_wireless
        code, priority = None, None
        if path == SopPath.LANDLINE_OPEN_LINE:
            if cos not in LANDLINE_CLASSES and cos != ClassOfService.VOIP:
                raise ServiceError("The open-line path is for landline calls; use the wireless paths.", field="path")
            if call.tty_attempted_at is None:
                raise ServiceError("Attempt contact with the TTY first (SOP II.1).", field="tty")
            if call.tty_responded:
                raise ServiceError("The caller answered the TTY: handle the call as appropriate.", field="tty")
            code = "911O"
        elif path == SopPath.LANDLINE_HANGUP:
            if wireless:
                raise ServiceError("A wireless hang-up follows the wireless paths (911W).", field="path")
            code = "911D"
        elif path == SopPath.MISDIAL:
            code, priority = "911M", None
        elif path == SopPath.WIRELESS_NO_DURESS:
            if not wireless:
                raise ServiceError("This path is for wireless calls.", field="path")
            code = "911W"
        elif path == SopPath.DURESS:
            if duress_code not in DURESS_CODES:
                raise ServiceError("A duress event is 911W or 911S.", field="duress_code")
            if not (assessment or "").strip():
                raise ServiceError("Give your assessment of the duress heard (it goes to the patrol shift supervisor).",
                                   field="assessment")
            code, priority = duress_code, 1
        call.sop_path = path
        call.duress_assessment = (assessment or "").strip()[:2000]
        if code:
            assumed = call.location_verified_at is None
            lat, lon = (call.lat, call.lon) if call.lat is not None else (None, None)
            location = call.verified_location_text or call.address_text()
            call.incident = incident_create(
                call_type_code=code, actor=actor, priority=priority, location_text=location,
                lat=lat, lon=lon, uncertainty_m=call.uncertainty_m if lat is not None else None,
                caller_name=call.ali_name, callback_number=call.ani if call.callback_possible else "",
                source="911", received_at=call.ringing_at, narrative_source="call",
                narrative=(f"911 call on {call.line.code}, ANI {call.ani or 'none'}, class of service {cos or 'n/a'}"
                           f"; ALI: {call.address_text() or 'none'}"
                           + (f"; Phase 2 {call.lat:.6f}, {call.lon:.6f} ± {call.uncertainty_m or '?'} m "
                              f"({call.confidence_pct or '?'}%)" if call.lat is not None else "")),
                location_verified=not assumed,
                location_override_reason="SOP I.4.a: ANI/ALI assumed correct (abandoned, hang-up or unable to speak)"
                if assumed else "",
            )
        call.save(update_fields=["sop_path", "duress_assessment", "incident"])
        ChecklistStep.objects.filter(call=call).update(incident=call.incident)
        _build_checklist(call, path, actor=actor)
        call_journal(call, kind="call.classified", actor=actor)
    return call


def _build_checklist(call: Call, path: str, *, actor) -> None:
    phase = _phase(call)
    cos = call.class_of_service
    ani = call.ani
    nonemergency = settings.PSCC_NON_EMERGENCY_NUMBER
    done, skipped = ChecklistStep.State.DONE, ChecklistStep.State.SKIPPED
    number = call.incident.number if call.incident_id else ""
    if call.location_verified_at:
        step_add(call, code="I.4", key="verify_location", text="Verify the ANI/ALI and the location with the caller",
                 state=done, note=f"verified: {call.verified_location_text}")
    elif call.state == CallState.ABANDONED or path in (SopPath.LANDLINE_HANGUP, SopPath.LANDLINE_OPEN_LINE,
                                                       SopPath.WIRELESS_NO_DURESS, SopPath.DURESS):
        step_add(call, code="I.4.a", key="verify_location",
                 text="ANI/ALI assumed correct (abandoned, hang-up or unable to speak)", state=done, by_system=True)
    else:
        step_add(call, code="I.4", key="verify_location", text="Verify the ANI/ALI and the location with the caller "
                 "(repeat the address back)")
    if cos == ClassOfService.VOIP and path != SopPath.OUT_OF_JURISDICTION:
        step_add(call, code="VOIP", key="verify_voip",
                 text="VoIP: the registered address may be stale (nomadic service) — verify it with the caller or by callback")

    if path == SopPath.LANDLINE_OPEN_LINE:
        tty = step_add(call, code="II.1", key="tty", text="TTY contact attempted")
        _step_finish(call, tty, actor=actor, note=f"no response, TTY attempt at {call.tty_attempted_at:%H:%M:%S} UTC")
        step_add(call, code="II.2", key="cfs", text=f"911O call for service created ({number})", state=done, by_system=True)
        step_add(call, code="II.2", key="line_kept",
                 text="Line left connected: check it periodically until an officer arrives on scene", state=done,
                 by_system=True, note=f"line checks every {settings.PSCC_LINE_CHECK_SECONDS:g} s")
        step_add(call, code="II.4", key="send_officers", text="Send officers to the location")
        call.next_line_check_at = timezone.now() + timezone.timedelta(seconds=settings.PSCC_LINE_CHECK_SECONDS)
        call.save(update_fields=["next_line_check_at"])
        step_add(call, code="II", key="close", text="Document all action taken and close the event")
    elif path == SopPath.LANDLINE_HANGUP:
        step_add(call, code="II.3", key="cfs", text=f"911D event created ({number})", state=done, by_system=True)
        _callbacks(call, code="II.3", attempts=1)
        step_add(call, code="II", key="close", text="Document all action taken and close the event")
    elif path == SopPath.MISDIAL:
        step_add(call, code="II.6", key="cfs", text=f"911M event created ({number})", state=done, by_system=True)
        if cos == ClassOfService.BUSN:
            step_add(call, code="II.6", key="close_log", text="Misdial from a business: close the event with a log disposition")
        else:
            step_add(call, code="II.6", key="handle", text="Misdial from a residence, contact made: handle as appropriate")
            step_add(call, code="II.6", key="close", text="Document all action taken and close the event")
    elif path == SopPath.WIRELESS_NO_DURESS:
        step_add(call, code=f"{phase}.1.a", key="cfs",
                 text=f"911W event created ({number})" + (", address from the ANI/ALI spill" if phase == "IV" else ""),
                 state=done, by_system=True)
        if cos == ClassOfService.WPH2:
            step_add(call, code="IV.1.c", key="rebid", text="Update (rebid) for the most recent polling location",
                     by_system=True)
            Rebid.objects.create(call=call, requested_by_label="SOP IV.1.c")
            enqueue(REBID_TASK, call.rebids.latest("id").pk)
            _callbacks(call, code="IV.1.d", attempts=2, after_rebid=True)
        else:
            _callbacks(call, code="III.1.b", attempts=2)
        voicemail_code = "IV.1.d" if phase == "IV" else "III.1.c"
        if call.callback_possible:
            step_add(call, code=voicemail_code, key="voicemail",
                     text=f"Leave a voicemail referring the caller to {nonemergency}, or to call 9-1-1 again if "
                          f"they have an emergency")
        else:
            step_add(call, code=voicemail_code, key="voicemail", text="Voicemail referral", state=skipped,
                     by_system=True, note="Phase 0: no callback number")
        _jurisdiction_step(call, f"{phase}.1.e" if phase == "IV" else "I.5")
        step_add(call, code=f"{phase}.1.{'f' if phase == 'IV' else 'e'}", key="close",
                 text="Document all action taken in the remarks and close the event")
    elif path == SopPath.DURESS:
        _duress(call, actor=actor, phase=phase)
    elif path == SopPath.OUT_OF_JURISDICTION:
        step_add(call, code="I.5", key="transfer",
                 text="Transfer: stay on the line until answered, announce the transfer, give location and nature")
        step_add(call, code="V", key="misroute",
                 text="Fill out the misroute report: correct ANI/ALI and the PSAP it should have gone to")


def _jurisdiction_step(call: Call, code: str) -> None:
    incident = call.incident
    if incident is not None and incident.out_of_jurisdiction:
        agency = incident.jurisdiction_agency.name if incident.jurisdiction_agency_id else "the appropriate agency"
        step_add(call, code=code, key="jurisdiction", text=f"Location is outside our jurisdiction: notify {agency}")
    else:
        step_add(call, code=code, key="jurisdiction", text="Location outside our jurisdiction? Notify the appropriate agency",
                 state=ChecklistStep.State.SKIPPED if incident is not None and incident.esz_id else ChecklistStep.State.OPEN,
                 by_system=bool(incident is not None and incident.esz_id), note="within the county" if incident is not None and incident.esz_id else "")


def _callbacks(call: Call, *, code: str, attempts: int, after_rebid: bool = False) -> None:
    if not call.callback_possible:
        step_add(call, code=code, key="callback",
                 text="Call back the caller", state=ChecklistStep.State.SKIPPED, by_system=True,
                 note="Phase 0 / no callback number: a callback is not possible")
        return
    plural = "two attempts" if attempts == 2 else "attempt contact"
    step_add(call, code=code, key="callback", text=f"Call back {call.ani} ({plural}, through the telephony gateway)",
             by_system=True, note=f"{attempts}")
    if not after_rebid:
        callback_schedule(call, attempt_number=1, of_attempts=attempts)


def _duress(call: Call, *, actor, phase: str) -> None:
    incident = call.incident
    sub = "2" if phase in ("III", "IV") else "2"
    prefix = phase if phase != "II" else "III"
    step_add(call, code=f"{prefix}.{sub}.a", key="cfs",
             text=f"{incident.call_type.code} event created, priority 1 ({incident.number})", state=ChecklistStep.State.DONE,
             by_system=True)
    if prefix == "III":
        # SOP III.2.b: the home or other address of the caller. A landline's (or VoIP's registered)
        # ALI address is one; for a wireless caller it comes from the WSP search or our records.
        address = call.verified_location_text or call.address_text()
        if not call.is_wireless and address:
            step_add(call, code="III.2.b", key="caller_address", text="Determine the home or other address of the caller",
                     state=ChecklistStep.State.DONE, by_system=True, note=f"ALI address: {address}")
        else:
            step_add(call, code="III.2.b", key="caller_address",
                     text="Attempt to determine the home or other address of the caller (WSP search, our records)")
    # Notify the patrol shift supervisor with the assessment (journal to the supervisors + narrative).
    journal_append(kind="call.duress_notice",
                   payload={"call": call.pk, "incident": incident.number, "ani": call.ani,
                            "class_of_service": call.class_of_service, "location": incident.location_text,
                            "lat": call.lat, "lon": call.lon, "assessment": call.duress_assessment,
                            "by": actor_label(actor)},
                   actor=actor, entity=f"incident:{incident.number}", audience=[SUPERVISORS])
    alert_raise(kind="duress_call", dedupe_key=f"call:{call.pk}:duress", severity="critical",
                text=f"DURESS {incident.call_type.code} {incident.number} on {call.line.code} from {call.ani or 'unknown'}: "
                     f"{call.duress_assessment[:200]}",
                entity=f"incident:{incident.number}", data={"call": call.pk, "lat": call.lat, "lon": call.lon}, actor=actor)
    step_add(call, code=f"{prefix}.2.{'e' if phase == 'IV' else 'c'}", key="notify_supervisor",
             text="Patrol shift supervisor notified with the assessment of the duress heard",
             state=ChecklistStep.State.DONE, by_system=True, note=call.duress_assessment[:200])
    searching = call.is_wireless and call.callback_possible
    phase2_fix = call.class_of_service == ClassOfService.WPH2 and call.lat is not None
    if searching:
        step_add(call, code=f"{prefix}.2.{'h' if phase == 'IV' else 'd'}", key="wsp_search",
                 text=f"Wireless Service Provider subscriber search ({call.carrier or 'carrier unknown'})", by_system=True)
        subscriber_search_start(call)
    elif call.is_wireless:
        step_add(call, code=f"{prefix}.2.d", key="wsp_search", text="Wireless Service Provider subscriber search",
                 state=ChecklistStep.State.SKIPPED, by_system=True, note="Phase 0: no subscriber number to search")
    if phase2_fix:
        beat = incident.beat.code if incident.beat_id else "the beat"
        _dispatch_beat(call, actor=actor, text=(f"Dispatch the beat officer ({beat}) to check the vicinity of "
                                                f"{call.lat:.6f}, {call.lon:.6f} ± {call.uncertainty_m or '?'} m"))
        step_add(call, code="IV.2.c", key="rebid", text="Update (rebid) for the most recent polling location", by_system=True)
        Rebid.objects.create(call=call, requested_by_label="SOP IV.2.c")
        enqueue(REBID_TASK, call.rebids.latest("id").pk)
        step_add(call, code="IV.2.g", key="supplemental", text="Check for supplemental location data (RapidSOS)",
                 by_system=True)
        supplemental_location_request(call)
        _callbacks(call, code="IV.2.d", attempts=2, after_rebid=True)
    # Own records by the phone number (SOP IV.2.j), and every address found goes to the units.
    records = records_by_phone(call.ani, exclude_call_id=call.pk) if call.callback_possible else {"calls": [], "incidents": []}
    addresses = addresses_in_records(records)
    step_add(call, code=f"{prefix}.2.{'j' if phase == 'IV' else 'e'}", key="records_search",
             text=f"Search our records by the phone number {call.ani or '(none)'}", state=ChecklistStep.State.DONE,
             by_system=True, note=f"{len(records['calls'])} prior calls, {len(records['incidents'])} incidents, "
                                  f"{len(addresses)} addresses")
    step_add(call, code=f"{prefix}.2.{'i' if phase == 'IV' else 'e'}", key="update_units",
             text="Update responding units with every address found", by_system=True)
    for address in addresses:
        _address_for_units(call, address, "our records")
    if addresses:
        step_done_by_key(call, "caller_address", note=f"our records: {'; '.join(addresses)}"[:500])
    if not searching:
        step_done_by_key(call, "update_units", note=f"no subscriber search; {len(addresses)} addresses from our records")
    if not phase2_fix:
        # SOP III.2.e: police units to the address — the ALI's for a fixed line, else the WSP's or our records'.
        fixed = "" if call.is_wireless else (call.verified_location_text or call.address_text())
        if fixed:
            _dispatch_beat(call, actor=actor, text=f"Dispatch police units to the address: {fixed}",
                           code=f"{prefix}.2.e", key="dispatch_units")
        else:
            step_add(call, code=f"{prefix}.2.e", key="dispatch_units",
                     text="Dispatch police units to the address the WSP provides, or locations found in our records")
    _jurisdiction_step(call, f"{prefix}.2.{'k' if phase == 'IV' else 'h'}")
    step_add(call, code=f"{prefix}.2.{'l' if phase == 'IV' else 'i'}", key="close",
             text="Document all action taken in the remarks and close the event")


def _dispatch_beat(call: Call, *, actor, text: str, code: str = "IV.2.f", key: str = "dispatch_beat") -> None:
    """SOP IV.2.f (and III.2.e for a fixed address): dispatch the recommended patrol unit (the
    beat's, by zone and distance) when incidents offers dispatch; otherwise the step stays open as
    the recommendation, for the telecommunicator to complete."""
    step = step_add(call, code=code, key=key, text=text)
    try:
        from incidents.recommend import recommend_units
        from incidents.services import incident_dispatch
    except ImportError:
        return
    recommendation = recommend_units(call.incident)
    unit = next((u for u in recommendation.get("units", []) if u["recommended"] and u["unit_type"] == "patrol"), None)
    if unit is None:
        step.note = "no available patrol unit to recommend"
        step.save(update_fields=["note"])
        return
    try:
        with transaction.atomic():
            incident_dispatch(incident=call.incident, unit_ids=[unit["unit_id"]], actor=actor)
    except ServiceError as exc:
        step.note = f"recommended {unit['call_sign']}; automatic dispatch refused: {exc.message}"[:500]
        step.save(update_fields=["note"])
        return
    _step_finish(call, step, actor=actor, note=f"{unit['call_sign']} dispatched ({unit['reason']})")


def _address_for_units(call: Call, address: str, found_in: str) -> None:
    """SOP IV.2.i/j: a found address goes to the responding units (narrative visible to them)."""
    _narrate(call, f"ADDRESS FOR RESPONDING UNITS (from {found_in}): {address}")
    step = call.checklist.filter(key="update_units").first()
    if step is not None:
        step.note = (f"{step.note}; " if step.note else "") + f"{found_in}: {address}"
        step.note = step.note[:500]
        step.save(update_fields=["note"])


# --- background results feeding the path -------------------------------------------------------------
def callback_concluded(call: Call, attempt: CallbackAttempt, *, contact: bool) -> None:
    """After an attempt: contact → the telecommunicator decides; failed → next attempt after the
    configured spacing, or (after the last) the SOP's next step is proposed."""
    if attempt.outcome == CallbackAttempt.Outcome.VOICEMAIL_LEFT:
        step_done_by_key(call, "voicemail", note=f"left by the gateway on attempt {attempt.attempt_number}")
    if contact:
        CallbackAttempt.objects.filter(call=call, state=Job.State.DUE).update(state=Job.State.CANCELLED)
        step_done_by_key(call, "callback", note=f"contact on attempt {attempt.attempt_number}")
        step_skip_by_key(call, "voicemail", note=f"contact made on callback attempt {attempt.attempt_number}")
        if call.sop_path == SopPath.LANDLINE_HANGUP:
            step_add(call, code="II.5", key="decide_cfs",
                     text="Contact made: decide whether a call for service needs to be created")
        else:
            step_add(call, code="III.1.d", key="handle", text="Contact made: handle as appropriate for the situation")
        return
    if attempt.attempt_number < attempt.of_attempts:
        at = timezone.now() + timezone.timedelta(seconds=settings.PSCC_CALLBACK_SPACING_SECONDS)
        callback_schedule(call, attempt_number=attempt.attempt_number + 1, of_attempts=attempt.of_attempts, at=at)
        return
    step_done_by_key(call, "callback", note=f"no contact after {attempt.of_attempts} attempt(s)")
    if call.sop_path == SopPath.LANDLINE_HANGUP:
        step_add(call, code="II.4", key="send_officers", text="No contact: send officers to the location (recommended)")
        _narrate(call, "No contact on callback: SOP II.4 recommends sending officers to the location.")
    elif call.sop_path in (SopPath.WIRELESS_NO_DURESS, SopPath.DURESS):
        _narrate(call, f"No contact after {attempt.of_attempts} callback attempts: leave the voicemail referral "
                       f"({settings.PSCC_NON_EMERGENCY_NUMBER}), document and close (SOP {_phase(call)}).")


def rebid_concluded(call: Call, rebid: Rebid) -> None:
    note = "rebid failed: ALI location kept" if rebid.state == Job.State.FAILED else (
        f"{call.lat:.6f}, {call.lon:.6f} ± {call.uncertainty_m or '?'} m" if call.lat is not None else "")
    step_done_by_key(call, "rebid", note=note)
    step = call.checklist.filter(key="callback", state=ChecklistStep.State.OPEN).first()
    if step is not None and not call.callbacks.exists():
        callback_schedule(call, attempt_number=1, of_attempts=int(step.note or 2))
    if rebid.state == Job.State.DONE and call.sop_path == SopPath.DURESS and call.lat is not None:
        _address_for_units(call, f"Phase 2 rebid {call.lat:.6f}, {call.lon:.6f} ± {call.uncertainty_m or '?'} m",
                           "the rebid")


def subscriber_search_concluded(call: Call, search: SubscriberSearch) -> None:
    sub = search.subscriber or {}
    if search.result_status == "complete" and sub:
        address = ", ".join(p for p in (sub.get("street"), sub.get("city"), sub.get("state"), sub.get("zip")) if p)
        _narrate(call, f"WSP subscriber search: {sub.get('name', '?')} ({sub.get('account_type', '?')}), {address}.")
        step_done_by_key(call, "wsp_search", note=f"{sub.get('name', '?')}, {address}")
        step_done_by_key(call, "caller_address", note=f"WSP subscriber address: {address}")
        _address_for_units(call, address, "the WSP subscriber search")
    else:
        _narrate(call, f"WSP subscriber search: no subscriber found for {search.ani}.")
        step_done_by_key(call, "wsp_search", note="no subscriber found")
    step_done_by_key(call, "update_units", note="all searches answered")


def supplemental_concluded(call: Call, loc: SupplementalLocation) -> None:
    if loc.state == Job.State.DONE and loc.found:
        text = f"{loc.lat:.6f}, {loc.lon:.6f} ± {loc.uncertainty_m or '?'} m ({loc.source})"
        _narrate(call, f"Supplemental location (shown beside the ALI, not replacing it): {text}.")
        step_done_by_key(call, "supplemental", note=text)
        _address_for_units(call, f"supplemental location {text}", "the supplemental location provider")
    elif loc.state == Job.State.DONE:
        _narrate(call, "Supplemental location: none available for this caller.")
        step_done_by_key(call, "supplemental", note="none available")
    else:
        step_done_by_key(call, "supplemental", note=f"failed: {loc.last_error}")


# --- completing steps and closing --------------------------------------------------------------------
def checklist_step_complete(*, step_id: int, actor, note: str = "", disposition: str = "",
                            not_applicable: bool = False) -> ChecklistStep:
    """A person completes a step (one key on the console), or marks it not applicable saying why;
    recorded in the narrative with who and when. The close steps close the event (a business
    misdial with the LOG disposition), and only once every other step is done or not applicable."""
    from incidents.services import incident_close

    with transaction.atomic():
        step = ChecklistStep.objects.select_for_update().filter(pk=step_id).first()
        if step is None:
            raise NotFound(f"No checklist step {step_id}.", field="step")
        if step.state != ChecklistStep.State.OPEN:
            raise Conflict(f"This step is already {step.state} ({step.done_by_label}).", field="step")
        call = _locked(step.call_id)
        _require_owner(call, actor)
        if step.by_system and step.key in ("rebid", "callback", "wsp_search", "supplemental", "update_units"):
            busy = {"rebid": call.rebids, "callback": call.callbacks, "wsp_search": call.subscriber_searches,
                    "supplemental": call.supplemental_locations}.get(step.key)
            if busy is not None and busy.filter(state__in=[Job.State.DUE, Job.State.RUNNING]).exists():
                raise Conflict("The system is still working on this step.", field="step", code="in_progress")
        if not_applicable:
            if step.key in CLOSE_KEYS or step.by_system:
                raise ServiceError("Only a step a person does can be marked not applicable.", field="not_applicable")
            if not (note or "").strip():
                raise ServiceError("Say why the step is not applicable.", field="note")
        if step.key in CLOSE_KEYS:
            if call.incident_id is None:
                raise ServiceError("There is no event to close.", field="step")
            disposition = "LOG" if step.key == "close_log" else (disposition or "").strip()
            if not disposition:
                raise ServiceError("A disposition is required to close the event.", field="disposition")
            still_open = list(call.checklist.filter(state=ChecklistStep.State.OPEN).exclude(pk=step.pk)
                              .order_by("order").values_list("code", "text"))
            if still_open:
                listed = "; ".join(f"{code} {text}" for code, text in still_open)
                raise Conflict(f"Complete these steps (or mark them not applicable) before closing: {listed}"[:500],
                               field="step", code="steps_open")
        _step_finish(call, step, actor=actor, note=note,
                     state=ChecklistStep.State.SKIPPED if not_applicable else ChecklistStep.State.DONE)
        if step.key in CLOSE_KEYS:
            call.refresh_from_db()
            CallbackAttempt.objects.filter(call=call, state=Job.State.DUE).update(state=Job.State.CANCELLED)
            call.next_line_check_at = None
            call.save(update_fields=["next_line_check_at"])
            incident_close(incident=call.incident, disposition=disposition, actor=actor, note=note)
        call_journal(call, actor=actor)
    return step


# --- line checks on an open line (SOP II.2) --------------------------------------------------------
def line_checks_due() -> int:
    """Prompt a line check on each kept-open line until a unit is on scene; returns prompts made."""
    now = timezone.now()
    made = 0
    for call_id in Call.objects.filter(next_line_check_at__lte=now).values_list("pk", flat=True)[:200]:
        with transaction.atomic():
            call = Call.objects.select_for_update(skip_locked=True, of=("self",)).select_related("incident").filter(
                pk=call_id, next_line_check_at__lte=now).first()
            if call is None:
                continue
            incident = call.incident
            if call.state not in (CallState.ANSWERED, CallState.ON_HOLD) or incident is None or \
                    incident.status == "closed":
                call.next_line_check_at = None
                call.save(update_fields=["next_line_check_at"])
                continue
            if incident.first_on_scene_at is not None:
                call.next_line_check_at = None
                call.save(update_fields=["next_line_check_at"])
                _narrate(call, "Officer on scene: periodic line checks end (SOP II.2).")
                step_skip_by_key(call, "line_check", note="officer on scene before this check was made")
                call_journal(call)
                continue
            step_add(call, code="II.2", key="line_check", text="Line check: listen on the open line for activity")
            call.next_line_check_at = now + timezone.timedelta(seconds=settings.PSCC_LINE_CHECK_SECONDS)
            call.save(update_fields=["next_line_check_at"])
            call_journal(call, kind="call.line_check")
            made += 1
    return made
