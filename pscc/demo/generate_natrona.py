#!/usr/bin/env python3
"""Generate the PSCC CAD demo center data: ``pscc/demo/natrona_center.json``.

The modelled center is the Casper-Natrona Public Safety Communication Center (PSCC), Casper,
Wyoming.  Geography is approximate but self-consistent:

* every polygon is a single closed ``[lon, lat]`` ring, valid for shapely;
* municipalities tile part of the county without overlapping; ESZs tile the whole county;
* CPD beats tile Casper, MPD/EPD beats equal their towns, NCSO districts tile the whole county
  (the most specific beat wins, see README.md);
* streets are laid out as polylines that carry house numbers ("knots"); an address point is
  interpolated along its street by house number and set back 12 m to the odd (left) or even
  (right) side, so increasing numbers move along the street;
* every MSAG range is checked to lie inside its ESZ, every address inside its ESZ and its beat.

Deterministic: ``random.Random(SEED)``, fixed iteration order, coordinates rounded to 6 places.
Running it twice yields byte-identical output.

    python pscc/demo/generate_natrona.py            # rewrite natrona_center.json next to this file
    python pscc/demo/generate_natrona.py -o x.json  # write elsewhere (used by the test)
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from pathlib import Path

from shapely.geometry import MultiLineString, Point, Polygon
from shapely.ops import unary_union

SEED = 20260911
OUT = Path(__file__).with_name("natrona_center.json")

SETBACK_M = 12.0  # address point offset from the street centreline
MARGIN_DEG = 0.0001  # minimum distance of an address from any ESZ / beat boundary (~8-11 m)

# --------------------------------------------------------------------------------------------
# Casper's street grid: Center St is the E/W divider, the N/S divider runs just north of 1st St.
# 100 house numbers per block: ~140 m east-west, ~120 m north-south.
# --------------------------------------------------------------------------------------------
XC = -106.3235  # Center St
YC = 42.8480  # N/S divider
DX = 0.000017  # degrees longitude per house number
DY = 0.000011  # degrees latitude per house number


def grid_lon(n: float, prefix: str) -> float:
    return XC + n * DX if prefix == "E" else XC - n * DX


def grid_lat(n: float, prefix: str) -> float:
    return YC + n * DY if prefix == "N" else YC - n * DY


def r6(x: float) -> float:
    return round(x + 0.0, 6)


def ring(points):
    pts = [[r6(x), r6(y)] for x, y in points]
    if pts[0] != pts[-1]:
        pts.append(list(pts[0]))
    return pts


# --------------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------------
COUNTY = [(-107.54, 43.50), (-106.07, 43.50), (-106.07, 42.43), (-106.62, 42.43), (-106.62, 42.22), (-107.54, 42.22)]

CASPER = [
    (-106.430, 42.790), (-106.329, 42.790), (-106.235, 42.790), (-106.235, 42.828), (-106.235, 42.842),
    (-106.235, 42.852), (-106.245, 42.852), (-106.285, 42.852), (-106.285, 42.875), (-106.3142, 42.875),
    (-106.345, 42.875), (-106.355, 42.875), (-106.355, 42.858), (-106.355, 42.842), (-106.355, 42.828),
    (-106.405, 42.828), (-106.430, 42.828),
]
MILLS = [(-106.405, 42.828), (-106.355, 42.828), (-106.355, 42.842), (-106.355, 42.858), (-106.405, 42.858)]
EVANSVILLE = [(-106.285, 42.852), (-106.245, 42.852), (-106.245, 42.875), (-106.285, 42.875)]
BAR_NUNN = [(-106.365, 42.900), (-106.345, 42.900), (-106.325, 42.900), (-106.325, 42.930), (-106.345, 42.930),
            (-106.365, 42.930)]

NEIGHBOURS = {
    # code: (name, ring)
    "CONVERSE": ("Converse County", [(-106.07, 42.20), (-104.90, 42.20), (-104.90, 43.50), (-106.07, 43.50),
                                     (-106.07, 42.43)]),
    "FREMONT": ("Fremont County", [(-108.79, 42.00), (-107.54, 42.00), (-107.54, 42.22), (-107.54, 43.50),
                                   (-108.79, 43.50)]),
    "CARBON": ("Carbon County", [(-107.54, 41.00), (-106.07, 41.00), (-106.07, 42.43), (-106.62, 42.43),
                                 (-106.62, 42.22), (-107.54, 42.22)]),
    "JOHNSON": ("Johnson County", [(-107.13, 43.50), (-106.07, 43.50), (-105.99, 43.50), (-105.99, 44.55),
                                   (-107.13, 44.55)]),
    "WASHAKIE": ("Washakie County", [(-107.45, 43.50), (-107.13, 43.50), (-107.13, 44.20), (-108.55, 44.20),
                                     (-108.55, 43.98), (-107.45, 43.98)]),
    "HOT_SPRINGS": ("Hot Springs County", [(-108.79, 43.50), (-107.54, 43.50), (-107.45, 43.50),
                                           (-107.45, 43.98), (-108.79, 43.98)]),
}

# --------------------------------------------------------------------------------------------
# Emergency service zones (tile the county) -- esn: (name, law, fire, ems, ring)
# --------------------------------------------------------------------------------------------
ESZ = {
    "100": ("Casper (city)", "CPD", "CFD", "BHEMS", CASPER),
    "110": ("Mills (town)", "MPD", "MFD", "BHEMS", MILLS),
    "120": ("Evansville (town)", "EPD", "EFD", "BHEMS", EVANSVILLE),
    "130": ("Bar Nunn (town)", "NCSO", "BNFD", "BHEMS", BAR_NUNN),
    "200": ("Metro rural south (Hat Six, Bessemer Bend, Goose Egg)", "NCSO", "NCFD", "BHEMS", [
        (-106.62, 42.76), (-106.07, 42.76), (-106.07, 42.852), (-106.235, 42.852), (-106.235, 42.842),
        (-106.235, 42.828), (-106.235, 42.790), (-106.329, 42.790), (-106.430, 42.790), (-106.430, 42.828),
        (-106.62, 42.828)]),
    "210": ("Metro rural northwest (Airport, Paradise Valley, Poison Spider Rd)", "NCSO", "NCFD", "BHEMS", [
        (-106.62, 42.828), (-106.430, 42.828), (-106.405, 42.828), (-106.405, 42.858), (-106.355, 42.858),
        (-106.355, 42.875), (-106.345, 42.875), (-106.345, 42.900), (-106.365, 42.900), (-106.365, 42.930),
        (-106.345, 42.930), (-106.345, 43.05), (-106.62, 43.05)]),
    "220": ("Metro rural northeast (Cole Creek, Ormsby Rd, E Yellowstone Hwy)", "NCSO", "NCFD", "BHEMS", [
        (-106.345, 42.875), (-106.3142, 42.875), (-106.285, 42.875), (-106.245, 42.875), (-106.245, 42.852),
        (-106.235, 42.852), (-106.07, 42.852), (-106.07, 43.05), (-106.345, 43.05), (-106.345, 42.930),
        (-106.325, 42.930), (-106.325, 42.900), (-106.345, 42.900)]),
    "230": ("Casper Mountain", "NCSO", "CMFD", "BHEMS", [(-106.62, 42.62), (-106.07, 42.62), (-106.07, 42.76),
                                                         (-106.62, 42.76)]),
    "300": ("North rural (Salt Creek Hwy, Horse Ranch)", "NCSO", "NCFD", "BHEMS", [
        (-106.80, 43.05), (-106.62, 43.05), (-106.345, 43.05), (-106.07, 43.05), (-106.07, 43.20),
        (-106.80, 43.20)]),
    "310": ("Midwest-Edgerton", "NCSO", "MEFD", "BHEMS", [(-106.80, 43.20), (-106.07, 43.20), (-106.07, 43.50),
                                                          (-106.80, 43.50)]),
    "320": ("Northwest rural (Hiland, Waltman, Buffalo Creek)", "NCSO", "NCFD", "BHEMS", [
        (-107.54, 43.05), (-106.80, 43.05), (-106.80, 43.20), (-106.80, 43.50), (-107.54, 43.50)]),
    "330": ("West rural (Poison Spider, Powder River, Bates Hole)", "NCSO", "NCFD", "BHEMS", [
        (-107.54, 42.62), (-106.62, 42.62), (-106.62, 42.76), (-106.62, 42.828), (-106.62, 43.05),
        (-107.54, 43.05)]),
    "340": ("Alcova-Pathfinder", "NCSO", "APFD", "BHEMS", [
        (-107.54, 42.22), (-106.62, 42.22), (-106.62, 42.43), (-106.07, 42.43), (-106.07, 42.62),
        (-106.62, 42.62), (-107.54, 42.62)]),
}

# --------------------------------------------------------------------------------------------
# Beats -- code: (agency, name, ring)
# --------------------------------------------------------------------------------------------
BEATS = {
    "CPD-1": ("CPD", "Beat 1 - Downtown / North Casper", [
        (-106.355, 42.842), (-106.3142, 42.842), (-106.3142, 42.875), (-106.345, 42.875), (-106.355, 42.875),
        (-106.355, 42.858)]),
    "CPD-2": ("CPD", "Beat 2 - East Central (Medical Center, E 2nd St)", [
        (-106.3142, 42.842), (-106.235, 42.842), (-106.235, 42.852), (-106.245, 42.852), (-106.285, 42.852),
        (-106.285, 42.875), (-106.3142, 42.875)]),
    "CPD-3": ("CPD", "Beat 3 - South Central (NCHS, Casper College)", [
        (-106.355, 42.828), (-106.3142, 42.828), (-106.3142, 42.842), (-106.355, 42.842)]),
    "CPD-4": ("CPD", "Beat 4 - East (Kelly Walsh, Eastridge)", [
        (-106.3142, 42.828), (-106.235, 42.828), (-106.235, 42.842), (-106.3142, 42.842)]),
    "CPD-5": ("CPD", "Beat 5 - Southwest (CY Ave, Westridge)", [
        (-106.430, 42.790), (-106.329, 42.790), (-106.329, 42.828), (-106.355, 42.828), (-106.405, 42.828),
        (-106.430, 42.828)]),
    "CPD-6": ("CPD", "Beat 6 - Southeast (Wyoming Blvd, Centennial)", [
        (-106.329, 42.790), (-106.235, 42.790), (-106.235, 42.828), (-106.3142, 42.828), (-106.329, 42.828)]),
    "MPD-1": ("MPD", "Mills", MILLS),
    "EPD-1": ("EPD", "Evansville", EVANSVILLE),
    "NCSO-1": ("NCSO", "District 1 - Central (Metro rural, Bar Nunn)", [
        (-106.62, 42.76), (-106.07, 42.76), (-106.07, 42.852), (-106.07, 43.05), (-106.345, 43.05),
        (-106.62, 43.05), (-106.62, 42.828)]),
    "NCSO-2": ("NCSO", "District 2 - North (Salt Creek, Midwest, Edgerton, Hiland)", [
        (-107.54, 43.05), (-106.80, 43.05), (-106.62, 43.05), (-106.345, 43.05), (-106.07, 43.05),
        (-106.07, 43.50), (-107.54, 43.50)]),
    "NCSO-3": ("NCSO", "District 3 - West (Poison Spider, Powder River)", [
        (-107.54, 42.62), (-106.62, 42.62), (-106.62, 42.76), (-106.62, 42.828), (-106.62, 43.05),
        (-107.54, 43.05)]),
    "NCSO-4": ("NCSO", "District 4 - South (Casper Mountain, Alcova, Pathfinder)", [
        (-107.54, 42.22), (-106.62, 42.22), (-106.62, 42.43), (-106.07, 42.43), (-106.07, 42.62),
        (-106.07, 42.76), (-106.62, 42.76), (-106.62, 42.62), (-107.54, 42.62)]),
}

# --------------------------------------------------------------------------------------------
# Roads: id -> (prefix, name, suffix, post, knots[(house_number, lon, lat), ...] ascending)
# --------------------------------------------------------------------------------------------
ROADS: dict[str, tuple] = {}


def road(rid, prefix, name, suffix, knots, post=""):
    assert rid not in ROADS, rid
    assert all(a[0] < b[0] for a, b in zip(knots, knots[1:])), rid
    ROADS[rid] = (prefix, name, suffix, post, knots)


def casper_ew(rid, prefix, name, suffix, at_n, at_prefix, high):
    lat = grid_lat(at_n, at_prefix)
    road(rid, prefix, name, suffix, [(0, grid_lon(0, prefix), lat), (high, grid_lon(high, prefix), lat)])


def casper_ns(rid, prefix, name, suffix, at_n, at_prefix, high):
    lon = grid_lon(at_n, at_prefix)
    road(rid, prefix, name, suffix, [(0, lon, grid_lat(0, prefix)), (high, lon, grid_lat(high, prefix))])


def local_ew(rid, name, suffix, west_lon, lat, high):
    """A small-town street numbered eastward from the town's west edge."""
    road(rid, "", name, suffix, [(0, west_lon, lat), (high, west_lon + high * DX, lat)])


