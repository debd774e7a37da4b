from django.contrib import admin

from calltaking.models import Line


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "label", "agency"]
    list_filter = ["kind"]
