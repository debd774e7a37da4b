from django.urls import path

from calltaking import api

urlpatterns = [
    path("api/v1/calls/", api.CallsView.as_view(), name="calls"),
    path("api/v1/calls/records/", api.RecordsView.as_view(), name="call-records"),
    path("api/v1/calls/<int:pk>/", api.CallDetailView.as_view(), name="call-detail"),
    path("api/v1/calls/<int:pk>/answer/", api.AnswerView.as_view(), name="call-answer"),
    path("api/v1/calls/<int:pk>/hold/", api.HoldView.as_view(), name="call-hold"),
    path("api/v1/calls/<int:pk>/resume/", api.ResumeView.as_view(), name="call-resume"),
    path("api/v1/calls/<int:pk>/release/", api.ReleaseView.as_view(), name="call-release"),
    path("api/v1/calls/<int:pk>/transfer/", api.TransferView.as_view(), name="call-transfer"),
    path("api/v1/calls/<int:pk>/verify-location/", api.VerifyLocationView.as_view(), name="call-verify-location"),
    path("api/v1/calls/<int:pk>/tty/", api.TtyView.as_view(), name="call-tty"),
    path("api/v1/calls/<int:pk>/classify/", api.ClassifyView.as_view(), name="call-classify"),
    path("api/v1/calls/<int:pk>/rebid/", api.RebidView.as_view(), name="call-rebid"),
    path("api/v1/calls/<str:cpe_call_id>/events/", api.CallEventsView.as_view(), name="call-events"),
    path("api/v1/supplemental-locations/<int:pk>/use/", api.UseSupplementalView.as_view(), name="supplemental-use"),
    path("api/v1/checklist-steps/<int:pk>/complete/", api.StepCompleteView.as_view(), name="checklist-complete"),
    path("api/v1/misroute-reports/", api.MisrouteView.as_view(), name="misroute-reports"),
    path("api/v1/manual-ali-lookups/", api.ManualAliView.as_view(), name="manual-ali-lookups"),
    path("api/v1/compliance/answer-time/", api.AnswerTimeComplianceView.as_view(), name="compliance-answer-time"),
]
