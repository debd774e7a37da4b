"""911 and administrative lines, the calls that ring on them, and the SOP-SSD-17 work around a call.

Background work (callback attempts, subscriber searches, supplemental location queries, rebids,
misroute reports) is a row with a `state` and a `scheduled_at`: a Celery task claims it with a
conditional update, and the sweeper re-enqueues anything due or stuck.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
import pghistory
from django.db import models
from django.utils import timezone

from units.models import Agency


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Line(models.Model):
    class Kind(models.TextChoices):
        EMERGENCY = "911", "911 line"
        ADMIN = "admin", "Administrative line"

    code = models.CharField(max_length=16, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(max_length=120)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ClassOfService(models.TextChoices):
    RESD = "RESD", "Residence (landline)"
    BUSN = "BUSN", "Business (landline)"
    PAY = "PAY", "Payphone (landline)"
    WPH1 = "WPH1", "Wireless Phase 1"
    WPH2 = "WPH2", "Wireless Phase 2"
    VOIP = "VOIP", "VoIP"
    WRLS0 = "WRLS0", "Wireless Phase 0 (no callback)"


LANDLINE_CLASSES = frozenset({"RESD", "BUSN", "PAY"})
WIRELESS_CLASSES = frozenset({"WPH1", "WPH2", "WRLS0"})


class CallState(models.TextChoices):
    RINGING = "ringing", "Ringing"
    ANSWERED = "answered", "Answered"
    ON_HOLD = "on_hold", "On hold"
    TRANSFERRED = "transferred", "Transferred"
    RELEASED = "released", "Released"
    ABANDONED = "abandoned", "Abandoned before answer"


class SopPath(models.TextChoices):
    LANDLINE_OPEN_LINE = "landline_open_line", "Landline open line (911O)"
    LANDLINE_HANGUP = "landline_hangup", "Landline hang-up / abandoned (911D)"
    MISDIAL = "misdial", "Misdial (911M)"
    WIRELESS_NO_DURESS = "wireless_no_duress", "Wireless open line / hang-up, no duress (911W)"
    DURESS = "duress", "Open line / hang-up, duress indicated (911W / 911S, priority 1)"
    OUT_OF_JURISDICTION = "out_of_jurisdiction", "Out of jurisdiction (notify / transfer)"


class AliFields(models.Model):
    """The ALI as delivered (name, civic address, ESN, Phase 2 fix, provider)."""

    ali_name = models.CharField(max_length=64, blank=True)
    house_number = models.CharField(max_length=16, blank=True)
    prefix_directional = models.CharField(max_length=4, blank=True)
    street_name = models.CharField(max_length=80, blank=True)
    street_suffix = models.CharField(max_length=8, blank=True)
    post_directional = models.CharField(max_length=4, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    community = models.CharField(max_length=64, blank=True)
    state_code = models.CharField(max_length=2, blank=True, help_text="US state of the ALI address.")
    esn = models.CharField(max_length=5, blank=True)
    provider_id = models.CharField(max_length=16, blank=True)
    carrier = models.CharField(max_length=64, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    uncertainty_m = models.FloatField(null=True, blank=True)
    confidence_pct = models.PositiveSmallIntegerField(null=True, blank=True)

    ALI_FIELDS = (
        "ali_name", "house_number", "prefix_directional", "street_name", "street_suffix", "post_directional",
        "unit", "community", "state_code", "esn", "provider_id", "carrier", "lat", "lon", "uncertainty_m",
        "confidence_pct",
    )

    class Meta:
        abstract = True

    def address_text(self) -> str:
        street = " ".join(p for p in (self.house_number, self.prefix_directional, self.street_name,
                                      self.street_suffix, self.post_directional) if p)
        if self.unit:
            street = f"{street} {self.unit}".strip()
        place = ", ".join(p for p in (street, self.community, self.state_code) if p)
        return place


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Call(AliFields):
    cpe_call_id = models.CharField(max_length=64, unique=True)
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="calls")
    ani = models.CharField(max_length=16, blank=True, db_index=True)
    class_of_service = models.CharField(max_length=8, choices=ClassOfService.choices, blank=True)
    ali_raw = models.TextField(blank=True)
    ali_format = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=12, choices=CallState.choices, default=CallState.RINGING)
    ringing_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    on_hold_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="answered_calls")
    position = models.CharField(max_length=32, blank=True)
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="calls")
    sop_path = models.CharField(max_length=24, choices=SopPath.choices, blank=True)
    duress_assessment = models.TextField(blank=True)
    tty_attempted_at = models.DateTimeField(null=True, blank=True)
    tty_responded = models.BooleanField(null=True, blank=True)
    location_verified_at = models.DateTimeField(null=True, blank=True)
    verified_location_text = models.CharField(max_length=300, blank=True)
    location_corrected = models.BooleanField(default=False)
    next_line_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ringing_at", "id"]
        indexes = [
            models.Index(fields=["state", "ringing_at"], name="call_queue"),
            # Abandoned calls not yet processed stay on the floor (`floor_calls`): a handful among
            # a decade's abandoned calls, found without reading the others.
            models.Index(fields=["ringing_at"], name="call_abandoned_unprocessed",
                         condition=models.Q(state="abandoned", sop_path="")),
            # Compliance windows and reports: a year of calls read from this index alone (no heap fetches).
            models.Index(fields=["ringing_at"], name="call_answer_time",
                         include=["line", "answered_at", "abandoned_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.cpe_call_id} {self.ani}"

    @property
    def is_wireless(self) -> bool:
        return self.class_of_service in WIRELESS_CLASSES

    @property
    def callback_possible(self) -> bool:
        return self.class_of_service != ClassOfService.WRLS0 and len(self.ani) == 10 and not self.ani.startswith("911")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AliRecord(AliFields):
    """Every ALI the call received, oldest first: the one at ring time, then each rebid."""

    class Source(models.TextChoices):
        INTAKE = "intake", "At ring time"
        REBID = "rebid", "Rebid"
        PIDF = "pidf", "PIDF-LO"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="ali_records")
    source = models.CharField(max_length=8, choices=Source.choices)
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["received_at", "id"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ChecklistStep(models.Model):
    """One SOP step of a call's path: done by the system or completed by a person (who, when)."""

    class State(models.TextChoices):
        OPEN = "open", "To do"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Not applicable"

    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.CASCADE, related_name="checklist")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="sop_checklist")
    code = models.CharField(max_length=24, help_text="The SOP's step, e.g. 'IV.1.c'.")
    key = models.CharField(max_length=40, help_text="What the step is, for the system: callback, rebid, close …")
    text = models.CharField(max_length=400)
    order = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    by_system = models.BooleanField(default=False)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    done_by_label = models.CharField(max_length=150, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "id"]


