"""CPE with ALI: rebids from the product, calls and events rung into the product."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from simulators import ali_layouts, start_simulators
from simulators.cpe import DemoRinger

if TYPE_CHECKING:
    from conftest import ProductStandIn

ALI_FIELDS = {
    "name", "house_number", "prefix_directional", "street_name", "street_suffix", "post_directional",
    "unit", "community", "state", "esn", "lat", "lon", "uncertainty_m", "confidence_pct",
    "provider_id", "carrier",
}


@pytest.fixture
def rebid(client: httpx.Client, cpe_token: str) -> Any:
    """`rebid(call_id, headers=<valid Bearer>)` -> response."""

    def post(call_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        auth = {"Authorization": f"Bearer {cpe_token}"} if headers is None else headers
        return client.post("/cpe/v1/rebids", json={"call_id": call_id, "ani": "3075551234"}, headers=auth)

    return post


def ring(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/_control/cpe/ring", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# -- rebids -------------------------------------------------------------------


def test_rebid_requires_the_cpe_token(rebid: Any) -> None:
    assert rebid("c1", headers={}).status_code == 401
    wrong = rebid("c1", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"


def test_rebid_answer_shape(rebid: Any) -> None:
    answer = rebid("c1").json()
    assert answer["ani"] == "3075551234"
    assert answer["class_of_service"] == "WPH2"
    assert answer["confidence_pct"] == 90
    assert answer["rebid_at"].endswith("Z")
    assert answer["rebid_count"] == 1
    assert 42.7 < answer["lat"] < 43.0 and -106.5 < answer["lon"] < -106.1


def test_each_rebid_moves_a_little_and_deterministically(client: httpx.Client, rebid: Any) -> None:
    first = [rebid("call-7").json() for _ in range(3)]
    client.post("/_control/reset")
    again = [rebid("call-7").json() for _ in range(3)]
    points = [(a["lat"], a["lon"]) for a in first]
    assert points == [(a["lat"], a["lon"]) for a in again]
    assert len(set(points)) == 3
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:]):
        assert abs(lat1 - lat2) < 0.001 and abs(lon1 - lon2) < 0.001  # within ~100 m
    assert first[0]["uncertainty_m"] >= first[2]["uncertainty_m"]


def test_rebid_validation(client: httpx.Client, cpe_token: str) -> None:
    response = client.post("/cpe/v1/rebids", json={"call_id": "x"}, headers={"Authorization": f"Bearer {cpe_token}"})
    assert response.status_code == 400 and response.json()["field"] == "ani"


# -- ALI database queries (manual ALI lookup) ----------------------------------


def ali_query(client: httpx.Client, cpe_token: str, number: Any, token: str | None = None) -> httpx.Response:
    return client.post("/cpe/v1/ali-queries", json={"number": number, "reference": "t1"},
                       headers={"Authorization": f"Bearer {token or cpe_token}"})


def test_ali_query_answers_the_record_of_a_ten_digit_number(client: httpx.Client, cpe_token: str) -> None:
    answer = ali_query(client, cpe_token, "3075550171")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == body["ani"] == "3075550171"
    assert body["class_of_service"] in {"RESD", "BUSN", "VOIP"}
    assert set(body["ali"]) == ALI_FIELDS and body["ali"]["street_name"] and len(body["ali"]["esn"]) == 5
    assert body["ali"]["lat"] is None and body["queried_at"].endswith("Z")
    again = ali_query(client, cpe_token, "3075550171").json()
    assert again["ali"] == body["ali"]  # the record depends only on the number


def test_ali_query_takes_a_seven_digit_number_in_the_home_area_code(client: httpx.Client, cpe_token: str) -> None:
    seven = ali_query(client, cpe_token, "5550171").json()
    assert seven["number"] == "5550171" and seven["ani"] == "3075550171"
    assert seven["ali"] == ali_query(client, cpe_token, "3075550171").json()["ali"]


def test_ali_query_class_of_service_follows_the_last_digit(client: httpx.Client, cpe_token: str) -> None:
    classes = {digit: ali_query(client, cpe_token, f"307555012{digit}").json()["class_of_service"]
               for digit in "189"}
    assert classes == {"1": "RESD", "8": "BUSN", "9": "VOIP"}


@pytest.mark.parametrize("number", ["3075550100", "9115550123"])
def test_ali_query_of_an_unknown_number_is_404(client: httpx.Client, cpe_token: str, number: str) -> None:
    answer = ali_query(client, cpe_token, number)
    assert answer.status_code == 404 and answer.json() == {"error": "no_record", "field": "number"}


@pytest.mark.parametrize("number", ["555017", "30755501711", "307-555-0171", 3075550171, None])
def test_ali_query_refuses_a_number_that_is_not_7_or_10_digits(client: httpx.Client, cpe_token: str,
                                                                number: Any) -> None:
    answer = ali_query(client, cpe_token, number)
    assert answer.status_code == 400 and answer.json()["field"] == "number"


def test_ali_query_requires_the_cpe_token(client: httpx.Client, cpe_token: str) -> None:
    answer = ali_query(client, cpe_token, "3075550171", token="nope")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"


def test_ali_query_follows_the_cpe_behaviour(client: httpx.Client, cpe_token: str) -> None:
    client.post("/_control/behaviour", json={"service": "cpe", "mode": "error", "count": 1})
    assert ali_query(client, cpe_token, "3075550171").status_code == 503
    client.post("/_control/behaviour", json={"service": "cpe", "mode": "slow", "delay": 0.3, "count": 1})
    started = time.monotonic()
    assert ali_query(client, cpe_token, "3075550171").status_code == 200
    assert time.monotonic() - started >= 0.3
    logged = client.get("/_control/requests", params={"service": "cpe"}).json()["requests"]
    assert [(r["path"], r["behaviour"], r["status"]) for r in logged] == [
        ("/cpe/v1/ali-queries", "error", 503), ("/cpe/v1/ali-queries", "slow", 200)]


# -- ringing calls in -----------------------------------------------------------


def test_ring_posts_a_phase2_call_to_the_product(
    client: httpx.Client, product: ProductStandIn, cpe_token: str
) -> None:
    answer = ring(client, scenario="wireless-phase2-hangup", line="911-2", call_id="CPE-1", ani="3075551234")
    assert answer["call_id"] == "CPE-1"
    assert answer["status_code"] == 200
    assert answer["response"] == {"ok": True, "path": "/api/v1/calls/"}
    [received] = product.wait_for(1, "/api/v1/calls/")
    assert received.headers["authorization"] == f"Bearer {cpe_token}"
    assert received.headers["idempotency-key"] == "CPE-1"
    assert received.headers["content-type"] == "application/json"
    call = received.json()
    assert call == answer["payload"]
    assert set(call) == {"cpe_call_id", "line", "ani", "class_of_service", "received_at", "ali"}
    assert (call["cpe_call_id"], call["line"], call["ani"], call["class_of_service"]) == (
        "CPE-1", "911-2", "3075551234", "WPH2",
    )
    assert set(call["ali"]) == ALI_FIELDS
    assert call["ali"]["lat"] is not None and call["ali"]["confidence_pct"] == 90
    assert call["ali"]["carrier"] and call["ali"]["house_number"]  # sector address too


@pytest.mark.parametrize(
    ("scenario", "class_of_service", "has_coordinates", "has_address"),
    [
        ("wireless-phase1", "WPH1", False, True),
        ("landline-residence-open-line", "RESD", False, True),
        ("landline-business-misdial", "BUSN", False, True),
        ("voip", "VOIP", False, True),
        ("duress", "BUSN", False, True),
        ("payphone", "PAY", False, True),
        ("phase0", "WRLS0", False, False),
    ],
)
def test_scenario_payloads(
    client: httpx.Client, scenario: str, class_of_service: str, has_coordinates: bool, has_address: bool
) -> None:
    call = ring(client, scenario=scenario)["payload"]
    ali = call["ali"]
    assert call["class_of_service"] == class_of_service
    assert set(ali) == ALI_FIELDS
    assert (ali["lat"] is not None) == has_coordinates
    assert (ali["lon"] is not None) == has_coordinates
    assert bool(ali["house_number"] and ali["street_name"]) == has_address
    assert ali["state"] == "WY"
    assert call["line"] == "911-1"
    if scenario == "phase0":
        assert call["ani"].startswith("911") and len(call["ani"]) == 10
    else:
        assert call["ani"].startswith("307555")


def test_admin_line_has_no_ali(client: httpx.Client) -> None:
    call = ring(client, scenario="admin-line", line="ADMIN-18")["payload"]
    assert call["line"] == "ADMIN-18"
    assert call["ali"] is None and call["class_of_service"] is None
    assert len(call["ani"]) == 10


@pytest.mark.parametrize(("scenario", "line"), [("admin-line", "911-1"), ("voip", "ADMIN-01"), ("voip", "911-7")])
def test_line_must_match_scenario(client: httpx.Client, scenario: str, line: str) -> None:
    response = client.post("/_control/cpe/ring", json={"scenario": scenario, "line": line})
    assert response.status_code == 400 and response.json()["field"] == "line"


def test_same_call_id_rings_the_same_call(client: httpx.Client) -> None:
    first = ring(client, scenario="voip", call_id="CPE-SAME")["payload"]
    second = ring(client, scenario="voip", call_id="CPE-SAME")["payload"]
    first.pop("received_at"), second.pop("received_at")
    assert first == second


def test_ring_reports_product_errors(client: httpx.Client, product: ProductStandIn) -> None:
    product.fail_next(500)
    answer = ring(client, scenario="voip")
    assert answer["status_code"] == 500
    assert len(product.wait_for(1)) == 1  # rung once: ringing is never retried


def test_ring_reports_unreachable_product(client: httpx.Client) -> None:
    client.post("/_control/config", json={"product_url": "http://127.0.0.1:9"})
    answer = ring(client, scenario="voip")
    assert answer["status_code"] is None and answer["error"]


def test_ring_without_product_url_is_409() -> None:
    with start_simulators(port=0) as simulators:
        response = httpx.post(
            f"{simulators.base_url}/_control/cpe/ring", json={"scenario": "voip"}, trust_env=False
        )
    assert response.status_code == 409
    assert response.json()["field"] == "product_url"


def test_legacy_format_sends_a_fixed_position_record(client: httpx.Client, product: ProductStandIn) -> None:
    answer = ring(client, scenario="wireless-phase2-hangup", format="legacy", call_id="CPE-L", ani="3075551234")
    legacy = product.wait_for(1)[0].json()
    assert set(legacy) == {"cpe_call_id", "line", "received_at", "ali_raw", "ali_format"}
    assert legacy["ali_format"] == "vesta-512"
    assert len(legacy["ali_raw"]) == 512
    fields = ali_layouts.parse("vesta-512", legacy["ali_raw"])
    assert fields["ani"] == "3075551234"
    assert fields["class_of_service"] == "WPH2"
    assert fields["state"] == "WY"
    # Same ALI as the JSON format would carry for this call id.
    json_call = ring(client, scenario="wireless-phase2-hangup", call_id="CPE-L", ani="3075551234")["payload"]
    assert float(fields["lat"]) == json_call["ali"]["lat"]
    assert float(fields["lon"]) == json_call["ali"]["lon"]
    assert fields["street_name"] == json_call["ali"]["street_name"]
    assert answer["payload"] == legacy


def test_legacy_format_is_refused_for_admin_lines(client: httpx.Client) -> None:
    response = client.post("/_control/cpe/ring", json={"scenario": "admin-line", "format": "legacy"})
    assert response.status_code == 400 and response.json()["field"] == "format"


def test_event_is_posted_to_the_call(client: httpx.Client, product: ProductStandIn, cpe_token: str) -> None:
    answer = client.post("/_control/cpe/event", json={"call_id": "CPE-9", "event": "released"}).json()
    assert answer["status_code"] == 200
    [received] = product.wait_for(1, "/api/v1/calls/CPE-9/events/")
    assert received.json()["event"] == "released"
    assert received.headers["authorization"] == f"Bearer {cpe_token}"
    assert received.headers["idempotency-key"] == "CPE-9:released"


def test_hangup_after_sends_abandoned(client: httpx.Client, product: ProductStandIn) -> None:
    ring(client, scenario="wireless-phase2-hangup", call_id="CPE-H", hangup_after=0.05)
    [event] = product.wait_for(1, "/api/v1/calls/CPE-H/events/")
    assert event.json()["event"] == "abandoned"


def test_outbound_log_records_rings(client: httpx.Client) -> None:
    ring(client, scenario="voip", call_id="CPE-LOG")
    [entry] = client.get("/_control/outbound", params={"service": "cpe"}).json()["outbound"]
    assert entry["url"].endswith("/api/v1/calls/") and entry["status_code"] == 200


# -- demo -----------------------------------------------------------------------


@pytest.fixture
def demo_sim(product: ProductStandIn) -> Iterator[Any]:
    simulators = start_simulators(
        port=0, product_url=product.url, demo=True, demo_interval=(0.05, 0.1), demo_first_delay=0.0
    )
    yield simulators
    simulators.stop()


def test_demo_rings_calls_periodically(demo_sim: Any, product: ProductStandIn) -> None:
    calls = product.wait_for(3, "/api/v1/calls/", timeout=3.0)
    assert len(calls) >= 3
    assert all("cpe_call_id" in call.json() for call in calls if not call.path.endswith("/events/"))


def test_demo_scenarios_are_the_brief_ones() -> None:
    assert "payphone" not in DemoRinger.DEMO_SCENARIOS
    assert len(DemoRinger.DEMO_SCENARIOS) == 8
