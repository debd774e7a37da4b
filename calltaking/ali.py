"""Parsing of ALI as the CPE delivers it: fixed-position legacy spills and PIDF-LO location XML.

Both parsers return a plain dict of ALI fields (the names of `AliFields`) or raise `ServiceError`
naming the field at fault; nothing is stored until the whole record has parsed.
"""

from __future__ import annotations

import math
import re

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from django.conf import settings

from pscc.errors import ServiceError

# Fixed-position layouts: field -> (0-based start, width). Providers may add their own through the
# PSCC_ALI_LAYOUTS setting (a JSON object of {name: {"length": N, "fields": {field: [start, width]}}}).
VESTA_512 = {
    "ani": (0, 10), "class_of_service": (10, 4), "name": (14, 32), "house_number": (46, 10),
    "prefix_directional": (56, 2), "street_name": (58, 40), "street_suffix": (98, 4),
    "post_directional": (102, 2), "unit": (104, 10), "community": (114, 32), "state": (146, 2),
    "esn": (148, 5), "lat": (153, 11), "lon": (164, 12), "uncertainty_m": (176, 6),
    "confidence_pct": (182, 3), "provider_id": (185, 5), "carrier": (190, 32),
}
BUILTIN_LAYOUTS = {"vesta-512": {"length": 512, "fields": VESTA_512}}

# Spill/JSON name -> model field name.
RENAMES = {"name": "ali_name", "state": "state_code"}
# Every field an ALI record may carry, by its spill/JSON name or its model field name.
ALI_KEYS = frozenset(VESTA_512) | frozenset(RENAMES.values())
CLASSES_OF_SERVICE = {"RESD", "BUSN", "PAY", "WPH1", "WPH2", "VOIP", "WRLS0"}
_NUMBER = re.compile(r"-?\d{1,4}(\.\d{1,8})?")


def layouts() -> dict:
    return {**BUILTIN_LAYOUTS, **getattr(settings, "PSCC_ALI_LAYOUTS", {})}


def parse_legacy_spill(raw: str, layout_name: str) -> dict:
    """One fixed-position record -> ALI fields (+ "ani", "class_of_service")."""
    layout = layouts().get(layout_name)
    if layout is None:
        raise ServiceError(f"Unknown ALI layout {layout_name!r}.", field="ali_format")
    if not isinstance(raw, str):
        raise ServiceError("The ALI record must be text.", field="ali_raw")
    if not raw.isascii():
        raise ServiceError("The ALI record must be ASCII (a legacy ALI link carries nothing else).", field="ali_raw")
    if any(ord(c) < 32 for c in raw):
        raise ServiceError("The ALI record contains control characters.", field="ali_raw")
    if len(raw) != layout["length"]:
        raise ServiceError(f"The ALI record is {len(raw)} characters; layout {layout_name} has {layout['length']}.",
                           field="ali_raw")
    values: dict = {}
    for field, (start, width) in layout["fields"].items():
        values[field] = raw[start:start + width].strip()
    return normalise_ali(values, prefix="ali_raw.")


