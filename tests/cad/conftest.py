"""A small county of our own with known distances (not the demo JSON).

Natrona county is the square lon -106.6..-106.0, lat 42.6..43.1; Converse county (answered by the
CCSO911 PSAP) lies east of it. Casper and Mills both have a Main St. At latitude 42.85 one degree
of latitude is about 111.2 km, so units placed north of 100 Main St, Casper are at known distances:
P3 (sheriff) 0.5 km, P1 (Casper PD) 1.0 km, P2 (Casper PD) 3.0 km.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.calltypes import load_call_types
from incidents.geo import normalise_address
from incidents.models import AddressPoint, Beat, Boundary, EmergencyServiceZone, PremiseHazard, StreetRange
from units.models import Agency, Station, Unit

MAIN_CASPER = (42.850, -106.320)  # lat, lon of 100 Main St, Casper
MAIN_MILLS = (42.840, -106.430)
CONVERSE_POINT = (42.850, -105.800)


def box(lon1, lat1, lon2, lat2):
    return [[lon1, lat1], [lon2, lat1], [lon2, lat2], [lon1, lat2], [lon1, lat1]]


def north_of(point, km):
    return (point[0] + km / 111.2, point[1])


@dataclass
class County:
    agencies: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    addresses: dict = field(default_factory=dict)
    beats: dict = field(default_factory=dict)
    zones: dict = field(default_factory=dict)
    hazards: dict = field(default_factory=dict)


@pytest.fixture
def county(db) -> County:
    from incidents import geography

    c = County()
    for code, name, kind, disciplines, phone in [
        ("CPD", "Casper Police Department", "law", ["law"], "307-235-8278"),
        ("MPD", "Mills Police Department", "law", ["law"], "307-234-6000"),
        ("NCSO", "Natrona County Sheriff", "law", ["law"], "307-235-9282"),
        ("CFD", "Casper Fire-EMS", "fire", ["fire"], "307-235-8222"),
        ("MFD", "Mills Fire", "fire", ["fire"], "307-234-1212"),
        ("AMR", "Wyoming Medical Center EMS", "ems", ["ems"], "307-577-2222"),
        ("CCSO911", "Converse County 911", "psap", [], "307-358-4700"),
    ]:
        c.agencies[code] = Agency.objects.create(code=code, name=name, kind=kind, disciplines=disciplines,
                                                 non_emergency_number=phone)
    a = c.agencies
    Boundary.objects.create(code="NATRONA", name="Natrona County", kind="county", polygon=box(-106.6, 42.6, -106.0, 43.1))
    Boundary.objects.create(code="CONVERSE", name="Converse County", kind="neighbour_county",
                            polygon=box(-106.0, 42.6, -105.4, 43.1), agency=a["CCSO911"])
    Boundary.objects.create(code="CASPER", name="Casper", kind="municipality", polygon=box(-106.40, 42.80, -106.25, 42.90))
    Boundary.objects.create(code="MILLS", name="Mills", kind="municipality", polygon=box(-106.46, 42.82, -106.40, 42.87))
    c.zones["100"] = EmergencyServiceZone.objects.create(esn="100", name="Natrona County", law=a["NCSO"], fire=a["CFD"],
                                                          ems=a["AMR"], polygon=box(-106.6, 42.6, -106.0, 43.1))
    c.zones["101"] = EmergencyServiceZone.objects.create(esn="101", name="Casper", law=a["CPD"], fire=a["CFD"],
                                                          ems=a["AMR"], polygon=box(-106.40, 42.80, -106.25, 42.90))
    c.zones["102"] = EmergencyServiceZone.objects.create(esn="102", name="Mills", law=a["MPD"], fire=a["MFD"],
                                                          ems=a["AMR"], polygon=box(-106.46, 42.82, -106.40, 42.87))
    c.beats["CTY"] = Beat.objects.create(code="CTY", name="County", agency=a["NCSO"], polygon=box(-106.6, 42.6, -106.0, 43.1))
    c.beats["C1"] = Beat.objects.create(code="C1", name="Casper west", agency=a["CPD"], polygon=box(-106.40, 42.80, -106.325, 42.90))
    c.beats["C2"] = Beat.objects.create(code="C2", name="Casper east", agency=a["CPD"], polygon=box(-106.325, 42.80, -106.25, 42.90))
    c.beats["M1"] = Beat.objects.create(code="M1", name="Mills", agency=a["MPD"], polygon=box(-106.46, 42.82, -106.40, 42.87))
    for community, esn in [("Casper", "101"), ("Mills", "102")]:
        StreetRange.objects.create(name="MAIN", suffix="ST", community=community, low=1, high=999, esz=c.zones[esn])
    StreetRange.objects.create(name="ELM", suffix="ST", community="Casper", low=1, high=499, esz=c.zones["101"])
    for key, (lat, lon), community, esn, beat in [
        ("main_casper", MAIN_CASPER, "Casper", "101", "C2"),
        ("main_mills", MAIN_MILLS, "Mills", "102", "M1"),
    ]:
        c.addresses[key] = AddressPoint.objects.create(
            house_number=100, street_name="MAIN", suffix="ST", community=community, lat=lat, lon=lon,
            esz=c.zones[esn], beat=c.beats[beat], search_text=normalise_address("100 MAIN ST"),
        )
    now = timezone.now()
    home = c.addresses["main_casper"]
    c.hazards["dogs"] = PremiseHazard.objects.create(kind="dogs", text="Two aggressive dogs in the back yard",
                                                     address=home, lat=home.lat, lon=home.lon, radius_m=0)
    c.hazards["oxygen"] = PremiseHazard.objects.create(kind="oxygen", text="Oxygen in use next door", lat=42.8505,
                                                       lon=-106.3200, radius_m=100, expires_at=now + timedelta(days=30))
    c.hazards["expired"] = PremiseHazard.objects.create(kind="weapons", text="Expired weapons note", address=home,
                                                        lat=home.lat, lon=home.lon, radius_m=0,
                                                        expires_at=now - timedelta(days=1))
    c.hazards["far"] = PremiseHazard.objects.create(kind="access", text="Gate code 1234", lat=42.86, lon=-106.32, radius_m=50)
    station = Station.objects.create(code="CFD1", agency=a["CFD"], name="Casper Fire Station 1", lat=42.845, lon=-106.32)
    for call_sign, agency, unit_type, km, status in [
        ("P1", "CPD", "patrol", 1.0, "available"),
        ("P2", "CPD", "patrol", 3.0, "available"),
        ("P3", "NCSO", "patrol", 0.5, "available"),
        ("P4", "CPD", "patrol", 0.0, "off_duty"),
        ("S1", "CPD", "supervisor", 1.5, "available"),
        ("E1", "CFD", "engine", -0.556, "available"),
        ("E2", "CFD", "engine", -2.2, "available"),
        ("E3", "CFD", "engine", -5.6, "available"),
        ("ME1", "MFD", "engine", -0.3, "available"),
        ("L1", "CFD", "ladder", -1.1, "available"),
        ("M1", "AMR", "medic", 1.1, "available"),
    ]:
        lat, lon = north_of(MAIN_CASPER, km)
        c.units[call_sign] = Unit.objects.create(call_sign=call_sign, agency=a[agency], unit_type=unit_type, lat=lat, lon=lon,
                                                 status=status, position_reported_at=now,
                                                 station=station if agency == "CFD" else None)
    load_call_types()
    geography.geography_cache_clear()
    return c


@pytest.fixture
def telecommunicator(make_staff):
    return make_staff("telecommunicator", username="tc1")
