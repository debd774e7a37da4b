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


# --- Partner API credentials and webhooks (issue 7) ----------------------------------------------
from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402
from django.urls import reverse  # noqa: E402

from units.models import (  # noqa: E402
    PartnerCallerDataAccess,
    PartnerCredential,
    PartnerScope,
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookSubscription,
)


class PartnerCredentialForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=PartnerScope.choices, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = PartnerCredential
        fields = ["agency", "name", "scopes"]


def _secret_once(request, *, title, label, secret, usage, back_url):
    return TemplateResponse(request, "admin/units/partner_secret_once.html",
                            {"title": title, "label": label, "secret": secret, "usage": usage, "back_url": back_url,
                             "site_header": "PSCC CAD administration"})


@admin.register(PartnerCredential)
class PartnerCredentialAdmin(admin.ModelAdmin):
    form = PartnerCredentialForm
    list_display = ["prefix", "agency", "name", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["agency", "revoked_at"]
    search_fields = ["prefix", "name", "agency__code"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A key belongs to one agency for life: issue a new key rather than moving one.
        return self.readonly_fields + (["agency"] if obj is not None else [])

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays for the audit

    def save_model(self, request, obj, form, change):
        from units.partners import partner_key_assign

        if not change:
            obj.created_by = request.user
            request._partner_new_key = partner_key_assign(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_partner_new_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_once(request, title=f"API key for {obj.agency.code} — {obj.name}", label="API key", secret=key,
                            usage="The system sends it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
                            back_url=reverse("admin:units_partnercredential_changelist"))

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        from units.partners import partner_credential_revoke

        count = 0
        for credential in queryset.filter(revoked_at__isnull=True):
            partner_credential_revoke(credential=credential, actor=request.user)
            count += 1
        messages.success(request, f"Revoked {count} API key(s); they answer 401 from now on.")


@admin.register(PartnerCallerDataAccess)
class PartnerCallerDataAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "credential", "path", "entities"]
    list_filter = ["credential__agency"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ["agency", "url", "active", "include_caller_data"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["agency", "url", "active", "include_caller_data", "last_delivered_seq", "undelivered",
                    "oldest_error"]
    list_filter = ["agency", "active"]
    readonly_fields = ["created_at", "start_after_seq", "cursor_seq", "last_delivered_seq"]

    @admin.display(description="undelivered")
    def undelivered(self, obj):
        return obj.deliveries.exclude(state=WebhookDeliveryState.DELIVERED).count()

    @admin.display(description="last error")
    def oldest_error(self, obj):
        first = obj.deliveries.exclude(state=WebhookDeliveryState.DELIVERED).order_by("seq").first()
        return first.last_error if first else ""

    def add_view(self, request, form_url="", extra_context=None):
        from units.webhooks import webhook_subscription_create

        if request.method == "POST":
            form = WebhookSubscriptionForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                sub = webhook_subscription_create(agency=d["agency"], url=d["url"],
                                                  include_caller_data=d["include_caller_data"])
                if not d["active"]:
                    WebhookSubscription.objects.filter(pk=sub.pk).update(active=False)
                return _secret_once(request, title=f"Webhook for {sub.agency.code}", label="Signing secret",
                                    secret=sub.secret,
                                    usage="Each POST carries X-PSCC-Timestamp and X-PSCC-Signature: sha256=<hex "
                                          "HMAC-SHA256(secret, timestamp + '.' + body)>.",
                                    back_url=reverse("admin:units_webhooksubscription_changelist"))
        return super().add_view(request, form_url, extra_context)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscription", "seq", "kind", "state", "attempts", "next_attempt_at", "last_status_code",
                    "last_error", "delivered_at"]
    list_filter = ["state", "subscription__agency"]
    search_fields = ["kind", "last_error"]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry the selected pending deliveries now")
    def retry_now(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(state=WebhookDeliveryState.PENDING).update(next_attempt_at=timezone.now())
        messages.success(request, f"{count} delivery(ies) due now; the sweeper sends them in order.")
