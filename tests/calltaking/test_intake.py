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
    assert (first.status_code, second.status_code) == (201, 201)  # the first answer, again
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Call.objects.filter(cpe_call_id="CPE-TWICE").count() == 1
    assert JournalEvent.objects.filter(kind="call.ringing").count() == 1


def test_a_call_rung_again_by_the_cpe_with_a_new_received_at_answers_the_first_answer(cpe):
    # the CPE simulator stamps every delivery with its clock (simulators/cpe.py): the call is still the same
    first = cpe.post("/api/v1/calls/", {**build_call("voip", "CPE-RERUNG", "911-3", None),
                                        "received_at": "2026-11-20T10:00:00Z"}, format="json")
    again = cpe.post("/api/v1/calls/", {**build_call("voip", "CPE-RERUNG", "911-3", None),
                                        "received_at": "2026-11-20T10:00:07Z"}, format="json")

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Call.objects.filter(cpe_call_id="CPE-RERUNG").count() == 1


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


@pytest.mark.django_db(transaction=True)
def test_a_cpe_retry_while_the_first_delivery_is_in_flight_answers_409_then_the_first_answer(cpe):
    from tests.support.idempotency import InFlight, table_locked, wait_until_a_key_is_held

    payload = build_call("voip", "CPE-INFLIGHT", "911-3", None)
    # given: the first delivery is held inside its transaction (another session locks the calls table)
    with table_locked("calltaking_call", "SHARE"):
        first = InFlight(lambda: cpe.post("/api/v1/calls/", payload, format="json"))
        first.start()
        wait_until_a_key_is_held()
        # when: the CPE delivers the same call again
        duplicate = InFlight(lambda: cpe.post("/api/v1/calls/", payload, format="json"))
        duplicate.start()
        duplicate = duplicate.outcome(timeout=15)
        # then: 409 at once, naming the key
        assert duplicate.status_code == 409, duplicate.content
        assert duplicate.json()["field"] == "cpe_call_id" and duplicate.json()["code"] == "idempotency_in_flight"
    first = first.outcome()
    retry = cpe.post("/api/v1/calls/", payload, format="json")

    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert Call.objects.filter(cpe_call_id="CPE-INFLIGHT").count() == 1
    assert JournalEvent.objects.filter(kind="call.ringing").count() == 1


def test_the_same_cpe_call_id_with_another_call_answers_422_naming_it(cpe):
    first = cpe.post("/api/v1/calls/", build_call("voip", "CPE-REUSED", "911-3", None), format="json")
    other = cpe.post("/api/v1/calls/", build_call("voip", "CPE-REUSED", "911-4", None), format="json")

    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["field"] == "cpe_call_id"
    assert Call.objects.get(cpe_call_id="CPE-REUSED").line.code == "911-3"


