"""Each SOP text rule the system enforces, through the services (and the REST layer where it matters)."""

from __future__ import annotations

import threading

import pytest

from pscc.errors import Conflict, Forbidden, ServiceError
from pscc.models import JournalEvent
from text911 import services
from text911.models import SergeantApproval, SessionHandover, TextMessage, TextSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def tc(make_staff):
    return make_staff("telecommunicator", username="tc-ann")


@pytest.fixture
def tc2(make_staff):
    return make_staff("telecommunicator", username="tc-bob")


def claimed(new_session, user, text="Someone is breaking in"):
    session = new_session(text)
    services.text_session_claim(session_id=session.pk, actor=user)
    session.refresh_from_db()
    return session


def verified_with_event(session, user):
    services.text_location_verify(session_id=session.pk, actor=user, location_text="500 E 2nd St, Casper")
    return services.text_incident_create(session_id=session.pk, actor=user)


# --- claims (rules 3, 19, 30) -----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_telecommunicators_claiming_at_once_give_exactly_one_owner(center, new_session, make_staff):
    users = [make_staff("telecommunicator", username=f"racer{i}") for i in range(4)]
    session = new_session()
    barrier = threading.Barrier(len(users))
    results: dict[str, str] = {}

    def claim(user):
        from django.db import connection

        try:
            barrier.wait(timeout=10)
            services.text_session_claim(session_id=session.pk, actor=user)
            results[user.username] = "owner"
        except Conflict as exc:
            results[user.username] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results.values()) == ["already_claimed"] * 3 + ["owner"]
    session.refresh_from_db()
    assert session.state == "active" and session.owner.username == [k for k, v in results.items() if v == "owner"][0]
    assert JournalEvent.objects.filter(kind="text.session.claimed").count() == 1


def test_a_third_active_session_is_refused(center, new_session, tc):
    for _ in range(2):
        claimed(new_session, tc)
    third = new_session()

    with pytest.raises(Conflict) as refused:
        services.text_session_claim(session_id=third.pk, actor=tc)

    assert refused.value.code == "too_many_sessions"
    third.refresh_from_db()
    assert third.state == "unassigned"


def test_the_third_claim_over_rest_is_a_409_naming_the_rule(center, new_session, tc, client):
    client.force_login(tc)
    ids = [new_session().pk for _ in range(3)]
    assert client.post(f"/api/v1/text911/sessions/{ids[0]}/claim").status_code == 200
    assert client.post(f"/api/v1/text911/sessions/{ids[1]}/claim").status_code == 200
    response = client.post(f"/api/v1/text911/sessions/{ids[2]}/claim")
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_sessions" and "rule 19" in response.json()["error"]


def test_replying_to_an_unassigned_session_claims_it(center, new_session, tc):
    session = new_session()
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    session.refresh_from_db()
    assert session.state == "active" and session.owner == tc


def test_only_the_owner_may_write_to_a_session(center, new_session, tc, tc2):
    session = claimed(new_session, tc)
    with pytest.raises(Forbidden):
        services.text_message_send(session_id=session.pk, actor=tc2, text="Hello")


# --- quick messages (rules 4, 5, 8, 9) --------------------------------------------------------------
def test_the_location_quick_message_is_sent_with_the_center_filled_in(center, new_session, tc, settings):
    session = claimed(new_session, tc)
    message = services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    assert message.text == f"{settings.PSCC_TEXT_CENTER_LABEL}. What is the location of the emergency?"
    assert message.state == "pending" and message.direction == "out"
    voice = services.text_message_send(session_id=session.pk, actor=tc, quick_number=4)
    assert settings.PSCC_NON_EMERGENCY_NUMBER in voice.text and "{" not in voice.text


def test_the_final_quick_message_is_only_sent_by_end_session(center, new_session, tc):
    session = claimed(new_session, tc)
    with pytest.raises(ServiceError) as refused:
        services.text_message_send(session_id=session.pk, actor=tc, quick_number=6)
    assert refused.value.code == "use_end"


def test_texting_lingo_is_refused(center, new_session, tc):
    session = claimed(new_session, tc)
    with pytest.raises(ServiceError) as refused:
        services.text_message_send(session_id=session.pk, actor=tc, text="r u safe? pls answer")
    assert refused.value.field == "text" and "rule 9" in refused.value.message
    services.text_message_send(session_id=session.pk, actor=tc, text="Are you on Main St or Poplar Ave?")


def test_non_emergency_and_language_messages_are_recorded_on_the_session(center, new_session, tc):
    session = claimed(new_session, tc)
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=5)
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=8)
    session.refresh_from_db()
    assert session.non_emergency_at is not None and session.language == "es"


