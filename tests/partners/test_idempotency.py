"""Partner unit status updates honour an Idempotency-Key (issue 8): a retry answers the first answer,
a duplicate in flight answers 409, the same key for another request answers 422 naming the header."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pscc.models import IdempotencyRecord
from tests.partners.conftest import auth
from tests.support.idempotency import InFlight, idempotency_keys_held, table_locked, wait_until_a_key_is_held
from units.models import UnitStatusChange
from units.services import unit_status_change

pytestmark = pytest.mark.django_db


def post_status(world, unit, body: dict, *, key: str | None, agency_key: str = "cpd"):
    headers = auth(world.keys[agency_key])
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(f"/api/v1/partner/units/{unit.pk}/status/", data=body, content_type="application/json",
                         **headers)


def test_a_retry_with_the_same_key_answers_the_first_answer_and_moves_the_unit_once(world):
    p1 = world.county.units["P1"]
    body = {"status": "out_of_service", "reason": "MDT: fuel"}

    first = post_status(world, p1, body, key="mdt-7f3a-0001")
    # the console moves the unit on meanwhile: the retry still answers what the first request did
    p1.refresh_from_db()
    unit_status_change(unit=p1, to_status="available", actor="console test", reason="back", source="console")
    again = post_status(world, p1, body, key="mdt-7f3a-0001")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and first.json()["status"] == "out_of_service"
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert UnitStatusChange.objects.filter(unit=p1, source="partner").count() == 1
    p1.refresh_from_db()
    assert p1.status == "available"  # the retry moved nothing


def test_the_same_key_with_a_different_body_answers_422_naming_the_header(world):
    p1 = world.county.units["P1"]
    assert post_status(world, p1, {"status": "out_of_service"}, key="k-reused").status_code == 200

    response = post_status(world, p1, {"status": "off_duty"}, key="k-reused")

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key" and response.json()["code"] == "idempotency_key_reused"
    p1.refresh_from_db()
    assert p1.status == "out_of_service"


def test_keys_are_scoped_per_agency(world):
    p1, e1 = world.county.units["P1"], world.county.units["E1"]

    cpd = post_status(world, p1, {"status": "out_of_service"}, key="shared-key", agency_key="cpd")
    cfd = post_status(world, e1, {"status": "out_of_service"}, key="shared-key", agency_key="cfd")

    assert cpd.status_code == cfd.status_code == 200
    assert cpd.json()["call_sign"] == "P1" and cfd.json()["call_sign"] == "E1"
    assert set(IdempotencyRecord.objects.filter(key="shared-key").values_list("scope", flat=True)) == {
        f"partner:{world.county.agencies['CPD'].pk}", f"partner:{world.county.agencies['CFD'].pk}"}


def test_a_refused_request_does_not_use_up_its_key(world):
    p1 = world.county.units["P1"]

    refused = post_status(world, p1, {"status": "on_scene"}, key="k-after-refusal")
    accepted = post_status(world, p1, {"status": "out_of_service"}, key="k-after-refusal")

    assert refused.status_code == 400 and refused.json()["field"] == "status"
    assert accepted.status_code == 200 and accepted.json()["status"] == "out_of_service"


@pytest.mark.parametrize("bad_key", ["", "has space", "x" * 201, "caf\u00e9"])
def test_a_malformed_key_answers_400_naming_the_header(world, bad_key):
    p1 = world.county.units["P1"]
    response = post_status(world, p1, {"status": "out_of_service"}, key=bad_key)
    assert response.status_code == 400 and response.json()["field"] == "Idempotency-Key"
    p1.refresh_from_db()
    assert p1.status == "available"


def test_without_a_key_each_post_is_its_own_request(world):
    p1 = world.county.units["P1"]
    assert post_status(world, p1, {"status": "out_of_service"}, key=None).status_code == 200
    assert post_status(world, p1, {"status": "out_of_service"}, key=None).status_code == 400  # already there
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_while_the_first_is_in_flight_answers_409_and_a_later_retry_the_first_answer(world):
    # given: the first request is held inside its transaction (the unit table is locked by another session)
    p1 = world.county.units["P1"]
    body = {"status": "out_of_service", "reason": "MDT: radio"}
    with table_locked("units_unit", "EXCLUSIVE"):
        first = InFlight(lambda: post_status(world, p1, body, key="in-flight-1"))
        first.start()
        wait_until_a_key_is_held()
        # when: the MDT retries at once (in a thread too: were it to wait for the first, the test fails, not hangs)
        duplicate = InFlight(lambda: post_status(world, p1, body, key="in-flight-1"))
        duplicate.start()
        duplicate = duplicate.outcome(timeout=15)
        # then: 409 without waiting for the first
        assert duplicate.status_code == 409, duplicate.content
        assert duplicate.json()["code"] == "idempotency_in_flight"
        assert duplicate.json()["field"] == "Idempotency-Key" and "still being processed" in duplicate.json()["error"]
    first_response = first.outcome()
    assert first_response.status_code == 200 and first_response.json()["status"] == "out_of_service"
    assert idempotency_keys_held() == 0

    retry = post_status(world, p1, body, key="in-flight-1")

    assert retry.status_code == 200 and retry.json() == first_response.json()
    assert UnitStatusChange.objects.filter(unit=p1, source="partner").count() == 1


def test_the_sweeper_purges_keys_older_than_the_retention(world, settings):
    from pscc.sweeper import run_sweepers

    settings.PSCC_IDEMPOTENCY_KEEP_HOURS = 24
    p1 = world.county.units["P1"]
    assert post_status(world, p1, {"status": "out_of_service"}, key="old-key").status_code == 200
    assert post_status(world, p1, {"status": "available"}, key="fresh-key").status_code == 200
    IdempotencyRecord.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=25))

    counts = run_sweepers()

    assert counts["idempotency_records"] == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh-key"]


@pytest.mark.django_db(transaction=True)
def test_six_mdts_racing_with_one_key_move_the_unit_once_and_every_answer_is_the_first_or_409(world):
    import threading

    p1 = world.county.units["P1"]
    body = {"status": "out_of_service", "reason": "MDT: race"}
    barrier = threading.Barrier(6)

    def send():
        barrier.wait()
        return post_status(world, p1, body, key="race-key")

    racers = [InFlight(send) for _ in range(6)]
    for racer in racers:
        racer.start()
    responses = [racer.outcome() for racer in racers]

    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {200, 409} and 200 in codes, codes
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses if r.status_code == 200}) == 1
    assert UnitStatusChange.objects.filter(unit=p1, source="partner").count() == 1
    assert IdempotencyRecord.objects.filter(key="race-key").count() == 1