def test_a_refused_delivery_is_not_recorded_and_its_corrected_retry_rings_in(cpe):
    bad = {**build_call("voip", "CPE-FIXED", "911-3", None), "class_of_service": "NOPE"}
    good = build_call("voip", "CPE-FIXED", "911-3", None)

    refused = cpe.post("/api/v1/calls/", bad, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "class_of_service"
    assert not Call.objects.exists()
    assert cpe.post("/api/v1/calls/", good, format="json").status_code == 201
    assert Call.objects.get(cpe_call_id="CPE-FIXED").class_of_service == "VOIP"


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


# --- Fuzzing the PIDF-LO parser and the intake endpoint (issue 8, item 6) ---------------------------
# Property: the parser answers a dict of valid ALI fields or raises ServiceError naming a pidf_lo
# field; the endpoint answers 201 or a 4xx naming a field, never a 5xx, and a refused call leaves no row.
import itertools  # noqa: E402
from xml.sax.saxutils import escape  # noqa: E402

from calltaking.ali import _CIVIC  # noqa: E402

FUZZ = hsettings(max_examples=80, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_xml_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), max_size=90)
_number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", " ", "42.8501", "-106.3252", "+42.5", "42,5", "1e3", "-0", "0x1F", "91", "-181",
                     "42.123456789", "  -90 ", "180.00000001", "NaN", "inf"]),
    _xml_text,
)
HOSTILE_PIDF = [
    # billion laughs (entity expansion)
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><presence xmlns="urn:ietf:params:xml:ns:pidf">&lol3;</presence>',
    # external entity (local file)
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<presence xmlns="urn:ietf:params:xml:ns:pidf">&xxe;</presence>',
    # external entity (network)
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]><presence>&xxe;</presence>',
    # external DTD
    '<?xml version="1.0"?><!DOCTYPE p SYSTEM "http://127.0.0.1:9/evil.dtd"><presence/>',
    # parameter entity
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY % pe SYSTEM "file:///etc/hostname"> %pe;]><presence/>',
    # an entity hiding inside an otherwise good civic address
    PIDF.replace('<?xml version="1.0"?>', '<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY c "Casper">]>')
        .replace("<ca:A3>Casper</ca:A3>", "<ca:A3>&c;</ca:A3>"),
    # XInclude (must not be processed)
    PIDF.replace("<ca:A3>Casper</ca:A3>", '<ca:A3><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                            'href="file:///etc/passwd" parse="text"/></ca:A3>'),
    "<presence>&#0;</presence>",
    "\ufeff<presence/>",
    "<?xml version='1.0' encoding='UTF-16'?><presence/>",
]


def _pidf(civic: dict, pos: str | None, radius: str | None, confidence: str | None) -> str:
    civic_xml = "".join(f"<ca:{tag}>{escape(text)}</ca:{tag}>" for tag, text in civic.items())
    shape = ""
    if pos is not None:
        radius_xml = f"<gs:radius uom='urn:ogc:def:uom:EPSG::9001'>{escape(radius)}</gs:radius>" if radius is not None else ""
        shape = f"<gs:Circle srsName='urn:ogc:def:crs:EPSG::4326'><gml:pos>{escape(pos)}</gml:pos>{radius_xml}</gs:Circle>"
    conf = f"<con:confidence pdf='normal'>{escape(confidence)}</con:confidence>" if confidence is not None else ""
    return PIDF.split("<gp:location-info>")[0] + "<gp:location-info>" + (
        f"<ca:civicAddress>{civic_xml}</ca:civicAddress>" if civic else "") + shape + conf + (
        "</gp:location-info></gp:geopriv></status></tuple></presence>")


_odd_pidf = st.builds(
    _pidf,
    st.dictionaries(st.sampled_from(sorted(_CIVIC)), _xml_text, max_size=len(_CIVIC)),
    st.one_of(st.none(), st.builds(lambda a, b, extra: f"{a} {b}{extra}", _number_text, _number_text,
                                   st.sampled_from(["", " 0", " 12.5 7"])), _number_text),
    st.one_of(st.none(), _number_text),
    st.one_of(st.none(), _number_text),
)
_mutated_pidf = st.builds(lambda pos, cut, junk: PIDF[:pos] + junk + PIDF[pos + cut:],
                          st.integers(0, len(PIDF)), st.integers(0, 40), st.text(max_size=30))
_any_pidf = st.one_of(st.text(max_size=400), _mutated_pidf, _odd_pidf, st.sampled_from(HOSTILE_PIDF))


def _assert_valid_ali(values: dict) -> None:
    assert set(values) <= set(_CIVIC.values()) | {"ali_name", "lat", "lon", "uncertainty_m", "confidence_pct"} - {"name"}
    if values.get("lat") is not None:
        assert -90 <= values["lat"] <= 90 and -180 <= values["lon"] <= 180
    if values.get("confidence_pct") is not None:
        assert 0 <= values["confidence_pct"] <= 100
    assert all("\x00" not in v for v in values.values() if isinstance(v, str))


