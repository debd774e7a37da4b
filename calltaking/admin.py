from django.contrib import admin

from calltaking.models import (
    AliRecord, Call, CallbackAttempt, ChecklistStep, Line, ManualAliLookup, MisrouteReport, Rebid, SubscriberSearch,
    SupplementalLocation, Transfer,
)


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "label", "agency"]
    list_filter = ["kind"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Call records are written by services only; the admin reviews them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AliRecordInline(admin.TabularInline):
    model = AliRecord
    extra = 0
    fields = ["source", "received_at", "lat", "lon", "uncertainty_m", "confidence_pct"]
    readonly_fields = fields
    can_delete = False


class ChecklistInline(admin.TabularInline):
    model = ChecklistStep
    extra = 0
    fields = ["code", "text", "state", "done_by_label", "done_at", "note"]
    readonly_fields = fields
    can_delete = False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["cpe_call_id", "line", "ani", "class_of_service", "state", "ringing_at", "answered_at",
                    "answered_by", "sop_path", "incident"]
    list_filter = ["state", "class_of_service", "sop_path"]
    search_fields = ["cpe_call_id", "ani", "street_name"]
    inlines = [AliRecordInline, ChecklistInline]


@admin.register(CallbackAttempt)
class CallbackAttemptAdmin(ReadOnlyAdmin):
    list_display = ["call", "attempt_number", "number", "state", "outcome", "scheduled_at", "tries", "last_error"]
    list_filter = ["state", "outcome"]


@admin.register(SubscriberSearch)
class SubscriberSearchAdmin(ReadOnlyAdmin):
    list_display = ["call", "ani", "carrier", "state", "result_status", "tries", "escalated_at"]


@admin.register(SupplementalLocation)
class SupplementalLocationAdmin(ReadOnlyAdmin):
    list_display = ["call", "caller_id", "state", "found", "lat", "lon", "used_at", "used_by"]


@admin.register(Rebid)
class RebidAdmin(ReadOnlyAdmin):
    list_display = ["call", "state", "tries", "finished_at", "last_error"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["call", "target", "caller_announced", "transferred_by", "at"]


@admin.register(MisrouteReport)
class MisrouteReportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "correct_psap", "correct_ani", "state", "sent_to", "reported_by_label"]


@admin.register(ManualAliLookup)
class ManualAliLookupAdmin(ReadOnlyAdmin):
    list_display = ["at", "phone_number", "allowed", "refusal_reason", "requested_by_label"]
    list_filter = ["allowed"]
