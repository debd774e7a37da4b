"""Agencies the center dispatches for, their stations and units, and every unit status change."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
import pghistory
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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class StatusTimer(models.Model):
    """How long a unit may stay in a status before the floor is alerted (blank type: every type)."""

    status = models.CharField(max_length=20, choices=UnitStatus.choices)
    unit_type = models.CharField(max_length=20, choices=UnitType.choices, blank=True)
    minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status", "unit_type"], name="status_timer_unique")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.unit_type or 'all'}: {self.minutes} min"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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


# --- Partner agencies' systems: API credentials and webhooks (issue 7) ---------------------------
class PartnerScope(models.TextChoices):
    READ_INCIDENTS = "read_incidents", "Read incidents"
    READ_UNITS = "read_units", "Read units"
    WRITE_UNIT_STATUS = "write_unit_status", "Write unit status"
    RECEIVE_WEBHOOKS = "receive_webhooks", "Receive webhooks"
    READ_CALLER_DATA = "read_caller_data", "Read caller data (name, callback number)"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PartnerCredential(models.Model):
    """An API key of one partner agency's system. Only a SHA-256 hash and a display prefix are
    stored; the key itself is shown once, when it is issued."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="partner_credentials")
    name = models.CharField(max_length=120, help_text="Which system uses this key, e.g. 'CPD records system'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=32, choices=PartnerScope.choices), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["agency__code", "name"]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.agency.active


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PartnerCallerDataAccess(models.Model):
    """Audit of every response that carried caller-identifying data to a partner system."""

    credential = models.ForeignKey(PartnerCredential, on_delete=models.PROTECT, related_name="caller_data_accesses")
    at = models.DateTimeField(default=timezone.now)
    path = models.CharField(max_length=300)
    entities = ArrayField(models.CharField(max_length=100), default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "partner caller data accesses"

    def __str__(self) -> str:
        return f"{self.credential} {self.path} @ {self.at:%Y-%m-%d %H:%M:%S}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WebhookSubscription(models.Model):
    """A partner URL that receives the agency's journal events, signed, in order, each once."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500)
    # Kept in clear: signing needs it (HMAC). Shown once when created, never listed.
    secret = models.CharField(max_length=128, editable=False)
    active = models.BooleanField(default=True)
    include_caller_data = models.BooleanField(
        default=False, help_text="Send caller name and callback number in incident events (read_caller_data).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by_credential = models.ForeignKey(PartnerCredential, null=True, blank=True, on_delete=models.SET_NULL,
                                              related_name="+", editable=False)
    # Journal sequence numbers: events up to cursor_seq have a delivery row (or were not the agency's).
    start_after_seq = models.BigIntegerField(default=0, editable=False)
    cursor_seq = models.BigIntegerField(default=0, editable=False)
    last_delivered_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["agency__code", "id"]

    def __str__(self) -> str:
        return f"{self.agency.code} → {self.url}"


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WebhookDelivery(models.Model):
    """One journal event for one subscription. Sent strictly after every earlier one was delivered."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=WebhookDeliveryState.choices, default=WebhookDeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subscription_id", "seq"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["subscription", "seq"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["subscription", "seq"], name="webhook_undelivered",
                         condition=~models.Q(state="delivered")),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} #{self.seq} {self.state}"