def normalise_ali(values: dict, *, prefix: str = "ali.") -> dict:
    """Validate ALI values (strings or numbers) into model field values; errors name the field."""
    out: dict = {}
    for key, value in values.items():
        if key not in ALI_KEYS:
            raise ServiceError(f"Unknown ALI field {key[:40]!r}.", field=f"{prefix}{key[:40]}")
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise ServiceError(f"{key} contains a NUL character.", field=f"{prefix}{key}")
        if key in ("ani", "class_of_service"):
            if not (isinstance(value, str) or value is None):
                raise ServiceError(f"{key} must be text.", field=f"{prefix}{key}")
            out[key] = (value or "").strip()
            continue
        field = RENAMES.get(key, key)
        if field in ("lat", "lon", "uncertainty_m", "confidence_pct"):
            out[field] = _number(value, f"{prefix}{key}")
        else:
            if value is None:
                value = ""
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise ServiceError(f"{key} must be text.", field=f"{prefix}{key}")
            out[field] = str(value).strip()
    lat, lon = out.get("lat"), out.get("lon")
    if (lat is None) != (lon is None):
        raise ServiceError("Latitude and longitude come together.", field=f"{prefix}{'lat' if lat is None else 'lon'}")
    if lat is not None and not -90 <= lat <= 90:
        raise ServiceError("Latitude out of range.", field=f"{prefix}lat")
    if lon is not None and not -180 <= lon <= 180:
        raise ServiceError("Longitude out of range.", field=f"{prefix}lon")
    if out.get("uncertainty_m") is not None and out["uncertainty_m"] < 0:
        raise ServiceError("Uncertainty cannot be negative.", field=f"{prefix}uncertainty_m")
    confidence = out.get("confidence_pct")
    if confidence is not None:
        if not (0 <= confidence <= 100 and float(confidence).is_integer()):
            raise ServiceError("Confidence is a whole percentage 0-100.", field=f"{prefix}confidence_pct")
        out["confidence_pct"] = int(confidence)
    limits = {"ali_name": 64, "house_number": 16, "prefix_directional": 4, "street_name": 80, "street_suffix": 8,
              "post_directional": 4, "unit": 32, "community": 64, "state_code": 2, "esn": 5, "provider_id": 16,
              "carrier": 64}
    for field, limit in limits.items():
        if len(out.get(field) or "") > limit:
            raise ServiceError(f"{field} is longer than {limit} characters.", field=f"{prefix}{field}")
    return out


def _number(value, field: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ServiceError("Not a number.", field=field)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        raise ServiceError(f"{value!r} is not a number.", field=field)
    if not math.isfinite(number):
        raise ServiceError("Not a finite number.", field=field)
    return number


# --- PIDF-LO (RFC 4119 / 5139 civic / 5491 geodetic shapes) ---------------------------------------
NS = {
    "pidf": "urn:ietf:params:xml:ns:pidf",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
    "gml": "http://www.opengis.net/gml",
    "gs": "http://www.opengis.net/pidflo/1.0",
    "con": "urn:ietf:params:xml:ns:geopriv:conf",
}
_CIVIC = {"HNO": "house_number", "PRD": "prefix_directional", "RD": "street_name", "STS": "street_suffix",
          "POD": "post_directional", "UNIT": "unit", "A3": "community", "A1": "state_code", "NAM": "name"}


def parse_pidf_lo(xml_text: str) -> dict:
    """A PIDF-LO document -> ALI fields (civic address and/or a geodetic point or circle)."""
    if not isinstance(xml_text, str) or not xml_text.strip():
        raise ServiceError("The PIDF-LO document is empty.", field="pidf_lo")
    if len(xml_text) > 100_000:
        raise ServiceError("The PIDF-LO document is too large.", field="pidf_lo")
    try:
        root = SafeET.fromstring(xml_text)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise ServiceError(f"The PIDF-LO document is not well-formed or safe XML: {exc}", field="pidf_lo") from None
    values: dict = {}
    location_info = root.find(".//gp:location-info", NS)
    if location_info is None:
        raise ServiceError("The PIDF-LO document has no location-info.", field="pidf_lo.location-info")
    civic = location_info.find("ca:civicAddress", NS)
    if civic is not None:
        for tag, field in _CIVIC.items():
            node = civic.find(f"ca:{tag}", NS)
            if node is not None and node.text:
                values[field] = node.text.strip().upper()
    pos = location_info.find(".//gml:pos", NS)
    if pos is not None:
        parts = (pos.text or "").split()
        if len(parts) < 2:
            raise ServiceError("gml:pos needs latitude and longitude.", field="pidf_lo.pos")
        values["lat"], values["lon"] = parts[0], parts[1]
        radius = location_info.find(".//gs:radius", NS)
        if radius is not None:
            values["uncertainty_m"] = (radius.text or "").strip()
        confidence = location_info.find(".//con:confidence", NS)
        if confidence is not None:
            values["confidence_pct"] = (confidence.text or "").strip()
    if not values:
        raise ServiceError("The PIDF-LO location has neither a civic address nor a point.", field="pidf_lo.location-info")
    return normalise_ali(values, prefix="pidf_lo.")
