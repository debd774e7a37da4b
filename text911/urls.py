from django.urls import path

from text911 import api

P = "api/v1/text911/"
urlpatterns = [
    path(P + "inbound", api.inbound, name="text911-inbound"),
    path(P + "sessions/", api.SessionListView.as_view(), name="text911-sessions"),
    path(P + "snapshot", api.SnapshotView.as_view(), name="text911-snapshot"),
    path(P + "quick-messages", api.QuickMessageListView.as_view(), name="text911-quick-messages"),
    path(P + "desk", api.DeskView.as_view(), name="text911-desk"),
    path(P + "handover", api.HandoverView.as_view(), name="text911-handover"),
    path(P + "callback-approvals/<int:pk>/decision", api.CallbackDecisionView.as_view(), name="text911-callback-decision"),
    path(P + "sessions/<int:pk>/", api.SessionDetailView.as_view(), name="text911-session"),
    path(P + "sessions/<int:pk>/claim", api.ClaimView.as_view()),
    path(P + "sessions/<int:pk>/messages", api.SendView.as_view()),
    path(P + "sessions/<int:pk>/rebid", api.RebidView.as_view()),
    path(P + "sessions/<int:pk>/verify-location", api.VerifyLocationView.as_view()),
    path(P + "sessions/<int:pk>/incident", api.IncidentView.as_view()),
    path(P + "sessions/<int:pk>/confirm-address", api.ConfirmAddressView.as_view()),
    path(P + "sessions/<int:pk>/transfer", api.TransferView.as_view()),
    path(P + "sessions/<int:pk>/end", api.EndView.as_view()),
    path(P + "sessions/<int:pk>/no-response", api.NoResponseView.as_view()),
    path(P + "sessions/<int:pk>/relate", api.RelateView.as_view()),
    path(P + "sessions/<int:pk>/callback-request", api.CallbackRequestView.as_view()),
    path(P + "sessions/<int:pk>/voice-callback", api.VoiceCallbackView.as_view()),
]