def local_ns(rid, name, suffix, lon, south_lat, high):
    """A small-town street numbered northward from the town's south edge."""
    road(rid, "", name, suffix, [(0, lon, south_lat), (high, lon, south_lat + high * DY)])


# ---- Casper grid: east-west streets (lat fixed by N/S number) ----
for pre in ("E", "W"):
    casper_ew(f"{pre}1", pre, "1st", "St", 100, "S", 9000)
    casper_ew(f"{pre}2", pre, "2nd", "St", 200, "S", 9000)
    casper_ew(f"{pre}12", pre, "12th", "St", 1200, "S", 6000)
    casper_ew(f"{pre}15", pre, "15th", "St", 1500, "S", 6000)
    casper_ew(f"{pre}21", pre, "21st", "St", 2100, "S", 6000)
    casper_ew(f"{pre}YELL", pre, "Yellowstone", "Hwy", 420, "N", 17400)
casper_ew("E7", "E", "7th", "St", 700, "S", 4000)
casper_ew("WCOLLINS", "W", "Collins", "Dr", 180, "N", 1800)
casper_ew("EMIDWEST", "E", "Midwest", "Ave", 60, "N", 2200)
casper_ew("EA", "E", "A", "St", 300, "N", 2200)
casper_ew("EK", "E", "K", "St", 1100, "N", 2200)
# W Yellowstone Hwy leaves the grid west of the metro area as US 20-26 toward Powder River
_p, _n, _s, _post, _k = ROADS.pop("WYELL")
road("WYELL", _p, _n, _s, _k + [(17800, -106.6300, 42.8560), (30000, -106.8200, 42.9500),
                                (45000, -107.1000, 43.0400)])

# ---- Casper grid: north-south streets (lon fixed by E/W number) ----
for pre in ("N", "S"):
    casper_ns(f"{pre}CENTER", pre, "Center", "St", 0, "E", 5200)
    casper_ns(f"{pre}DAVID", pre, "David", "St", 100, "W", 3000)
    casper_ns(f"{pre}WOLCOTT", pre, "Wolcott", "St", 100, "E", 4000)
    casper_ns(f"{pre}DURBIN", pre, "Durbin", "St", 200, "E", 3000)
    casper_ns(f"{pre}POPLAR", pre, "Poplar", "St", 1300, "W", 5200)
casper_ns("SBEECH", "S", "Beech", "St", 400, "E", 3000)
casper_ns("SELM", "S", "Elm", "St", 500, "E", 4000)
casper_ns("SMCKINLEY", "S", "McKinley", "St", 1000, "E", 4000)
casper_ns("SCONWELL", "S", "Conwell", "St", 1200, "E", 3000)
casper_ns("SBEVERLY", "S", "Beverly", "St", 1800, "E", 5000)
casper_ns("SWALNUT", "S", "Walnut", "St", 500, "W", 4000)

# ---- Casper: curved / free streets ----
road("CY", "", "CY", "Ave", [(100, -106.3440, 42.8375), (900, -106.3500, 42.8268), (5000, -106.4250, 42.8000)])
road("WYO_SE", "", "Wyoming", "Blvd", [(1, -106.2700, 42.8500), (1200, -106.2720, 42.8320),
                                       (4000, -106.3000, 42.7960)], post="SE")
