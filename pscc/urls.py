from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from pscc import api, health, reports_views, supervision_api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.mfa_verify, name="mfa-verify"),
    path("login/enrol/", views.mfa_enrol, name="mfa-enrol"),
    path("audit/access/", views.audit_access, name="audit-access"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("accounts/unlock/", views.unlock_account, name="unlock-account"),
    path("accounts/locked/", views.locked_accounts, name="locked-accounts"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/events/", api.EventsView.as_view(), name="api-events"),
    path("board/", views.board, name="board"),
    path("reports/", reports_views.reports, name="reports"),
    path("reports/exports/<int:export_id>.csv", reports_views.export_download, name="report-export-download"),
    path("api/v1/reports/exports/", reports_views.ExportView.as_view(), name="api-report-exports"),
    path("api/v1/reports/exports/<int:export_id>/", reports_views.ExportStatusView.as_view(), name="api-report-export"),
    path("api/v1/alerts/", supervision_api.AlertListView.as_view(), name="api-alerts"),
    path("api/v1/alerts/<int:alert_id>/acknowledge/", supervision_api.AlertAcknowledgeView.as_view(), name="api-alert-ack"),
    path("api/v1/passdown/", supervision_api.PassDownView.as_view(), name="api-passdown"),
    path("api/v1/passdown/<int:entry_id>/read/", supervision_api.PassDownReadView.as_view(), name="api-passdown-read"),
    path("api/v1/positions/", supervision_api.PositionsView.as_view(), name="api-positions"),
    path("api/v1/positions/<str:action>/", supervision_api.PositionActionView.as_view(), name="api-positions-action"),
    path("", include("units.urls")),
    path("", include("incidents.urls")),
    path("", include("calltaking.urls")),
    path("", include("text911.urls")),
]

if settings.PSCC_BENCH_VIEWS:
    # The intake benchmark's ceiling (bench/intake.py): the same server and middleware, no work.
    urlpatterns.append(path("bench/ping.json", views.bench_ping, name="bench-ping"))
