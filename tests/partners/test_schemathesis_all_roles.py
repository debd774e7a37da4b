"""schemathesis on the whole API (every operation of /api/schema/) with every role's credentials
(issue 8, item 6): telecommunicator (who also dispatches: the center has no separate dispatcher role),
supervisor and admin (signed in with a verified second factor, CSRF token on unsafe methods), the
CPE's token, and the API keys of two partner agencies. Every answer: no 5xx, matches the schema, and
a partner's answer holds only what its own agency may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.partners.hypothesis_compat import install as install_hypothesis_jsonschema_shim

install_hypothesis_jsonschema_shim()

CPE_TOKEN = "schemathesis-cpe-token"
AUTH_HEADERS = {"authorization", "x-api-key", "cookie", "x-csrftoken"}


@dataclass
class Caller:
    name: str
    headers: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    agency_code: str = ""  # partners only
    agency_id: int = 0


@pytest.fixture
def callers(world, make_staff, settings) -> list[Caller]:
    from django.middleware.csrf import _get_new_csrf_string

    from tests.security.conftest import verified_client

    settings.PSCC_CPE_TOKEN = CPE_TOKEN
    settings.PSCC_MFA_ENFORCE = True  # as in production: supervisors and admins carry a verified second factor
    settings.PSCC_MFA_REQUIRED_ROLES = ("supervisor", "admin")
    settings.PSCC_PARTNER_THROTTLE_RATES = {"partner_read": None, "partner_write": None}
    out = []
    for role in ("telecommunicator", "supervisor", "admin"):
        client = verified_client(make_staff(role, username=f"st-{role}"))
        csrf = _get_new_csrf_string()
        out.append(Caller(role, headers={"X-CSRFToken": csrf},
                          cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}))
    out.append(Caller("cpe", headers={"Authorization": f"Bearer {CPE_TOKEN}"}))
    for name, code in (("cpd", "CPD"), ("cfd", "CFD")):
        agency = world.county.agencies[code]
        out.append(Caller(f"partner {code}", headers={"Authorization": f"Bearer {world.keys[name]}"},
                          agency_code=code, agency_id=agency.pk))
    return out


@pytest.fixture
def whole_schema(world):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from pscc.wsgi import application

    # As django.test.Client does: the WSGI handler must not close the test's (transactional) connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("whole_schema")


def _walk(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def assert_only_own_agency(caller: Caller, path: str, response) -> None:
    """Every incident, unit, event and webhook in a partner's 2xx answer is its own agency's."""
    from incidents.partner_api import partner_incidents
    from pscc.models import JournalEvent
    from units.models import Agency, Unit, WebhookSubscription

    if not caller.agency_code or response.status_code >= 300 or not path.startswith("/api/v1/partner/"):
        return
    agency = Agency.objects.get(pk=caller.agency_id)
    body = (response.json if not callable(response.json) else response.json()) if response.data else None
    allowed_incidents = set(partner_incidents(agency).values_list("number", flat=True))
    own_units = set(Unit.objects.filter(agency=agency).values_list("pk", flat=True))
    where = f"{caller.name} {path}"
    if path.startswith("/api/v1/partner/units/"):
        for unit in (d for d in _walk(body) if "call_sign" in d and "agency" in d):
            assert unit["agency"] == caller.agency_code, (where, unit)
            assert unit["id"] in own_units, (where, unit)
    if path.startswith("/api/v1/partner/incidents/"):
        match = re.match(r"^/api/v1/partner/incidents/([^/]+)/", path)
        if match:
            assert match.group(1) in allowed_incidents, where
        else:
            results = body.get("results", body) if isinstance(body, dict) else body
            for incident in results:
                assert incident["number"] in allowed_incidents, (where, incident["number"])
    if path.startswith("/api/v1/partner/events/"):
        # An event is the agency's when it was addressed to the agency as it happened (an incident that
        # later moves to another zone keeps its earlier events); a unit's events are always its agency's.
        addressed = dict(JournalEvent.objects.filter(seq__in=[e["seq"] for e in body["events"]])
                         .values_list("seq", "audience"))
        for event in body["events"]:
            assert f"agency:{caller.agency_code}" in addressed[event["seq"]], (where, event)
            kind, _, ref = event["entity"].partition(":")
            if kind == "unit":
                assert int(ref) in own_units, (where, event)
    if path.startswith("/api/v1/partner/webhooks/"):
        own_hooks = set(WebhookSubscription.objects.filter(agency=agency).values_list("pk", flat=True))
        match = re.match(r"^/api/v1/partner/webhooks/(\d+)/", path)
        if match:  # an unsubscribe (204, no body): it was the agency's own subscription
            assert int(match.group(1)) in own_hooks, where
        for hook in (body if isinstance(body, list) else [body] if body else []):
            assert hook["id"] in own_hooks, (where, hook)


@pytest.fixture
def real_ids(world, settings) -> dict[str, dict]:
    """Ids of rows that exist, by path prefix: every other example of an operation uses them instead of
    the generated ones, so the fuzz reaches the services and not only the 404s."""
    from calltaking.models import Line
    from calltaking.services import call_receive
    from text911.services import text_inbound_receive

    Line.objects.update_or_create(code="911-1", defaults={"kind": "911", "label": "911 trunk 1"})
    call, _ = call_receive(cpe_call_id="ST-CALL-1", line="911-1", ani="3075550111", class_of_service="WPH2",
                           ali={"lat": 42.85, "lon": -106.32, "uncertainty_m": 30, "confidence_pct": 90})
    message, _ = text_inbound_receive(tcc_message_id="st-tcc-1", session_id="st-session-1", from_number="3075551234",
                                      kind="text", text="Help, smoke in the hallway")
    return {
        "/api/v1/calls/{id}": {"id": call.pk},
        "/api/v1/text911/sessions/{id}": {"id": message.session_id},
        "/api/v1/incidents/{number}": {"number": world.incidents["cpd"].number},
        "/api/v1/units/{unit_id}": {"unit_id": world.county.units["P1"].pk},
        "/api/v1/partner/incidents/{number}": {"number": world.incidents["cpd"].number},
        "/api/v1/partner/units/{unit_id}": {"unit_id": world.county.units["P1"].pk},  # CFD's key: 404
        "/api/v1/partner/webhooks/{webhook_id}": {"webhook_id": world.webhooks["cpd"].pk},
    }


_examples_seen: dict[str, int] = {}


def _with_real_ids(case, real_ids: dict) -> None:
    seen = _examples_seen[case.operation.verbose_name] = _examples_seen.get(case.operation.verbose_name, 0) + 1
    if seen % 2 or not case.path_parameters:
        return
    for prefix, values in real_ids.items():
        if case.operation.path.startswith(prefix):
            case.path_parameters = {**case.path_parameters, **values}
            return


@schema.parametrize()
@hypothesis_settings(max_examples=10, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_every_operation_with_every_roles_credentials_never_fails_matches_its_schema_and_stays_in_its_agency(
        case, callers, real_ids):
    _with_real_ids(case, real_ids)
    generated = case.headers
    case.headers = {k: v for k, v in (generated or {}).items() if k.lower() not in AUTH_HEADERS}
    try:
        for caller in callers:
            response = case.call_wsgi(headers=caller.headers, cookies=caller.cookies or {"sessionid": ""})
            assert response.status_code < 500, (caller.name, case.method, case.formatted_path, response.data[:500])
            case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))
            assert_only_own_agency(caller, case.formatted_path, response)
    finally:
        case.headers = generated