road("WYO_SW", "", "Wyoming", "Blvd", [(1, -106.3010, 42.7955), (2000, -106.3600, 42.7990),
                                       (4000, -106.4050, 42.8150)], post="SW")
road("WESTRIDGE", "", "Westridge", "Dr", [(100, -106.3720, 42.8220), (3000, -106.4050, 42.8120)])
road("WATERFORD", "", "Waterford", "St", [(1000, -106.2900, 42.8220), (3000, -106.2900, 42.8020)])
road("COLLEGE", "", "College", "Dr", [(1, -106.3300, 42.8335), (1000, -106.3150, 42.8290)])
road("EVENTS", "", "Events", "Dr", [(1, -106.3400, 42.8660), (1000, -106.3300, 42.8700)])
road("SAGEWOOD", "", "Sagewood", "Cir", [(100, -106.3000, 42.8100), (600, -106.2960, 42.8080)])
road("RIDGECREST", "", "Ridgecrest", "Ct", [(100, -106.3900, 42.8150), (400, -106.3880, 42.8120)])
road("KINGSBORO", "", "Kingsboro", "Pl", [(100, -106.2560, 42.8380), (600, -106.2500, 42.8380)])
road("CASPERMTN", "", "Casper Mountain", "Rd", [
    (4000, -106.3180, grid_lat(4000, "S")), (5700, -106.3180, 42.7853), (8000, -106.3200, 42.7620),
    (8300, -106.3210, 42.7580), (9500, -106.3350, 42.7450), (12000, -106.3100, 42.7300)])
# Robertson Rd runs along the Mills / Casper line: odd (west) side Mills, even (east) side Casper.
road("ROBERTSON", "", "Robertson", "Rd", [(0, -106.3550, 42.8280), (2700, -106.3550, 42.8280 + 2700 * DY)])

# ---- Mills (local grid from the town's SW corner) ----
M_W, M_S = -106.405, 42.828
local_ew("M1ST", "1st", "St", M_W, 42.8500, 2900)
local_ew("M2ND", "2nd", "St", M_W, 42.8467, 2900)
local_ew("M4TH", "4th", "St", M_W, 42.8401, 2900)
local_ew("MFAIRDALE", "Fairdale", "Ave", M_W, 42.8335, 2900)
local_ns("MMAIN", "Main", "St", -106.3795, M_S, 2700)
local_ns("MCENTER", "Center", "St", -106.3880, M_S, 2700)
local_ns("MBESSEMER", "Bessemer", "Ave", -106.3965, M_S, 2700)

# ---- Evansville (local grid from the town's SW corner) ----
E_W, E_S = -106.285, 42.852
local_ew("E1ST", "1st", "St", E_W, 42.8570, 2300)
local_ew("E2ND", "2nd", "St", E_W, 42.8605, 2300)
local_ew("ELATHROP", "Lathrop", "Rd", E_W, 42.8680, 2300)
local_ns("EMAIN", "Main", "St", -106.2646, E_S, 2050)
local_ns("ECURTIS", "Curtis", "St", -106.2748, E_S, 2050)
local_ns("EELK", "Elk", "St", -106.2544, E_S, 2050)

# ---- Bar Nunn (local grid from the town's SW corner) ----
B_W, B_S = -106.365, 42.900
local_ns("BRUNWAY", "Runway", "Dr", -106.3463, B_S, 2700)
local_ew("BWARDWELL", "Wardwell", "Ave", B_W, 42.9110, 2300)
local_ew("BNUNN", "Nunn", "Way", B_W, 42.9198, 2300)
local_ew("BMEADOWLARK", "Meadowlark", "Ln", B_W, 42.9265, 2300)
local_ns("BHANGAR", "Hangar", "Ct", -106.3330, B_S, 1300)

# ---- Rural roads (about 1000 house numbers per mile) ----
road("SALTCREEK", "", "Salt Creek", "Hwy", [
    (1000, -106.3720, 42.8800), (12000, -106.3720, 43.0450), (12500, -106.3710, 43.0550),
    (22000, -106.3400, 43.1950), (22500, -106.3390, 43.2050), (34000, -106.2900, 43.3950),
    (39000, -106.2600, 43.4400)])
road("AIRPORT", "", "Airport", "Rd", [(1000, -106.3800, 42.8800), (10000, -106.4700, 42.9100)])
road("POISONSPIDER", "", "Poison Spider", "Rd", [
    (1000, -106.4120, 42.8420), (12000, -106.6100, 42.8600), (12400, -106.6300, 42.8610),
    (31000, -106.9500, 42.9200)])
road("HATSIX", "", "Hat Six", "Rd", [(1000, -106.2300, 42.8480), (9000, -106.2100, 42.7700)])
road("BESSEMERBEND", "", "Bessemer Bend", "Rd", [(1000, -106.4360, 42.8150), (10000, -106.5900, 42.7750)])
road("GOOSEEGG", "", "Goose Egg", "Rd", [(100, -106.5200, 42.7970), (4000, -106.5800, 42.8200)])
road("ALCOVA", "", "Alcova", "Hwy", [
    (1000, -106.4330, 42.7985), (12000, -106.6100, 42.7650), (12500, -106.6250, 42.7580),
    (19500, -106.6900, 42.6300), (20000, -106.6950, 42.6100), (27000, -106.7170, 42.5550),
    (34000, -106.8400, 42.4900)])
road("KORTES", "", "Kortes", "Rd", [(100, -106.7200, 42.5480), (10000, -106.8800, 42.3000)])
road("PATHFINDER", "", "Pathfinder Dam", "Rd", [(100, -106.8380, 42.4920), (6000, -106.8550, 42.4650)])
road("COLECREEK", "", "Cole Creek", "Rd", [(1000, -106.2400, 42.8780), (14000, -106.2000, 43.0400)])
road("ORMSBY", "", "Ormsby", "Rd", [(1000, -106.3150, 42.8800), (10000, -106.2900, 42.9700)])
road("CIRCLE", "", "Circle", "Dr", [(100, -106.3400, 42.7350), (1500, -106.3000, 42.7280),
                                    (3000, -106.2700, 42.7380)])
road("CRIMSONDAWN", "", "Crimson Dawn", "Rd", [(100, -106.3600, 42.7250), (5000, -106.4200, 42.7000)])
road("HORSERANCH", "", "Horse Ranch", "Rd", [(1000, -106.5000, 43.1000), (10000, -106.6500, 43.1500)])
road("HILAND", "", "Hiland", "Rd", [(1000, -107.0000, 43.0900), (20000, -107.3500, 43.1100)])
road("BUFFALOCREEK", "", "Buffalo Creek", "Rd", [(1000, -107.1000, 43.1500), (20000, -107.2000, 43.4000)])
road("TEAPOT", "", "Teapot", "Ave", [(100, -106.2950, 43.4100), (2000, -106.2700, 43.4100)])
road("ANTELOPE", "", "Antelope", "St", [(100, -106.2520, 43.4080), (2000, -106.2520, 43.4280)])

