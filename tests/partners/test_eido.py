"""The EIDO we emit validates against NENA's own EIDO schema (NENA911/EIDO-JSON, Schema/openapi.yaml).

What is checked: the whole document against `EmergencyIncidentDataObjectType` with JSON Schema
(Draft 2020-12 semantics), every `$ref` resolved for real — inside openapi.yaml and into the NIEM
component files (`NIEMComponents/nc.yaml`, `niem-xs.yaml`, …) through a `referencing` registry
that loads them on demand. Two adjustments to the published files, both mechanical: `minItems: 1,`
(a typo in AgentType that YAML reads as the string "1,") is read as 1, and OpenAPI's `format`
keywords are checked by our own date-time test below (jsonschema only asserts formats when the
optional format libraries are installed).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.partners.conftest import auth

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "standards" / "eido" / "Schema"
BASE = SCHEMA_DIR.as_uri() + "/"


def _fix(node):
    if isinstance(node, dict):
        return {k: (1 if k == "minItems" and node[k] == "1," else _fix(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_fix(v) for v in node]
    return node


def _retrieve(uri: str) -> Resource:
    path = Path(uri.removeprefix("file://").replace("//", "/"))
    return Resource(contents=_fix(yaml.safe_load(path.read_text())), specification=DRAFT202012)


@pytest.fixture(scope="module")
def eido_validator():
    if not (SCHEMA_DIR / "openapi.yaml").exists():
        pytest.skip("the NENA EIDO schema is not at ../shared/standards/eido")
    registry = Registry(retrieve=_retrieve)
    schema = {"$ref": BASE + "openapi.yaml#/components/schemas/EmergencyIncidentDataObjectType"}
    return Draft202012Validator(schema, registry=registry)


def _timestamps(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"lastUpdateTimeStamp", "callStartTimestamp", "startDate"}:
                found.append(value)
            _timestamps(value, found)
    elif isinstance(node, list):
        for value in node:
            _timestamps(value, found)
    return found


def _valid(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    for stamp in _timestamps(document, []):
        assert datetime.fromisoformat(stamp).tzinfo is not None, stamp


def test_nenas_own_sample_passes_our_validator(eido_validator):
    import json

    sample = json.loads((SCHEMA_DIR.parent / "Samples" / "Sample call transfer EIDO.json").read_text())
    assert not list(eido_validator.iter_errors(sample))
    assert list(eido_validator.iter_errors({"eidoVersion": "2.0"}))  # and it does reject things
    # References into the NIEM files are resolved too: a person's name must be NIEM-shaped.
    person = {"$id": "p", "lastUpdateTimeStamp": "2021-04-30T14:43:49-04:00", "updatedByAgencyReference": {"$ref": "a"},
              "personIncidentRoleRegistryText": ["Caller"], "ncPersonComponent": {"name": [{"personFullName": "x"}]}}
    errors = list(eido_validator.iter_errors({**sample, "personComponent": [person]}))
    assert any("personFullName" in [str(p) for p in e.absolute_path] for e in errors)


def test_an_incident_with_units_hazards_caller_and_disposition_is_a_valid_eido(world, eido_validator):
    from incidents.services import incident_close, incident_dispatch

    fire = world.incidents["fire"]
    units = world.county.units
    incident_dispatch(incident=fire, unit_ids=[units["E1"].pk, units["M1"].pk, units["P1"].pk], actor="tc")
    response = Client().get(f"/api/v1/partner/incidents/{world.incidents['cpd'].number}/eido", **auth(world.keys["cpd"]))
    assert response.status_code == 200
    _valid(eido_validator, response.json())
    assert response.json()["callbackComponent"][0]["callBackInformationUri"] == ["tel:3075550111"]

    response = Client().get(f"/api/v1/partner/incidents/{fire.number}/eido", **auth(world.keys["cfd"]))
    eido = response.json()
    _valid(eido_validator, eido)
    assert eido["eidoVersion"] == "1.0"
    assert eido["incidentComponent"]["incidentTypeInternalCode"] == "STRFIRE"
    assert sorted(r["emergencyResourceName"] for r in eido["emergencyResourceComponent"]) == ["E1", "M1", "P1"]
    assert {a["$id"].split(".")[0] for a in eido["agencyComponent"]} >= {"psap", "cfd", "amr", "cpd"}
    assert any("Two aggressive dogs" in n["notesActionComments"] for n in eido["notesComponent"])
    assert "-106.320000" in eido["locationComponent"][0]["locationByValue"]

    for call_sign in ("E1", "M1", "P1"):
        from units.services import unit_status_change

        unit_status_change(unit=units[call_sign], to_status="available", actor="tc")
    incident_close(incident=fire, disposition="Fire out", actor="tc")
    closed = Client().get(f"/api/v1/partner/incidents/{fire.number}/eido", **auth(world.keys["cfd"])).json()
    _valid(eido_validator, closed)
    assert closed["incidentComponent"]["dispositionComponent"][0]["dispositionCommonRegistryCode"] == "Fire out"
    assert {r["primaryUnitStatusRegistryText"] for r in closed["emergencyResourceComponent"]} == {"Cleared"}