@FUZZ
@given(_any_pidf)
def test_any_pidf_lo_document_gives_valid_ali_or_only_the_validation_error_naming_pidf_lo(xml):
    try:
        values = parse_pidf_lo(xml)
    except ServiceError as exc:
        assert exc.field and exc.field.startswith("pidf_lo"), exc.field
    else:
        _assert_valid_ali(values)


@pytest.mark.parametrize("xml", HOSTILE_PIDF[:7])
def test_hostile_pidf_lo_entities_dtds_and_xincludes_are_refused_or_ignored_never_expanded(xml):
    try:
        values = parse_pidf_lo(xml)
    except ServiceError as exc:
        assert exc.field.startswith("pidf_lo")
    else:  # the XInclude case: the element is not processed, so the community is simply empty
        assert "root:" not in str(values) and values.get("community", "") == ""


_ids = itertools.count()


@FUZZ
@given(pidf=_any_pidf, cos=st.sampled_from(["VOIP", "WPH2", ""]))
def test_intake_with_any_pidf_lo_answers_201_or_a_4xx_naming_the_field_and_never_half_writes(cpe, pidf, cos):
    cpe_call_id = f"FUZZ-PIDF-{next(_ids)}"
    response = cpe.post("/api/v1/calls/", {"cpe_call_id": cpe_call_id, "line": "911-1", "ani": "3075550111",
                                           "class_of_service": cos, "pidf_lo": pidf}, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        body = response.json()
        assert body.get("field") or body.get("fields") or set(body) - {"error", "code"}, body
        assert not Call.objects.filter(cpe_call_id=cpe_call_id).exists()
    else:
        call = Call.objects.get(cpe_call_id=cpe_call_id)
        assert call.ali_records.count() == (1 if pidf else 0)


_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
_ali_key = st.one_of(st.sampled_from(["ani", "class_of_service", "name", "house_number", "street_name", "community",
                                      "state", "esn", "lat", "lon", "uncertainty_m", "confidence_pct", "carrier",
                                      "provider_id", "unit"]), st.text(max_size=12))


@FUZZ
@given(ali=st.one_of(st.dictionaries(_ali_key, _json_scalar, max_size=8),
                     st.dictionaries(_ali_key, st.one_of(_json_scalar, st.lists(_json_scalar, max_size=2),
                                                         st.dictionaries(st.text(max_size=4), _json_scalar, max_size=2)),
                                     max_size=4)),
       extra=st.dictionaries(st.sampled_from(["ani", "class_of_service", "received_at", "line", "ali_raw", "ali_format"]),
                             st.one_of(_json_scalar, st.sampled_from([
                                 "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59-14:00", "2026-13-45T10:00:00Z",
                                 "2026-11-20T10:00:00", "2026-11-20T10:00:00.123456+05:30"])), max_size=3))
def test_intake_with_any_ali_object_answers_201_or_a_4xx_naming_the_field_and_never_half_writes(cpe, ali, extra):
    cpe_call_id = f"FUZZ-ALI-{next(_ids)}"
    payload = {"cpe_call_id": cpe_call_id, "line": "911-2", "ani": "3075550111", "class_of_service": "WPH2",
               "ali": ali, **extra}
    response = cpe.post("/api/v1/calls/", payload, format="json")
    assert response.status_code in (200, 201, 400), response.content
    if response.status_code == 400:
        body = response.json()
        assert body.get("field") or set(body) - {"error", "code"}, body
        assert not Call.objects.filter(cpe_call_id=cpe_call_id).exists()


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59-14:00",
                                         "2026-13-45T10:00:00Z", "2026-11-20T10:00:00.5+05:30", "not a time"])
def test_an_odd_cpe_clock_is_kept_in_utc_or_refused_naming_received_at(cpe, received_at):
    payload = {**build_call("wireless-phase2-hangup", "CPE-CLOCK", "911-2", None),
               "received_at": received_at}
    response = cpe.post("/api/v1/calls/", payload, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["field"] == "received_at"
        assert not Call.objects.exists()
    else:
        assert Call.objects.get().ali_records.get().received_at.utcoffset().total_seconds() == 0
