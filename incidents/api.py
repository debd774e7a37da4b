"""REST for incidents (floor staff): list/create, detail/update, narrative, dispatch, recommendations,
the create form's checks (hazards and possible duplicates) and address verification.

Each view validates input, calls one service and returns the entity's full state.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.geography import address_verify
from incidents.models import IncidentStatus
from incidents.recommend import recommend_units
from incidents.selectors import hazards_near, incident_as_dict, incident_duplicates, incident_list, incident_queryset, narrative_as_dict
from incidents.services import (
    incident_attach_caller,
    incident_close,
    incident_create,
    incident_dispatch,
    incident_get,
    incident_reopen,
    incident_update,
    narrative_add,
)
from pscc.api import IsFloorStaff
from pscc.errors import NotFound, ServiceError

IncidentOut = inline_serializer("Incident", {"number": serializers.CharField(), "status": serializers.CharField(),
                                             "call_type": serializers.CharField(), "priority": serializers.IntegerField()})


def _incident(number: str):
    incident = incident_queryset().filter(number=number).first()
    if incident is None:
        raise NotFound(f"No incident {number}.", field="number")
    return incident


def _fresh(incident) -> dict:
    return incident_as_dict(incident_queryset().get(pk=incident.pk))


class IncidentCreateIn(serializers.Serializer):
    call_type = serializers.CharField(max_length=16)
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    location_text = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    uncertainty_m = serializers.FloatField(required=False, allow_null=True, min_value=0)
    address_id = serializers.IntegerField(required=False, allow_null=True)
    msag_range_id = serializers.IntegerField(required=False, allow_null=True)
    location_verified = serializers.BooleanField(required=False, default=False)
    location_override_reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    caller_name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    callback_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    narrative = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    related_to = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")

    def validate(self, data):
        verified = data.get("address_id") or data.get("msag_range_id") or data.get("location_verified")
        has_location = data.get("location_text") or data.get("lat") is not None
        if has_location and not verified and not data.get("location_override_reason", "").strip():
            raise serializers.ValidationError(
                {"location_override_reason": ["Pick a verified address, or say why you keep this location unverified."]})
        return data


class IncidentPatchIn(serializers.Serializer):
    call_type = serializers.CharField(required=False, max_length=16)
    priority = serializers.IntegerField(required=False, min_value=1, max_value=5)
    caller_name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    callback_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    location_text = serializers.CharField(required=False, allow_blank=True, max_length=300)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    uncertainty_m = serializers.FloatField(required=False, allow_null=True, min_value=0)
    address_id = serializers.IntegerField(required=False, allow_null=True)
    location_verified = serializers.BooleanField(required=False)
    location_override_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    status = serializers.ChoiceField(required=False, choices=[IncidentStatus.CLOSED, IncidentStatus.PENDING])
    disposition = serializers.CharField(required=False, allow_blank=True, max_length=40)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class IncidentListView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(
        parameters=[OpenApiParameter("status", str, required=False), OpenApiParameter("include_closed", bool, required=False),
                    OpenApiParameter("limit", int, required=False)],
        responses=inline_serializer("IncidentList", {"count": serializers.IntegerField(),
                                                     "results": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request):
        try:
            limit = max(1, min(int(request.query_params.get("limit", 200)), 1000))
        except ValueError:
            raise ServiceError("limit must be a number.", field="limit") from None
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in IncidentStatus.values:
            raise ServiceError(f"Unknown status {wanted!r}.", field="status")
        qs = incident_list(status=wanted, include_closed=request.query_params.get("include_closed") in ("1", "true"))
        results = [incident_as_dict(i) for i in qs[:limit]]
        return Response({"count": len(results), "results": results})

    @extend_schema(request=IncidentCreateIn, responses={201: IncidentOut})
    def post(self, request):
        body = IncidentCreateIn(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        incident = incident_create(
            call_type_code=d["call_type"], actor=request.user, priority=d.get("priority"),
            location_text=d["location_text"], lat=d.get("lat"), lon=d.get("lon"), uncertainty_m=d.get("uncertainty_m"),
            address_id=d.get("address_id"), msag_range_id=d.get("msag_range_id"),
            location_verified=d["location_verified"], location_override_reason=d["location_override_reason"],
            caller_name=d["caller_name"], callback_number=d["callback_number"], narrative=d["narrative"],
            related_to_number=d["related_to"] or None,
        )
        data = _fresh(incident)
        data["possible_duplicates"] = incident_duplicates(lat=incident.lat, lon=incident.lon,
                                                          callback_number=incident.callback_number,
                                                          exclude_number=incident.number)
        return Response(data, status=status.HTTP_201_CREATED)


class IncidentDetailView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(responses=IncidentOut)
    def get(self, request, number: str):
        incident = _incident(number)
        data = incident_as_dict(incident)
        data["narrative"] = [narrative_as_dict(e) for e in incident.narrative.all()]
        return Response(data)

    @extend_schema(request=IncidentPatchIn, responses=IncidentOut)
    def patch(self, request, number: str):
        incident = incident_get(number)
        body = IncidentPatchIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        d = dict(body.validated_data)
        new_status = d.pop("status", None)
        disposition, reason = d.pop("disposition", ""), d.pop("reason", "")
        if d:
            incident = incident_update(incident=incident, actor=request.user, **d)
        if new_status == IncidentStatus.CLOSED:
            incident = incident_close(incident=incident, disposition=disposition, actor=request.user, note=reason)
        elif new_status == IncidentStatus.PENDING:
            incident = incident_reopen(incident=incident, reason=reason, actor=request.user)
        return Response(_fresh(incident))


class NarrativeIn(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    visible_to_partners = serializers.BooleanField(required=False, default=True)


class NarrativeView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=NarrativeIn, responses={201: inline_serializer("NarrativeEntry", {
        "id": serializers.IntegerField(), "text": serializers.CharField(), "author": serializers.CharField(),
        "at": serializers.DateTimeField(), "source": serializers.CharField()})})
    def post(self, request, number: str):
        incident = incident_get(number)
        body = NarrativeIn(data=request.data)
        body.is_valid(raise_exception=True)
        entry = narrative_add(incident=incident, text=body.validated_data["text"], actor=request.user,
                              visible_to_partners=body.validated_data["visible_to_partners"])
        return Response(narrative_as_dict(entry), status=status.HTTP_201_CREATED)


class DispatchIn(serializers.Serializer):
    unit_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=50)


class DispatchView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=DispatchIn, responses=IncidentOut)
    def post(self, request, number: str):
        incident = incident_get(number)
        body = DispatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        incident = incident_dispatch(incident=incident, unit_ids=body.validated_data["unit_ids"], actor=request.user)
        return Response(_fresh(incident))


class RecommendationsView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(responses=inline_serializer("Recommendation", {
        "number": serializers.CharField(), "satisfied": serializers.BooleanField(),
        "plan": serializers.ListField(child=serializers.DictField()),
        "units": serializers.ListField(child=serializers.DictField())}))
    def get(self, request, number: str):
        return Response(recommend_units(_incident(number)))


class AdditionalCallerIn(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    callback_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    location_text = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    call_reference = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class AdditionalCallerView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(request=AdditionalCallerIn, responses={201: IncidentOut})
    def post(self, request, number: str):
        incident = incident_get(number)
        body = AdditionalCallerIn(data=request.data)
        body.is_valid(raise_exception=True)
        incident_attach_caller(incident=incident, actor=request.user, **body.validated_data)
        return Response(_fresh(incident), status=status.HTTP_201_CREATED)


def _float(params, name):
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise ServiceError(f"{name} must be a number.", field=name) from None


class IncidentCheckView(APIView):
    """What the create form shows before the incident exists: hazards and possible duplicates."""

    permission_classes = [IsFloorStaff]

    @extend_schema(
        parameters=[OpenApiParameter("lat", float), OpenApiParameter("lon", float), OpenApiParameter("address_id", int),
                    OpenApiParameter("callback_number", str)],
        responses=inline_serializer("IncidentCheck", {"hazards": serializers.ListField(child=serializers.DictField()),
                                                      "duplicates": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request):
        params = request.query_params
        lat, lon = _float(params, "lat"), _float(params, "lon")
        address_id = params.get("address_id") or None
        if address_id is not None:
            try:
                address_id = int(address_id)
            except ValueError:
                raise ServiceError("address_id must be a number.", field="address_id") from None
            from incidents.models import AddressPoint

            point = AddressPoint.objects.filter(pk=address_id).first()
            if point is None:
                raise NotFound(f"No address {address_id}.", field="address_id")
            lat, lon = point.lat, point.lon
        if (lat is None) != (lon is None):
            raise ServiceError("Give both lat and lon.", field="lat" if lat is None else "lon")
        return Response({
            "hazards": hazards_near(lat, lon, address_id=address_id),
            "duplicates": incident_duplicates(lat=lat, lon=lon, callback_number=params.get("callback_number", "")),
        })


class AddressVerifyView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="The address as entered, e.g. '100 Main St, Mills'.")],
        responses=inline_serializer("AddressCandidates", {"query": serializers.CharField(),
                                                          "ambiguous": serializers.BooleanField(),
                                                          "candidates": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request):
        q = (request.query_params.get("q") or "").strip()
        if not q:
            raise ServiceError("Enter an address to verify.", field="q")
        if len(q) > 300:
            raise ServiceError("The address is at most 300 characters.", field="q")
        candidates = address_verify(q)
        best = candidates[0]["score"] if candidates else 0
        ambiguous = len([c for c in candidates if c["score"] >= best - 0.05]) > 1
        return Response({"query": q, "ambiguous": ambiguous, "candidates": candidates})
