"""Server-wide behaviour: routing, errors, control API, scripted misbehaviour."""

from __future__ import annotations

import time

import httpx
import pytest

from simulators import start_simulators

CALL = {"number": "3075551230", "position": "P3", "reference": "callback-attempt-1"}


def place(client: httpx.Client, key: str, timeout: float = 5.0, **headers: str) -> httpx.Response:
    return client.post(
        "/telephony/v1/calls", json=CALL, headers={"Idempotency-Key": key, **headers}, timeout=timeout
    )


def test_healthz(client: httpx.Client) -> None:
    assert client.get("/_control/healthz").json() == {"ok": True}


def test_unknown_path_is_json_404(client: httpx.Client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_wrong_method_is_405_with_allow(client: httpx.Client) -> None:
    response = client.get("/telephony/v1/calls")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/telephony/v1/calls", content=b"{nope", headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_trailing_slash_is_optional(client: httpx.Client) -> None:
    response = client.post("/telephony/v1/calls/", json=CALL, headers={"Idempotency-Key": "slash"})
    assert response.status_code == 200


def test_error_behaviour_fails_count_requests_then_recovers(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "error", "count": 2})
    first, second, third = (place(client, f"k{i}") for i in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json() == {"error": "simulated failure"}
    # A simulated failure does nothing: only the third request placed a call.
    placements = client.get("/_control/telephony/placements").json()
    assert placements["total"] == 1


def test_behaviour_without_count_lasts_until_reset(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "wsp", "mode": "error"})
    for _ in range(3):
        assert client.get("/wsp/v1/subscriber-searches/x").status_code == 503
    client.post("/_control/reset")
    assert client.get("/wsp/v1/subscriber-searches/x").status_code == 404


def test_behaviour_only_affects_its_service(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "wsp", "mode": "error"})
    assert place(client, "other-service").status_code == 200


def test_ok_mode_clears_behaviour(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "error"})
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "ok"})
    assert client.get("/_control/behaviour").json() == {"behaviours": {}}
    assert place(client, "cleared").status_code == 200


def test_slow_behaviour_delays_then_answers(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "slow", "delay": 0.3, "count": 1})
    started = time.monotonic()
    response = place(client, "slow")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_timeout_behaviour_outlasts_client_and_retry_places_once(client: httpx.Client) -> None:
    """The gateway acts but the answer is lost; the retry with the same key must
    get the stored answer without a second placement."""
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "timeout", "delay": 2.0, "count": 1})
    with pytest.raises(httpx.TimeoutException):
        place(client, "retry-me", timeout=0.3)
    retry = place(client, "retry-me")
    assert retry.status_code == 200
    placements = client.get("/_control/telephony/placements", params={"number": CALL["number"]}).json()
    assert placements["placements"] == {CALL["number"]: 1}
    client.post("/_control/reset")  # wakes the sleeping handler so nothing lingers


def test_timeout_default_delay_is_30_seconds(client: httpx.Client) -> None:
    answer = client.post("/_control/behaviour", json={"service": "tcc", "mode": "timeout"}).json()
    assert answer == {"service": "tcc", "mode": "timeout", "delay": 30.0, "count": None}


def test_behaviour_validation(client: httpx.Client) -> None:
    bad_service = client.post("/_control/behaviour", json={"service": "fax", "mode": "error"})
    assert bad_service.status_code == 400 and bad_service.json()["field"] == "service"
    bad_count = client.post("/_control/behaviour", json={"service": "wsp", "mode": "error", "count": 0})
    assert bad_count.status_code == 400 and bad_count.json()["field"] == "count"


def test_request_log_records_requests_oldest_first(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"service": "telephony", "mode": "error", "count": 1})
    place(client, "log-1", Authorization="Bearer abc")
    place(client, "log-2")
    client.get("/wsp/v1/subscriber-searches/nope")
    log = client.get("/_control/requests", params={"service": "telephony"}).json()["requests"]
    assert [entry["headers"]["Idempotency-Key"] for entry in log] == ["log-1", "log-2"]
    assert [entry["status"] for entry in log] == [503, 200]
    assert log[0]["behaviour"] == "error"
    assert log[0]["headers"]["Authorization"] == "Bearer abc"
    assert log[0]["body"] == CALL
    assert log[0]["method"] == "POST" and log[0]["path"] == "/telephony/v1/calls"
    assert log[0]["time"].endswith("Z")
    everything = client.get("/_control/requests").json()["requests"]
    assert [entry["service"] for entry in everything] == ["telephony", "telephony", "wsp"]


def test_wrong_paths_under_a_service_are_logged(client: httpx.Client) -> None:
    client.post("/wsp/v1/searches", json={})
    client.get("/telephony/v1/calls")
    log = client.get("/_control/requests").json()["requests"]
    assert [(e["service"], e["path"], e["status"]) for e in log] == [
        ("wsp", "/wsp/v1/searches", 404),
        ("telephony", "/telephony/v1/calls", 405),
    ]


def test_control_requests_are_not_logged(client: httpx.Client) -> None:
    client.get("/_control/healthz")
    assert client.get("/_control/requests").json() == {"requests": []}


def test_reset_forgets_state(client: httpx.Client) -> None:
    place(client, "before-reset")
    client.post("/_control/reset")
    assert client.get("/_control/telephony/placements").json() == {"placements": {}, "total": 0}
    assert client.get("/_control/requests").json() == {"requests": []}


def test_config_can_change_product_url_until_reset(client: httpx.Client) -> None:
    original = client.get("/_control/config").json()["product_url"]
    changed = client.post("/_control/config", json={"product_url": "http://127.0.0.1:9"}).json()
    assert changed["product_url"] == "http://127.0.0.1:9"
    client.post("/_control/reset")
    assert client.get("/_control/config").json()["product_url"] == original


def test_stop_is_idempotent_and_frees_the_port() -> None:
    simulators = start_simulators(port=0)
    url = simulators.base_url
    simulators.stop()
    simulators.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_control/healthz", timeout=1.0, trust_env=False)
