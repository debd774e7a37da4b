"""Fixed-position ("legacy") ALI record layouts.

A layout maps each field to `(start, length)`: 0-based character offset and
width, so a field is `record[start:start + length]`. Records are ASCII, exactly
`RECORD_LENGTH[layout]` characters long, with unused positions as spaces.

Encoding rules (the product's parser must undo exactly these):
* text fields are upper-cased, left-justified, space-padded and truncated to
  the width;
* numeric fields are right-justified and space-padded; `lat`/`lon` carry 6
  decimals (e.g. `  42.850123`, ` -106.320456`), `uncertainty_m` and
  `confidence_pct` are whole numbers;
* an absent value (None or "") is all spaces.

The layout names are conventions of this simulator, not vendor specifications.
"""

from __future__ import annotations

from collections.abc import Mapping

FieldLayout = dict[str, tuple[int, int]]

VESTA_512: FieldLayout = {
    "ani": (0, 10),
    "class_of_service": (10, 4),
    "name": (14, 32),
    "house_number": (46, 10),
    "prefix_directional": (56, 2),
    "street_name": (58, 40),
    "street_suffix": (98, 4),
    "post_directional": (102, 2),
    "unit": (104, 10),
    "community": (114, 32),
    "state": (146, 2),
    "esn": (148, 5),
    "lat": (153, 11),
    "lon": (164, 12),
    "uncertainty_m": (176, 6),
    "confidence_pct": (182, 3),
    "provider_id": (185, 5),
    "carrier": (190, 32),
}

LAYOUTS: dict[str, FieldLayout] = {"vesta-512": VESTA_512}
RECORD_LENGTH: dict[str, int] = {"vesta-512": 512}

#: Numeric fields and their number of decimals; every other field is text.
NUMERIC_DECIMALS: dict[str, int] = {"lat": 6, "lon": 6, "uncertainty_m": 0, "confidence_pct": 0}


def _format(field: str, value: object, width: int) -> str:
    if value is None or value == "":
        return " " * width
    if field in NUMERIC_DECIMALS:
        text = f"{float(str(value)):.{NUMERIC_DECIMALS[field]}f}"
        if len(text) > width:
            raise ValueError(f"{field}={value!r} does not fit in {width} characters")
        return text.rjust(width)
    # Legacy ALI links are ASCII-only: anything else would shift every column.
    ascii_text = str(value).upper().encode("ascii", errors="replace").decode("ascii")
    return ascii_text[:width].ljust(width)


def render(layout_name: str, values: Mapping[str, object]) -> str:
    """Build a record; fields missing from `values` are left blank.

    Raises KeyError for an unknown layout and ValueError when a number does
    not fit its column (text is truncated instead, as real ALI does).
    """
    layout = LAYOUTS[layout_name]
    record = [" "] * RECORD_LENGTH[layout_name]
    for field, (start, width) in layout.items():
        record[start : start + width] = _format(field, values.get(field), width)
    return "".join(record)


def parse(layout_name: str, record: str) -> dict[str, str]:
    """Split a record into stripped strings (reference decoder, used by tests)."""
    return {
        field: record[start : start + width].strip()
        for field, (start, width) in LAYOUTS[layout_name].items()
    }
