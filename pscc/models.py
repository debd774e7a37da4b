"""The center itself: staff roles and positions, and the event journal that feeds every console."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    TELECOMMUNICATOR = "telecommunicator", "Telecommunicator"
    SUPERVISOR = "supervisor", "Shift supervisor"
    ADMIN = "admin", "Administrator"
    PARTNER = "partner", "Partner agency"


class Position(models.Model):
    """A console position on the dispatch floor (P1..P8)."""

    code = models.CharField(max_length=16, unique=True)
    label = models.CharField(max_length=64, blank=True)
    secure_room = models.BooleanField(
        default=True, help_text="Inside the secure dispatch room (may be exempt from inactivity logout)."
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class StaffProfile(models.Model):
    """What the center knows about a login: its role, its agency (partners) and its usual position.

    The agency is kept as its code, not a foreign key: `pscc` sits below the domain apps and imports
    none of them.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    agency_code = models.CharField(max_length=32, blank=True, help_text="Partner accounts only.")
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"


class JournalEvent(models.Model):
    """One thing that happened on the floor, appended in the same transaction as the change.

    `id` is the append order; `seq` is the delivery order, assigned by the relay after commit in the
    order the relay sees commits, so the sequence a console sees is gap-free even when transactions
    commit out of id order.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    kind = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    sequenced_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, blank=True)
    entity = models.CharField(max_length=100, blank=True, help_text="e.g. incident:2026-000123")
    audience = ArrayField(models.CharField(max_length=64), default=list)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="journal_unsequenced", condition=models.Q(seq__isnull=True)),
            models.Index(fields=["entity", "seq"], name="journal_entity_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '-'} {self.kind}"

    def as_message(self) -> dict:
        return {
            "seq": self.seq,
            "type": self.kind,
            "at": self.created_at.isoformat(),
            "actor": self.actor_label,
            "entity": self.entity,
            "audience": list(self.audience),
            "data": self.payload,
        }


class RelayCursor(models.Model):
    """Where the relay stands: the last sequence number assigned and the last one pushed to Redis."""

    name = models.CharField(max_length=32, unique=True, default="floor")
    last_seq = models.BigIntegerField(default=0)
    published_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: seq {self.last_seq}, published {self.published_seq}"


class ServiceHeartbeat(models.Model):
    """Last sign of life of a background process (worker, beat, relay), for /healthz."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%H:%M:%S}"


class SupervisorAlert(models.Model):
    """Something a shift supervisor must see and acknowledge (duress, unclaimed text, overdue unit…).

    `dedupe_key` makes raising idempotent: a sweeper that runs twice raises the alert once.
    """

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        WARNING = "warning", "Warning"
        INFO = "info", "Information"

    kind = models.CharField(max_length=40)
    dedupe_key = models.CharField(max_length=120, unique=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    text = models.CharField(max_length=500)
    entity = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    acknowledgement_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["raised_at"], name="alert_open", condition=models.Q(acknowledged_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:50]}"


class PassDownEntry(models.Model):
    """The shift's pass-down log: what the next shift must know."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="passdown_entries")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    entity = models.CharField(max_length=100, blank=True, help_text="Optional incident/session it is about.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "pass-down entries"

    def __str__(self) -> str:
        return self.text[:60]


class PassDownRead(models.Model):
    entry = models.ForeignKey(PassDownEntry, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "user"], name="passdown_read_once")]


class PositionAssignment(models.Model):
    """Who is at which console position, from sign-on to sign-off."""

    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="position_assignments")
    signed_on_at = models.DateTimeField(default=timezone.now)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    relieved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-signed_on_at"]
        constraints = [
            models.UniqueConstraint(fields=["position"], condition=models.Q(signed_off_at__isnull=True), name="one_person_per_position"),
            models.UniqueConstraint(fields=["user"], condition=models.Q(signed_off_at__isnull=True), name="one_position_per_person"),
        ]


class ReportExport(models.Model):
    """A CSV export built in the background, with progress the page can show."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    report = models.CharField(max_length=40)
    start = models.DateTimeField()
    end = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    content = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]


# --- Audit (issue 8): who viewed or searched caller data; append-only in PostgreSQL ---------------
import pghistory  # noqa: E402
import pgtrigger  # noqa: E402


class CallerDataAccess(models.Model):
    """One look at caller data: ANI/ALI, a subscriber search, a manual ALI lookup, a transcript…

    Written only by `pscc.audit.caller_data_access_record`. A trigger refuses every UPDATE, DELETE and
    TRUNCATE, from the ORM or raw SQL alike; the only way out is the retention purge of rows older than
    the retention period (`pscc.audit.caller_data_access_purge`), which ignores the trigger explicitly.
    The user is referenced without a database constraint and copied by name, so deleting a login
    never has to touch (or is blocked by) this log.
    """

    class Kind(models.TextChoices):
        ANI_ALI = "ani_ali", "ANI/ALI display"
        SUBSCRIBER_SEARCH = "subscriber_search", "Wireless subscriber search"
        MANUAL_ALI_LOOKUP = "manual_ali_lookup", "Manual ALI lookup"
        TRANSCRIPT = "transcript", "Text transcript"
        RECORDS_SEARCH = "records_search", "Records search"

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    object_ref = models.CharField(max_length=200, help_text="e.g. call:42, incident:2026-000123, phone:3075550100")
    reason = models.CharField(max_length=300, blank=True)
    route = models.CharField(max_length=300, blank=True, help_text="The page, API route or task that showed the data.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "caller data access"
        verbose_name_plural = "caller data accesses"
        indexes = [
            models.Index(fields=["at"], name="cda_at"),
            models.Index(fields=["username", "at"], name="cda_user_at"),
            models.Index(fields=["kind", "at"], name="cda_kind_at"),
            models.Index(fields=["object_ref"], name="cda_object"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # TRUNCATE is refused too, except in a test database (named test_*), which the test runner
            # empties by truncating every table between tests.
            pgtrigger.Trigger(
                name="no_truncate", when=pgtrigger.Before, operation=pgtrigger.Truncate, level=pgtrigger.Statement,
                func=(
                    "IF current_database() LIKE 'test\\_%' THEN RETURN NULL; END IF; "
                    "RAISE EXCEPTION 'pscc_callerdataaccess is append-only: TRUNCATE refused'; RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.kind} {self.object_ref}"


class AccountActivity(models.Model):
    """When a login was last enabled or disabled, and why (the idle-account rule counts from here).

    An account re-enabled by an administrator counts its 90 idle days from `enabled_at`, so the next
    run of the idle-account task does not disable it again before its owner has signed in.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_activity")
    enabled_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "account activity"

    def __str__(self) -> str:
        return f"{self.user_id}: enabled {self.enabled_at}, disabled {self.disabled_at}"


# Change history (django-pghistory, trigger-based: `.update()` and raw SQL are recorded too) of the
# center's own tables that decide who may do what.
pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())(StaffProfile)
pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())(Position)


class IdempotencyRecord(models.Model):
    """The first answer to a request that created something from outside, under its idempotency key.

    Written in the same transaction as the effect (so a crash loses both or neither) and only for
    answers below 400; purged by the sweeper after PSCC_IDEMPOTENCY_KEEP_HOURS. Not a domain table:
    it has no change history (it is a cache of answers, not a record of the floor)."""

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64, help_text='Whose keys these are: "cpe", "tcc", "partner:<agency id>".')
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request (method, path, body).")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
