"""Telephony gateway: idempotent callback placement with predictable outcomes."""

from __future__ import annotations

import httpx
import pytest


def place(client: httpx.Client, number: str, key: str, position: str = "P3") -> httpx.Response:
    body = {"number": number, "position": position, "reference": f"ref-{key}"}
    return client.post("/telephony/v1/calls", json=body, headers={"Idempotency-Key": key})


def test_missing_idempotency_key_is_400_naming_the_header(client: httpx.Client) -> None:
    response = client.post("/telephony/v1/calls", json={"number": "3075551234", "position": "P3"})
    assert response.status_code == 400
    assert response.json() == {"error": "Idempotency-Key header is required", "field": "Idempotency-Key"}


@pytest.mark.parametrize("field", ["number", "position"])
def test_required_fields(client: httpx.Client, field: str) -> None:
    body = {"number": "3075551234", "position": "P3"}
    del body[field]
    response = client.post("/telephony/v1/calls", json=body, headers={"Idempotency-Key": "k"})
    assert response.status_code == 400
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("3075551230", "answered"),
        ("3075551233", "answered"),
        ("3075551234", "no_answer"),
        ("3075551235", "no_answer"),
        ("3075551236", "busy"),
        ("3075551237", "voicemail_left"),
        ("3075551238", "voicemail_left"),
        ("3075551239", "invalid_number"),
        ("555123", "invalid_number"),
        ("30755512345", "invalid_number"),
    ],
)
def test_default_outcome_follows_last_digit(client: httpx.Client, number: str, outcome: str) -> None:
    answer = place(client, number, f"k-{number}").json()
    assert answer["outcome"] == outcome
    assert answer["number"] == number
    assert answer["connected_position"] == ("P3" if outcome == "answered" else None)
    assert answer["placed_at"].endswith("Z") and answer["call_id"]


def test_same_key_returns_same_answer_and_places_once(client: httpx.Client) -> None:
    first = place(client, "3075551234", "once").json()
    second = place(client, "3075551234", "once").json()
    assert first == second
    placements = client.get("/_control/telephony/placements").json()
    assert placements == {"placements": {"3075551234": 1}, "total": 1}


def test_new_key_is_a_new_placement(client: httpx.Client) -> None:
    place(client, "3075551234", "a")
    place(client, "3075551234", "b")
    assert client.get("/_control/telephony/placements").json()["placements"] == {"3075551234": 2}


def test_key_reuse_with_different_body_is_409(client: httpx.Client) -> None:
    place(client, "3075551234", "reused")
    response = place(client, "3075559999", "reused")
    assert response.status_code == 409
    assert response.json()["field"] == "Idempotency-Key"


def test_script_is_consumed_in_order_and_last_repeats(client: httpx.Client) -> None:
    client.post(
        "/_control/telephony/script",
        json={"number": "3075551230", "outcomes": ["no_answer", "busy", "voicemail_left"]},
    )
    outcomes = [place(client, "3075551230", f"s{i}").json()["outcome"] for i in range(5)]
    assert outcomes == ["no_answer", "busy", "voicemail_left", "voicemail_left", "voicemail_left"]


def test_replay_does_not_consume_the_script(client: httpx.Client) -> None:
    client.post("/_control/telephony/script", json={"number": "3075551230", "outcomes": ["busy", "answered"]})
    assert place(client, "3075551230", "r").json()["outcome"] == "busy"
    assert place(client, "3075551230", "r").json()["outcome"] == "busy"
    assert place(client, "3075551230", "r2").json()["outcome"] == "answered"


def test_script_rejects_unknown_outcomes(client: httpx.Client) -> None:
    response = client.post("/_control/telephony/script", json={"number": "1", "outcomes": ["hung_up"]})
    assert response.status_code == 400
    assert response.json()["field"] == "outcomes"


def test_placements_for_unknown_number_is_zero(client: httpx.Client) -> None:
    answer = client.get("/_control/telephony/placements", params={"number": "3075550000"}).json()
    assert answer == {"placements": {"3075550000": 0}, "total": 0}
