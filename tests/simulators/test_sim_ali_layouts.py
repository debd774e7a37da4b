"""The fixed-position legacy ALI layout is well formed and round-trips."""

from __future__ import annotations

import pytest

from simulators import ali_layouts


@pytest.mark.parametrize("name", sorted(ali_layouts.LAYOUTS))
def test_fields_do_not_overlap_and_fit_the_record(name: str) -> None:
    spans = sorted(ali_layouts.LAYOUTS[name].values())
    for (start, length), (next_start, _) in zip(spans, spans[1:]):
        assert start + length <= next_start
    last_start, last_length = spans[-1]
    assert last_start + last_length <= ali_layouts.RECORD_LENGTH[name]


def test_render_and_parse_round_trip() -> None:
    values = {
        "ani": "3075551234", "class_of_service": "WPH2", "name": "Verizon Wireless",
        "house_number": "1800", "prefix_directional": "E", "street_name": "YELLOWSTONE",
        "street_suffix": "HWY", "unit": "SEC A-NE", "community": "CASPER", "state": "WY", "esn": "00403",
        "lat": 42.849312, "lon": -106.293101, "uncertainty_m": 48, "confidence_pct": 90,
        "provider_id": "VZW", "carrier": "VERIZON WIRELESS",
    }
    record = ali_layouts.render("vesta-512", values)
    assert len(record) == 512 and record.isascii()
    fields = ali_layouts.parse("vesta-512", record)
    assert fields["name"] == "VERIZON WIRELESS"  # text is upper-cased
    assert fields["lat"] == "42.849312" and fields["lon"] == "-106.293101"
    assert fields["uncertainty_m"] == "48" and fields["confidence_pct"] == "90"
    assert fields["post_directional"] == ""
    assert record[153:164] == "  42.849312"  # numbers are right-justified
    assert record[164:176] == " -106.293101"


def test_absent_values_are_blank_and_long_text_is_truncated() -> None:
    record = ali_layouts.render("vesta-512", {"name": "X" * 40, "lat": None})
    assert record[14:46] == "X" * 32
    assert record[153:164] == " " * 11


def test_number_too_wide_is_an_error() -> None:
    with pytest.raises(ValueError):
        ali_layouts.render("vesta-512", {"confidence_pct": 1000})
