"""CAD events (incidents), their call types and response plans, and the county's geography.

Geography (jurisdiction boundaries, beats, emergency service zones, the MSAG street ranges and
address points) lives here because an incident's location is resolved against it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
import pghistory
from django.db import models
from django.utils import timezone

from units.models import Agency, Discipline, Unit, UnitType


# --- Geography -----------------------------------------------------------------------------------
class BoundaryKind(models.TextChoices):
    COUNTY = "county", "County (the center's jurisdiction)"
    MUNICIPALITY = "municipality", "Municipality"
    NEIGHBOUR_COUNTY = "neighbour_county", "Neighbouring county"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Boundary(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=BoundaryKind.choices)
    polygon = models.JSONField(help_text="Ring of [lon, lat] points.")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.SET_NULL, help_text="The PSAP answering for a neighbouring county."
    )

    class Meta:
        ordering = ["kind", "code"]
        verbose_name_plural = "boundaries"

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Beat(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="beats")
    polygon = models.JSONField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class EmergencyServiceZone(models.Model):
    esn = models.CharField(max_length=5, unique=True)
    name = models.CharField(max_length=120)
    law = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="esz_law")
    fire = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="esz_fire")
    ems = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="esz_ems")
    polygon = models.JSONField()

    class Meta:
        ordering = ["esn"]

    def __str__(self) -> str:
        return f"ESN {self.esn} {self.name}"

    def agency_for(self, discipline: str) -> Agency | None:
        return {"law": self.law, "fire": self.fire, "ems": self.ems}.get(discipline)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class StreetRange(models.Model):
    """One MSAG record: a range of house numbers on a street in a community, and its ESZ."""

    class Parity(models.TextChoices):
        BOTH = "both", "Both sides"
        ODD = "odd", "Odd"
        EVEN = "even", "Even"

    prefix = models.CharField(max_length=4, blank=True)
    name = models.CharField(max_length=80)
    suffix = models.CharField(max_length=8, blank=True)
    post = models.CharField(max_length=4, blank=True)
    community = models.CharField(max_length=60)
    low = models.PositiveIntegerField()
    high = models.PositiveIntegerField()
    parity = models.CharField(max_length=4, choices=Parity.choices, default=Parity.BOTH)
    esz = models.ForeignKey(EmergencyServiceZone, on_delete=models.PROTECT)

    class Meta:
        indexes = [models.Index(fields=["name", "community"], name="msag_street")]

    def __str__(self) -> str:
        return f"{self.low}-{self.high} {' '.join(p for p in (self.prefix, self.name, self.suffix, self.post) if p)}, {self.community}"

    def covers(self, house_number: int) -> bool:
        if not self.low <= house_number <= self.high:
            return False
        if self.parity == self.Parity.ODD:
            return house_number % 2 == 1
        if self.parity == self.Parity.EVEN:
            return house_number % 2 == 0
        return True


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AddressPoint(models.Model):
    house_number = models.PositiveIntegerField()
    prefix = models.CharField(max_length=4, blank=True)
    street_name = models.CharField(max_length=80)
    suffix = models.CharField(max_length=8, blank=True)
    post = models.CharField(max_length=4, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    community = models.CharField(max_length=60)
    state = models.CharField(max_length=2, default="WY")
    zip = models.CharField(max_length=10, blank=True)
    lat = models.FloatField()
    lon = models.FloatField()
    esz = models.ForeignKey(EmergencyServiceZone, null=True, blank=True, on_delete=models.SET_NULL)
    beat = models.ForeignKey(Beat, null=True, blank=True, on_delete=models.SET_NULL)
    place_name = models.CharField(max_length=120, blank=True)
    search_text = models.CharField(max_length=300, db_index=True, help_text="Normalised for lookup.")

    class Meta:
        ordering = ["community", "street_name", "house_number"]
        indexes = [models.Index(fields=["street_name", "house_number"], name="address_street_number")]

    def __str__(self) -> str:
        return self.one_line()

    def street(self) -> str:
        return " ".join(p for p in (self.prefix, self.street_name, self.suffix, self.post) if p)

    def one_line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.house_number} {self.street()}{unit}, {self.community}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PremiseHazard(models.Model):
    """A caution tied to an address or to a radius around a point (dogs, weapons, oxygen in use)."""

    class Kind(models.TextChoices):
        DOGS = "dogs", "Dogs"
        WEAPONS = "weapons", "Weapons"
        OXYGEN = "oxygen", "Oxygen in use"
        HAZMAT = "hazmat", "Hazardous materials"
        OFFICER_SAFETY = "officer_safety", "Officer safety"
        ACCESS = "access", "Access / gate code"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=500)
    address = models.ForeignKey(AddressPoint, null=True, blank=True, on_delete=models.CASCADE, related_name="hazards")
    lat = models.FloatField()
    lon = models.FloatField()
    radius_m = models.PositiveIntegerField(default=0, help_text="0: this address only.")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


# --- Call types and response plans ---------------------------------------------------------------
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CallType(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    default_priority = models.PositiveSmallIntegerField(default=3, help_text="1 is the most urgent.")
    disciplines = ArrayField(models.CharField(max_length=16, choices=Discipline.choices), default=list)
    response_goal_seconds = models.PositiveIntegerField(null=True, blank=True)
    sop_code = models.BooleanField(default=False, help_text="One of the SOP's 911 event codes (911D/M/O/S/T/W).")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ResponsePlanItem(models.Model):
    call_type = models.ForeignKey(CallType, on_delete=models.CASCADE, related_name="response_plan")
    unit_type = models.CharField(max_length=20, choices=UnitType.choices)
    count = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call_type", "unit_type"], name="plan_item_unique")]

    def __str__(self) -> str:
        return f"{self.count} × {self.unit_type}"


# --- Incidents -----------------------------------------------------------------------------------
class IncidentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    CLOSED = "closed", "Closed"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class IncidentNumberSequence(models.Model):
    """The last incident number issued in a year; locked per issue so numbers are never reused."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Incident(models.Model):
    number = models.CharField(max_length=20, unique=True)
    call_type = models.ForeignKey(CallType, on_delete=models.PROTECT)
    priority = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.PENDING)
    # location
    location_text = models.CharField(max_length=300, blank=True)
    address = models.ForeignKey(AddressPoint, null=True, blank=True, on_delete=models.SET_NULL)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    uncertainty_m = models.FloatField(null=True, blank=True)
    location_verified = models.BooleanField(default=False)
    location_override_reason = models.CharField(max_length=300, blank=True)
    esz = models.ForeignKey(EmergencyServiceZone, null=True, blank=True, on_delete=models.SET_NULL)
    beat = models.ForeignKey(Beat, null=True, blank=True, on_delete=models.SET_NULL)
    out_of_jurisdiction = models.BooleanField(default=False)
    jurisdiction_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The neighbouring PSAP when the location is outside the county.",
    )
    # caller
    caller_name = models.CharField(max_length=120, blank=True)
    callback_number = models.CharField(max_length=20, blank=True, db_index=True)
    source = models.CharField(max_length=20, default="console", help_text="console, 911, admin, text, partner")
    # timestamps
    received_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    first_dispatched_at = models.DateTimeField(null=True, blank=True)
    first_en_route_at = models.DateTimeField(null=True, blank=True)
    first_on_scene_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(max_length=40, blank=True)
    response_goal_alerted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    related_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="related")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "priority"], name="incident_open_board", condition=~models.Q(status="closed")),
            models.Index(fields=["-created_at"], name="incident_created"),
            # Response-time reports read a year of incidents from this index alone (no heap fetches).
            models.Index(fields=["received_at"], name="incident_received_report",
                         include=["call_type", "priority", "first_dispatched_at", "first_en_route_at",
                                  "first_on_scene_at"]),
            # Premise history (selectors.premise_history): the newest incidents at an address.
            models.Index(models.functions.Upper("location_text"), models.F("created_at").desc(),
                         name="incident_location_history"),
        ]

    def __str__(self) -> str:
        return self.number


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class NarrativeEntry(models.Model):
    """One line of an incident's narrative. Append-only: never edited, never deleted."""

    class Source(models.TextChoices):
        CONSOLE = "console", "Console"
        SYSTEM = "system", "System"
        SOP = "sop", "SOP checklist"
        CALL = "call", "911 call"
        TEXT = "text", "Text to 911"
        UNIT = "unit", "Unit / MDT"
        PARTNER = "partner", "Partner agency"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="narrative")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CONSOLE)
    visible_to_partners = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.at:%H:%M:%S} {self.text[:40]}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Assignment(models.Model):
    """A unit on an incident, with its own times."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    dispatched_at = models.DateTimeField(default=timezone.now)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["dispatched_at", "id"]
        constraints = [
            # A unit is on at most one incident at a time.
            models.UniqueConstraint(fields=["unit"], condition=models.Q(cleared_at__isnull=True), name="one_active_assignment_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.unit} on {self.incident}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AdditionalCaller(models.Model):
    """A further caller about an existing incident; their data stays on it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="additional_callers")
    name = models.CharField(max_length=120, blank=True)
    callback_number = models.CharField(max_length=20, blank=True)
    location_text = models.CharField(max_length=300, blank=True)
    call_reference = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)


# --- Daily roll-up of response times (incidents/rollup.py) ---------------------------------------
class ResponseTimeDay(models.Model):
    """One complete local day of incidents (by received time) rolled up into ResponseTimeGroup rows."""

    day = models.DateField(primary_key=True)
    computed_at = models.DateTimeField(default=timezone.now)


class ResponseTimeGroup(models.Model):
    """Incidents of a day per call type and priority, with each interval from receipt for exact
    percentiles and goals: microseconds, sorted, packed as big-endian 8-byte integers (`int8send`;
    an incident that never reached a step is not in that step's values). Packed rather than bigint[]
    so a year's values concatenate in SQL and load in one piece (numpy.frombuffer)."""

    day = models.DateField()
    call_type = models.ForeignKey(CallType, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    priority = models.PositiveSmallIntegerField()
    incidents = models.PositiveIntegerField()
    dispatched_us = models.BinaryField()
    en_route_us = models.BinaryField()
    on_scene_us = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "call_type", "priority"], name="response_group_day")]
