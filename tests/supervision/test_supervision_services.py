"""The supervisor's services: alerts acknowledged once, the pass-down log, positions handed over."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from pscc.errors import Conflict, Forbidden, ServiceError
from pscc.models import JournalEvent, Position, SupervisorAlert
from pscc.supervision import (
    alert_acknowledge,
    alert_raise,
    open_alerts,
    passdown_add,
    passdown_mark_read,
    passdown_unread,
    position_hand_over,
    position_sign_on,
    positions_board,
)


@pytest.mark.django_db
def test_an_alert_raised_twice_with_one_key_is_one_alert_and_is_acknowledged_with_who_and_when(make_staff):
    supervisor = make_staff("supervisor")
    first, created = alert_raise(kind="duress_call", dedupe_key="call:42:duress", text="Duress on 911-2", severity="critical")
    again, created_again = alert_raise(kind="duress_call", dedupe_key="call:42:duress", text="Duress on 911-2")
    assert created and not created_again and first.pk == again.pk
    assert [a["id"] for a in open_alerts()] == [first.pk]

    with pytest.raises(Forbidden):
        alert_acknowledge(alert_id=first.pk, actor=make_staff("telecommunicator"))
    acked = alert_acknowledge(alert_id=first.pk, actor=supervisor, note="Sgt. notified")
    assert acked.acknowledged_by == supervisor and acked.acknowledged_at is not None
    assert open_alerts() == []
    with pytest.raises(Conflict):
        alert_acknowledge(alert_id=first.pk, actor=supervisor)
    kinds = list(JournalEvent.objects.filter(entity=f"alert:{first.pk}").values_list("kind", flat=True))
    assert kinds == ["alert.raised", "alert.acknowledged"]


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_acknowledging_at_once_record_one_acknowledgement(make_staff):
    a, b = make_staff("supervisor"), make_staff("supervisor")
    alert, _ = alert_raise(kind="unclaimed_text", dedupe_key="text:1:unclaimed", text="Text waiting 60 s")
    results = []
    barrier = threading.Barrier(2)

    def ack(user):
        barrier.wait()
        try:
            alert_acknowledge(alert_id=alert.pk, actor=user)
            results.append("ok")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=ack, args=(u,)) for u in (a, b)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert sorted(results) == ["conflict", "ok"]
    assert SupervisorAlert.objects.get(pk=alert.pk).acknowledged_by in (a, b)


@pytest.mark.django_db
def test_the_next_shift_reads_the_pass_down_log_once(make_staff):
    outgoing, incoming = make_staff("supervisor"), make_staff("telecommunicator")
    with pytest.raises(ServiceError) as empty:
        passdown_add(author=outgoing, text="   ")
    assert empty.value.field == "text"
    entry = passdown_add(author=outgoing, text="Water main break on E 2nd St; CPU crew on scene until 0300.")
    assert list(passdown_unread(user=incoming)) == [entry]
    passdown_mark_read(entry_id=entry.pk, user=incoming)
    passdown_mark_read(entry_id=entry.pk, user=incoming)
    assert list(passdown_unread(user=incoming)) == []
    assert list(passdown_unread(user=outgoing)) == [entry]


@pytest.mark.django_db
def test_a_position_is_handed_over_to_a_named_relief_and_never_held_by_two(make_staff):
    Position.objects.create(code="P1")
    day, night, other = make_staff("telecommunicator"), make_staff("telecommunicator"), make_staff("telecommunicator")
    position_sign_on(user=day, position_code="P1")
    with pytest.raises(Conflict):
        position_sign_on(user=other, position_code="P1")
    with pytest.raises(Conflict):
        position_hand_over(user=other, relief=night, position_code="P1")
    position_hand_over(user=day, relief=night, position_code="P1")
    assert positions_board()["P1"]["user"] == night.username
