"""REST for units (floor staff): the board, status changes, positions, timer alert acknowledgement."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pscc.api import IsFloorStaff
from pscc.errors import NotFound, ServiceError
from units.models import UnitStatus, UnitTimerAlert
from units.selectors import unit_as_dict, unit_board, unit_get
from units.services import unit_position_update, unit_status_change, unit_timer_alert_acknowledge

UnitOut = inline_serializer("Unit", {"id": serializers.IntegerField(), "call_sign": serializers.CharField(),
                                     "agency": serializers.CharField(), "status": serializers.CharField()})


class UnitListView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(parameters=[OpenApiParameter("agency", str, required=False), OpenApiParameter("status", str, required=False),
                               OpenApiParameter("unit_type", str, required=False)],
                   responses=inline_serializer("UnitList", {"count": serializers.IntegerField(),
                                                            "results": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        qs = unit_board()
        params = request.query_params
        if params.get("agency"):
            qs = qs.filter(agency__code=params["agency"])
        if params.get("status"):
            if params["status"] not in UnitStatus.values:
                raise ServiceError(f"Unknown status {params['status']!r}.", field="status")
            qs = qs.filter(status=params["status"])
        if params.get("unit_type"):
            qs = qs.filter(unit_type=params["unit_type"])
        results = [unit_as_dict(u) for u in qs]
        return Response({"count": len(results), "results": results})


class UnitStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=[s for s in UnitStatus.values if s != UnitStatus.DISPATCHED])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class UnitStatusView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=UnitStatusIn, responses=UnitOut,
                   description="Dispatching is done from the incident (POST /api/v1/incidents/{number}/dispatch/).")
    def post(self, request, unit_id: int):
        unit = unit_get(unit_id)
        if request.data.get("status") == UnitStatus.DISPATCHED:
            raise ServiceError("Dispatch a unit from its incident: POST /api/v1/incidents/{number}/dispatch/.",
                               field="status")
        body = UnitStatusIn(data=request.data)
        body.is_valid(raise_exception=True)
        unit_status_change(unit=unit, to_status=body.validated_data["status"], actor=request.user,
                           reason=body.validated_data["reason"], source="console")
        return Response(unit_as_dict(unit_get(unit.pk)))


class UnitPositionIn(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    reported_at = serializers.DateTimeField(required=False)


class UnitPositionView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=UnitPositionIn, responses=UnitOut)
    def post(self, request, unit_id: int):
        unit = unit_get(unit_id)
        body = UnitPositionIn(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        unit_position_update(unit=unit, lat=d["lat"], lon=d["lon"], reported_at=d.get("reported_at"), actor=request.user)
        return Response(unit_as_dict(unit_get(unit.pk)))


class TimerAlertAckView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=None, responses=UnitOut)
    def post(self, request, alert_id: int):
        alert = UnitTimerAlert.objects.filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"No timer alert {alert_id}.", field="alert")
        unit_timer_alert_acknowledge(alert=alert, actor=request.user, note=str(request.data.get("note", "")))
        return Response(unit_as_dict(unit_get(alert.unit_id)))
