from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from pscc import api, health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("accounts/unlock/", views.unlock_account, name="unlock-account"),
    path("accounts/locked/", views.locked_accounts, name="locked-accounts"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/events/", api.EventsView.as_view(), name="api-events"),
    path("", include("units.urls")),
    path("", include("incidents.urls")),
    path("", include("calltaking.urls")),
    path("", include("text911.urls")),
]