# --------------------------------------------------------------------------------------------
# MSAG ranges: (road id, community, esn, low, high, parity, zip or None (Casper by area), random addresses)
# --------------------------------------------------------------------------------------------
C, M, E, B = "Casper", "Mills", "Evansville", "Bar Nunn"
RANGES = [
    # Casper city (ESN 100)
    ("E1", C, "100", 1, 4999, "both", None, 4), ("W1", C, "100", 1, 1799, "both", None, 2),
    ("E2", C, "100", 1, 4999, "both", None, 5), ("W2", C, "100", 1, 1799, "both", None, 3),
    ("E7", C, "100", 1, 3999, "both", None, 4),
    ("E12", C, "100", 1, 4999, "both", None, 4), ("W12", C, "100", 1, 1799, "both", None, 3),
    ("E15", C, "100", 1, 4999, "both", None, 4), ("W15", C, "100", 1, 1799, "both", None, 3),
    ("E21", C, "100", 1, 4999, "both", None, 4), ("W21", C, "100", 1, 5999, "both", None, 4),
    ("EYELL", C, "100", 1, 2199, "both", None, 3), ("WYELL", C, "100", 1, 1799, "both", None, 3),
    ("WCOLLINS", C, "100", 1, 1799, "both", None, 3), ("EMIDWEST", C, "100", 1, 2199, "both", None, 3),
    ("EA", C, "100", 1, 2199, "both", None, 3), ("EK", C, "100", 1, 2199, "both", None, 3),
    ("NCENTER", C, "100", 1, 2399, "both", None, 4), ("SCENTER", C, "100", 1, 5199, "both", None, 5),
    ("NDAVID", C, "100", 1, 1999, "both", None, 2), ("SDAVID", C, "100", 1, 2999, "both", None, 4),
    ("NWOLCOTT", C, "100", 1, 999, "both", None, 2), ("SWOLCOTT", C, "100", 1, 3999, "both", None, 4),
    ("NDURBIN", C, "100", 1, 1299, "both", None, 2), ("SDURBIN", C, "100", 1, 2999, "both", None, 4),
    ("NPOPLAR", C, "100", 1, 2399, "both", None, 3), ("SPOPLAR", C, "100", 1, 5199, "both", None, 5),
    ("SBEECH", C, "100", 1, 2999, "both", None, 4), ("SELM", C, "100", 1, 3999, "both", None, 4),
    ("SMCKINLEY", C, "100", 1, 3999, "both", None, 4), ("SCONWELL", C, "100", 1, 2999, "both", None, 4),
    ("SBEVERLY", C, "100", 1, 4999, "both", None, 5), ("SWALNUT", C, "100", 1, 3999, "both", None, 4),
    ("CY", C, "100", 100, 4999, "both", None, 6),
    ("WYO_SE", C, "100", 1, 3999, "both", None, 4), ("WYO_SW", C, "100", 1, 3999, "both", None, 4),
    ("WESTRIDGE", C, "100", 100, 2999, "both", None, 4), ("WATERFORD", C, "100", 1000, 2999, "both", None, 4),
    ("COLLEGE", C, "100", 1, 999, "both", None, 1), ("EVENTS", C, "100", 1, 999, "both", None, 1),
    ("SAGEWOOD", C, "100", 100, 599, "both", None, 3), ("RIDGECREST", C, "100", 100, 399, "both", None, 3),
    ("KINGSBORO", C, "100", 100, 599, "both", None, 3),
    ("CASPERMTN", C, "100", 4000, 5199, "both", None, 2),
    ("ROBERTSON", C, "100", 100, 2599, "even", None, 3),
    # Mills (ESN 110)
    ("ROBERTSON", M, "110", 100, 2599, "odd", "82644", 3),
    ("WYELL", M, "110", 1900, 4699, "both", "82644", 4),
    ("M1ST", M, "110", 100, 2799, "both", "82644", 4), ("M2ND", M, "110", 100, 2799, "both", "82644", 3),
    ("M4TH", M, "110", 100, 2799, "both", "82644", 3), ("MFAIRDALE", M, "110", 100, 2799, "both", "82644", 3),
    ("MMAIN", M, "110", 100, 2599, "both", "82644", 4), ("MCENTER", M, "110", 100, 2599, "both", "82644", 3),
    ("MBESSEMER", M, "110", 100, 2599, "both", "82644", 3),
    # Evansville (ESN 120)
    ("EYELL", E, "120", 2300, 4599, "both", "82636", 3),
    ("E1ST", E, "120", 100, 2199, "both", "82636", 4), ("E2ND", E, "120", 100, 2199, "both", "82636", 4),
    ("ELATHROP", E, "120", 100, 2199, "both", "82636", 3), ("EMAIN", E, "120", 100, 1999, "both", "82636", 4),
    ("ECURTIS", E, "120", 100, 1999, "both", "82636", 3), ("EELK", E, "120", 100, 1999, "both", "82636", 3),
    # Bar Nunn (ESN 130)
    ("BRUNWAY", B, "130", 100, 2599, "both", "82601", 6), ("BWARDWELL", B, "130", 100, 2199, "both", "82601", 5),
    ("BNUNN", B, "130", 100, 2199, "both", "82601", 5), ("BMEADOWLARK", B, "130", 100, 2199, "both", "82601", 4),
    ("BHANGAR", B, "130", 100, 1299, "both", "82601", 3),
    # Metro rural (ESN 200 / 210 / 220), postal community Casper
    ("E2", C, "200", 5400, 8999, "both", "82609", 3),
    ("CASPERMTN", C, "200", 5300, 7899, "both", "82601", 2),
    ("HATSIX", C, "200", 1000, 8999, "both", "82609", 5),
    ("BESSEMERBEND", C, "200", 1000, 9999, "both", "82604", 5),
    ("GOOSEEGG", C, "200", 100, 3999, "both", "82604", 3),
    ("ALCOVA", C, "200", 1000, 11899, "both", "82604", 4),
    ("WYELL", C, "210", 4800, 17199, "both", "82604", 4),
    ("POISONSPIDER", C, "210", 1000, 11999, "both", "82604", 4),
    ("AIRPORT", C, "210", 1000, 9999, "both", "82604", 3),
    ("SALTCREEK", C, "210", 1000, 11999, "both", "82601", 4),
    ("EYELL", C, "220", 4700, 12999, "both", "82609", 4),
    ("COLECREEK", C, "220", 1000, 13999, "both", "82609", 4),
    ("ORMSBY", C, "220", 1000, 9999, "both", "82601", 4),
    # Casper Mountain (ESN 230)
    ("CASPERMTN", C, "230", 8400, 11999, "both", "82601", 4),
    ("CIRCLE", C, "230", 100, 2999, "both", "82601", 4),
    ("CRIMSONDAWN", C, "230", 100, 4999, "both", "82601", 3),
    # North / Midwest-Edgerton / Northwest (ESN 300 / 310 / 320)
    ("SALTCREEK", C, "300", 12600, 21899, "both", "82601", 3),
    ("HORSERANCH", C, "300", 1000, 9999, "both", "82601", 3),
    ("SALTCREEK", "Midwest", "310", 22600, 35499, "both", "82643", 3),
    ("SALTCREEK", "Edgerton", "310", 35500, 38999, "both", "82635", 2),
    ("TEAPOT", "Midwest", "310", 100, 1999, "both", "82643", 5),
    ("ANTELOPE", "Edgerton", "310", 100, 1999, "both", "82635", 4),
    ("HILAND", "Powder River", "320", 1000, 19999, "both", "82648", 3),
    ("BUFFALOCREEK", "Powder River", "320", 1000, 19999, "both", "82648", 3),
    # West rural (ESN 330)
    ("WYELL", C, "330", 17700, 29999, "both", "82604", 2),
    ("WYELL", "Powder River", "330", 30000, 44999, "both", "82648", 3),
    ("POISONSPIDER", C, "330", 12500, 30999, "both", "82604", 3),
    ("ALCOVA", C, "330", 12600, 19399, "both", "82604", 2),
    # Alcova-Pathfinder (ESN 340)
    ("ALCOVA", "Alcova", "340", 20100, 33999, "both", "82620", 4),
    ("KORTES", "Alcova", "340", 100, 9999, "both", "82620", 3),
    ("PATHFINDER", "Alcova", "340", 100, 5999, "both", "82620", 2),
]

