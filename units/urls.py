from django.urls import path

from units import api

urlpatterns = [
    path("api/v1/units/", api.UnitListView.as_view(), name="api-units"),
    path("api/v1/units/<int:unit_id>/status/", api.UnitStatusView.as_view(), name="api-unit-status"),
    path("api/v1/units/<int:unit_id>/position/", api.UnitPositionView.as_view(), name="api-unit-position"),
    path("api/v1/units/timer-alerts/<int:alert_id>/acknowledge/", api.TimerAlertAckView.as_view(),
         name="api-unit-timer-ack"),
]
