"""Wireless Service Provider subscriber search: asynchronous, idempotent, deterministic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


def start(client: httpx.Client, ani: str, key: str) -> httpx.Response:
    return client.post(
        "/wsp/v1/subscriber-searches", json={"ani": ani, "carrier": "Verizon"}, headers={"Idempotency-Key": key}
    )


def finished(client: httpx.Client, search_id: str, eventually: Callable[..., Any]) -> dict[str, Any]:
    def poll() -> dict[str, Any] | None:
        answer = client.get(f"/wsp/v1/subscriber-searches/{search_id}").json()
        return answer if answer["status"] != "pending" else None

    return eventually(poll)


def test_search_is_pending_then_complete(client: httpx.Client, eventually: Callable[..., Any]) -> None:
    client.post("/_control/wsp/config", json={"delay": 0.2})
    response = start(client, "3075551234", "s1")
    assert response.status_code == 202
    search_id = response.json()["search_id"]
    assert response.json() == {"search_id": search_id, "status": "pending"}
    assert client.get(f"/wsp/v1/subscriber-searches/{search_id}").json()["status"] == "pending"
    answer = finished(client, search_id, eventually)
    assert answer["status"] == "complete"
    subscriber = answer["subscriber"]
    assert set(subscriber) == {"name", "street", "city", "state", "zip", "account_type"}
    assert (subscriber["city"], subscriber["state"]) == ("Casper", "WY")
    assert subscriber["zip"] in {"82601", "82604", "82609"}


def test_default_delay_is_one_second(client: httpx.Client) -> None:
    assert client.post("/_control/wsp/config", json={}).json() == {"delay": 1.0}


def test_subscriber_is_deterministic_per_ani(client: httpx.Client, eventually: Callable[..., Any]) -> None:
    client.post("/_control/wsp/config", json={"delay": 0})
    first = finished(client, start(client, "3075551234", "a").json()["search_id"], eventually)
    second = finished(client, start(client, "3075551234", "b").json()["search_id"], eventually)
    other = finished(client, start(client, "3075554321", "c").json()["search_id"], eventually)
    assert first["subscriber"] == second["subscriber"]
    assert first["search_id"] != second["search_id"]
    assert other["subscriber"] != first["subscriber"]


def test_ani_ending_in_00_is_not_found(client: httpx.Client, eventually: Callable[..., Any]) -> None:
    client.post("/_control/wsp/config", json={"delay": 0})
    answer = finished(client, start(client, "3075551200", "nf").json()["search_id"], eventually)
    assert answer["status"] == "not_found"
    assert answer["subscriber"] is None


def test_same_key_same_search(client: httpx.Client) -> None:
    assert start(client, "3075551234", "same").json() == start(client, "3075551234", "same").json()


def test_missing_key_and_bad_ani(client: httpx.Client) -> None:
    no_key = client.post("/wsp/v1/subscriber-searches", json={"ani": "3075551234", "carrier": "Verizon"})
    assert no_key.status_code == 400 and no_key.json()["field"] == "Idempotency-Key"
    bad_ani = start(client, "12ab", "bad")
    assert bad_ani.status_code == 400 and bad_ani.json()["field"] == "ani"


def test_unknown_search_is_404(client: httpx.Client) -> None:
    response = client.get("/wsp/v1/subscriber-searches/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown search_id"