# Named places and fixture residences: (road id, community, house number, place name)
FIXED = [
    ("NDAVID", C, 201, "Casper Police Department (Hall of Justice)"),
    ("NDAVID", C, 200, "Casper City Hall"),
    ("NCENTER", C, 200, "Natrona County Courthouse"),
    ("E2", C, 1233, "Banner Wyoming Medical Center"),
    ("E2", C, 307, "Natrona County Public Library"),
    ("E2", C, 4400, "Walmart Supercenter"),
    ("E2", C, 1951, "Albertsons"),
    ("W1", C, 215, "Loaf 'N Jug #12"),
    ("WYO_SE", C, 601, "Eastridge Mall"),
    ("E12", C, 3500, "Kelly Walsh High School"),
    ("SELM", C, 930, "Natrona County High School"),
    ("SELM", C, 1440, "Dean Morgan Middle School"),
    ("CY", C, 2211, "CY Middle School"),
    ("WATERFORD", C, 1421, "Centennial Middle School"),
    ("E15", C, 2500, "Casper Classical Academy"),
    ("COLLEGE", C, 125, "Casper College"),
    ("EVENTS", C, 1, "Casper Events Center"),
    ("NWOLCOTT", C, 221, "Casper Fire-EMS Station 1"),
    ("E12", C, 1820, "Casper Fire-EMS Station 2"),
    ("CY", C, 3401, "Casper Fire-EMS Station 3"),
    ("SPOPLAR", C, 1700, "Casper Fire-EMS Station 4"),
    ("WYO_SW", C, 2800, "Casper Fire-EMS Station 5"),
    ("E15", C, 3901, "Casper Fire-EMS Station 6"),
    ("EK", C, 1800, "City of Casper Public Services Yard"),
    ("M4TH", M, 704, "Mills Town Hall & Police Department"),
    ("MMAIN", M, 1201, "Mills Fire Department"),
    ("ECURTIS", E, 235, "Evansville Town Hall & Police Department"),
    ("ECURTIS", E, 280, "Evansville Fire Department"),
    ("EMAIN", E, 1100, "Evansville Elementary School"),
    ("EYELL", E, 4350, "Sinclair Casper Refinery"),
    ("BRUNWAY", B, 2201, "Bar Nunn Town Hall"),
    ("BRUNWAY", B, 2219, "Bar Nunn Fire Station"),
    ("HATSIX", C, 2400, "Natrona County Fire District Station 41"),
    ("AIRPORT", C, 8400, "Natrona County Fire District Station 42"),
    ("AIRPORT", C, 8500, "Casper/Natrona County International Airport"),
    ("POISONSPIDER", C, 14100, "Natrona County Fire District Station 43"),
    ("POISONSPIDER", C, 13900, "Poison Spider School"),
    ("WYELL", C, 5880, "Metro Animal Services Shelter"),
    ("WYELL", C, 9100, "Central Wyoming Regional Water Treatment Plant"),
    ("CASPERMTN", C, 9600, "Casper Mountain Fire Station"),
    ("TEAPOT", "Midwest", 520, "Midwest School"),
    ("TEAPOT", "Midwest", 301, "Midwest Fire Hall"),
    ("TEAPOT", "Midwest", 611, "NCSO Midwest Substation"),
    ("ANTELOPE", "Edgerton", 210, "Edgerton Fire Hall"),
    ("ALCOVA", "Alcova", 26800, "Alcova-Pathfinder Fire Station"),
    ("ALCOVA", "Alcova", 26950, "NCSO Alcova Substation"),
    # residences used as test fixtures (hazards, ambiguous streets)
    ("SBEVERLY", C, 1717, ""),
    ("SWALNUT", C, 2418, ""),
    ("NPOPLAR", C, 1133, ""),
    ("WYO_SW", C, 1515, ""),
    ("M2ND", M, 1412, ""),
    ("MMAIN", M, 120, ""), ("EMAIN", E, 120, ""),
    ("M1ST", M, 210, ""), ("E1ST", E, 210, ""),
    ("MCENTER", M, 1000, ""), ("NCENTER", C, 1000, ""),
    ("ELATHROP", E, 845, ""),
    ("BNUNN", B, 1307, ""),
    ("CRIMSONDAWN", C, 2150, ""),
    ("COLECREEK", C, 9250, ""),
    ("HILAND", "Powder River", 12400, ""),
    ("TEAPOT", "Midwest", 1010, ""),
    ("KORTES", "Alcova", 3300, ""),
]

TARGET_ADDRESSES = 400


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------
def locate(rid: str, n: int, side: str | None = None):
    """Point for house number n on road rid; side 'odd' = left of increasing numbers, 'even' = right."""
    knots = ROADS[rid][4]
    assert knots[0][0] <= n <= knots[-1][0], (rid, n)
    for (n0, x0, y0), (n1, x1, y1) in zip(knots, knots[1:]):
        if n0 <= n <= n1:
            break
    t = (n - n0) / (n1 - n0)
    x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    if side is None:
        side = "odd" if n % 2 else "even"
    k = math.cos(math.radians(y))
    mx, my = (x1 - x0) * k * 111320.0, (y1 - y0) * 111320.0
    length = math.hypot(mx, my)
    nx, ny = -my / length, mx / length  # left normal in metres
    if side == "even":
        nx, ny = -nx, -ny
    return x + nx * SETBACK_M / (111320.0 * k), y + ny * SETBACK_M / 111320.0


def casper_zip(lon: float, lat: float) -> str:
    if lon > -106.300:
        return "82609"
    if lon < -106.345 or lat < 42.815:
        return "82604"
    return "82601"


def shp(points) -> Polygon:
    return Polygon(points)


ESZ_POLY = {esn: shp(v[4]) for esn, v in ESZ.items()}
BEAT_POLY = {code: shp(v[2]) for code, v in BEATS.items()}
ALL_EDGES = unary_union([MultiLineString([list(p.exterior.coords)]) for p in
                         list(ESZ_POLY.values()) + list(BEAT_POLY.values())])


def esz_of(x: float, y: float) -> str | None:
    hits = [esn for esn, p in ESZ_POLY.items() if p.contains(Point(x, y))]
    return hits[0] if len(hits) == 1 else None


def well_placed(x: float, y: float, esn: str) -> bool:
    pt = Point(x, y)
    return ESZ_POLY[esn].contains(pt) and ALL_EDGES.distance(pt) > MARGIN_DEG


def check_range(rid, esn, low, high, parity):
    sides = ["odd", "even"] if parity == "both" else [parity]
    for i in range(41):
        n = low + (high - low) * i // 40
        for side in sides:
            x, y = locate(rid, n, side)
            assert ESZ_POLY[esn].contains(Point(x, y)), f"range {rid} {low}-{high} leaves ESZ {esn} at {n} {side}"


def resolve_beat(x: float, y: float) -> str:
    pt = Point(x, y)
    hits = [c for c, p in BEAT_POLY.items() if p.contains(pt)]
    specific = [c for c in hits if BEATS[c][0] != "NCSO"]
    if specific:
        assert len(specific) == 1, (x, y, hits)
        return specific[0]
    assert len(hits) == 1, (x, y, hits)
    return hits[0]


def random_point_in(poly: Polygon, rng: random.Random, avoid=()) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        pt = Point(x, y)
        if poly.contains(pt) and poly.exterior.distance(pt) > 0.002 and not any(a.contains(pt) for a in avoid):
            return r6(x), r6(y)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------
def build_boundaries():
    out = [{"code": "NATRONA", "name": "Natrona County", "kind": "county", "polygon": ring(COUNTY)}]
    for code, name, pts in [("BAR_NUNN", "Town of Bar Nunn", BAR_NUNN), ("CASPER", "City of Casper", CASPER),
                            ("EVANSVILLE", "Town of Evansville", EVANSVILLE), ("MILLS", "Town of Mills", MILLS)]:
        out.append({"code": code, "name": name, "kind": "municipality", "polygon": ring(pts)})
    for code in sorted(NEIGHBOURS):
        name, pts = NEIGHBOURS[code]
        out.append({"code": code, "name": name, "kind": "neighbour_county", "polygon": ring(pts)})
    return out


def agency(code, name, kind, disciplines, phone, boundary, accepts_text=False, after_hours_only=False):
    assert re.fullmatch(r"\d{10}", phone), phone
    return {"code": code, "name": name, "kind": kind, "disciplines": disciplines, "non_emergency_number": phone,
            "accepts_text": accepts_text, "after_hours_only": after_hours_only, "boundary": boundary}


