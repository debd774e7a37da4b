"""Alerts reach the supervisor from the other capabilities, once each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pscc.models import SupervisorAlert
from text911.models import TextSession
from text911.services import text_unclaimed_sweep


@pytest.mark.django_db
def test_a_text_unclaimed_past_the_threshold_alerts_the_supervisor_once(settings):
    settings.PSCC_TEXT_UNCLAIMED_ALERT_SECONDS = 30
    waiting = TextSession.objects.create(tcc_session_id="s-1", from_number="3075559876",
                                         started_at=timezone.now() - timedelta(seconds=45))
    TextSession.objects.create(tcc_session_id="s-2", from_number="3075559877", started_at=timezone.now())
    assert text_unclaimed_sweep() == 1
    assert text_unclaimed_sweep() == 0
    (alert,) = SupervisorAlert.objects.all()
    assert alert.kind == "unclaimed_text" and alert.entity == f"text:{waiting.pk}"
    assert "3075559876" in alert.text
