"""CPE / ALI: rebid a wireless call for its most recent Phase 2 location (the ANI/ALI "Update")."""

from __future__ import annotations

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