def build_agencies():
    a = [
        agency("CPD", "Casper Police Department", "law", ["law"], "3072358278", "CASPER"),
        agency("EPD", "Evansville Police Department", "law", ["law"], "3075550112", "EVANSVILLE"),
        agency("MPD", "Mills Police Department", "law", ["law"], "3075550111", "MILLS"),
        agency("NCSO", "Natrona County Sheriff's Office", "law", ["law"], "3072358279", "NATRONA"),
        agency("APFD", "Alcova-Pathfinder Volunteer Fire Department", "fire", ["fire"], "3075550127", None),
        agency("BNFD", "Bar Nunn Volunteer Fire Department", "fire", ["fire"], "3075550125", "BAR_NUNN"),
        agency("CFD", "Casper Fire-EMS Department", "fire", ["fire", "ems"], "3075550121", "CASPER"),
        agency("CMFD", "Casper Mountain Fire Department", "fire", ["fire"], "3075550126", None),
        agency("EFD", "Evansville Fire Department", "fire", ["fire"], "3075550124", "EVANSVILLE"),
        agency("MEFD", "Midwest-Edgerton Volunteer Fire Department", "fire", ["fire"], "3075550128", None),
        agency("MFD", "Mills Fire Department", "fire", ["fire"], "3075550123", "MILLS"),
        agency("NCFD", "Natrona County Fire District", "fire", ["fire"], "3075550122", "NATRONA"),
        agency("BHEMS", "Banner Health EMS (Banner Wyoming Medical Center)", "ems", ["ems"], "3075550131",
               "NATRONA"),
        agency("CPU", "City of Casper Public Utilities", "utility", ["utility"], "3075550141", "CASPER",
               after_hours_only=True),
        agency("CWRW", "Central Wyoming Regional Water System", "utility", ["utility"], "3075550142", None,
               after_hours_only=True),
        agency("MAS", "Metro Animal Services", "animal", ["animal"], "3075550151", None, after_hours_only=True),
    ]
    psaps = [
        ("CARBON_PSAP", "Carbon County Sheriff's Office Dispatch (Rawlins)", "3075550103", "CARBON", False),
        ("CONVERSE_PSAP", "Converse County Combined Dispatch (Douglas)", "3075550101", "CONVERSE", True),
        ("FREMONT_PSAP", "Fremont County Sheriff's Office Dispatch (Lander)", "3075550102", "FREMONT", True),
        ("HOT_SPRINGS_PSAP", "Hot Springs County Dispatch (Thermopolis)", "3075550106", "HOT_SPRINGS", False),
        ("JOHNSON_PSAP", "Johnson County Sheriff's Office Dispatch (Buffalo)", "3075550104", "JOHNSON", True),
        ("WASHAKIE_PSAP", "Washakie County Combined Communications (Worland)", "3075550105", "WASHAKIE", False),
    ]
    for code, name, phone, boundary, text in psaps:
        a.append(agency(code, name, "psap", ["law", "fire", "ems"], phone, boundary, accepts_text=text))
    return a


def build_streets():
    rows = []
    for rid, community, esn, low, high, parity, _zip, _count in RANGES:
        prefix, name, suffix, post, _ = ROADS[rid]
        check_range(rid, esn, low, high, parity)
        rows.append({"prefix": prefix, "name": name, "suffix": suffix, "post": post, "community": community,
                     "low": low, "high": high, "parity": parity, "esn": esn})
    rows.sort(key=lambda r: (r["community"], r["name"], r["suffix"], r["prefix"], r["post"], r["low"],
                             r["parity"]))
    return rows


def range_for(rid, community, n):
    hits = [r for r in RANGES if r[0] == rid and r[1] == community and r[3] <= n <= r[4]
            and (r[5] == "both" or (r[5] == "odd") == (n % 2 == 1))]
    assert len(hits) == 1, (rid, community, n, hits)
    return hits[0]


def make_address(rid, community, n, place=""):
    rng_row = range_for(rid, community, n)
    esn, zip_ = rng_row[2], rng_row[6]
    x, y = locate(rid, n)
    if not well_placed(x, y, esn):
        return None
    prefix, name, suffix, post, _ = ROADS[rid]
    return {"house_number": n, "prefix": prefix, "street_name": name, "suffix": suffix, "post": post, "unit": "",
            "community": community, "state": "WY", "zip": zip_ or casper_zip(x, y), "lat": r6(y), "lon": r6(x),
            "esn": esn, "place_name": place}


def addr_key(a):
    return (a["house_number"], a["prefix"], a["street_name"], a["suffix"], a["post"], a["community"])


def build_addresses(rng: random.Random):
    out, seen = [], set()
    for rid, community, n, place in FIXED:
        a = make_address(rid, community, n, place)
        assert a is not None, f"fixed address {n} {rid} {community} is too close to a boundary"
        assert addr_key(a) not in seen
        seen.add(addr_key(a))
        out.append(a)
    for rid, community, esn, low, high, parity, _zip, count in RANGES:
        made, tries = 0, 0
        while made < count:
            tries += 1
            assert tries < 5000, (rid, community, esn)
            n = rng.randint(low, high)
            if parity == "odd" and n % 2 == 0 or parity == "even" and n % 2 == 1:
                n = n + 1 if n < high else n - 1
            a = make_address(rid, community, n)
            if a is None or addr_key(a) in seen:
                continue
            seen.add(addr_key(a))
            out.append(a)
            made += 1
    for a in out:
        assert esz_of(a["lon"], a["lat"]) == a["esn"], a
        beat = resolve_beat(a["lon"], a["lat"])
        assert BEATS[beat][0] == ESZ[a["esn"]][1], (a, beat)
    out.sort(key=lambda a: (a["community"], a["street_name"], a["suffix"], a["prefix"], a["post"],
                            a["house_number"]))
    return out


def find(addresses, place):
    hits = [a for a in addresses if a["place_name"] == place]
    assert len(hits) == 1, place
    return hits[0]


def one_line(a):
    street = " ".join(p for p in (str(a["house_number"]), a["prefix"], a["street_name"], a["suffix"], a["post"]) if p)
    return f"{street}, {a['community']}, WY {a['zip']}"


STATIONS = [
    # code, agency, name, place name of its address
    ("CPD-HQ", "CPD", "Casper Police Department - Hall of Justice", "Casper Police Department (Hall of Justice)"),
    ("NCSO-HQ", "NCSO", "Natrona County Sheriff's Office - Hall of Justice",
     "Casper Police Department (Hall of Justice)"),
    ("NCSO-MIDWEST", "NCSO", "NCSO Midwest Substation", "NCSO Midwest Substation"),
    ("NCSO-ALCOVA", "NCSO", "NCSO Alcova Substation", "NCSO Alcova Substation"),
    ("MPD-HQ", "MPD", "Mills Police Department", "Mills Town Hall & Police Department"),
    ("EPD-HQ", "EPD", "Evansville Police Department", "Evansville Town Hall & Police Department"),
    ("CFD-1", "CFD", "Casper Fire-EMS Station 1 (Headquarters)", "Casper Fire-EMS Station 1"),
    ("CFD-2", "CFD", "Casper Fire-EMS Station 2", "Casper Fire-EMS Station 2"),
    ("CFD-3", "CFD", "Casper Fire-EMS Station 3", "Casper Fire-EMS Station 3"),
    ("CFD-4", "CFD", "Casper Fire-EMS Station 4", "Casper Fire-EMS Station 4"),
    ("CFD-5", "CFD", "Casper Fire-EMS Station 5", "Casper Fire-EMS Station 5"),
    ("CFD-6", "CFD", "Casper Fire-EMS Station 6", "Casper Fire-EMS Station 6"),
    ("NCFD-41", "NCFD", "NCFD Station 41 - Hat Six", "Natrona County Fire District Station 41"),
    ("NCFD-42", "NCFD", "NCFD Station 42 - Airport", "Natrona County Fire District Station 42"),
    ("NCFD-43", "NCFD", "NCFD Station 43 - Poison Spider", "Natrona County Fire District Station 43"),
    ("MFD-11", "MFD", "Mills Fire Station 11", "Mills Fire Department"),
    ("EFD-21", "EFD", "Evansville Fire Station 21", "Evansville Fire Department"),
    ("BNFD-31", "BNFD", "Bar Nunn Fire Station 31", "Bar Nunn Fire Station"),
    ("CMFD-51", "CMFD", "Casper Mountain Fire Station 51", "Casper Mountain Fire Station"),
    ("APFD-61", "APFD", "Alcova-Pathfinder Fire Station 61", "Alcova-Pathfinder Fire Station"),
    ("MEFD-71", "MEFD", "Midwest Fire Hall 71", "Midwest Fire Hall"),
    ("MEFD-72", "MEFD", "Edgerton Fire Hall 72", "Edgerton Fire Hall"),
    ("BHEMS-1", "BHEMS", "Banner EMS Post 1 - Medical Center", "Banner Wyoming Medical Center"),
    ("BHEMS-2", "BHEMS", "Banner EMS Post 2 - West (CFD Station 3)", "Casper Fire-EMS Station 3"),
    ("BHEMS-3", "BHEMS", "Banner EMS Post 3 - North (Bar Nunn)", "Bar Nunn Fire Station"),
    ("BHEMS-4", "BHEMS", "Banner EMS Post 4 - South (CFD Station 5)", "Casper Fire-EMS Station 5"),
    ("MAS-SHELTER", "MAS", "Metro Animal Services Shelter", "Metro Animal Services Shelter"),
    ("CPU-YARD", "CPU", "City of Casper Public Services Yard", "City of Casper Public Services Yard"),
    ("CWRW-PLANT", "CWRW", "Central Wyoming Regional Water Treatment Plant",
     "Central Wyoming Regional Water Treatment Plant"),
]


