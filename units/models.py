"""Agencies the center dispatches for, their stations and units, and every unit status change."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Discipline(models.TextChoices):
    LAW = "law", "Law enforcement"
    FIRE = "fire", "Fire"
    EMS = "ems", "EMS"
    UTILITY = "utility", "Public utility"
    ANIMAL = "animal", "Animal services"


class AgencyKind(models.TextChoices):
    LAW = "law", "Law enforcement"
    FIRE = "fire", "Fire department"
    EMS = "ems", "EMS provider"
    UTILITY = "utility", "Public utility"
    ANIMAL = "animal", "Animal services"
    PSAP = "psap", "Neighbouring PSAP"


class Agency(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    disciplines = ArrayField(models.CharField(max_length=16, choices=Discipline.choices), default=list, blank=True)
    non_emergency_number = models.CharField(max_length=20, blank=True)
    accepts_text = models.BooleanField(default=False, help_text="Accepts text-to-911 session transfers.")
    after_hours_only = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Station(models.Model):
    code = models.CharField(max_length=32, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="stations")
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=200, blank=True)
    lat = models.FloatField()
    lon = models.FloatField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class UnitType(models.TextChoices):
    PATROL = "patrol", "Patrol"
    SUPERVISOR = "supervisor", "Patrol supervisor"
    SRO = "sro", "School resource officer post"
    DETECTIVE = "detective", "Detective"
    ENGINE = "engine", "Engine"
    LADDER = "ladder", "Ladder"
    MEDIC = "medic", "Medic (ALS ambulance)"
    RESCUE = "rescue", "Rescue"
    BRUSH = "brush", "Brush truck"
    TENDER = "tender", "Water tender"
    BATTALION = "battalion", "Battalion chief"
    ANIMAL_CONTROL = "animal_control", "Animal control"
    UTILITY_CREW = "utility_crew", "Utility crew"


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    TRANSPORTING = "transporting", "Transporting"
    AT_HOSPITAL = "at_hospital", "At hospital"
    OUT_OF_SERVICE = "out_of_service", "Out of service"
    OFF_DUTY = "off_duty", "Off duty"


class Unit(models.Model):
    call_sign = models.CharField(max_length=32, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    unit_type = models.CharField(max_length=20, choices=UnitType.choices)
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="units")
    post = models.CharField(max_length=120, blank=True, help_text="Fixed post, e.g. the school of an SRO.")
    status = models.CharField(max_length=20, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    incident_number = models.CharField(max_length=20, blank=True, help_text="The incident the unit is assigned to.")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    position_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agency__code", "call_sign"]
        indexes = [models.Index(fields=["status", "unit_type"], name="unit_status_type")]

    def __str__(self) -> str:
        return self.call_sign


class UnitStatusChange(models.Model):
    """History of a unit's status: who changed it, when and why (append-only)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=UnitStatus.choices)
    to_status = models.CharField(max_length=20, choices=UnitStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=32, default="console", help_text="console, mdt, partner, system")
    reason = models.CharField(max_length=300, blank=True)
    incident_number = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["unit", "-at"], name="unit_status_hist")]

    def __str__(self) -> str:
        return f"{self.unit} {self.from_status}→{self.to_status}"


class StatusTimer(models.Model):
    """How long a unit may stay in a status before the floor is alerted (blank type: every type)."""

    status = models.CharField(max_length=20, choices=UnitStatus.choices)
    unit_type = models.CharField(max_length=20, choices=UnitType.choices, blank=True)
    minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status", "unit_type"], name="status_timer_unique")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.unit_type or 'all'}: {self.minutes} min"


class UnitTimerAlert(models.Model):
    """A unit overdue in its status; stays on the floor until acknowledged."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="timer_alerts")
    status_change = models.ForeignKey(UnitStatusChange, on_delete=models.CASCADE, related_name="timer_alerts")
    status = models.CharField(max_length=20, choices=UnitStatus.choices)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            # One alert per stay in a status: the sweeper may run twice, the alert is raised once.
            models.UniqueConstraint(fields=["status_change"], name="one_timer_alert_per_status")
        ]

    def __str__(self) -> str:
        return f"{self.unit} overdue {self.status}"
