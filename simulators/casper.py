"""Fake but real-looking data around Casper, Wyoming (Natrona County).

Street names, ZIP codes and the city centre are real; people, businesses,
house numbers, ESNs and cell sites are invented. Phone numbers are always in
the fictional 307-555 range. Every generator takes a `random.Random`, so the
caller decides what the result is derived from (an ANI, a call id, ...).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

#: Downtown Casper.
CASPER_LAT = 42.8501
CASPER_LON = -106.3252

CITY = "Casper"
STATE = "WY"

#: Invented Emergency Service Numbers per ZIP code.
ESN_BY_ZIP = {"82601": "00401", "82604": "00402", "82609": "00403"}


@dataclass(frozen=True)
class Street:
    prefix: str  # prefix directional, "" when none
    name: str
    suffix: str
    zip_code: str


STREETS: tuple[Street, ...] = (
    Street("E", "2nd", "St", "82601"),
    Street("S", "Center", "St", "82601"),
    Street("", "CY", "Ave", "82604"),
    Street("E", "12th", "St", "82601"),
    Street("S", "Poplar", "St", "82601"),
    Street("W", "Collins", "Dr", "82601"),
    Street("E", "Yellowstone", "Hwy", "82609"),
    Street("S", "Wolcott", "St", "82601"),
    Street("", "Wyoming", "Blvd", "82609"),
    Street("S", "Beverly", "St", "82609"),
    Street("E", "15th", "St", "82601"),
    Street("S", "Durbin", "St", "82601"),
    Street("", "Country Club", "Rd", "82609"),
    Street("S", "Elm", "St", "82601"),
    Street("S", "McKinley", "St", "82601"),
    Street("", "Bryan Stock", "Trl", "82604"),
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Linda", "Michael", "Karen", "David", "Susan",
    "Daniel", "Emily", "Joshua", "Megan", "Tyler", "Ashley", "Cody", "Shelby",
)
LAST_NAMES = (
    "Johnson", "Smith", "Miller", "Anderson", "Peterson", "Nelson", "Larson", "Hansen",
    "Olson", "Martinez", "Garcia", "Thompson", "Baker", "Wright", "Rasmussen", "Yates",
)
BUSINESSES = (
    "Casper Office Supply", "Platte River Dental", "North Platte Title Co",
    "Hilltop Pharmacy", "Wind City Auto Glass", "Sagebrush Veterinary Clinic",
)


@dataclass(frozen=True)
class Carrier:
    name: str  # as shown in ALI
    provider_id: str  # at most 5 characters (legacy ALI field width)
    short_name: str  # as a telecommunicator would say it


WIRELESS_CARRIERS: tuple[Carrier, ...] = (
    Carrier("VERIZON WIRELESS", "VZW", "Verizon"),
    Carrier("AT&T MOBILITY", "ATTMO", "AT&T"),
    Carrier("T-MOBILE USA", "TMOBL", "T-Mobile"),
    Carrier("UNION WIRELESS", "UNION", "Union Wireless"),
)
LANDLINE_CARRIER = Carrier("CENTURYLINK", "CTL", "CenturyLink")
VOIP_CARRIERS: tuple[Carrier, ...] = (
    Carrier("VONAGE", "VONAG", "Vonage"),
    Carrier("SPECTRUM VOICE", "CHTR", "Spectrum"),
)


@dataclass(frozen=True)
class CivicAddress:
    house_number: str
    street: Street
    unit: str = ""

    @property
    def zip_code(self) -> str:
        return self.street.zip_code

    @property
    def esn(self) -> str:
        return ESN_BY_ZIP[self.street.zip_code]

    def street_line(self) -> str:
        """E.g. `1234 S Wolcott St` or `88 CY Ave Apt 3`."""
        parts = [self.house_number, self.street.prefix, self.street.name, self.street.suffix]
        line = " ".join(part for part in parts if part)
        return f"{line} {self.unit}" if self.unit else line


@dataclass(frozen=True)
class CellSite:
    site_id: str
    address: CivicAddress
    lat: float
    lon: float


CELL_SITES: tuple[CellSite, ...] = (
    CellSite("CSPR-014", CivicAddress("1800", STREETS[6]), 42.8493, -106.2931),
    CellSite("CSPR-022", CivicAddress("4100", STREETS[8]), 42.8252, -106.3290),
    CellSite("CSPR-031", CivicAddress("2500", STREETS[2]), 42.8223, -106.3452),
    CellSite("CSPR-047", CivicAddress("700", STREETS[5]), 42.8556, -106.3301),
    CellSite("CSPR-052", CivicAddress("3300", STREETS[12]), 42.8370, -106.2795),
)

SECTORS = ("A-NE", "B-S", "C-NW")


def person(rng: random.Random) -> tuple[str, str]:
    """(first name, last name)."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def address(rng: random.Random, *, unit_chance: float = 0.2) -> CivicAddress:
    street = rng.choice(STREETS)
    unit = f"Apt {rng.randint(1, 24)}" if rng.random() < unit_chance else ""
    return CivicAddress(str(rng.randint(1, 48) * 100 + rng.randint(0, 99)), street, unit)


def fictional_number(rng: random.Random) -> str:
    """A 10-digit number in the fictional 307-555 range."""
    return f"307555{rng.randint(0, 9999):04d}"


def point_near(rng: random.Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    """A point uniformly distributed in a disc of `radius_m` around (lat, lon),
    rounded to 6 decimals (about 0.1 m)."""
    distance = radius_m * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2.0 * math.pi)
    dlat = distance * math.cos(bearing) / 111_320.0
    dlon = distance * math.sin(bearing) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)
