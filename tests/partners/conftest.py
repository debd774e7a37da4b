"""A small county (the CAD core's test county) with incidents of two agencies and their API keys."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.cad.conftest import County, county  # noqa: F401 - the CAD core's county fixture
from units.models import PartnerScope

ALL_SCOPES = list(PartnerScope.values)


@dataclass
class World:
    county: County
    incidents: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)
    webhooks: dict = field(default_factory=dict)


@pytest.fixture
def world(county, make_staff) -> World:  # noqa: F811
    from incidents.services import incident_create, narrative_add
    from pscc.relay import sequence_committed
    from units.partners import partner_credential_create, partner_credential_revoke
    from units.webhooks import webhook_subscription_create

    w = World(county=county)
    tc = make_staff("telecommunicator", username="tc-partner")
    a = county.addresses
    # Casper (ESZ 101: CPD law, CFD fire, AMR ems) and Mills (ESZ 102: MPD law, MFD fire).
    w.incidents["cpd"] = incident_create(call_type_code="WELFARE", actor=tc, address_id=a["main_casper"].pk,
                                         caller_name="Jane Quincaller", callback_number="3075550111",
                                         narrative="Caller Jane Quincaller asks for a welfare check on her father.")
    narrative_add(incident=w.incidents["cpd"], text="Internal note: floor only", actor=tc, visible_to_partners=False)
    w.incidents["mpd"] = incident_create(call_type_code="WELFARE", actor=tc, address_id=a["main_mills"].pk,
                                         caller_name="Mills Caller", callback_number="3075550222",
                                         narrative="Welfare check in Mills.")
    w.incidents["fire"] = incident_create(call_type_code="STRFIRE", actor=tc, address_id=a["main_casper"].pk,
                                          narrative="Smoke from the roof.")
    agencies = county.agencies
    for name, agency, scopes in [
        ("cpd", "CPD", ALL_SCOPES),
        ("cpd_no_caller", "CPD", [s for s in ALL_SCOPES if s != PartnerScope.READ_CALLER_DATA]),
        ("cpd_noscope", "CPD", []),
        ("cpd_revoked", "CPD", ALL_SCOPES),
        ("mpd", "MPD", ALL_SCOPES),
        ("cfd", "CFD", ALL_SCOPES),
    ]:
        credential, key = partner_credential_create(agency=agencies[agency], name=f"{name} system", scopes=scopes)
        w.credentials[name], w.keys[name] = credential, key
    partner_credential_revoke(credential=w.credentials["cpd_revoked"])
    w.webhooks["cpd"] = webhook_subscription_create(agency=agencies["CPD"], url="http://127.0.0.1:9/cpd")
    w.webhooks["mpd"] = webhook_subscription_create(agency=agencies["MPD"], url="http://127.0.0.1:9/mpd")
    sequence_committed()  # the relay's numbering: events get their delivery sequence
    return w


def auth(key: str | None) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
