"""Demo loader for agencies, stations and units (idempotent on codes and call signs)."""

from __future__ import annotations

from units.models import Agency, Station, StatusTimer, Unit


def load_units(data: dict) -> str:
    for row in data["agencies"]:
        Agency.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "disciplines": row.get("disciplines", []),
                "non_emergency_number": row.get("non_emergency_number", ""),
                "accepts_text": row.get("accepts_text", False),
                "after_hours_only": row.get("after_hours_only", False),
            },
        )
    agencies = {a.code: a for a in Agency.objects.all()}
    for row in data["stations"]:
        Station.objects.update_or_create(
            code=row["code"],
            defaults={"agency": agencies[row["agency"]], "name": row["name"], "address": row.get("address", ""),
                      "lat": row["lat"], "lon": row["lon"]},
        )
    stations = {s.code: s for s in Station.objects.all()}
    created = 0
    for row in data["units"]:
        _, was_created = Unit.objects.update_or_create(
            call_sign=row["call_sign"],
            defaults={"agency": agencies[row["agency"]], "unit_type": row["type"],
                      "station": stations.get(row.get("station")), "post": row.get("post") or "",
                      "lat": row.get("lat"), "lon": row.get("lon")},
        )
        created += was_created
    for status, unit_type, minutes in [("on_scene", "", 20), ("on_scene", "patrol", 20), ("en_route", "", 15),
                                       ("at_hospital", "medic", 30), ("dispatched", "", 3)]:
        StatusTimer.objects.get_or_create(status=status, unit_type=unit_type, defaults={"minutes": minutes})
    return f"{len(agencies)} agencies, {len(stations)} stations, {len(data['units'])} units ({created} new)"
