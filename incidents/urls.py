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
