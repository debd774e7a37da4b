from django.urls import path

from incidents import api

urlpatterns = [
    path("api/v1/incidents/", api.IncidentListView.as_view(), name="api-incidents"),
    path("api/v1/incidents/check/", api.IncidentCheckView.as_view(), name="api-incident-check"),
    path("api/v1/incidents/<str:number>/", api.IncidentDetailView.as_view(), name="api-incident"),
    path("api/v1/incidents/<str:number>/narrative/", api.NarrativeView.as_view(), name="api-incident-narrative"),
    path("api/v1/incidents/<str:number>/dispatch/", api.DispatchView.as_view(), name="api-incident-dispatch"),
    path("api/v1/incidents/<str:number>/recommendations/", api.RecommendationsView.as_view(),
         name="api-incident-recommendations"),
    path("api/v1/incidents/<str:number>/callers/", api.AdditionalCallerView.as_view(), name="api-incident-callers"),
    path("api/v1/addresses/verify", api.AddressVerifyView.as_view(), name="api-address-verify"),
    path("api/v1/addresses/verify/", api.AddressVerifyView.as_view()),
]

# --- Partner API (issue 7): an agency's own incidents, and their NENA EIDO -----------------------
from incidents import partner_api  # noqa: E402

urlpatterns += [
    path("api/v1/partner/incidents/", partner_api.PartnerIncidentListView.as_view(), name="api-partner-incidents"),
    path("api/v1/partner/incidents/<str:number>/", partner_api.PartnerIncidentDetailView.as_view(),
         name="api-partner-incident"),
    path("api/v1/partner/incidents/<str:number>/eido", partner_api.PartnerIncidentEidoView.as_view(),
         name="api-partner-incident-eido"),
]
