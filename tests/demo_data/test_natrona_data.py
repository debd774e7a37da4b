"""Pure-Python validation of the demo center data (pscc/demo/natrona_center.json).

No Django, no database: run with ``python -m pytest -p no:django tests/demo_data -q``.
The rules checked here are documented in pscc/demo/README.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "pscc" / "demo"
DATA_FILE = DEMO / "natrona_center.json"
GENERATOR = DEMO / "generate_natrona.py"

AREA_TOL = 1e-9  # square degrees (~0.01 m^2 at this latitude): "no overlap" / "same area"

TOP_KEYS = {"center", "boundaries", "agencies", "stations", "units", "beats", "emergency_service_zones", "streets",
            "addresses", "premise_hazards", "lines", "staff"}
PREFIXES = {"", "N", "S", "E", "W"}
SUFFIXES = {"St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Hwy", "Way", "Ct", "Pl", "Cir"}
UNIT_TYPES = {"patrol", "supervisor", "sro", "detective", "engine", "ladder", "medic", "rescue", "brush", "tender",
              "battalion", "animal_control", "utility_crew"}
HAZARD_KINDS = {"dogs", "weapons", "oxygen", "hazmat", "officer_safety", "access"}
AGENCY_KINDS = {"law", "fire", "ems", "utility", "animal", "psap"}
DISCIPLINES = {"law", "fire", "ems", "utility", "animal"}
SCHOOLS = ["Kelly Walsh High School", "Natrona County High School", "Dean Morgan Middle School", "CY Middle School",
           "Centennial Middle School", "Casper Classical Academy"]
MUNICIPAL_POLICE = {"CPD", "MPD", "EPD"}


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def poly(points) -> Polygon:
    return Polygon(points)


@pytest.fixture(scope="module")
def boundaries(data):
    return {b["code"]: b for b in data["boundaries"]}


@pytest.fixture(scope="module")
def agencies(data):
    return {a["code"]: a for a in data["agencies"]}


@pytest.fixture(scope="module")
def eszs(data):
    return {z["esn"]: z for z in data["emergency_service_zones"]}


@pytest.fixture(scope="module")
def county(boundaries):
    return poly(boundaries["NATRONA"]["polygon"])


def resolve_beat(beats, lon, lat):
    """Most-specific rule: a municipal police beat (CPD/MPD/EPD) wins over an NCSO district."""
    pt = Point(lon, lat)
    hits = [b for b in beats if poly(b["polygon"]).contains(pt)]
    specific = [b for b in hits if b["agency"] in MUNICIPAL_POLICE]
    if specific:
        assert len(specific) == 1, f"{lon},{lat} is in several municipal beats: {[b['code'] for b in specific]}"
        return specific[0]
    assert len(hits) == 1, f"{lon},{lat} is in {len(hits)} NCSO districts"
    return hits[0]


def address_label(a) -> str:
    return " ".join(str(p) for p in (a["house_number"], a["prefix"], a["street_name"], a["suffix"], a.get("post", ""),
                                      a["community"]) if p)


# --------------------------------------------------------------------------------------------
# Shape of the file
# --------------------------------------------------------------------------------------------
def test_top_level_keys(data):
    assert set(data) == TOP_KEYS


def test_center(data):
    c = data["center"]
    assert c["short_name"] == "PSCC" and c["county"] == "Natrona" and c["state"] == "WY"
    assert c["non_emergency_number"] == "3072358278" and c["alt_non_emergency_number"] == "3072358279"
    assert c["timezone"] == "America/Denver"
    assert c["answer_phrase"] == "Natrona County 9-1-1, where is your emergency?"
    assert "Casper-Natrona" in c["name"]


def test_generator_is_deterministic_and_file_is_current(tmp_path):
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}.json"
        subprocess.run([sys.executable, str(GENERATOR), "--output", str(out)], check=True, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1], "two generator runs differ"
    assert outputs[0] == DATA_FILE.read_bytes(), "natrona_center.json is stale: re-run generate_natrona.py"


# --------------------------------------------------------------------------------------------
# Polygons
# --------------------------------------------------------------------------------------------
def all_polygons(data):
    for section in ("boundaries", "beats", "emergency_service_zones"):
        for item in data[section]:
            yield f"{section}:{item.get('code', item.get('esn'))}", item["polygon"]


def test_polygons_closed_and_valid(data):
    for name, ring in all_polygons(data):
        assert len(ring) >= 4, name
        assert ring[0] == ring[-1], f"{name} is not closed"
        assert all(len(p) == 2 and all(isinstance(v, float | int) for v in p) for p in ring), name
        p = poly(ring)
        assert p.is_valid, f"{name} is not a valid polygon"
        assert p.area > 0, name


def test_polygons_roughly_in_wyoming(data):
    for name, ring in all_polygons(data):
        for lon, lat in ring:
            assert -111.1 <= lon <= -104.0 and 41.0 <= lat <= 45.0, name


def test_boundary_kinds(boundaries):
    kinds = Counter(b["kind"] for b in boundaries.values())
    assert kinds == {"county": 1, "municipality": 4, "neighbour_county": 6}
    assert {c for c, b in boundaries.items() if b["kind"] == "municipality"} == {"CASPER", "MILLS", "EVANSVILLE",
                                                                                "BAR_NUNN"}
    assert {c for c, b in boundaries.items() if b["kind"] == "neighbour_county"} == {
        "CONVERSE", "FREMONT", "CARBON", "JOHNSON", "WASHAKIE", "HOT_SPRINGS"}


def test_county_extent(county):
    minx, miny, maxx, maxy = county.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((-107.54, 42.22, -106.07, 43.50), abs=0.05)


def test_municipalities_inside_county_and_disjoint(boundaries, county):
    towns = {c: poly(b["polygon"]) for c, b in boundaries.items() if b["kind"] == "municipality"}
    for code, town in towns.items():
        assert town.difference(county).area < AREA_TOL, f"{code} leaves the county"
    for (a, pa), (b, pb) in combinations(towns.items(), 2):
        assert pa.intersection(pb).area < AREA_TOL, f"{a} overlaps {b}"
    assert towns["CASPER"].contains(Point(-106.3252, 42.8501)), "downtown Casper"
    assert towns["MILLS"].contains(Point(-106.370, 42.840))
    assert towns["EVANSVILLE"].contains(Point(-106.268, 42.862))
    assert towns["BAR_NUNN"].contains(Point(-106.345, 42.914))


def test_neighbour_counties_outside_and_adjacent(boundaries, county):
    neighbours = {c: poly(b["polygon"]) for c, b in boundaries.items() if b["kind"] == "neighbour_county"}
    for code, n in neighbours.items():
        assert n.intersection(county).area < AREA_TOL, f"{code} overlaps Natrona"
        shared = n.boundary.intersection(county.boundary).length
        assert shared > 0.05, f"{code} does not share an edge with Natrona"
    for (a, pa), (b, pb) in combinations(neighbours.items(), 2):
        assert pa.intersection(pb).area < AREA_TOL, f"{a} overlaps {b}"


OUTSIDE_POINTS = [  # README fixtures: towns outside Natrona and the neighbour county they fall in
    ("Glenrock", -105.872, 42.861, "CONVERSE"),
    ("Riverton", -108.380, 43.025, "FREMONT"),
    ("Rawlins", -107.238, 41.791, "CARBON"),
    ("Buffalo", -106.699, 44.348, "JOHNSON"),
    ("Worland", -107.955, 44.017, "WASHAKIE"),
    ("Thermopolis", -108.212, 43.646, "HOT_SPRINGS"),
]


@pytest.mark.parametrize("town,lon,lat,neighbour", OUTSIDE_POINTS)
def test_readme_fixture_points_outside_county(boundaries, county, agencies, town, lon, lat, neighbour):
    pt = Point(lon, lat)
    assert not county.contains(pt)
    hits = [c for c, b in boundaries.items() if b["kind"] == "neighbour_county" and poly(b["polygon"]).contains(pt)]
    assert hits == [neighbour], town
    psaps = [a for a in agencies.values() if a["kind"] == "psap" and a["boundary"] == neighbour]
    assert len(psaps) == 1, neighbour


# --------------------------------------------------------------------------------------------
# ESZs and beats
# --------------------------------------------------------------------------------------------
def test_eszs_tile_the_county(eszs, county):
    assert all(re.fullmatch(r"\d{3}", esn) for esn in eszs)
    polys = {esn: poly(z["polygon"]) for esn, z in eszs.items()}
    union = unary_union(list(polys.values()))
    assert union.symmetric_difference(county).area < AREA_TOL, "ESZs do not cover exactly the county"
    assert abs(sum(p.area for p in polys.values()) - county.area) < AREA_TOL
    for (a, pa), (b, pb) in combinations(polys.items(), 2):
        assert pa.intersection(pb).area < AREA_TOL, f"ESZ {a} overlaps {b}"


def test_esz_names_and_towns(eszs, boundaries):
    names = " ".join(z["name"] for z in eszs.values())
    for word in ("Casper", "Mills", "Evansville", "Bar Nunn", "Casper Mountain", "rural"):
        assert word in names
    by_name = {code: poly(b["polygon"]) for code, b in boundaries.items() if b["kind"] == "municipality"}
    town_esz = {"CASPER": "CPD", "MILLS": "MPD", "EVANSVILLE": "EPD"}
    for code, law in town_esz.items():
        matches = [z for z in eszs.values() if poly(z["polygon"]).symmetric_difference(by_name[code]).area < AREA_TOL]
        assert len(matches) == 1 and matches[0]["law"] == law, code


def test_esz_agencies_exist_with_discipline(eszs, agencies):
    for esn, z in eszs.items():
        for discipline in ("law", "fire", "ems"):
            code = z[discipline]
            assert code in agencies, f"ESZ {esn}: unknown {discipline} agency {code}"
            assert agencies[code]["kind"] == discipline, f"ESZ {esn}: {code} is not a {discipline} agency"
            assert discipline in agencies[code]["disciplines"]


def test_beats(data, boundaries, county):
    beats = data["beats"]
    assert len({b["code"] for b in beats}) == len(beats)
    by_agency = defaultdict(list)
    for b in beats:
        by_agency[b["agency"]].append(poly(b["polygon"]))
    assert set(by_agency) == {"CPD", "NCSO", "MPD", "EPD"}
    assert len(by_agency["CPD"]) == 6 and len(by_agency["NCSO"]) == 4
    assert len(by_agency["MPD"]) == 1 and len(by_agency["EPD"]) == 1
    expect = {"CPD": poly(boundaries["CASPER"]["polygon"]), "MPD": poly(boundaries["MILLS"]["polygon"]),
              "EPD": poly(boundaries["EVANSVILLE"]["polygon"]), "NCSO": county}
    for ag, polys in by_agency.items():
        assert unary_union(polys).symmetric_difference(expect[ag]).area < AREA_TOL, f"{ag} beats do not tile"
        for pa, pb in combinations(polys, 2):
            assert pa.intersection(pb).area < AREA_TOL, f"{ag} beats overlap"
    # Bar Nunn is policed by the Sheriff: only NCSO districts cover it
    bar_nunn = poly(boundaries["BAR_NUNN"]["polygon"])
    for b in beats:
        if b["agency"] != "NCSO":
            assert poly(b["polygon"]).intersection(bar_nunn).area < AREA_TOL


# --------------------------------------------------------------------------------------------
# Agencies, stations, units
# --------------------------------------------------------------------------------------------
def test_agencies(data, agencies, boundaries):
    assert len(agencies) == len(data["agencies"]), "duplicate agency codes"
    kinds = Counter(a["kind"] for a in agencies.values())
    assert kinds["law"] == 4 and kinds["fire"] == 8 and kinds["ems"] == 1 and kinds["psap"] == 6
    assert kinds["animal"] >= 1 and kinds["utility"] >= 2
    assert {"CPD", "NCSO", "MPD", "EPD", "CFD", "NCFD", "MFD", "EFD", "BNFD", "CMFD", "MAS"} <= set(agencies)
    for code, a in agencies.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", code), code
        assert a["kind"] in AGENCY_KINDS
        assert set(a["disciplines"]) <= DISCIPLINES and a["disciplines"], code
        assert re.fullmatch(r"\d{10}", a["non_emergency_number"]), code
        assert isinstance(a["accepts_text"], bool) and isinstance(a["after_hours_only"], bool)
        assert a["boundary"] is None or a["boundary"] in boundaries, code
        if a["kind"] == "psap":
            assert boundaries[a["boundary"]]["kind"] == "neighbour_county", code
        elif a["kind"] in ("law", "fire", "ems"):
            assert a["kind"] in a["disciplines"] and not a["after_hours_only"], code
    assert {agencies[c]["boundary"] for c in agencies if agencies[c]["kind"] == "psap"} == {
        "CONVERSE", "FREMONT", "CARBON", "JOHNSON", "WASHAKIE", "HOT_SPRINGS"}
    assert any(a["accepts_text"] for a in agencies.values() if a["kind"] == "psap")
    assert not all(a["accepts_text"] for a in agencies.values() if a["kind"] == "psap")
    assert agencies["MAS"]["after_hours_only"]
    assert all(a["after_hours_only"] for a in agencies.values() if a["kind"] == "utility")
    assert agencies["CPD"]["boundary"] == "CASPER" and agencies["NCSO"]["boundary"] == "NATRONA"
    assert agencies["MPD"]["boundary"] == "MILLS" and agencies["EPD"]["boundary"] == "EVANSVILLE"


def test_stations(data, agencies, county):
    codes = [s["code"] for s in data["stations"]]
    assert len(set(codes)) == len(codes)
    for s in data["stations"]:
        assert s["agency"] in agencies, s["code"]
        assert county.contains(Point(s["lon"], s["lat"])), s["code"]
        assert s["address"] and "\n" not in s["address"]
    cfd = [s for s in data["stations"] if s["agency"] == "CFD"]
    assert len(cfd) == 6
    for code in ("CPD", "NCSO", "MPD", "EPD", "BHEMS", "MAS"):
        assert any(s["agency"] == code for s in data["stations"]), code


def test_units(data, agencies):
    stations = {s["code"]: s for s in data["stations"]}
    units = data["units"]
    call_signs = [u["call_sign"] for u in units]
    dupes = [c for c, n in Counter(call_signs).items() if n > 1]
    assert not dupes, f"duplicate call signs {dupes}"
    places = {a["place_name"] for a in data["addresses"] if a["place_name"]}
    for u in units:
        assert re.fullmatch(r"[A-Z]+[0-9]+", u["call_sign"]), u["call_sign"]
        assert u["agency"] in agencies, u["call_sign"]
        assert u["type"] in UNIT_TYPES, u["call_sign"]
        if u["station"] is not None:
            assert u["station"] in stations, u["call_sign"]
            assert stations[u["station"]]["agency"] == u["agency"], u["call_sign"]
        if u["type"] == "sro":
            assert u["post"] in places, f"{u['call_sign']} posted at unknown school {u['post']}"
        else:
            assert u["post"] is None
    count = Counter((u["agency"], u["type"]) for u in units)
    assert count[("CPD", "patrol")] == 18 and count[("CPD", "supervisor")] == 2 and count[("CPD", "sro")] == 6
    assert count[("NCSO", "patrol")] == 10 and count[("NCSO", "supervisor")] == 1 and count[("NCSO", "sro")] == 2
    assert count[("MPD", "patrol")] == 4
    assert count[("EPD", "patrol")] == 3 and count[("EPD", "sro")] == 1
    assert count[("CFD", "engine")] == 6 and count[("CFD", "ladder")] == 2
    assert count[("CFD", "rescue")] == 1 and count[("CFD", "battalion")] == 1
    assert count[("BHEMS", "medic")] == 8
    assert count[("MAS", "animal_control")] == 2
    assert sum(n for (ag, t), n in count.items() if t == "utility_crew") == 3
    for code, a in agencies.items():
        if a["kind"] == "fire" and code != "CFD":
            assert 1 <= sum(n for (ag, _), n in count.items() if ag == code) <= 3, code
    cpd_posts = {u["post"] for u in units if u["agency"] == "CPD" and u["type"] == "sro"}
    assert cpd_posts == set(SCHOOLS)


def test_patrol_units_in_their_agency_area(data):
    beats = data["beats"]
    for u in data["units"]:
        if u["type"] == "patrol":
            beat = resolve_beat(beats, u["lon"], u["lat"])
            assert beat["agency"] == u["agency"], f"{u['call_sign']} is in {beat['code']}"


# --------------------------------------------------------------------------------------------
# MSAG and address points
# --------------------------------------------------------------------------------------------
def test_streets(data, eszs):
    streets = data["streets"]
    assert 70 <= len(streets) <= 120
    for s in streets:
        assert s["prefix"] in PREFIXES and s["suffix"] in SUFFIXES, s
        assert s["esn"] in eszs, s
        assert s["parity"] in ("both", "odd", "even"), s
        assert 0 < s["low"] <= s["high"], s
        assert s["community"] and s["name"], s
    # no two ranges claim the same house number (same street + community + parity) for different ESNs
    by_street = defaultdict(list)
    for s in streets:
        by_street[(s["prefix"], s["name"], s["suffix"], s["post"], s["community"])].append(s)
    for key, rows in by_street.items():
        for a, b in combinations(rows, 2):
            overlap = a["low"] <= b["high"] and b["low"] <= a["high"]
            parity_clash = "both" in (a["parity"], b["parity"]) or a["parity"] == b["parity"]
            assert not (overlap and parity_clash), f"overlapping MSAG ranges {key}"
    names = {(s["name"], s["suffix"]) for s in streets}
    for required in [("2nd", "St"), ("Collins", "Dr"), ("CY", "Ave"), ("Wyoming", "Blvd"), ("Poplar", "St"),
                     ("Center", "St"), ("David", "St"), ("12th", "St"), ("Wolcott", "St"), ("15th", "St"),
                     ("Beverly", "St"), ("Yellowstone", "Hwy"), ("Elm", "St"), ("Salt Creek", "Hwy")]:
        assert required in names, required


def test_ambiguous_street_names(data):
    communities = defaultdict(set)
    for s in data["streets"]:
        communities[(s["name"], s["suffix"])].add(s["community"])
    assert {"Mills", "Evansville"} <= communities[("1st", "St")]
    assert {"Mills", "Evansville"} <= communities[("Main", "St")]
    assert {"Casper", "Mills"} <= communities[("Center", "St")]
    # the README fixtures: the same house number exists on both "Main St"s and both "1st St"s
    addresses = {(a["house_number"], a["prefix"], a["street_name"], a["suffix"], a["community"])
                 for a in data["addresses"]}
    for town in ("Mills", "Evansville"):
        assert (120, "", "Main", "St", town) in addresses
        assert (210, "", "1st", "St", town) in addresses
    assert (1000, "", "Center", "St", "Mills") in addresses and (1000, "N", "Center", "St", "Casper") in addresses


def test_parity_split_street(data):
    robertson = [s for s in data["streets"] if s["name"] == "Robertson"]
    assert {(s["community"], s["parity"]) for s in robertson} == {("Mills", "odd"), ("Casper", "even")}


def test_address_count_and_fields(data):
    addresses = data["addresses"]
    assert 350 <= len(addresses) <= 450
    keys = [(a["house_number"], a["prefix"], a["street_name"], a["suffix"], a["post"], a["unit"], a["community"])
            for a in addresses]
    assert len(set(keys)) == len(keys), "duplicate address points"
    for a in addresses:
        assert isinstance(a["house_number"], int) and a["house_number"] > 0
        assert a["state"] == "WY" and re.fullmatch(r"82\d{3}", a["zip"]), address_label(a)
        assert a["prefix"] in PREFIXES and a["suffix"] in SUFFIXES


def test_addresses_inside_their_esz_and_county(data, eszs, county):
    polys = {esn: poly(z["polygon"]) for esn, z in eszs.items()}
    for a in data["addresses"]:
        pt = Point(a["lon"], a["lat"])
        assert county.contains(pt), address_label(a)
        hits = [esn for esn, p in polys.items() if p.contains(pt)]
        assert hits == [a["esn"]], f"{address_label(a)} is in ESZ {hits}, says {a['esn']}"


def test_addresses_resolve_to_one_beat_of_the_esz_law_agency(data, eszs):
    by_area = sorted(data["beats"], key=lambda b: poly(b["polygon"]).area)
    for a in data["addresses"]:
        beat = resolve_beat(data["beats"], a["lon"], a["lat"])
        assert beat["agency"] == eszs[a["esn"]]["law"], f"{address_label(a)} resolves to {beat['code']}"
        # the equivalent "smallest containing beat" rule gives the same answer
        pt = Point(a["lon"], a["lat"])
        smallest = next(b for b in by_area if poly(b["polygon"]).covers(pt))
        assert smallest["code"] == beat["code"], address_label(a)


def test_addresses_match_msag(data):
    for a in data["addresses"]:
        n = a["house_number"]
        hits = [s for s in data["streets"]
                if (s["prefix"], s["name"], s["suffix"], s["post"], s["community"], s["esn"])
                == (a["prefix"], a["street_name"], a["suffix"], a["post"], a["community"], a["esn"])
                and s["low"] <= n <= s["high"]
                and (s["parity"] == "both" or (s["parity"] == "odd") == (n % 2 == 1))]
        assert len(hits) == 1, f"{address_label(a)} matches {len(hits)} MSAG ranges"


def test_house_numbers_move_along_the_street(data):
    """On every street, position along the street is monotonic in the house number (per side)."""
    groups = defaultdict(list)
    for a in data["addresses"]:
        groups[(a["prefix"], a["street_name"], a["suffix"], a["post"], a["community"], a["house_number"] % 2)].append(a)
    checked = 0
    for key, rows in groups.items():
        if len(rows) < 3:
            continue
        rows.sort(key=lambda a: a["house_number"])
        first, last = rows[0], rows[-1]
        dx, dy = last["lon"] - first["lon"], last["lat"] - first["lat"]
        proj = [(a["lon"] - first["lon"]) * dx + (a["lat"] - first["lat"]) * dy for a in rows]
        assert all(p0 <= p1 for p0, p1 in zip(proj, proj[1:])), f"house numbers jump back along {key}"
        checked += 1
    assert checked > 20


def test_required_places(data):
    places = {a["place_name"]: a for a in data["addresses"] if a["place_name"]}
    for school in SCHOOLS:
        assert school in places, school
    pd = places["Casper Police Department (Hall of Justice)"]
    assert (pd["house_number"], pd["prefix"], pd["street_name"], pd["suffix"]) == (201, "N", "David", "St")
    assert pd["lat"] == pytest.approx(42.8501, abs=0.002) and pd["lon"] == pytest.approx(-106.3252, abs=0.002)
    wmc = places["Banner Wyoming Medical Center"]
    assert (wmc["house_number"], wmc["prefix"], wmc["street_name"]) == (1233, "E", "2nd")
    mall = places["Eastridge Mall"]
    assert (mall["house_number"], mall["street_name"], mall["suffix"], mall["post"]) == (601, "Wyoming", "Blvd", "SE")
    for required in ("Casper City Hall", "Natrona County Courthouse"):
        assert required in places
    communities = Counter(a["community"] for a in data["addresses"])
    for town in ("Casper", "Mills", "Evansville", "Bar Nunn", "Midwest", "Alcova"):
        assert communities[town] >= 5, town
    rural = Counter(a["esn"] for a in data["addresses"] if a["esn"] not in ("100", "110", "120", "130"))
    assert sum(rural.values()) >= 40


# --------------------------------------------------------------------------------------------
# Hazards, lines, staff
# --------------------------------------------------------------------------------------------
def test_premise_hazards(data):
    hazards = data["premise_hazards"]
    assert 12 <= len(hazards) <= 20
    index = Counter((a["house_number"], a["prefix"], a["street_name"], a["suffix"], a["community"])
                    for a in data["addresses"])
    for h in hazards:
        ad = h["address"]
        key = (ad["house_number"], ad["prefix"], ad["street_name"], ad["suffix"], ad["community"])
        assert index[key] == 1, f"hazard address {key} is not exactly one address point"
        assert h["kind"] in HAZARD_KINDS
        assert h["text"].strip()
        assert isinstance(h["radius_m"], int) and h["radius_m"] >= 0
        assert h["expires_in_days"] is None or (isinstance(h["expires_in_days"], int) and h["expires_in_days"] > 0)
    kinds = Counter(h["kind"] for h in hazards)
    assert set(kinds) == HAZARD_KINDS
    # README fixture: a residence with two hazards
    fixture = [h for h in hazards if (h["address"]["house_number"], h["address"]["street_name"]) == (1717, "Beverly")]
    assert {h["kind"] for h in fixture} == {"dogs", "weapons"}


def test_lines(data, agencies):
    lines = data["lines"]
    assert [line["code"] for line in lines if line["kind"] == "911"] == [f"911-{n}" for n in range(1, 7)]
    admin = [line for line in lines if line["kind"] == "admin"]
    assert [line["code"] for line in admin] == [f"ADMIN-{n:02d}" for n in range(1, 19)]
    assert len(lines) == 24
    for line in lines:
        assert line["label"]
    for line in admin:
        assert line["agency"] is None or line["agency"] in agencies
    served = Counter(line["agency"] for line in admin)
    assert served["CPD"] == 2 and served["NCSO"] >= 1 and served["MPD"] >= 1 and served["EPD"] >= 1
    assert served["MAS"] >= 1 and served["CPU"] >= 1


def test_staff(data, agencies):
    staff = data["staff"]
    usernames = [s["username"] for s in staff]
    assert len(set(usernames)) == len(usernames)
    by = {s["username"]: s for s in staff}
    for n in range(1, 18):
        s = by[f"tc{n:02d}"]
        assert s["role"] == "telecommunicator" and re.fullmatch(r"P[1-8]", s["position"])
    assert by["telecom"]["role"] == "telecommunicator"
    for n in range(1, 5):
        assert by[f"sup{n}"]["role"] == "supervisor"
    assert by["supervisor"]["role"] == "supervisor"
    assert by["admin"]["role"] == "admin"
    assert Counter(s["role"] for s in staff)["telecommunicator"] == 18
    assert Counter(s["role"] for s in staff)["supervisor"] == 6  # sup1-4, alias, training supervisor
    for s in staff:
        assert s["role"] in ("telecommunicator", "supervisor", "admin", "partner")
        assert s["first_name"] and s["last_name"] and "@" in s["email"]
        assert s["position"] is None or re.fullmatch(r"P[1-8]", s["position"])
        if s["role"] == "partner":
            assert s["agency"] in agencies and s["position"] is None
        else:
            assert s["agency"] is None
    partner_agencies = {s["agency"] for s in staff if s["role"] == "partner"}
    assert partner_agencies == {c for c, a in agencies.items() if a["kind"] in ("law", "fire", "ems")}
    assert "partner-cpd" in by


def test_field_lengths_fit_the_models(data):
    """Generous limits matching the CharField sizes the loaders write into."""
    limits = {
        "boundaries": {"code": 32, "name": 120}, "agencies": {"code": 32, "name": 120, "non_emergency_number": 20},
        "stations": {"code": 32, "name": 120, "address": 200}, "units": {"call_sign": 32, "post": 120},
        "beats": {"code": 32, "name": 120}, "emergency_service_zones": {"esn": 5, "name": 120},
        "streets": {"prefix": 4, "name": 80, "suffix": 8, "post": 4, "community": 60},
        "addresses": {"prefix": 4, "street_name": 80, "suffix": 8, "post": 4, "unit": 20, "community": 60, "zip": 10,
                      "place_name": 120},
        "premise_hazards": {"text": 500}, "lines": {"code": 16, "label": 120},
        "staff": {"username": 150, "first_name": 150, "last_name": 150, "email": 254},
    }
    for section, fields in limits.items():
        for row in data[section]:
            for field, limit in fields.items():
                assert len(row.get(field) or "") <= limit, f"{section}.{field} too long: {row.get(field)!r}"
