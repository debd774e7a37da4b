from django.contrib import admin

from units.models import Agency, Station, StatusTimer, Unit, UnitStatusChange, UnitTimerAlert


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "non_emergency_number", "accepts_text", "after_hours_only", "active"]
    list_filter = ["kind", "accepts_text"]
    search_fields = ["code", "name"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "agency", "address"]
    list_filter = ["agency"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["call_sign", "agency", "unit_type", "status", "status_changed_at", "incident_number", "station"]
    list_filter = ["agency", "unit_type", "status"]
    search_fields = ["call_sign"]
    # Status moves through the unit status service (history, timers, floor events), not by hand.
    readonly_fields = ["status", "status_changed_at", "incident_number"]


@admin.register(UnitStatusChange)
class UnitStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["unit", "from_status", "to_status", "at", "actor_label", "source", "incident_number", "reason"]
    list_filter = ["to_status", "source"]
    search_fields = ["unit__call_sign", "incident_number"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatusTimer)
class StatusTimerAdmin(admin.ModelAdmin):
    list_display = ["status", "unit_type", "minutes"]


@admin.register(UnitTimerAlert)
class UnitTimerAlertAdmin(admin.ModelAdmin):
    list_display = ["unit", "status", "raised_at", "acknowledged_at", "acknowledged_by"]
    list_filter = ["status"]
