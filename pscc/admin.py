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


# --- Audit (issue 8): the caller-data access log, read-only ----------------------------------------
from pscc.models import AccountActivity, CallerDataAccess  # noqa: E402


@admin.register(CallerDataAccess)
class CallerDataAccessAdmin(ReadOnlyAdmin):
    """Read-only: the table refuses UPDATE and DELETE in PostgreSQL as well."""

    list_display = ["at", "username", "role", "kind", "object_ref", "reason", "route", "ip_address"]
    list_filter = ["kind", "role"]
    search_fields = ["username", "object_ref", "reason"]
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None):
        from pscc.roles import is_supervisor

        return is_supervisor(request.user)


@admin.register(AccountActivity)
class AccountActivityAdmin(ReadOnlyAdmin):
    list_display = ["user", "enabled_at", "disabled_at", "disabled_reason"]
