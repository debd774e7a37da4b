from django.urls import path

from units import api

urlpatterns = [
    path("api/v1/units/", api.UnitListView.as_view(), name="api-units"),
    path("api/v1/units/<int:unit_id>/status/", api.UnitStatusView.as_view(), name="api-unit-status"),
    path("api/v1/units/<int:unit_id>/position/", api.UnitPositionView.as_view(), name="api-unit-position"),
    path("api/v1/units/timer-alerts/<int:alert_id>/acknowledge/", api.TimerAlertAckView.as_view(),
         name="api-unit-timer-ack"),
]

# --- Partner API (issue 7): agencies' systems with API keys, scoped to their own agency --------
from units import partner_api  # noqa: E402

urlpatterns += [
    path("api/v1/partner/units/", partner_api.PartnerUnitListView.as_view(), name="api-partner-units"),
    path("api/v1/partner/units/<int:unit_id>/", partner_api.PartnerUnitDetailView.as_view(), name="api-partner-unit"),
    path("api/v1/partner/units/<int:unit_id>/status/", partner_api.PartnerUnitStatusView.as_view(),
         name="api-partner-unit-status"),
    path("api/v1/partner/events/", partner_api.PartnerEventsView.as_view(), name="api-partner-events"),
    path("api/v1/partner/webhooks/", partner_api.PartnerWebhookListView.as_view(), name="api-partner-webhooks"),
    path("api/v1/partner/webhooks/<int:webhook_id>/", partner_api.PartnerWebhookDetailView.as_view(),
         name="api-partner-webhook"),
]
