"""REST for the supervisor board: alerts, the pass-down log, positions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pscc.api import IsFloorStaff, IsSupervisor
from pscc.errors import ServiceError
from pscc.models import PassDownEntry
from pscc.supervision import (
    alert_acknowledge,
    alert_as_dict,
    open_alerts,
    passdown_add,
    passdown_as_dict,
    passdown_mark_read,
    position_hand_over,
    position_sign_off,
    position_sign_on,
    positions_board,
)


class AcknowledgeInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class AlertListView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(operation_id="alerts_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"alerts": open_alerts()})


class AlertAcknowledgeView(APIView):
    permission_classes = [IsSupervisor]
    serializer_class = AcknowledgeInput

    @extend_schema(operation_id="alert_acknowledge", request=AcknowledgeInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, alert_id: int):
        data = AcknowledgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_acknowledge(alert_id=alert_id, actor=request.user, note=data.validated_data.get("note", ""))
        return Response(alert_as_dict(alert))


class PassDownInput(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    entity = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PassDownView(APIView):
    permission_classes = [IsFloorStaff]
    serializer_class = PassDownInput

    @extend_schema(operation_id="passdown_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        entries = PassDownEntry.objects.select_related("author").prefetch_related("reads")[:200]
        return Response({"entries": [
            {**passdown_as_dict(e), "read_by_me": any(r.user_id == request.user.pk for r in e.reads.all())} for e in entries
        ]})

    @extend_schema(operation_id="passdown_add", request=PassDownInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = PassDownInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = passdown_add(author=request.user, text=data.validated_data["text"], entity=data.validated_data.get("entity", ""))
        return Response(passdown_as_dict(entry), status=201)


class PassDownReadView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(operation_id="passdown_mark_read", request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, entry_id: int):
        read = passdown_mark_read(entry_id=entry_id, user=request.user)
        return Response({"entry": entry_id, "read_at": read.read_at.isoformat()})


class PositionInput(serializers.Serializer):
    position = serializers.CharField(max_length=16)
    relief = serializers.CharField(required=False, max_length=150)


class PositionsView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(operation_id="positions_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"positions": positions_board()})


class PositionActionView(APIView):
    """sign-on (position), hand-over (position, relief) or sign-off."""

    permission_classes = [IsFloorStaff]
    serializer_class = PositionInput

    @extend_schema(operation_id="position_action", request=PositionInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, action: str):
        if action == "sign-off":
            position_sign_off(user=request.user)
            return Response({"positions": positions_board()})
        data = PositionInput(data=request.data)
        data.is_valid(raise_exception=True)
        if action == "sign-on":
            position_sign_on(user=request.user, position_code=data.validated_data["position"])
        elif action == "hand-over":
            username = data.validated_data.get("relief")
            relief = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
            if relief is None:
                raise ServiceError("Name the relief taking the position.", field="relief")
            position_hand_over(user=request.user, relief=relief, position_code=data.validated_data["position"])
        else:
            raise ServiceError(f"Unknown action {action}.", field="action")
        return Response({"positions": positions_board()})
