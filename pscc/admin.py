from django.contrib import admin

from pscc.models import JournalEvent, Position, RelayCursor, ServiceHeartbeat, StaffProfile


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "secure_room"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "agency_code", "position"]
    list_filter = ["role", "agency_code"]
    search_fields = ["user__username", "user__last_name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The journal and the relay's state are written by services only, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JournalEvent)
class JournalEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "seq", "kind", "entity", "actor_label", "created_at", "sequenced_at"]
    list_filter = ["kind"]
    search_fields = ["entity", "kind"]


@admin.register(RelayCursor)
class RelayCursorAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_seq", "published_seq", "updated_at"]


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "seen_at"]
