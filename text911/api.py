"""REST for text to 911: the TCC's signed inbound endpoint, and the console's session actions.

Every action view validates input, calls one service and answers the session's current state.
"""

from __future__ import annotations

import json
import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pscc.api import IsFloorStaff, IsSupervisor
from pscc.errors import NotFound, ServiceError
from pscc.idempotency import idempotent_answer, request_fingerprint
from text911 import services
from text911.gateway import SignatureRejected, tcc_signature_verify
from text911.models import TextSession
from text911.selectors import (
    open_sessions,
    quick_messages,
    session_as_dict,
    session_with_messages,
    text_snapshot,
)

log = logging.getLogger("text911.gateway")


# --- TCC -> product ----------------------------------------------------------------------------------
@csrf_exempt
@require_POST
def inbound(request):
    """`POST /api/v1/text911/inbound`: HMAC-signed by the TCC; idempotent on `tcc_message_id`. The row is
    committed before the answer (and before anything is pushed: the journal is the outbox)."""
    body = request.body
    try:
        tcc_signature_verify(body=body, timestamp=request.headers.get("X-TCC-Timestamp"),
                             signature=request.headers.get("X-TCC-Signature"))
    except SignatureRejected as exc:
        log.warning("TCC inbound refused from %s: %s", request.META.get("REMOTE_ADDR"), exc.reason)
        return JsonResponse({"error": exc.reason, "code": "signature"}, status=401)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return JsonResponse({"error": "body is not UTF-8 JSON", "code": "invalid"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"error": "body must be a JSON object", "code": "invalid"}, status=400)
    for name in ("tcc_message_id", "session_id", "from_number", "kind"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            return JsonResponse({"error": f"{name} is required", "field": name, "code": "invalid"}, status=400)
    if len(data["tcc_message_id"].strip()) > 200:
        return JsonResponse({"error": "tcc_message_id is at most 200 characters", "field": "tcc_message_id",
                             "code": "invalid"}, status=400)
    text = data.get("text") or ""
    tower = data.get("tower")
    if not isinstance(text, str):
        return JsonResponse({"error": "text must be a string", "field": "text", "code": "invalid"}, status=400)
    if tower is not None and not isinstance(tower, dict):
        return JsonResponse({"error": "tower must be an object", "field": "tower", "code": "invalid"}, status=400)
    # PostgreSQL refuses NUL in text: a 400 naming the field, not a failure in the database.
    for name in ("tcc_message_id", "session_id", "from_number", "kind", "text", "sent_at"):
        if isinstance(data.get(name), str) and "\x00" in data[name]:
            return JsonResponse({"error": f"{name} contains a NUL character", "field": name, "code": "invalid"},
                                status=400)
    if tower is not None and "\x00" in str(tower.get("sector") or ""):
        return JsonResponse({"error": "tower contains a NUL character", "field": "tower", "code": "invalid"},
                            status=400)
    # `media` (the multimedia content or its link) is deliberately never read (rule 27).

    def receive() -> tuple[int, dict]:
        message, outcome = services.text_inbound_receive(
            tcc_message_id=data["tcc_message_id"].strip(), session_id=data["session_id"].strip(),
            from_number=data["from_number"].strip(), kind=data["kind"].strip(), text=text,
            sent_at=data.get("sent_at") if isinstance(data.get("sent_at"), str) else None, tower=tower,
        )
        return 200, {"accepted": True, "outcome": outcome, "session": message.session_id if message else None}

    # The TCC's message id is the idempotency key: a retry answers the first answer, a duplicate still in
    # flight answers 409 (pscc/idempotency.py).
    try:
        answer = idempotent_answer(scope="tcc", key=data["tcc_message_id"].strip(), key_field="tcc_message_id",
                                   fingerprint=request_fingerprint(method="POST", path=request.path, data=data),
                                   produce=receive)
    except ServiceError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    except (OperationalError, InterfaceError):
        log.exception("database unavailable for TCC inbound")
        return JsonResponse({"error": "database unavailable; retry"}, status=503, headers={"Retry-After": "2"})
    return JsonResponse(answer.body, status=answer.status, headers=answer.headers)


# --- Console -----------------------------------------------------------------------------------------
def _session(pk) -> TextSession:
    session = (TextSession.objects.select_related("owner", "incident", "transferred_to", "location_verified_by",
                                                  "ended_by").prefetch_related("related_sessions")
               .filter(pk=pk).first())
    if session is None:
        raise NotFound(f"No text session {pk}.", field="session")
    return session


class SessionListView(APIView):
    permission_classes = [IsFloorStaff]

    def get(self, request):
        return Response({"sessions": [session_as_dict(s) for s in open_sessions()]})


class SnapshotView(APIView):
    permission_classes = [IsFloorStaff]

    def get(self, request):
        return Response(text_snapshot(request.user))


class SessionDetailView(APIView):
    permission_classes = [IsFloorStaff]

    def get(self, request, pk):
        return Response(session_with_messages(_session(pk)))


class QuickMessageListView(APIView):
    permission_classes = [IsFloorStaff]

    def get(self, request):
        return Response({"quick_messages": quick_messages()})


class _Action(APIView):
    """POST /api/v1/text911/sessions/<pk>/<action>: validate, call one service, answer the session."""

    permission_classes = [IsFloorStaff]
    serializer_class: type[serializers.Serializer] | None = None

    def perform(self, request, pk, data):  # pragma: no cover - overridden
        raise NotImplementedError

    # The serializer describes the request; every action answers the session's current state.
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def post(self, request, pk):
        data = {}
        if self.serializer_class is not None:
            ser = self.serializer_class(data=request.data)
            ser.is_valid(raise_exception=True)
            data = ser.validated_data
        extra = self.perform(request, pk, data) or {}
        return Response({**session_with_messages(_session(pk)), **extra})


class ClaimView(_Action):
    def perform(self, request, pk, data):
        services.text_session_claim(session_id=pk, actor=request.user)


class SendSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    quick_number = serializers.IntegerField(required=False, min_value=1, max_value=99)

    def validate(self, attrs):
        if not attrs.get("text") and attrs.get("quick_number") is None:
            raise serializers.ValidationError({"text": ["Type a message or choose a quick message."]})
        return attrs


class SendView(_Action):
    serializer_class = SendSerializer

    def perform(self, request, pk, data):
        services.text_message_send(session_id=pk, actor=request.user, text=data.get("text"),
                                   quick_number=data.get("quick_number"))


class RebidView(_Action):
    def perform(self, request, pk, data):
        services.text_location_rebid(session_id=pk, actor=request.user)


class VerifySerializer(serializers.Serializer):
    location_text = serializers.CharField(required=False, allow_blank=True, max_length=300)
    lat = serializers.FloatField(required=False, allow_null=True)
    lon = serializers.FloatField(required=False, allow_null=True)
    address_id = serializers.IntegerField(required=False, allow_null=True)


class VerifyLocationView(_Action):
    serializer_class = VerifySerializer

    def perform(self, request, pk, data):
        services.text_location_verify(session_id=pk, actor=request.user, location_text=data.get("location_text", ""),
                                      lat=data.get("lat"), lon=data.get("lon"), address_id=data.get("address_id"))


class IncidentSerializer(serializers.Serializer):
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    nature = serializers.CharField(required=False, allow_blank=True, max_length=500)


class IncidentView(_Action):
    serializer_class = IncidentSerializer

    def perform(self, request, pk, data):
        incident = services.text_incident_create(session_id=pk, actor=request.user, priority=data.get("priority"),
                                                 nature=data.get("nature", ""))
        return {"created_incident": incident.number}


class ConfirmAddressSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ConfirmAddressView(_Action):
    serializer_class = ConfirmAddressSerializer

    def perform(self, request, pk, data):
        services.text_address_confirm(session_id=pk, actor=request.user, text=data.get("text", ""))


class TransferSerializer(serializers.Serializer):
    agency = serializers.CharField(max_length=32)


class TransferView(_Action):
    serializer_class = TransferSerializer

    def perform(self, request, pk, data):
        services.text_session_transfer(session_id=pk, actor=request.user, agency_code=data["agency"])


class EndSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)
    force_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class EndView(_Action):
    serializer_class = EndSerializer

    def perform(self, request, pk, data):
        services.text_session_end(session_id=pk, actor=request.user, force=data.get("force", False),
                                  force_reason=data.get("force_reason", ""))


