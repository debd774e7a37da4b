"""Fuzzing what partner systems POST (issue 8, item 6): unit status updates (with any Idempotency-Key)
and webhook subscriptions. Whatever the body, the answer is 2xx or a 4xx naming the field at fault,
never a 5xx, and a refused request moves nothing and subscribes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings as hsettings, strategies as st

from tests.partners.conftest import auth
from units.models import Unit, UnitStatus, UnitStatusChange, WebhookSubscription

pytestmark = pytest.mark.django_db

FUZZ = hsettings(max_examples=100, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=8)


def _mostly(valid, odd):
    """Three draws in four well formed, so the fuzz reaches the service as well as the checks."""
    return st.one_of(valid, valid, valid, odd)


# P1 starts available: out of service, off duty and available again are its moves, the rest is refused.
_status = _mostly(st.sampled_from(["out_of_service", "off_duty", "available"] * 3
                                  + [s for s in UnitStatus.values if s != "dispatched"]),
                  st.one_of(st.sampled_from(["dispatched", "AVAILABLE", " available", "", "dispatched\x00"]), _json))
_reason = _mostly(st.text(max_size=300), st.one_of(st.sampled_from(["a\x00b", "x" * 301]), _json))
_status_body = _mostly(
    st.fixed_dictionaries({"status": _status}, optional={"reason": _reason, "extra": _json}),
    st.one_of(st.dictionaries(st.text(max_size=10), _json, max_size=3), _json),
)
_header = _mostly(st.one_of(st.none(), st.uuids().map(str)),
                  st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=210))
_url = _mostly(st.sampled_from(["http://127.0.0.1:9/x", "https://example.org/hook", "https://example.org/a?b=c"]),
               st.one_of(st.sampled_from(["ftp://example.org/", "http://", "http://[::1", "javascript:alert(1)",
                                          "http://exa\x00mple.org/", "http://" + "a" * 600 + ".org/"]),
                         st.text(max_size=60), _json))


def _refused_names_a_field(response) -> bool:
    body = response.json()
    return bool(body.get("field") or body.get("fields") or set(body) - {"error", "code"})


def _history(unit: Unit) -> tuple:
    unit.refresh_from_db()
    return unit.status, UnitStatusChange.objects.filter(unit=unit).count()


@FUZZ
@given(body=_status_body, key=_header, as_form=st.booleans())
def test_any_partner_status_update_answers_200_or_a_4xx_naming_the_field_and_never_half_moves(world, body, key, as_form):
    unit = world.county.units["P1"]
    before = _history(unit)
    headers = auth(world.keys["cpd"])
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    url = f"/api/v1/partner/units/{unit.pk}/status/"
    if as_form and isinstance(body, dict):
        data = {str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
        response = Client().post(url, data=data, **headers)
    else:
        response = Client().post(url, data=json.dumps(body), content_type="application/json", **headers)

    event(f"{response.status_code} {response.json().get('field') or ''} {response.json().get('code') or ''}")
    assert response.status_code in (200, 400, 409, 422), response.content
    after = _history(unit)
    if response.status_code == 200 and response.get("Idempotent-Replayed") != "true":
        assert after[1] == before[1] + 1 and response.json()["status"] == after[0]
    else:
        if response.status_code != 200:
            assert _refused_names_a_field(response), response.content
        assert after == before


@FUZZ
@given(body=_mostly(st.fixed_dictionaries({"url": _url}, optional={"include_caller_data": _mostly(st.booleans(), _json)}),
                    _json))
def test_any_webhook_subscription_answers_201_or_a_4xx_naming_the_field_and_never_half_subscribes(world, body):
    before = WebhookSubscription.objects.count()
    response = Client().post("/api/v1/partner/webhooks/", data=json.dumps(body), content_type="application/json",
                             **auth(world.keys["cpd"]))

    event(str(response.status_code))
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert _refused_names_a_field(response), response.content
        assert WebhookSubscription.objects.count() == before
    else:
        assert WebhookSubscription.objects.count() == before + 1