def build_stations(addresses):
    out = []
    for code, ag, name, place in STATIONS:
        a = find(addresses, place)
        out.append({"code": code, "agency": ag, "name": name, "address": one_line(a), "lat": a["lat"],
                    "lon": a["lon"]})
    out.sort(key=lambda s: s["code"])
    return out


def build_units(rng: random.Random, stations, addresses):
    st = {s["code"]: s for s in stations}
    towns = [shp(p) for p in (CASPER, MILLS, EVANSVILLE, BAR_NUNN)]
    units = []

    def unit(call_sign, ag, type_, station, lat=None, lon=None, post=None):
        if lat is None:
            s = st[station]
            lat, lon = r6(s["lat"] + rng.uniform(-0.0002, 0.0002)), r6(s["lon"] + rng.uniform(-0.0002, 0.0002))
        units.append({"call_sign": call_sign, "agency": ag, "type": type_, "station": station, "lat": lat,
                      "lon": lon, "post": post})

    def in_beat(call_sign, ag, beat, station, avoid=()):
        x, y = random_point_in(BEAT_POLY[beat], rng, avoid)
        unit(call_sign, ag, "patrol", station, y, x)

    def at_school(call_sign, ag, school, station):
        a = find(addresses, school)
        unit(call_sign, ag, "sro", station, a["lat"], a["lon"], school)

    # Casper PD: 2 sergeants, 18 patrol (3 per beat), 2 detectives, 6 SROs
    unit("CPD11", "CPD", "supervisor", "CPD-HQ")
    unit("CPD12", "CPD", "supervisor", "CPD-HQ")
    for i in range(18):
        in_beat(f"CPD{21 + i}", "CPD", f"CPD-{i // 3 + 1}", "CPD-HQ")
    unit("CPD41", "CPD", "detective", "CPD-HQ")
    unit("CPD42", "CPD", "detective", "CPD-HQ")
    for i, school in enumerate(["Kelly Walsh High School", "Natrona County High School", "Dean Morgan Middle School",
                                "CY Middle School", "Centennial Middle School", "Casper Classical Academy"]):
        at_school(f"CPD{61 + i}", "CPD", school, "CPD-HQ")
    # Sheriff: 1 supervisor, 10 patrol across the four districts (outside the towns), 2 rural SROs
    unit("NCSO11", "NCSO", "supervisor", "NCSO-HQ")
    plan = [("NCSO-1", "NCSO-HQ")] * 4 + [("NCSO-2", "NCSO-MIDWEST")] * 2 + [("NCSO-3", "NCSO-HQ")] * 2 + \
        [("NCSO-4", "NCSO-ALCOVA")] * 2
    for i, (beat, station) in enumerate(plan):
        in_beat(f"NCSO{21 + i}", "NCSO", beat, station, avoid=towns)
    at_school("NCSO61", "NCSO", "Midwest School", "NCSO-MIDWEST")
    at_school("NCSO62", "NCSO", "Poison Spider School", "NCSO-HQ")
    # Mills and Evansville PD
    for i in range(4):
        in_beat(f"MPD{21 + i}", "MPD", "MPD-1", "MPD-HQ")
    for i in range(3):
        in_beat(f"EPD{21 + i}", "EPD", "EPD-1", "EPD-HQ")
    at_school("EPD61", "EPD", "Evansville Elementary School", "EPD-HQ")
    # Casper Fire-EMS
    for n in range(1, 7):
        unit(f"E{n}", "CFD", "engine", f"CFD-{n}")
    unit("L1", "CFD", "ladder", "CFD-1")
    unit("L2", "CFD", "ladder", "CFD-5")
    unit("R1", "CFD", "rescue", "CFD-2")
    unit("BC1", "CFD", "battalion", "CFD-1")
    # Other fire departments
    for cs, ag, type_, station in [
        ("E11", "MFD", "engine", "MFD-11"), ("BR11", "MFD", "brush", "MFD-11"),
        ("E21", "EFD", "engine", "EFD-21"), ("T21", "EFD", "tender", "EFD-21"),
        ("E31", "BNFD", "engine", "BNFD-31"), ("BR31", "BNFD", "brush", "BNFD-31"),
        ("E41", "NCFD", "engine", "NCFD-41"),
        ("T42", "NCFD", "tender", "NCFD-42"), ("BR43", "NCFD", "brush", "NCFD-43"),
        ("E51", "CMFD", "engine", "CMFD-51"), ("BR51", "CMFD", "brush", "CMFD-51"),
        ("E61", "APFD", "engine", "APFD-61"), ("T61", "APFD", "tender", "APFD-61"),
        ("E71", "MEFD", "engine", "MEFD-71"), ("T71", "MEFD", "tender", "MEFD-71"),
        ("BR72", "MEFD", "brush", "MEFD-72"),
    ]:
        unit(cs, ag, type_, station)
    # Banner Health EMS: 8 medics
    for n, station in enumerate(["BHEMS-1", "BHEMS-1", "BHEMS-1", "BHEMS-2", "BHEMS-2", "BHEMS-3", "BHEMS-4",
                                 "BHEMS-4"], start=1):
        unit(f"M{n}", "BHEMS", "medic", station)
    unit("AC1", "MAS", "animal_control", "MAS-SHELTER")
    unit("AC2", "MAS", "animal_control", "MAS-SHELTER")
    unit("UTIL1", "CPU", "utility_crew", "CPU-YARD")
    unit("UTIL2", "CPU", "utility_crew", "CPU-YARD")
    unit("UTIL3", "CWRW", "utility_crew", "CWRW-PLANT")
    units.sort(key=lambda u: (u["agency"], u["type"], u["call_sign"]))
    return units


def build_beats():
    return [{"code": code, "agency": ag, "name": name, "polygon": ring(pts)}
            for code, (ag, name, pts) in sorted(BEATS.items())]


def build_eszs():
    return [{"esn": esn, "name": name, "law": law, "fire": fire, "ems": ems, "polygon": ring(pts)}
            for esn, (name, law, fire, ems, pts) in sorted(ESZ.items())]


def hazard_address(addresses, n, prefix, name, suffix, community, post=""):
    hits = [a for a in addresses if (a["house_number"], a["prefix"], a["street_name"], a["suffix"], a["post"],
                                     a["community"]) == (n, prefix, name, suffix, post, community)]
    assert len(hits) == 1, (n, name, community)
    return {"house_number": n, "prefix": prefix, "street_name": name, "suffix": suffix, "community": community}


