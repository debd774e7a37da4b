"""schemathesis against the live OpenAPI schema (served by /api/schema/ of the WSGI app), partner
endpoints only, authenticated with a partner key: no 5xx, and every response matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.partners.hypothesis_compat import install as install_hypothesis_jsonschema_shim

install_hypothesis_jsonschema_shim()


@pytest.fixture
def partner_schema(world):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from pscc.wsgi import application

    # As django.test.Client does: the WSGI handler must not close the test's (transactional) connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.from_wsgi("/api/schema/?format=json", application).include(path_regex=r"^/api/v1/partner/")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("partner_schema")


@schema.parametrize()
@hypothesis_settings(max_examples=6, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_partner_api_never_fails_and_always_matches_its_schema(case, world):
    response = case.call_wsgi(headers={"Authorization": f"Bearer {world.keys['cpd']}"})
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))
    assert response.status_code not in (401, 403), response.data  # the key works and holds every scope


def test_the_schema_documents_every_partner_endpoint_with_its_security_and_errors(client):
    import json

    spec = json.loads(client.get("/api/schema/?format=json").content)
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/v1/partner/")}
    assert set(paths) == {
        "/api/v1/partner/incidents/", "/api/v1/partner/incidents/{number}/", "/api/v1/partner/incidents/{number}/eido",
        "/api/v1/partner/units/", "/api/v1/partner/units/{unit_id}/", "/api/v1/partner/units/{unit_id}/status/",
        "/api/v1/partner/events/", "/api/v1/partner/webhooks/", "/api/v1/partner/webhooks/{webhook_id}/",
    }
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op["security"] == [{"partnerBearer": []}, {"partnerApiKey": []}], (path, method)
            assert {"401", "403", "429"} <= set(op["responses"]), (path, method)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["partnerApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                        "description": "The same API key in an X-API-Key header."}
    assert schemes["partnerBearer"]["scheme"] == "bearer"
    incident_params = {p["name"] for p in paths["/api/v1/partner/incidents/"]["get"]["parameters"]}
    assert {"status", "call_type", "received_after", "received_before", "limit", "offset"} <= incident_params