# --- location and the 911T event (rules 2, 7, 16, 27, 29) ----------------------------------------------
def test_an_event_needs_a_verified_location(center, new_session, tc):
    session = claimed(new_session, tc)
    with pytest.raises(ServiceError) as refused:
        services.text_incident_create(session_id=session.pk, actor=tc)
    assert refused.value.code == "location_unverified"


def test_the_911t_event_says_received_via_text_and_keeps_the_transcript(center, new_session, inbound, tc):
    session = claimed(new_session, tc, "Someone is breaking in next door")
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    inbound(session.tcc_session_id, "text", "500 E 2nd St")
    inbound(session.tcc_session_id, "multimedia", "Picture", media={"url": "x"})
    incident = verified_with_event(session, tc)
    services.text_message_send(session_id=session.pk, actor=tc, text="Officers are on the way.")
    inbound(session.tcc_session_id, "text", "He is leaving in a red truck")

    assert incident.call_type.code == "911T" and incident.location_verified
    assert incident.location_text == "500 E 2nd St, Casper" and incident.callback_number == session.from_number
    narrative = "\n".join(incident.narrative.values_list("text", flat=True))
    assert "Received via Text to 9-1-1" in narrative
    for line in ("Someone is breaking in next door", "What is the location of the emergency?", "500 E 2nd St",
                 "multimedia content — not opened", "Officers are on the way.", "He is leaving in a red truck"):
        assert line in narrative


def test_a_rebid_location_is_never_used_for_an_event_without_verification(center, new_session, tc):
    session = claimed(new_session, tc)
    TextSession.objects.filter(pk=session.pk).update(rebid_lat=42.8, rebid_lon=-106.3, rebid_count=1)
    with pytest.raises(ServiceError):
        services.text_incident_create(session_id=session.pk, actor=tc)


def test_multimedia_arrival_time_goes_into_the_narrative(center, new_session, inbound, tc):
    session = claimed(new_session, tc)
    incident = verified_with_event(session, tc)
    inbound(session.tcc_session_id, "multimedia", "", media={"url": "x"})
    assert incident.narrative.filter(text__contains="multimedia content — not opened (SOP text rule 27). Received").exists()


def test_no_response_creates_a_911t_event_documenting_every_attempt_and_notifies_the_sergeant(center, new_session, tc):
    session = claimed(new_session, tc, "help")
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=1)
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=2)
    with pytest.raises(Forbidden):
        services.text_voice_callback_record(session_id=session.pk, actor=tc)

    incident = services.text_no_response_record(session_id=session.pk, actor=tc, emergency_indicated=True)

    assert incident.call_type.code == "911T" and incident.priority == 1 and not incident.location_verified
    narrative = "\n".join(incident.narrative.values_list("text", flat=True))
    assert "no response" in narrative and "1. " in narrative and "2. " in narrative
    assert "sergeant notified" in narrative
    notice = JournalEvent.objects.get(kind="text.sergeant_notified")
    assert notice.audience == ["supervisor"] and notice.payload["attempts"] == 2
    # without contact there is no address to confirm: the session may end (with the final message)
    services.text_session_end(session_id=session.pk, actor=tc)


# --- ending (rules 6, 11, 12) -------------------------------------------------------------------------
def test_ending_needs_the_address_confirmed_and_a_unit_on_scene_or_a_confirmation(center, new_session, tc):
    session = claimed(new_session, tc)
    verified_with_event(session, tc)

    with pytest.raises(ServiceError) as refused:
        services.text_session_end(session_id=session.pk, actor=tc)
    assert refused.value.code == "address_not_confirmed"

    confirm = services.text_address_confirm(session_id=session.pk, actor=tc)
    assert confirm.text == "Help is being sent to 500 E 2nd St, Casper."
    with pytest.raises(Conflict) as refused:
        services.text_session_end(session_id=session.pk, actor=tc)
    assert refused.value.code == "no_unit_on_scene"

    services.text_session_end(session_id=session.pk, actor=tc, force=True, force_reason="Caller safe with a neighbour")
    session.refresh_from_db()
    assert session.state == "ended" and session.ended_by == tc
    assert session.incident.narrative.filter(text__contains="ended before a unit arrived").exists()


def test_end_session_always_sends_the_final_message(center, new_session, tc, settings):
    session = claimed(new_session, tc)
    services.text_message_send(session_id=session.pk, actor=tc, quick_number=5)
    services.text_session_end(session_id=session.pk, actor=tc)

    final = TextMessage.objects.get(session=session, kind="end")
    assert final.text.startswith("Your text session with 9-1-1 has concluded.")
    assert settings.PSCC_NON_EMERGENCY_NUMBER in final.text and final.state == "pending"
    with pytest.raises(Conflict):
        services.text_message_send(session_id=session.pk, actor=tc, text="One more thing")