def build_hazards(addresses):
    H = [
        (1717, "S", "Beverly", "St", C, "dogs",
         "Two aggressive pit bulls loose in the back yard; call the resident out before entering the gate.", 0,
         None),
        (1717, "S", "Beverly", "St", C, "weapons",
         "Resident keeps multiple long guns; 2024 domestic call with a firearm displayed. Two-officer response.",
         0, None),
        (4350, "E", "Yellowstone", "Hwy", E, "hazmat",
         "Petroleum refinery: H2S and hydrofluoric acid alkylation unit. Stage upwind; contact the refinery "
         "shift superintendent on arrival.", 800, None),
        (1233, "E", "2nd", "St", C, "oxygen",
         "Hospital bulk liquid-oxygen tank on the north side of the building.", 150, None),
        (2418, "S", "Walnut", "St", C, "oxygen",
         "Home oxygen concentrator and spare cylinders; bedridden patient in the front bedroom.", 0, 365),
        (1412, "", "2nd", "St", M, "weapons",
         "Subject reported to carry a handgun; prior threats toward officers.", 0, 180),
        (2150, "", "Crimson Dawn", "Rd", C, "access",
         "Gate code 1942#. Driveway impassable Dec-Apr without chains / 4x4; use the lower turnout.", 0, 120),
        (9250, "", "Cole Creek", "Rd", C, "access",
         "Locked ranch gate; key with the neighbour at 9300 Cole Creek Rd. Cattle guard 200 m in.", 0, None),
        (845, "", "Lathrop", "Rd", E, "officer_safety",
         "Occupant known to resist arrest and to have assaulted an officer; request backup before contact.", 0,
         90),
        (1307, "", "Nunn", "Way", B, "dogs", "Large dog (mastiff) inside; bites. Owner will secure it if asked.",
         0, 60),
        (9100, "W", "Yellowstone", "Hwy", C, "hazmat",
         "Chlorine gas (1-ton cylinders) in the chemical building. Approach from the west; evacuate downwind.",
         300, None),
        (8500, "", "Airport", "Rd", C, "hazmat", "Jet-A fuel farm (250,000 gal) south of the terminal.", 150,
         None),
        (12400, "", "Hiland", "Rd", "Powder River", "officer_safety",
         "Previous barricade incident with rifle (2023). Stage at the county road junction.", 0, None),
        (3500, "E", "12th", "St", C, "access",
         "Knox box at the main east entrance; SRO office by door 4. Fire alarm panel in the east vestibule.", 0,
         None),
        (1010, "", "Teapot", "Ave", "Midwest", "oxygen", "Home oxygen in use; patient is a smoker.", 0, 365),
        (3300, "", "Kortes", "Rd", "Alcova", "dogs", "Livestock guardian dogs loose on the property.", 0, 30),
        (1133, "N", "Poplar", "St", C, "officer_safety",
         "Known drug residence; occupants have fled through the rear alley. Cover the back.", 0, 30),
    ]
    out = []
    for n, prefix, name, suffix, community, kind, text, radius, expires in H:
        out.append({"address": hazard_address(addresses, n, prefix, name, suffix, community), "kind": kind,
                    "text": text, "radius_m": radius, "expires_in_days": expires})
    return out


def build_lines():
    lines = [{"code": f"911-{n}", "kind": "911", "label": f"9-1-1 Trunk {n}"} for n in range(1, 7)]
    admin = [
        ("Casper Police non-emergency (235-8278)", "CPD"),
        ("Casper Police non-emergency rollover (235-8279)", "CPD"),
        ("Natrona County Sheriff non-emergency", "NCSO"),
        ("Mills Police non-emergency", "MPD"),
        ("Evansville Police non-emergency", "EPD"),
        ("Casper Fire-EMS administration", "CFD"),
        ("Natrona County Fire District administration", "NCFD"),
        ("Banner Health EMS business line", "BHEMS"),
        ("City of Casper Public Utilities after-hours", "CPU"),
        ("Central Wyoming Regional Water after-hours", "CWRW"),
        ("Metro Animal Services after-hours", "MAS"),
        ("Ring-down: Banner WMC Emergency Department", None),
        ("Ring-down: Wyoming Highway Patrol dispatch", None),
        ("Ring-down: Casper/Natrona County International Airport operations", None),
        ("Internal: shift supervisor desk", None),
        ("Internal: communications manager", None),
        ("Outbound / call-back line", None),
        ("TTY / relay service line", None),
    ]
    for n, (label, ag) in enumerate(admin, start=1):
        lines.append({"code": f"ADMIN-{n:02d}", "kind": "admin", "label": label, "agency": ag})
    return lines


TELECOMMUNICATORS = [
    ("Amanda", "Reyes"), ("Brian", "Kowalski"), ("Carla", "Nguyen"), ("Derek", "Hollister"), ("Erin", "McAllister"),
    ("Frank", "Delgado"), ("Grace", "Whitfield"), ("Hunter", "Lindqvist"), ("Isabel", "Ortega"),
    ("Jared", "Pennington"), ("Kayla", "Brandt"), ("Logan", "Schaefer"), ("Megan", "Tallman"), ("Nathan", "Okafor"),
    ("Olivia", "Strand"), ("Preston", "Mayfield"), ("Quinn", "Harrington"),
]
SUPERVISORS = [("Rachel", "Buckner"), ("Steven", "Voss"), ("Tamara", "Ellison"), ("Victor", "Salas")]
PARTNERS = [
    ("CPD", "Mark", "Jensen"), ("NCSO", "Dale", "Haskins"), ("MPD", "Lisa", "Carrington"), ("EPD", "Tom", "Bridger"),
    ("CFD", "Kevin", "Sorensen"), ("NCFD", "Janet", "Prue"), ("MFD", "Ray", "Dunlap"), ("EFD", "Colby", "Marsh"),
    ("BNFD", "Hank", "Wheeler"), ("CMFD", "Sara", "Lindgren"), ("APFD", "Wes", "Tollefson"),
    ("MEFD", "Bonnie", "Ruiz"), ("BHEMS", "Paula", "Kinney"),
]


def build_staff():
    staff = []

    def person(username, first, last, role, position=None, agency_=None, domain="pscc.example.org"):
        staff.append({"username": username, "first_name": first, "last_name": last, "role": role,
                      "agency": agency_, "position": position, "email": f"{username}@{domain}"})

    for n, (first, last) in enumerate(TELECOMMUNICATORS, start=1):
        person(f"tc{n:02d}", first, last, "telecommunicator", f"P{(n - 1) % 8 + 1}")
    person("telecom", "Demo", "Telecommunicator", "telecommunicator", "P1")
    for n, (first, last) in enumerate(SUPERVISORS, start=1):
        person(f"sup{n}", first, last, "supervisor")
    person("supervisor", "Demo", "Supervisor", "supervisor")
    person("training", "Wendy", "Calloway", "supervisor")
    person("admin", "Dana", "Whitaker", "admin")
    for code, first, last in PARTNERS:
        person(f"partner-{code.lower()}", first, last, "partner", None, code, "partners.example.org")
    return staff


def build() -> dict:
    rng = random.Random(SEED)
    addresses = build_addresses(rng)
    assert 350 <= len(addresses) <= 450, len(addresses)
    stations = build_stations(addresses)
    return {
        "center": {
            "name": "Casper-Natrona Public Safety Communication Center",
            "short_name": "PSCC",
            "county": "Natrona",
            "state": "WY",
            "non_emergency_number": "3072358278",
            "alt_non_emergency_number": "3072358279",
            "timezone": "America/Denver",
            "answer_phrase": "Natrona County 9-1-1, where is your emergency?",
        },
        "boundaries": build_boundaries(),
        "agencies": build_agencies(),
        "stations": stations,
        "units": build_units(rng, stations, addresses),
        "beats": build_beats(),
        "emergency_service_zones": build_eszs(),
        "streets": build_streets(),
        "addresses": addresses,
        "premise_hazards": build_hazards(addresses),
        "lines": build_lines(),
        "staff": build_staff(),
    }


def dumps(data: dict) -> str:
    text = json.dumps(data, indent=1, ensure_ascii=False)

    def collapse(m):  # keep short scalar arrays ([lon, lat], disciplines) on one line
        return "[" + " ".join(part.strip() for part in m.group(1).split("\n") if part.strip()) + "]"

    return re.sub(r"\[([^\[\]{}\"]*|(?:\s*\"[a-z]+\",?)*\s*)\]", collapse, text) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = dumps(build())
    json.loads(text)  # sanity
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
