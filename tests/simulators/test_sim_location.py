"""Supplemental location provider: OAuth2 client credentials and caller locations."""

from __future__ import annotations

import math

import httpx
import pytest

DEFAULT_AUTH = ("pscc-demo", "pscc-demo-secret")
FORM = {"grant_type": "client_credentials"}


def token(client: httpx.Client, auth: tuple[str, str] = DEFAULT_AUTH) -> str:
    response = client.post("/location/oauth/token", data=FORM, auth=auth)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def locate(client: httpx.Client, caller_id: str, bearer: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return client.get("/location/v1/locations", params={"caller_id": caller_id}, headers=headers)


def test_token_with_default_credentials(client: httpx.Client) -> None:
    answer = client.post("/location/oauth/token", data=FORM, auth=DEFAULT_AUTH).json()
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    assert len(answer["access_token"]) > 20


@pytest.mark.parametrize("auth", [("pscc-demo", "wrong"), ("someone", "pscc-demo-secret"), None])
def test_wrong_credentials_are_401_invalid_client(client: httpx.Client, auth: tuple[str, str] | None) -> None:
    response = client.post("/location/oauth/token", data=FORM, auth=auth)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_wrong_grant_type_is_400(client: httpx.Client) -> None:
    response = client.post("/location/oauth/token", data={"grant_type": "password"}, auth=DEFAULT_AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_configured_client_replaces_default(client: httpx.Client) -> None:
    client.post("/_control/location/clients", json={"client_id": "cad", "client_secret": "s3cret"})
    assert token(client, ("cad", "s3cret"))
    assert client.post("/location/oauth/token", data=FORM, auth=DEFAULT_AUTH).status_code == 401


def test_odd_caller_id_has_a_location_near_casper(client: httpx.Client) -> None:
    answer = locate(client, "3075551235", token(client)).json()
    assert answer["caller_id"] == "3075551235"
    assert answer["source"] in {"device", "wearable", "vehicle"}
    assert answer["uncertainty_m"] > 0
    assert answer["timestamp"].endswith("Z")
    # Within a few km of (42.85, -106.32).
    dy = (answer["lat"] - 42.85) * 111.3
    dx = (answer["lon"] + 106.32) * 111.3 * math.cos(math.radians(42.85))
    assert math.hypot(dx, dy) < 5.0


def test_location_is_deterministic(client: httpx.Client) -> None:
    bearer = token(client)
    first, second = (locate(client, "3075551235", bearer).json() for _ in range(2))
    assert (first["lat"], first["lon"], first["source"]) == (second["lat"], second["lon"], second["source"])


def test_even_caller_id_is_404_no_location(client: httpx.Client) -> None:
    response = locate(client, "3075551234", token(client))
    assert response.status_code == 404
    assert response.json() == {"error": "no_location"}


@pytest.mark.parametrize("bearer", [None, "not-a-token"])
def test_missing_or_unknown_token_is_401(client: httpx.Client, bearer: str | None) -> None:
    response = locate(client, "3075551235", bearer)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_expired_tokens_are_401_and_a_new_token_works(client: httpx.Client) -> None:
    old = token(client)
    assert client.post("/_control/location/expire-tokens").json() == {"expired": 1}
    response = locate(client, "3075551235", old)
    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"
    assert locate(client, "3075551235", token(client)).status_code == 200


def test_missing_caller_id_is_400(client: httpx.Client) -> None:
    response = client.get("/location/v1/locations", headers={"Authorization": f"Bearer {token(client)}"})
    assert response.status_code == 400
    assert response.json()["field"] == "caller_id"
