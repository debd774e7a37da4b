"""Fuzzing the TCC's signed inbound endpoint (issue 8, item 6): whatever a correctly signed body holds,
the answer is 200 or a 4xx naming the field at fault, never a 5xx, and a refused message leaves no row."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings as hsettings, strategies as st

from tests.text911.conftest import sign
from text911.models import TextMessage, TextSession

pytestmark = pytest.mark.django_db

FUZZ = hsettings(max_examples=120, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_ids = itertools.count()

_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=30))
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=8)
_text = st.one_of(st.text(max_size=50), st.sampled_from(["", " ", "\x00", "a\x00b", "\ud7ff", "x" * 4100]))
_when = st.one_of(st.none(), st.text(max_size=30), st.sampled_from([
    "2026-11-20T10:00:00Z", "2026-13-45T99:99:99", "2026-02-30T10:00:00+00:00", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-23:59", "2026-11-20T10:00:00+25:00", "2026-11-20", "yesterday"]), _json)
_tower = st.one_of(st.none(), _json, st.fixed_dictionaries(
    {"lat": st.one_of(st.floats(), st.text(max_size=10), st.none(), st.integers(-10**30, 10**30)),
     "lon": st.one_of(st.floats(), st.text(max_size=10), st.none()),
     "sector": st.one_of(st.none(), _text, _json)}))


def _message(fields: dict) -> dict:
    base = {"tcc_message_id": f"fuzz-{next(_ids)}", "session_id": f"s-fuzz-{next(_ids) % 7}",
            "from_number": "3075551234", "kind": "text", "text": "help"}
    return {**base, **fields}


def _mostly(valid, odd):
    """Three draws in four well formed, so the fuzz reaches the service as well as the checks."""
    return st.one_of(valid, valid, valid, odd)


_fields = st.fixed_dictionaries({}, optional={
    "tcc_message_id": _mostly(st.uuids().map(str), st.one_of(_text, _json)),
    "session_id": _mostly(st.sampled_from([f"s-fuzz-{n}" for n in range(5)]), st.one_of(_text, _json)),
    "from_number": _mostly(st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True),
                           st.one_of(_text, st.just("+1" + "9" * 30), _json)),
    "kind": _mostly(st.sampled_from(["session_start", "text", "multimedia"]),
                    st.one_of(st.sampled_from(["TEXT", " text ", "sms"]), _text, _json)),
    "text": _mostly(st.text(min_size=1, max_size=300), st.one_of(_text, _json)),
    "sent_at": _when, "tower": _tower, "media": _json,
})


def _post(body: bytes):
    return Client().post("/api/v1/text911/inbound", data=body, content_type="application/json", **sign(body))


def _rows() -> tuple[int, int]:
    return TextSession.objects.count(), TextMessage.objects.count()


@FUZZ
@given(fields=_fields, nan_allowed=st.booleans())
def test_any_signed_tcc_payload_answers_200_or_a_4xx_naming_the_field_and_never_half_writes(center, fields, nan_allowed):
    payload = _message(fields)
    try:
        body = json.dumps(payload, allow_nan=nan_allowed).encode()
    except ValueError:  # NaN refused by the encoder: the TCC could still send it, so send it raw
        body = json.dumps(payload).encode()
    before = _rows()

    response = _post(body)

    event(f"{response.status_code} {response.json().get('field') or response.json().get('outcome')}")
    assert response.status_code in (200, 400, 422), response.content
    if response.status_code != 200:
        assert response.json().get("field"), response.content
        assert _rows() == before
    else:
        message_id = payload["tcc_message_id"].strip()
        if response.json()["outcome"] == "created":
            message = TextMessage.objects.get(tcc_message_id=message_id)
            assert "\x00" not in message.text
            session = message.session
            if session.tower_lat is not None:
                assert math.isfinite(session.tower_lat) and -90 <= session.tower_lat <= 90


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), _json.map(lambda v: json.dumps(v).encode()),
                      st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_any_signed_body_that_is_not_a_message_object_is_a_400(center, body):
    before = _rows()
    response = _post(body)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert _rows() == before and response.json()["code"] == "invalid"
