"""Every partner endpoint × {own agency, other agency, no key, revoked key, missing scope}."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from tests.partners.conftest import auth
from units.models import PartnerCallerDataAccess, UnitStatusChange

# name: (method, url(world, target) , body) — target is "own" (CPD's) or "other" (MPD's / NCSO's)
ENDPOINTS = {
    "incidents_list": ("get", lambda w, t: "/api/v1/partner/incidents/", None),
    "incident_detail": ("get", lambda w, t: f"/api/v1/partner/incidents/{w.incidents['cpd' if t == 'own' else 'mpd'].number}/", None),
    "incident_eido": ("get", lambda w, t: f"/api/v1/partner/incidents/{w.incidents['cpd' if t == 'own' else 'mpd'].number}/eido", None),
    "units_list": ("get", lambda w, t: "/api/v1/partner/units/", None),
    "unit_detail": ("get", lambda w, t: f"/api/v1/partner/units/{w.county.units['P1' if t == 'own' else 'P3'].pk}/", None),
    "unit_status": ("post", lambda w, t: f"/api/v1/partner/units/{w.county.units['P1' if t == 'own' else 'P3'].pk}/status/",
                    {"status": "out_of_service", "reason": "MDT: fuel"}),
    "events": ("get", lambda w, t: "/api/v1/partner/events/?after=0", None),
    "webhooks_list": ("get", lambda w, t: "/api/v1/partner/webhooks/", None),
    "webhooks_create": ("post", lambda w, t: "/api/v1/partner/webhooks/", {"url": "http://127.0.0.1:9/new"}),
    "webhook_delete": ("delete", lambda w, t: f"/api/v1/partner/webhooks/{w.webhooks['cpd' if t == 'own' else 'mpd'].pk}/", None),
}
LISTS = {"incidents_list", "units_list", "events", "webhooks_list", "webhooks_create"}
OWN_STATUS = {"unit_status": 200, "webhooks_create": 201, "webhook_delete": 204}


def call(client: Client, method: str, url: str, body, headers: dict):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


def rows_of(name: str, data) -> list:
    if name in {"incidents_list", "units_list"}:
        return data["results"]
    if name == "events":
        return data["events"]
    return data if isinstance(data, list) else [data]


def other_agency_leaks(name: str, world, data) -> bool:
    """Whether a list answer names anything of the other agency (MPD / NCSO)."""
    text = json.dumps(rows_of(name, data))
    return any(marker in text for marker in (world.incidents["mpd"].number, '"NCSO"', '"MPD"', "P3\"", "/mpd"))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("who", ["own", "other", "no_key", "revoked", "missing_scope"])
def test_partner_endpoint_answers_each_kind_of_caller_rightly(world, endpoint, who):
    # given
    method, url_of, body = ENDPOINTS[endpoint]
    key = {"own": world.keys["cpd"], "other": world.keys["cpd"], "no_key": None, "revoked": world.keys["cpd_revoked"],
           "missing_scope": world.keys["cpd_noscope"]}[who]
    target = "other" if who == "other" else "own"
    # when
    response = call(Client(), method, url_of(world, target), body, auth(key))
    # then
    if who in {"no_key", "revoked"}:
        assert response.status_code == 401, response.content
        assert response.json()["error"]
        assert "Bearer" in response["WWW-Authenticate"]
    elif who == "missing_scope":
        assert response.status_code == 403, response.content
        assert "scope" in response.json()["error"]
    elif who == "other" and endpoint not in LISTS:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == OWN_STATUS.get(endpoint, 200), response.content
        if response.status_code != 204:
            assert not other_agency_leaks(endpoint, world, response.json())


def test_the_other_agencys_unit_is_not_moved_by_a_refused_status_post(world):
    p3 = world.county.units["P3"]
    response = Client().post(f"/api/v1/partner/units/{p3.pk}/status/", data={"status": "out_of_service"},
                             content_type="application/json", **auth(world.keys["cpd"]))
    assert response.status_code == 404
    p3.refresh_from_db()
    assert p3.status == "available"


def test_incident_list_shows_the_incidents_of_the_agencys_zone_and_discipline(world):
    def numbers(key, query=""):
        r = Client().get(f"/api/v1/partner/incidents/{query}", **auth(world.keys[key]))
        assert r.status_code == 200, r.content
        return {row["number"] for row in r.json()["results"]}

    cpd, mpd, fire = (world.incidents[k].number for k in ("cpd", "mpd", "fire"))
    assert numbers("cpd") == {cpd, fire}  # law in Casper; the structure fire has a law discipline too
    assert numbers("mpd") == {mpd}
    assert numbers("cfd") == {fire}  # a welfare check is no fire matter
    assert numbers("cpd", "?call_type=strfire") == {fire}
    assert numbers("cpd", "?status=pending&open=true") == {cpd, fire}
    assert numbers("cpd", "?received_after=2999-01-01T00:00:00Z") == set()


def test_an_incident_becomes_the_agencys_when_its_unit_is_dispatched(world):
    from incidents.services import incident_dispatch

    mills = world.incidents["mpd"]
    url = f"/api/v1/partner/incidents/{mills.number}/"
    assert Client().get(url, **auth(world.keys["cpd"])).status_code == 404
    incident_dispatch(incident=mills, unit_ids=[world.county.units["P1"].pk], actor="tc")
    response = Client().get(url, **auth(world.keys["cpd"]))
    assert response.status_code == 200
    assert [u["call_sign"] for u in response.json()["units"]] == ["P1"]


def test_caller_fields_and_narrative_mentions_only_reach_keys_with_read_caller_data(world):
    number = world.incidents["cpd"].number
    without = Client().get(f"/api/v1/partner/incidents/{number}/", **auth(world.keys["cpd_no_caller"]))
    assert without.status_code == 200
    body = without.content.decode()
    assert "caller_name" not in without.json() and "callback_number" not in without.json()
    assert "Quincaller" not in body and "3075550111" not in body
    assert "welfare check on her father" in body  # the rest of the narrative is there
    assert "floor only" not in body  # entries not visible to partners never are
    assert PartnerCallerDataAccess.objects.count() == 0
    events = Client().get("/api/v1/partner/events/?after=0", **auth(world.keys["cpd_no_caller"]))
    assert "Quincaller" not in events.content.decode() and "3075550111" not in events.content.decode()
    eido = Client().get(f"/api/v1/partner/incidents/{number}/eido", **auth(world.keys["cpd_no_caller"]))
    assert "Quincaller" not in eido.content.decode() and "3075550111" not in eido.content.decode()
    assert "personComponent" not in eido.json() and "callbackComponent" not in eido.json()

    with_scope = Client().get(f"/api/v1/partner/incidents/{number}/", **auth(world.keys["cpd"]))
    assert with_scope.json()["caller_name"] == "Jane Quincaller"
    assert with_scope.json()["callback_number"] == "3075550111"
    access = PartnerCallerDataAccess.objects.get()
    assert access.credential == world.credentials["cpd"] and access.entities == [f"incident:{number}"]


def test_a_key_is_accepted_in_an_x_api_key_header_and_a_malformed_one_is_refused(world):
    ok = Client().get("/api/v1/partner/units/", HTTP_X_API_KEY=world.keys["cpd"])
    assert ok.status_code == 200
    assert {u["agency"] for u in ok.json()["results"]} == {"CPD"}
    forged = world.keys["cpd"][:-4] + "AAAA"
    assert Client().get("/api/v1/partner/units/", **auth(forged)).status_code == 401
    assert Client().get("/api/v1/partner/units/", HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_floor_endpoints_do_not_accept_partner_keys_and_partner_endpoints_do_not_accept_sessions(world, make_staff):
    assert Client().get("/api/v1/incidents/", **auth(world.keys["cpd"])).status_code in (401, 403)
    user = make_staff("telecommunicator", username="tc-session")
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/partner/incidents/").status_code == 401


def test_a_partner_status_change_is_recorded_with_source_partner_and_moves_along_the_lifecycle(world):
    p1 = world.county.units["P1"]
    url = f"/api/v1/partner/units/{p1.pk}/status/"
    response = Client().post(url, data={"status": "out_of_service", "reason": "MDT: fuel"},
                             content_type="application/json", **auth(world.keys["cpd"]))
    assert response.status_code == 200 and response.json()["status"] == "out_of_service"
    change = UnitStatusChange.objects.filter(unit=p1).first()
    assert (change.source, change.reason, change.actor_label) == ("partner", "MDT: fuel", "CPD:cpd system")
    illegal = Client().post(url, data={"status": "on_scene"}, content_type="application/json", **auth(world.keys["cpd"]))
    assert illegal.status_code == 400 and illegal.json()["field"] == "status"
    dispatched = Client().post(url, data={"status": "dispatched"}, content_type="application/json",
                               **auth(world.keys["cpd"]))
    assert dispatched.status_code == 400 and dispatched.json()["field"] == "status"


def test_events_are_the_agencys_only_and_follow_the_read_scopes(world):
    response = Client().get("/api/v1/partner/events/?after=0&limit=1000", **auth(world.keys["cpd"]))
    assert response.status_code == 200
    events = response.json()["events"]
    entities = {e["entity"] for e in events}
    assert f"incident:{world.incidents['cpd'].number}" in entities
    assert f"incident:{world.incidents['mpd'].number}" not in entities
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and all(s <= response.json()["head"] for s in seqs)
    assert Client().get("/api/v1/partner/events/?after=x", **auth(world.keys["cpd"])).json()["field"] == "after"


@override_settings(PSCC_PARTNER_THROTTLE_RATES={"partner_read": "3/min", "partner_write": "1/min"})
def test_each_key_is_throttled_on_its_own(world):
    statuses = [Client().get("/api/v1/partner/units/", **auth(world.keys["cpd"])).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert Client().get("/api/v1/partner/units/", **auth(world.keys["cpd_no_caller"])).status_code == 200
    limited = Client().get("/api/v1/partner/units/", **auth(world.keys["cpd"]))
    assert limited.json()["code"] == "throttled" and int(limited["Retry-After"]) > 0


def test_pagination_and_bad_filters_answer_cleanly(world):
    page = Client().get("/api/v1/partner/units/?limit=2&offset=1", **auth(world.keys["cpd"])).json()
    assert page["count"] == 4 and len(page["results"]) == 2
    bad = Client().get("/api/v1/partner/incidents/?status=nonsense", **auth(world.keys["cpd"]))
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    huge = Client().get("/api/v1/partner/units/?offset=99999999999999999999999", **auth(world.keys["cpd"]))
    assert huge.status_code == 200 and huge.json()["results"] == []
    assert Client().get("/api/v1/partner/units/99999999999999999999999/", **auth(world.keys["cpd"])).status_code == 404


@pytest.mark.parametrize("when", ["0209-12-11T19:36:59+18:43", "0001-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z"])
def test_an_incident_time_filter_with_any_offset_answers_200_or_400_naming_it(world, when):
    response = Client().get("/api/v1/partner/incidents/", {"received_before": when}, **auth(world.keys["cpd"]))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["field"] == "received_before"
