"""Address normalisation shared by verification and loading."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "STREET": "ST", "AVENUE": "AVE", "ROAD": "RD", "BOULEVARD": "BLVD", "DRIVE": "DR", "LANE": "LN",
    "HIGHWAY": "HWY", "COURT": "CT", "PLACE": "PL", "CIRCLE": "CIR", "NORTH": "N", "SOUTH": "S",
    "EAST": "E", "WEST": "W", "FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH",
    "FIFTH": "5TH", "SOUTHEAST": "SE", "SOUTHWEST": "SW", "NORTHEAST": "NE", "NORTHWEST": "NW",
}


def normalise_address(text: str) -> str:
    """Upper-case words with the usual USPS abbreviations, single-spaced, no punctuation."""
    words = re.sub(r"[^A-Za-z0-9 ]", " ", text).upper().split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)
