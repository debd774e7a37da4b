"""Intake from the CPE: idempotent on the CPE's call id, ALI as JSON, legacy spill or PIDF-LO."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from calltaking.ali import parse_legacy_spill, parse_pidf_lo
from calltaking.models import AliRecord, Call
from pscc.errors import ServiceError
from pscc.models import JournalEvent
from simulators import ali_layouts
from simulators.cpe import build_call, to_legacy

pytestmark = pytest.mark.django_db


def test_a_call_rings_in_with_its_ali_and_is_journalled(cpe):
    # given
    payload = build_call("wireless-phase2-hangup", "CPE-A1", "911-2", None)
    # when
    response = cpe.post("/api/v1/calls/", payload, format="json")
    # then
    assert response.status_code == 201, response.content
    call = Call.objects.get(cpe_call_id="CPE-A1")
    assert call.class_of_service == "WPH2" and call.state == "ringing" and call.line.code == "911-2"
    assert call.lat == pytest.approx(payload["ali"]["lat"]) and call.confidence_pct == 90
    assert call.ali_records.get().source == AliRecord.Source.INTAKE
    event = JournalEvent.objects.get(kind="call.ringing")
    assert event.payload["ani"] == payload["ani"] and event.payload["ali"]["uncertainty_m"] == call.uncertainty_m


def test_the_same_cpe_call_id_twice_is_one_call_and_the_same_answer(cpe):
    payload = build_call("landline-residence-open-line", "CPE-TWICE", "911-1", None)
    first = cpe.post("/api/v1/calls/", payload, format="json")
    second = cpe.post("/api/v1/calls/", payload, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Call.objects.filter(cpe_call_id="CPE-TWICE").count() == 1
    assert JournalEvent.objects.filter(kind="call.ringing").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_call_delivered_twice_at_once_is_one_call(center):
    from calltaking.services import call_receive
    from django.db import connection

    payload = build_call("voip", "CPE-RACE", "911-3", None)
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        try:
            barrier.wait()
            call, created = call_receive(cpe_call_id="CPE-RACE", line="911-3", ani=payload["ani"],
                                         class_of_service="VOIP", ali=payload["ali"])
            results.append((call.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_the_cpe_must_present_its_token(cpe):
    from rest_framework.test import APIClient

    payload = build_call("voip", "CPE-NOAUTH", "911-1", None)
    assert APIClient().post("/api/v1/calls/", payload, format="json").status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert bad.post("/api/v1/calls/", payload, format="json").status_code in (401, 403)
    assert not Call.objects.exists()


def test_a_bad_field_is_named_and_nothing_is_stored(cpe):
    payload = build_call("wireless-phase2-hangup", "CPE-BAD", "911-1", None)
    payload["ali"]["lat"] = "north-ish"
    response = cpe.post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "ali.lat"
    response = cpe.post("/api/v1/calls/", {**payload, "ali": None, "line": "911-9"}, format="json")
    assert response.json()["field"] == "line"
    assert not Call.objects.exists() and not AliRecord.objects.exists()


def test_a_legacy_spill_is_parsed_by_the_providers_layout(cpe):
    call_payload = build_call("wireless-phase2-hangup", "CPE-LEG", "911-4", None)
    legacy = to_legacy(call_payload)
    response = cpe.post("/api/v1/calls/", legacy, format="json")
    assert response.status_code == 201, response.content
    call = Call.objects.get(cpe_call_id="CPE-LEG")
    ali = call_payload["ali"]
    assert call.ani == call_payload["ani"] and call.class_of_service == "WPH2"
    assert call.street_name == ali["street_name"] and call.esn == ali["esn"]
    assert call.lat == pytest.approx(ali["lat"], abs=1e-6) and call.lon == pytest.approx(ali["lon"], abs=1e-6)
    assert call.uncertainty_m == ali["uncertainty_m"] and call.ali_raw == legacy["ali_raw"]


def test_a_layout_configured_for_another_provider_is_used(settings):
    settings.PSCC_ALI_LAYOUTS = {"tiny-40": {"length": 40, "fields": {
        "ani": [0, 10], "class_of_service": [10, 4], "house_number": [14, 6], "street_name": [20, 20]}}}
    record = "3075550123RESD   123MAIN                "
    values = parse_legacy_spill(record, "tiny-40")
    assert values == {"ani": "3075550123", "class_of_service": "RESD", "house_number": "123", "street_name": "MAIN"}


def test_a_spill_of_the_wrong_length_is_refused_naming_the_record():
    with pytest.raises(ServiceError) as error:
        parse_legacy_spill("too short", "vesta-512")
    assert error.value.field == "ali_raw"


def test_a_spill_with_a_bad_number_names_the_field():
    values = {"ani": "3075550123", "class_of_service": "WPH2", "lat": 42.5, "lon": -106.3}
    record = ali_layouts.render("vesta-512", values)
    start, width = ali_layouts.VESTA_512["lon"]
    broken = record[:start] + "  -106.3x000".rjust(width)[:width] + record[start + width:]
    with pytest.raises(ServiceError) as error:
        parse_legacy_spill(broken, "vesta-512")
    assert error.value.field == "ali_raw.lon"


_base_record = ali_layouts.render("vesta-512", {
    "ani": "3075550199", "class_of_service": "WPH2", "name": "VERIZON", "house_number": "500",
    "street_name": "CENTER", "street_suffix": "ST", "community": "CASPER", "state": "WY", "esn": "101",
    "lat": 42.85, "lon": -106.32, "uncertainty_m": 50, "confidence_pct": 90, "provider_id": "VZW", "carrier": "VERIZON",
})


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=600),
    st.builds(lambda pos, junk: (_base_record[:pos] + junk + _base_record[pos + len(junk):])[:512],
              st.integers(0, 511), st.text(min_size=1, max_size=20)),
    st.builds(lambda cut: _base_record[:cut], st.integers(0, 520)),
))
def test_malformed_spills_raise_only_the_validation_error(record):
    try:
        values = parse_legacy_spill(record, "vesta-512")
    except ServiceError as exc:
        assert exc.field and exc.field.startswith("ali_raw")
    else:
        assert set(values) >= {"ani", "lat", "lon"}


PIDF = """<?xml version="1.0"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
  xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:gml="http://www.opengis.net/gml"
  xmlns:gs="http://www.opengis.net/pidflo/1.0" xmlns:con="urn:ietf:params:xml:ns:geopriv:conf" entity="pres:caller@example.com">
 <tuple id="t1"><status><gp:geopriv><gp:location-info>
   <ca:civicAddress><ca:A1>WY</ca:A1><ca:A3>Casper</ca:A3><ca:HNO>200</ca:HNO><ca:RD>N David</ca:RD><ca:STS>St</ca:STS></ca:civicAddress>
   <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>42.8501 -106.3252</gml:pos>
     <gs:radius uom="urn:ogc:def:uom:EPSG::9001">35</gs:radius></gs:Circle>
   <con:confidence pdf="normal">95</con:confidence>
 </gp:location-info></gp:geopriv></status></tuple></presence>"""


def test_pidf_lo_gives_the_civic_address_and_the_point(cpe):
    values = parse_pidf_lo(PIDF)
    assert values["street_name"] == "N DAVID" and values["community"] == "CASPER" and values["state_code"] == "WY"
    assert (values["lat"], values["lon"], values["uncertainty_m"], values["confidence_pct"]) == (42.8501, -106.3252, 35.0, 95)
    response = cpe.post("/api/v1/calls/", {"cpe_call_id": "CPE-PIDF", "line": "911-1", "ani": "3075550111",
                                           "class_of_service": "VOIP", "pidf_lo": PIDF}, format="json")
    assert response.status_code == 201, response.content
    assert Call.objects.get(cpe_call_id="CPE-PIDF").house_number == "200"


@pytest.mark.parametrize("xml", [
    "<not-closed>",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>',
    '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>',
])
def test_bad_or_hostile_pidf_lo_is_refused_naming_the_field(xml):
    with pytest.raises(ServiceError) as error:
        parse_pidf_lo(xml)
    assert error.value.field.startswith("pidf_lo")


def test_the_cpe_reports_an_abandoned_call(cpe):
    cpe.post("/api/v1/calls/", build_call("landline-residence-open-line", "CPE-AB", "911-1", None), format="json")
    response = cpe.post("/api/v1/calls/CPE-AB/events/", {"event": "abandoned"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "abandoned"
    again = cpe.post("/api/v1/calls/CPE-AB/events/", {"event": "abandoned"}, format="json")
    assert again.json()["state"] == "abandoned"
    assert JournalEvent.objects.filter(kind="call.abandoned").count() == 1
    assert cpe.post("/api/v1/calls/NOPE/events/", {"event": "abandoned"}, format="json").status_code == 404
