"""Demo loader for the county's geography: boundaries, beats, ESZs, MSAG ranges, address points, hazards."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from shapely.geometry import Point, Polygon

from incidents.geo import normalise_address
from incidents.models import AddressPoint, Beat, Boundary, EmergencyServiceZone, PremiseHazard, StreetRange
from units.models import Agency


def load_geography(data: dict) -> str:
    agencies = {a.code: a for a in Agency.objects.all()}
    psap_for_boundary = {a["boundary"]: a["code"] for a in data["agencies"] if a["kind"] == "psap" and a.get("boundary")}
    for row in data["boundaries"]:
        Boundary.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "kind": row["kind"], "polygon": row["polygon"],
                      "agency": agencies.get(psap_for_boundary.get(row["code"], ""))},
        )
    for row in data["beats"]:
        Beat.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "agency": agencies[row["agency"]], "polygon": row["polygon"]}
        )
    for row in data["emergency_service_zones"]:
        EmergencyServiceZone.objects.update_or_create(
            esn=row["esn"],
            defaults={"name": row["name"], "law": agencies[row["law"]], "fire": agencies[row["fire"]],
                      "ems": agencies[row["ems"]], "polygon": row["polygon"]},
        )
    zones = {z.esn: z for z in EmergencyServiceZone.objects.all()}
    if not StreetRange.objects.exists():
        StreetRange.objects.bulk_create(
            StreetRange(prefix=r.get("prefix", ""), name=r["name"], suffix=r.get("suffix", ""), post=r.get("post", ""),
                        community=r["community"], low=r["low"], high=r["high"], parity=r.get("parity", "both"),
                        esz=zones[r["esn"]])
            for r in data["streets"]
        )
    beats = [(b, Polygon(b.polygon)) for b in Beat.objects.select_related("agency")]
    # The most specific beat wins: the smallest polygon containing the point.
    beats.sort(key=lambda pair: pair[1].area)
    if not AddressPoint.objects.exists():
        points = []
        for r in data["addresses"]:
            here = Point(r["lon"], r["lat"])
            beat = next((b for b, poly in beats if poly.covers(here)), None)
            points.append(AddressPoint(
                house_number=r["house_number"], prefix=r.get("prefix", ""), street_name=r["street_name"],
                suffix=r.get("suffix", ""), post=r.get("post", ""), unit=r.get("unit", ""), community=r["community"],
                state=r.get("state", "WY"), zip=r.get("zip", ""), lat=r["lat"], lon=r["lon"], esz=zones.get(r.get("esn")),
                beat=beat, place_name=r.get("place_name", ""),
                search_text=normalise_address(f"{r['house_number']} {r.get('prefix', '')} {r['street_name']} {r.get('suffix', '')} {r.get('post', '')}"),
            ))
        AddressPoint.objects.bulk_create(points)
    if not PremiseHazard.objects.exists():
        for h in data.get("premise_hazards", []):
            a = h["address"]
            point = AddressPoint.objects.filter(
                house_number=a["house_number"], prefix=a.get("prefix", ""), street_name=a["street_name"],
                suffix=a.get("suffix", ""), community=a["community"],
            ).first()
            if point is None:
                continue
            expires = h.get("expires_in_days")
            PremiseHazard.objects.create(
                kind=h["kind"], text=h["text"], address=point, lat=point.lat, lon=point.lon, radius_m=h.get("radius_m", 0),
                expires_at=timezone.now() + timedelta(days=expires) if expires else None,
            )
    return (f"{Boundary.objects.count()} boundaries, {Beat.objects.count()} beats, {len(zones)} ESZs, "
            f"{StreetRange.objects.count()} MSAG ranges, {AddressPoint.objects.count()} addresses, "
            f"{PremiseHazard.objects.count()} premise hazards")
