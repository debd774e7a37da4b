from django.contrib import admin

from text911.models import QuickMessage, SergeantApproval, SessionHandover, TextDesk, TextMessage, TextSession


@admin.register(QuickMessage)
class QuickMessageAdmin(admin.ModelAdmin):
    list_display = ("number", "label", "purpose", "active")
    list_editable = ("active",)


class TextMessageInline(admin.TabularInline):
    model = TextMessage
    # Never a way to open multimedia: it is not stored (rule 27).
    fields = ("created_at", "direction", "kind", "text", "author", "state", "attempts", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TextSession)
class TextSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "from_number", "state", "owner", "started_at", "incident", "rebid_count")
    list_filter = ("state",)
    search_fields = ("from_number", "tcc_session_id")
    inlines = [TextMessageInline]

    def has_add_permission(self, request):
        return False  # rule 6: sessions are started only by texters

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["related_sessions"]


@admin.register(SergeantApproval)
class SergeantApprovalAdmin(admin.ModelAdmin):
    list_display = ("session", "requesting_unit", "decision", "sergeant", "decided_at", "callback_made_at")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(SessionHandover)
class SessionHandoverAdmin(admin.ModelAdmin):
    list_display = ("session", "from_user", "to_user", "reason", "at")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


admin.site.register(TextDesk)
