"""Where an incident is: point-in-polygon for ESZ, beat and jurisdiction; address verification.

Polygons are prepared once per process (shapely `prep`) and reused. The cache is keyed by a cheap
signature of the geography tables (row counts and highest ids) checked on each lookup, cleared on
saves and deletes in this process, and expires after a minute so edits made in another process
(Django admin on another web worker) are picked up.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models.signals import post_delete, post_save
from shapely.geometry import Point, Polygon
from shapely.prepared import prep

from incidents.geo import normalise_address
from incidents.models import AddressPoint, Beat, Boundary, BoundaryKind, EmergencyServiceZone, Incident, StreetRange

CACHE_SECONDS = 60.0
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class _Area:
    obj: object
    shape: Polygon
    prepared: object
    area: float


@dataclass
class _Geography:
    signature: tuple
    loaded_at: float
    zones: list[_Area]
    beats: list[_Area]
    county: list[_Area]
    neighbours: list[_Area]


_lock = threading.Lock()
_cache: _Geography | None = None


def geography_cache_clear(**_kwargs) -> None:
    global _cache
    with _lock:
        _cache = None


for _model in (Boundary, Beat, EmergencyServiceZone):
    post_save.connect(geography_cache_clear, sender=_model, dispatch_uid=f"geo-cache-save-{_model.__name__}")
    post_delete.connect(geography_cache_clear, sender=_model, dispatch_uid=f"geo-cache-delete-{_model.__name__}")


def _signature() -> tuple:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) FROM {Boundary._meta.db_table}),"
            f" (SELECT count(*) || ':' || coalesce(max(id), 0) FROM {Beat._meta.db_table}),"
            f" (SELECT count(*) || ':' || coalesce(max(id), 0) FROM {EmergencyServiceZone._meta.db_table})"
        )
        return tuple(cur.fetchone())


def _areas(objects) -> list[_Area]:
    areas = []
    for obj in objects:
        try:
            shape = Polygon(obj.polygon)
        except (TypeError, ValueError):
            continue  # a malformed polygon never breaks call taking
        if shape.is_empty:
            continue
        areas.append(_Area(obj, shape, prep(shape), shape.area))
    # The most specific area wins: smallest first.
    areas.sort(key=lambda a: a.area)
    return areas


def _geography() -> _Geography:
    global _cache
    signature = _signature()
    current = _cache
    if current is not None and current.signature == signature and time.monotonic() - current.loaded_at < CACHE_SECONDS:
        return current
    boundaries = list(Boundary.objects.select_related("agency"))
    fresh = _Geography(
        signature=signature,
        loaded_at=time.monotonic(),
        zones=_areas(EmergencyServiceZone.objects.select_related("law", "fire", "ems")),
        beats=_areas(Beat.objects.select_related("agency")),
        county=_areas(b for b in boundaries if b.kind == BoundaryKind.COUNTY),
        neighbours=_areas(b for b in boundaries if b.kind == BoundaryKind.NEIGHBOUR_COUNTY),
    )
    with _lock:
        _cache = fresh
    return fresh


def _first_covering(areas: list[_Area], point: Point):
    for area in areas:
        if area.prepared.covers(point):
            return area.obj
    return None


@dataclass
class Place:
    esz: EmergencyServiceZone | None
    beat: Beat | None
    out_of_jurisdiction: bool
    jurisdiction_agency: object | None
    neighbour: Boundary | None


def locate(lat: float, lon: float) -> Place:
    """ESZ and beat (smallest containing polygon) and whether the point is outside the county."""
    geo = _geography()
    point = Point(lon, lat)
    esz = _first_covering(geo.zones, point)
    beat = _first_covering(geo.beats, point)
    inside = _first_covering(geo.county, point) is not None if geo.county else True
    neighbour = None if inside else _first_covering(geo.neighbours, point)
    return Place(
        esz=esz if inside else None,
        beat=beat if inside else None,
        out_of_jurisdiction=not inside,
        jurisdiction_agency=neighbour.agency if neighbour is not None else None,
        neighbour=neighbour,
    )


def incident_locate(incident: Incident) -> Incident:
    """Fill the incident's ESZ, beat and jurisdiction from its point (not saved here).

    A verified address point brings its own ESZ and beat (the MSAG is the authority); a bare point
    is resolved against the polygons. A point outside the county is flagged out of jurisdiction and
    names the PSAP of the neighbouring county that contains it.
    """
    address = incident.address if incident.address_id else None
    if incident.lat is None or incident.lon is None:
        if address is not None:
            incident.esz_id, incident.beat_id = address.esz_id, address.beat_id
        incident.out_of_jurisdiction = False
        incident.jurisdiction_agency = None
        return incident
    place = locate(incident.lat, incident.lon)
    incident.esz = (address.esz if address is not None and address.esz_id else None) or place.esz
    incident.beat = (address.beat if address is not None and address.beat_id else None) or place.beat
    incident.out_of_jurisdiction = place.out_of_jurisdiction
    incident.jurisdiction_agency = place.jurisdiction_agency
    return incident


# --- Address verification ------------------------------------------------------------------------
_NUMBER_FIRST = re.compile(r"^\s*(\d+)\s+(.+)$")


def _split(text: str) -> tuple[int | None, str, str]:
    """'100 Main Street, Mills' → (100, 'MAIN ST', 'MILLS')."""
    street_part, _, community = (text or "").partition(",")
    match = _NUMBER_FIRST.match(street_part)
    number = int(match.group(1)) if match else None
    street = normalise_address(match.group(2) if match else street_part)
    return number, street, normalise_address(community)


def _street_key(prefix: str, name: str, suffix: str, post: str) -> str:
    return normalise_address(" ".join(p for p in (prefix, name, suffix, post) if p))


def _street_score(wanted: str, have: str) -> float:
    if wanted == have:
        return 1.0
    wanted_words, have_words = set(wanted.split()), set(have.split())
    if wanted_words and wanted_words <= have_words:
        return 0.85  # "100 Main" for "100 Main St"
    return 0.0


def _community_score(wanted: str, have: str) -> float:
    if not wanted:
        return 1.0
    return 1.0 if normalise_address(have) == wanted else 0.4


def address_verify(text: str, *, limit: int = 10) -> list[dict]:
    """Ranked candidates for an entered address, best first.

    Address points (an exact house on a street, with coordinates) score above MSAG street ranges
    (the number falls in a range; ESZ known, no coordinates). The same street in two communities
    gives one candidate per community; a community typed after a comma ranks its own first. A
    candidate's `score` is 0..1; `exact` means street, number and community all matched.
    """
    number, street, community = _split(text)
    if not street:
        return []
    words = street.split()
    candidates: list[dict] = []
    core = max(words, key=len)
    points = AddressPoint.objects.select_related("esz", "beat").filter(search_text__contains=core)
    if number is not None:
        points = points.filter(house_number=number)
    for point in points[:200]:
        s = _street_score(street, _street_key(point.prefix, point.street_name, point.suffix, point.post))
        if s == 0.0 and point.place_name and street in normalise_address(point.place_name):
            s = 0.9
        if s == 0.0:
            continue
        c = _community_score(community, point.community)
        candidates.append({
            "kind": "address_point",
            "address_id": point.pk,
            "msag_range_id": None,
            "text": point.one_line(),
            "community": point.community,
            "lat": point.lat,
            "lon": point.lon,
            "esn": point.esz.esn if point.esz_id else None,
            "beat": point.beat.code if point.beat_id else None,
            "place_name": point.place_name,
            "score": round(0.95 * s * c + (0.05 if number is not None else 0.0), 3),
            "exact": s == 1.0 and c == 1.0 and number is not None,
        })
    if number is not None:
        ranges = StreetRange.objects.select_related("esz").filter(name__icontains=core)
        for r in ranges[:200]:
            s = _street_score(street, _street_key(r.prefix, r.name, r.suffix, r.post))
            if s == 0.0 or not r.covers(number):
                continue
            c = _community_score(community, r.community)
            if any(cand["kind"] == "address_point" and cand["community"].upper() == r.community.upper()
                   and cand["score"] >= 0.7 * s * c for cand in candidates):
                continue  # the address point already stands for this range
            street_text = " ".join(p for p in (r.prefix, r.name, r.suffix, r.post) if p)
            candidates.append({
                "kind": "msag_range",
                "address_id": None,
                "msag_range_id": r.pk,
                "text": f"{number} {street_text}, {r.community}",
                "community": r.community,
                "lat": None,
                "lon": None,
                "esn": r.esz.esn,
                "beat": None,
                "place_name": "",
                "score": round(0.7 * s * c, 3),
                "exact": False,
            })
    candidates.sort(key=lambda cand: (-cand["score"], cand["community"], cand["text"]))
    return candidates[:limit]
