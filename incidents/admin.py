from django.contrib import admin

from incidents.models import (
    AdditionalCaller,
    AddressPoint,
    Assignment,
    Beat,
    Boundary,
    CallType,
    EmergencyServiceZone,
    Incident,
    NarrativeEntry,
    PremiseHazard,
    ResponsePlanItem,
    StreetRange,
)


class ResponsePlanInline(admin.TabularInline):
    model = ResponsePlanItem
    extra = 1


@admin.register(CallType)
class CallTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_priority", "response_goal_seconds", "sop_code", "active"]
    list_filter = ["sop_code", "active"]
    inlines = [ResponsePlanInline]


class NarrativeInline(admin.TabularInline):
    model = NarrativeEntry
    extra = 0
    can_delete = False
    readonly_fields = ["at", "author_label", "source", "text"]

    def has_add_permission(self, request, obj=None):
        return False


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    readonly_fields = ["unit", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at", "dispatched_by"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["number", "call_type", "priority", "status", "location_text", "created_at", "closed_at"]
    list_filter = ["status", "priority", "call_type"]
    search_fields = ["number", "location_text", "callback_number", "caller_name"]
    inlines = [AssignmentInline, NarrativeInline]
    readonly_fields = ["number", "status", "created_at", "first_dispatched_at", "first_en_route_at",
                       "first_on_scene_at", "closed_at"]


@admin.register(NarrativeEntry)
class NarrativeEntryAdmin(admin.ModelAdmin):
    list_display = ["incident", "at", "author_label", "source", "text"]
    search_fields = ["incident__number", "text"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model, fields in [
    (Boundary, ["code", "name", "kind", "agency"]),
    (Beat, ["code", "name", "agency"]),
    (EmergencyServiceZone, ["esn", "name", "law", "fire", "ems"]),
    (StreetRange, ["name", "prefix", "suffix", "community", "low", "high", "parity", "esz"]),
    (AddressPoint, ["house_number", "prefix", "street_name", "suffix", "community", "place_name", "esz", "beat"]),
    (PremiseHazard, ["kind", "text", "address", "radius_m", "expires_at"]),
    (Assignment, ["incident", "unit", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at"]),
    (AdditionalCaller, ["incident", "name", "callback_number", "at"]),
]:
    admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), {"list_display": fields}))