class NoResponseSerializer(serializers.Serializer):
    emergency_indicated = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class NoResponseView(_Action):
    serializer_class = NoResponseSerializer

    def perform(self, request, pk, data):
        incident = services.text_no_response_record(session_id=pk, actor=request.user,
                                                    emergency_indicated=data.get("emergency_indicated", False),
                                                    note=data.get("note", ""))
        return {"created_incident": incident.number}


class RelateSerializer(serializers.Serializer):
    other = serializers.IntegerField()


class RelateView(_Action):
    serializer_class = RelateSerializer

    def perform(self, request, pk, data):
        services.text_sessions_relate(session_id=pk, other_id=data["other"], actor=request.user)


class CallbackRequestSerializer(serializers.Serializer):
    requesting_unit = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=300)


class CallbackRequestView(_Action):
    serializer_class = CallbackRequestSerializer

    def perform(self, request, pk, data):
        approval = services.text_callback_request(session_id=pk, actor=request.user,
                                                  requesting_unit=data["requesting_unit"], reason=data["reason"])
        return {"approval": approval.pk}


class VoiceCallbackView(_Action):
    def perform(self, request, pk, data):
        services.text_voice_callback_record(session_id=pk, actor=request.user)


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class CallbackDecisionView(APIView):
    permission_classes = [IsSupervisor]

    def post(self, request, pk):
        ser = DecisionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        approval = services.text_callback_decide(approval_id=pk, actor=request.user, approve=ser.validated_data["approve"],
                                                 note=ser.validated_data.get("note", ""))
        return Response({"approval": approval.pk, "decision": approval.decision})


class DeskSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["available", "break", "signed_off"])
    relief = serializers.CharField(required=False, allow_blank=True, max_length=150)
    briefing = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DeskView(APIView):
    """Sign on / break / sign off for text; with active sessions a named relief takes them."""

    permission_classes = [IsFloorStaff]

    def post(self, request):
        ser = DeskSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        relief_name = ser.validated_data.get("relief") or ""
        relief = services.user_by_username(relief_name) if relief_name else None
        desk = services.text_desk_status_set(user=request.user, status=ser.validated_data["status"], relief=relief,
                                             briefing=ser.validated_data.get("briefing", ""))
        return Response({"desk": desk.status})


class HandoverSerializer(serializers.Serializer):
    relief = serializers.CharField(max_length=150)
    briefing = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.ChoiceField(choices=["shift_change", "break", "meal", "assignment", "sign_off"],
                                     required=False, default="shift_change")


class HandoverView(APIView):
    permission_classes = [IsFloorStaff]

    def post(self, request):
        ser = HandoverSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        relief = services.user_by_username(ser.validated_data["relief"])
        sessions = services.text_sessions_hand_over(from_user=request.user, to_user=relief, actor=request.user,
                                                    reason=ser.validated_data["reason"],
                                                    briefing=ser.validated_data.get("briefing", ""))
        return Response({"handed_over": [s.pk for s in sessions], "relief": relief.get_username()})