class Job(models.Model):
    """A unit of background work: claimed by a conditional update, swept when due or stuck."""

    class State(models.TextChoices):
        DUE = "due", "Due"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    state = models.CharField(max_length=10, choices=State.choices, default=State.DUE)
    scheduled_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CallbackAttempt(Job):
    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        VOICEMAIL_LEFT = "voicemail_left", "Voicemail left"
        INVALID_NUMBER = "invalid_number", "Invalid number"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="callbacks")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL)
    number = models.CharField(max_length=16)
    attempt_number = models.PositiveSmallIntegerField()
    of_attempts = models.PositiveSmallIntegerField(default=2)
    position = models.CharField(max_length=32, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    gateway_call_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["attempt_number"]
        constraints = [models.UniqueConstraint(fields=["call", "attempt_number"], name="one_callback_per_attempt")]
        indexes = [models.Index(fields=["state", "scheduled_at"], name="callback_due")]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SubscriberSearch(Job):
    """A Wireless Service Provider account search for the subscriber's address (may take minutes)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="subscriber_searches")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL)
    ani = models.CharField(max_length=16)
    carrier = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=80, unique=True)
    search_id = models.CharField(max_length=64, blank=True)
    result_status = models.CharField(max_length=16, blank=True, help_text="pending, complete, not_found")
    subscriber = models.JSONField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "scheduled_at"], name="subscriber_search_due")]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SupplementalLocation(Job):
    """A RapidSOS-style device location: shown beside the ALI, never written over it."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="supplemental_locations")
    caller_id = models.CharField(max_length=16)
    found = models.BooleanField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    uncertainty_m = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)
    located_at = models.CharField(max_length=40, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["state", "scheduled_at"], name="supplemental_due")]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Rebid(Job):
    """A request to the CPE/ALI for the most recent Phase 2 fix; the answer becomes an AliRecord."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="rebids")
    ali_record = models.OneToOneField(AliRecord, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "scheduled_at"], name="rebid_due")]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Transfer(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transfers")
    target_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL)
    target = models.CharField(max_length=120)
    caller_announced = models.BooleanField()
    location_given = models.CharField(max_length=300)
    nature_given = models.CharField(max_length=300)
    transferred_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MisrouteReport(Job):
    """SOP §V: a 911 call for another jurisdiction; sent to the county 911 coordinator, purged quarterly."""

    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="misroutes")
    received_ani = models.CharField(max_length=16, blank=True)
    received_ali = models.CharField(max_length=300, blank=True)
    correct_ani = models.CharField(max_length=16, blank=True)
    correct_ali = models.CharField(max_length=300, blank=True)
    correct_psap = models.CharField(max_length=120)
    notes = models.CharField(max_length=500, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reported_by_label = models.CharField(max_length=150, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ManualAliLookup(models.Model):
    """SOP §VI: ANI/ALI for a caller on a seven-digit line, only when all four conditions hold.

    Every request is kept — refusals as well as lookups — as the audit trail.
    """

    line = models.ForeignKey(Line, null=True, blank=True, on_delete=models.SET_NULL)
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL)
    phone_number = models.CharField(max_length=16)
    requesting_emergency_aid = models.BooleanField(help_text="1. The caller is requesting emergency aid.")
    caller_gave_number = models.BooleanField(help_text="2. The caller gave the dispatcher his/her number.")
    emergency_exists = models.BooleanField(help_text="3. The dispatcher determines an emergency exists.")
    insufficient_information = models.BooleanField(
        help_text="4. The caller is unable or failed to give sufficient information for a response.")
    allowed = models.BooleanField()
    refusal_reason = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    requested_by_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]


# --- Daily roll-up of answer times (calltaking/rollup.py) ----------------------------------------
class AnswerTimeDay(models.Model):
    """One complete local day of 911 calls (by ringing time) rolled up; its buckets are in AnswerTimeBucket."""

    day = models.DateField(primary_key=True)
    answered = models.PositiveIntegerField()
    abandoned = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)


class AnswerTimeBucket(models.Model):
    """Answered 911 calls of a day whose answer time is in (second - 1, second] seconds, with the exact
    answer times (microseconds, sorted) for exact percentiles."""

    day = models.DateField()
    second = models.IntegerField(help_text="ceil(answer time in seconds)")
    calls = models.PositiveIntegerField()
    micros = ArrayField(models.BigIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "second"], include=["calls"], name="answer_bucket_day_second")]