def test_without_a_final_message_configured_a_session_cannot_end(center, new_session, tc):
    from text911.models import QuickMessage

    session = claimed(new_session, tc)
    QuickMessage.objects.filter(purpose="final").update(active=False)
    with pytest.raises(ServiceError) as refused:
        services.text_session_end(session_id=session.pk, actor=tc)
    assert refused.value.code == "no_final_message"
    session.refresh_from_db()
    assert session.state == "active" and not TextMessage.objects.filter(kind="end").exists()


def test_only_the_owning_telecommunicator_ends_a_session(center, new_session, tc, tc2, client):
    session = claimed(new_session, tc)
    client.force_login(tc2)
    response = client.post(f"/api/v1/text911/sessions/{session.pk}/end", {}, content_type="application/json")
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.state == "active"


# --- transfers (rules 21–26) --------------------------------------------------------------------------
def test_transfer_only_to_an_agency_that_accepts_text_after_the_standby_message(center, new_session, inbound, tc):
    session = claimed(new_session, tc)
    with pytest.raises(ServiceError) as refused:
        services.text_session_transfer(session_id=session.pk, actor=tc, agency_code="MAS")
    assert refused.value.code == "no_text"

    services.text_session_transfer(session_id=session.pk, actor=tc, agency_code="CFD")

    out = list(TextMessage.objects.filter(session=session, direction="out").order_by("id"))
    assert [m.kind for m in out] == ["text", "transfer"]
    assert out[0].text == "Please standby, I am connecting you to Fire/Medical services."
    session.refresh_from_db()
    assert session.state == "transferred" and session.psap == "CFD" and session.rebid_count == 0
    with pytest.raises(Conflict):
        services.text_message_send(session_id=session.pk, actor=tc, text="Are you still there?")
    assert inbound(session.tcc_session_id, "text", "hello?").json()["outcome"] == "released"


# --- voice callback (rule 13), related sessions (rule 20), handovers (preparation rules 2–4) -------------
def test_a_voice_callback_needs_a_logged_sergeant_approval(center, new_session, tc, make_staff):
    sergeant = make_staff("supervisor", username="sgt-cruz")
    session = claimed(new_session, tc)
    verified_with_event(session, tc)
    approval = services.text_callback_request(session_id=session.pk, actor=tc, requesting_unit="2A11",
                                              reason="Needs a description")
    with pytest.raises(Forbidden):
        services.text_voice_callback_record(session_id=session.pk, actor=tc)
    with pytest.raises(Forbidden):
        services.text_callback_decide(approval_id=approval.pk, actor=tc, approve=True)

    services.text_callback_decide(approval_id=approval.pk, actor=sergeant, approve=True, note="OK")
    services.text_voice_callback_record(session_id=session.pk, actor=tc)

    approval.refresh_from_db()
    session.refresh_from_db()
    assert approval.decision == "approved" and approval.sergeant == sergeant and approval.callback_made_at
    assert session.incident.narrative.filter(text__contains="approved by sgt-cruz").exists()
    assert SergeantApproval.objects.count() == 1


def test_sessions_about_the_same_incident_can_be_related(center, new_session, tc, tc2):
    a, b = claimed(new_session, tc), claimed(new_session, tc2)
    services.text_sessions_relate(session_id=a.pk, other_id=b.pk, actor=tc)
    assert list(b.related_sessions.all()) == [a]


def test_going_on_break_with_active_sessions_needs_a_named_relief(center, new_session, tc, tc2):
    session = claimed(new_session, tc)
    with pytest.raises(ServiceError) as refused:
        services.text_desk_status_set(user=tc, status="break")
    assert refused.value.code == "relief_required"

    services.text_desk_status_set(user=tc, status="break", relief=tc2, briefing="Burglary, caller hiding upstairs")

    session.refresh_from_db()
    assert session.owner == tc2
    handover = SessionHandover.objects.get()
    assert (handover.from_user, handover.to_user, handover.reason) == (tc, tc2, "break")
    with pytest.raises(Conflict):  # on break: no new claims
        services.text_session_claim(session_id=new_session().pk, actor=tc)


def test_a_relief_is_kept_within_the_two_conversation_limit(center, new_session, tc, tc2):
    claimed(new_session, tc)
    claimed(new_session, tc2)
    claimed(new_session, tc2)
    with pytest.raises(Conflict) as refused:
        services.text_sessions_hand_over(from_user=tc, to_user=tc2, actor=tc)
    assert refused.value.code == "too_many_sessions"
