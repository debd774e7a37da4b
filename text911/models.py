"""Text-to-911 sessions and messages (SOP-SSD-17, "PROCESSING TEXT TO 9-1-1 CALLS", rules 1–30).

A session is started only by a texter (the TCC's `session_start`) and ended only by a
telecommunicator (rule 6). Outbound work for the TCC (texts, the end of a session with its final
message, a transfer) is an outbound `TextMessage` row delivered by a Celery task in order per session;
inbound texts are `TextMessage` rows keyed by the TCC's message id, so a retried delivery is stored once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
import pghistory
from django.db import models
from django.utils import timezone


class SessionState(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned queue"
    ACTIVE = "active", "My active sessions"
    TRANSFERRED = "transferred", "Transferred (released)"
    ENDED = "ended", "Ended"


OPEN_STATES = (SessionState.UNASSIGNED, SessionState.ACTIVE)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TextSession(models.Model):
    tcc_session_id = models.CharField(max_length=80, unique=True)
    from_number = models.CharField(max_length=20, db_index=True)
    # The cell tower serving the texter: NEVER the caller's location (SOP text rule 2).
    tower_lat = models.FloatField(null=True, blank=True, help_text="Cell tower latitude — not the caller's location.")
    tower_lon = models.FloatField(null=True, blank=True, help_text="Cell tower longitude — not the caller's location.")
    tower_sector = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=12, choices=SessionState.choices, default=SessionState.UNASSIGNED, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="text_sessions"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The PSAP holding the session at the TCC; rebids are counted per PSAP allocation (rule 23).
    psap = models.CharField(max_length=32, default="PSCC")
    rebid_count = models.PositiveSmallIntegerField(default=0)
    rebid_lat = models.FloatField(null=True, blank=True, help_text="Latest rebid fix — still to be verified.")
    rebid_lon = models.FloatField(null=True, blank=True)
    rebid_uncertainty_m = models.FloatField(null=True, blank=True)
    rebid_at = models.DateTimeField(null=True, blank=True)
    # The location confirmed with the texter (rules 2, 29): the only one an event may use.
    location_text = models.CharField(max_length=300, blank=True)
    location_lat = models.FloatField(null=True, blank=True)
    location_lon = models.FloatField(null=True, blank=True)
    location_address = models.ForeignKey(
        "incidents.AddressPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location_verified_at = models.DateTimeField(null=True, blank=True)
    location_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=8, default="en", help_text="en, es or other (rule 15).")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="text_sessions"
    )
    related_sessions = models.ManyToManyField("self", blank=True, symmetrical=True)
    address_confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Rule 12: dispatch address read back.")
    no_response_at = models.DateTimeField(null=True, blank=True)
    sergeant_notified_at = models.DateTimeField(null=True, blank=True)
    non_emergency_at = models.DateTimeField(null=True, blank=True)
    transferred_to = models.ForeignKey(
        "units.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    end_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="text_active_has_owner",
                condition=~models.Q(state="active") | models.Q(owner__isnull=False),
            ),
        ]
        # The floor snapshot's sessions closed in the last half hour (`recent_closed_sessions`):
        # without these it reads every session of the decade.
        indexes = [
            models.Index(fields=["ended_at"], name="text_session_ended"),
            models.Index(fields=["transferred_at"], name="text_session_transferred"),
        ]

    def __str__(self) -> str:
        return f"text {self.from_number} ({self.state})"


class MessageDirection(models.TextChoices):
    IN = "in", "From the texter"
    OUT = "out", "To the texter / TCC"


class MessageKind(models.TextChoices):
    START = "start", "Session started"
    TEXT = "text", "Text"
    MULTIMEDIA = "multimedia", "Multimedia (never opened)"
    END = "end", "End session (final message)"
    TRANSFER = "transfer", "Transfer"


class DeliveryState(models.TextChoices):
    RECEIVED = "received", "Received"
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TextMessage(models.Model):
    session = models.ForeignKey(TextSession, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    kind = models.CharField(max_length=12, choices=MessageKind.choices, default=MessageKind.TEXT)
    # Inbound: the TCC's id (idempotency). Outbound: ours, sent as the TCC `message_id`.
    tcc_message_id = models.CharField(max_length=200, unique=True, null=True, blank=True)
    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Multimedia content is never stored: only that it arrived and when (rule 27).
    text = models.TextField(blank=True)
    quick_number = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the texter sent it (TCC time).")
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "scheduled_at"], name="text_outbound_due")]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.text[:30]}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class QuickMessage(models.Model):
    """A pre-scripted message (rules 4, 5, 8 and the SOP's QUICK MESSAGES), editable by the PSAP.

    `{center}` and `{non_emergency_number}` are filled in from settings when sent.
    """

    class Purpose(models.TextChoices):
        LOCATION = "location", "Ask for the location"
        NATURE = "nature", "Ask for the emergency"
        GPS_ONLY = "gps_only", "GPS coordinates only"
        VOICE = "voice", "Ask for a voice call"
        NON_EMERGENCY = "non_emergency", "Not an emergency (rule 14)"
        FINAL = "final", "Final message (sent by End session)"
        ENGLISH_ONLY = "english_only", "Only English accepted (rule 15)"
        SPANISH = "spanish", "Spanish: send in English or call (rule 15)"
        STANDBY = "standby", "Standby before a transfer (rule 26)"
        OTHER = "other", "Other"

    number = models.PositiveSmallIntegerField(unique=True, help_text="Key on the console (1–9).")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    label = models.CharField(max_length=60)
    text = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.label}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TextDesk(models.Model):
    """A telecommunicator's text-to-911 sign-on (preparation rules 2–3)."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Signed on"
        BREAK = "break", "On break"
        SIGNED_OFF = "signed_off", "Signed off"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="text_desk")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.AVAILABLE)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SessionHandover(models.Model):
    """An active session handed to a named relief (break, meal, assignment change, shift change)."""

    session = models.ForeignKey(TextSession, on_delete=models.PROTECT, related_name="handovers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20)
    briefing = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SergeantApproval(models.Model):
    """Rule 13: a voice callback to a text caller only with a logged sergeant approval."""

    class Decision(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"

    session = models.ForeignKey(TextSession, on_delete=models.PROTECT, related_name="callback_approvals")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requesting_unit = models.CharField(max_length=40, help_text="The field unit asking for the callback.")
    reason = models.CharField(max_length=300)
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.REQUESTED)
    sergeant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    callback_made_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
