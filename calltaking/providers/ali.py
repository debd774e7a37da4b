"""CPE / ALI: rebid a wireless call for its most recent Phase 2 location (the ANI/ALI "Update"),
and query the ALI database for a number's record (the manual ALI lookup of SOP §VI)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from calltaking.providers.base import AdapterError, json_or_error, request

SYSTEM = "CPE/ALI"


def rebid(*, cpe_call_id: str, ani: str) -> dict:
    """The fresh fix: {"lat", "lon", "uncertainty_m", "confidence_pct", "class_of_service"}."""
    response = request(SYSTEM, "POST", f"{settings.PSCC_ALI_URL.rstrip('/')}/v1/rebids",
                       json={"call_id": cpe_call_id, "ani": ani},
                       headers={"Authorization": f"Bearer {settings.PSCC_ALI_TOKEN}"})
    if response.status_code == 401:
        raise AdapterError(SYSTEM, "refused our token (check PSCC_ALI_TOKEN)", transient=False, status=401)
    body = json_or_error(SYSTEM, response, ok=(200,))
    if body.get("lat") is None or body.get("lon") is None:
        raise AdapterError(SYSTEM, "answered the rebid without a location", transient=True)
    return body


# --- the ALI database: manual ALI lookup (SOP §VI) --------------------------------------------------
DATABASE = "ALI database"


@dataclass(frozen=True)
class AliDatabaseRecord:
    ani: str  # the 10-digit number the record is for
    class_of_service: str
    ali: dict  # the provider's ALI object (name, address fields, ESN, provider, ...)
    queried_at: str


def _database_url() -> str:
    return (settings.PSCC_ALI_DATABASE_URL or settings.PSCC_ALI_URL).rstrip("/")


def database_query(*, number: str, reference: str) -> AliDatabaseRecord | None:
    """The ALI database's record for a 7/10-digit number, or None when it has none. One try, with
    a short timeout: a person is waiting on the line (every failure is an AdapterError)."""
    token = settings.PSCC_ALI_DATABASE_TOKEN or settings.PSCC_ALI_TOKEN
    response = request(DATABASE, "POST", f"{_database_url()}/v1/ali-queries",
                       json={"number": number, "reference": reference},
                       headers={"Authorization": f"Bearer {token}"},
                       timeout=float(settings.PSCC_ALI_DATABASE_TIMEOUT_SECONDS))
    if response.status_code == 401:
        raise AdapterError(DATABASE, "refused our token (check PSCC_ALI_DATABASE_TOKEN)", transient=False, status=401)
    if response.status_code == 404:
        return None
    body = json_or_error(DATABASE, response, ok=(200,))
    ali, ani = body.get("ali"), body.get("ani")
    if not isinstance(ali, dict) or not isinstance(ani, str) or not ani.isdigit():
        raise AdapterError(DATABASE, "answered without an ALI record", transient=True)
    return AliDatabaseRecord(ani=ani, class_of_service=str(body.get("class_of_service") or ""), ali=ali,
                             queried_at=str(body.get("queried_at") or ""))
