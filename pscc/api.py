"""REST plumbing shared by every app, and the journal catch-up: GET /api/v1/events/?after=N."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from pscc.errors import ServiceError
from pscc.models import JournalEvent, RelayCursor
from pscc.roles import audiences_for, is_floor_staff, is_supervisor


def exception_handler(exc, context):
    """Service errors and validation errors as `{"error", "field", ...}`; a lost database is a 503."""
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, (OperationalError, InterfaceError)):
        response = Response(
            {"error": "The CAD database is unavailable. Nothing was saved; retry with the same idempotency key."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "2"
        return response
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError) and isinstance(response.data, dict):
        fields = list(response.data.keys())
        first = fields[0] if fields else None
        detail = response.data.get(first) if first else None
        message = detail[0] if isinstance(detail, list) and detail else detail
        response.data = {"error": f"{first}: {message}" if first else "invalid input", "field": first, "fields": response.data}
    elif response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": str(response.data["detail"]), "code": getattr(exc, "default_code", "error")}
    return response


class IsFloorStaff(BasePermission):
    message = "Only telecommunicators, supervisors and administrators may do this."

    def has_permission(self, request, view) -> bool:
        return is_floor_staff(request.user)


class IsSupervisor(BasePermission):
    message = "Only a shift supervisor or an administrator may do this."

    def has_permission(self, request, view) -> bool:
        return is_supervisor(request.user)


class HasFloorAudience(BasePermission):
    message = "This account hears nothing on the floor (no role or agency)."

    def has_permission(self, request, view) -> bool:
        return bool(audiences_for(request.user))


class EventsView(APIView):
    """Events after a sequence number, oldest first — the REST twin of the socket's resume."""

    permission_classes = [HasFloorAudience]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, required=True, description="Last sequence number the client has."),
            OpenApiParameter("limit", int, required=False, description="At most this many events (default 500, max 5000)."),
        ],
        responses=inline_serializer(
            "EventPage",
            {
                "head": serializers.IntegerField(),
                "events": serializers.ListField(child=serializers.DictField()),
                "more": serializers.BooleanField(),
                "snapshot_required": serializers.BooleanField(),
            },
        ),
    )
    def get(self, request):
        raw_after = request.query_params.get("after")
        try:
            after = int(raw_after)
            if after < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ValidationError({"after": ["after must be a non-negative sequence number"]}) from None
        try:
            limit = min(int(request.query_params.get("limit", 500)), settings.PSCC_JOURNAL_REPLAY_LIMIT)
            if limit < 1:
                raise ValueError
        except (TypeError, ValueError):
            raise ValidationError({"limit": ["limit must be a positive number"]}) from None
        head = RelayCursor.objects.filter(name="floor").values_list("last_seq", flat=True).first() or 0
        audiences = sorted(audiences_for(request.user))
        qs = (
            JournalEvent.objects.filter(seq__gt=after, seq__lte=head, audience__overlap=audiences)
            .order_by("seq")
        )
        events = [event.as_message() for event in qs[: limit + 1]]
        more = len(events) > limit
        events = events[:limit]
        return Response(
            {"head": head, "events": events, "more": more, "snapshot_required": after > head}
        )
