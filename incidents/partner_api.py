"""The partner API for incidents (under /api/v1/partner/incidents/): list, detail, EIDO.

An incident is the caller's agency's when one of the agency's units is (or was) assigned to it, or
when the agency is responsible for the incident's emergency service zone in a discipline of its call
type. Anything else answers 404. Caller name, callback number and additional callers appear only
with the read_caller_data scope, and without it they are also withheld from the narrative text.
"""

from __future__ import annotations

from datetime import timezone as dt_timezone

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.eido import incident_eido
from incidents.models import Assignment, Incident, IncidentStatus
from incidents.selectors import active_hazards, incident_as_dict, incident_queryset
from pscc.errors import NotFound
from units.models import Agency, PartnerScope
from units.partner_api import error_responses
from units.partner_auth import CanReadIncidents, PartnerPagination, PartnerViewMixin, has_scope
from units.partners import caller_strings, partner_caller_data_audit, redact_text

TAGS = ["partner: incidents"]
PUBLIC_FIELDS = (
    "number", "call_type", "call_type_name", "priority", "status", "location_text", "lat", "lon", "uncertainty_m",
    "location_verified", "beat", "esn", "out_of_jurisdiction", "jurisdiction_agency", "source", "received_at",
    "created_at", "first_dispatched_at", "first_en_route_at", "first_on_scene_at", "closed_at", "disposition",
    "response_times", "hazards",
)


def partner_incidents(agency: Agency) -> QuerySet[Incident]:
    """The incidents an agency may see (see the module docstring)."""
    mine = Q(pk__in=Assignment.objects.filter(unit__agency=agency).values("incident_id"))
    for discipline in ("law", "fire", "ems"):
        mine |= Q(**{f"esz__{discipline}": agency, "call_type__disciplines__contains": [discipline]})
    return incident_queryset().filter(mine)


def _caller_strings(incident: Incident) -> set[str]:
    return caller_strings(incident.caller_name, incident.callback_number,
                          [{"name": c.name, "callback_number": c.callback_number}
                           for c in incident.additional_callers.all()])


def partner_incident_dict(incident: Incident, *, caller_data: bool, hazards=None) -> dict:
    full = incident_as_dict(incident, hazards=hazards)
    data = {name: full[name] for name in PUBLIC_FIELDS}
    agencies = {a.unit_id: a.unit.agency.code for a in incident.assignments.all()}
    data["units"] = [{**u, "agency": agencies.get(u["unit_id"], "")} for u in full["units"]]
    if caller_data:
        data["caller_name"] = full["caller_name"]
        data["callback_number"] = full["callback_number"]
        data["additional_callers"] = full["additional_callers"]
    return data


def _has_caller_data(incident: Incident) -> bool:
    return bool(incident.caller_name or incident.callback_number or incident.additional_callers.all())


# --- Schema --------------------------------------------------------------------------------------
class _ResponseTimes(serializers.Serializer):
    to_dispatch_seconds = serializers.IntegerField(allow_null=True)
    to_en_route_seconds = serializers.IntegerField(allow_null=True)
    to_on_scene_seconds = serializers.IntegerField(allow_null=True)
    goal_seconds = serializers.IntegerField(allow_null=True)
    goal_met = serializers.BooleanField(allow_null=True)

    class Meta:
        ref_name = "PartnerResponseTimes"


class _Hazard(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    text = serializers.CharField()
    radius_m = serializers.IntegerField()
    distance_m = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "PartnerHazard"


class _IncidentUnit(serializers.Serializer):
    unit_id = serializers.IntegerField()
    call_sign = serializers.CharField()
    agency = serializers.CharField()
    status = serializers.CharField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    en_route_at = serializers.DateTimeField(allow_null=True)
    on_scene_at = serializers.DateTimeField(allow_null=True)
    cleared_at = serializers.DateTimeField(allow_null=True)
    cleared = serializers.BooleanField()

    class Meta:
        ref_name = "PartnerIncidentUnit"


class _AdditionalCaller(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    callback_number = serializers.CharField(allow_blank=True)
    location_text = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()

    class Meta:
        ref_name = "PartnerAdditionalCaller"


class PartnerIncidentSerializer(serializers.Serializer):
    number = serializers.CharField()
    call_type = serializers.CharField()
    call_type_name = serializers.CharField()
    priority = serializers.IntegerField(help_text="1 is the most urgent.")
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    location_text = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    uncertainty_m = serializers.FloatField(allow_null=True)
    location_verified = serializers.BooleanField()
    beat = serializers.CharField(allow_null=True)
    esn = serializers.CharField(allow_null=True)
    out_of_jurisdiction = serializers.BooleanField()
    jurisdiction_agency = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    received_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    first_dispatched_at = serializers.DateTimeField(allow_null=True)
    first_en_route_at = serializers.DateTimeField(allow_null=True)
    first_on_scene_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    disposition = serializers.CharField(allow_blank=True)
    response_times = _ResponseTimes()
    hazards = _Hazard(many=True)
    units = _IncidentUnit(many=True)
    caller_name = serializers.CharField(required=False, allow_blank=True, help_text="Only with read_caller_data.")
    callback_number = serializers.CharField(required=False, allow_blank=True, help_text="Only with read_caller_data.")
    additional_callers = _AdditionalCaller(many=True, required=False, help_text="Only with read_caller_data.")

    class Meta:
        ref_name = "PartnerIncident"


class _Narrative(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    author = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()
    source = serializers.CharField()

    class Meta:
        ref_name = "PartnerNarrativeEntry"


class PartnerIncidentDetailSerializer(PartnerIncidentSerializer):
    narrative = _Narrative(many=True, help_text="Entries visible to partners, oldest first.")

    class Meta:
        ref_name = "PartnerIncidentDetail"


# --- Views ---------------------------------------------------------------------------------------
class _UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 in UTC: PostgreSQL cannot compare with every offset Python parses (+18:43), and a time
    that leaves the calendar in UTC (year 0) is simply invalid."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt_timezone.utc)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField


class PartnerIncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    open = django_filters.BooleanFilter(method="filter_open", help_text="true: only incidents not closed; "
                                                                         "false: only closed ones.")
    call_type = django_filters.CharFilter(field_name="call_type__code", lookup_expr="iexact",
                                          help_text="Call type code, e.g. STRFIRE or 911W.")
    priority = django_filters.NumberFilter(field_name="priority")
    received_after = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="gte",
                                                      help_text="ISO 8601 date-time with offset.")
    received_before = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Incident
        fields = ["status", "open", "call_type", "priority", "received_after", "received_before"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(status=IncidentStatus.CLOSED) if value else queryset.filter(status=IncidentStatus.CLOSED)


class PartnerIncidentListView(PartnerViewMixin, generics.ListAPIView):
    """The caller's agency's incidents, newest first."""

    permission_classes = [CanReadIncidents]
    serializer_class = PartnerIncidentSerializer
    pagination_class = PartnerPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = PartnerIncidentFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no agency
            return Incident.objects.none()
        return partner_incidents(self.agency).order_by("-received_at", "-id")

    @extend_schema(tags=TAGS, operation_id="partner_incidents_list",
                   responses={200: PartnerIncidentSerializer(many=True), **error_responses(400, 401, 403, 429)})
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        caller_data = has_scope(request, PartnerScope.READ_CALLER_DATA)
        hazards = active_hazards()
        rows = [partner_incident_dict(i, caller_data=caller_data, hazards=hazards) for i in page]
        if caller_data:
            partner_caller_data_audit(credential=self.credential, path=request.get_full_path(),
                                      entities=[f"incident:{i.number}" for i in page if _has_caller_data(i)])
        return self.get_paginated_response(PartnerIncidentSerializer(rows, many=True).data)


NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Incident number, e.g. 2026-000123.")


def _own_incident(agency: Agency, number: str) -> Incident:
    incident = partner_incidents(agency).filter(number=number).first()
    if incident is None:
        raise NotFound(f"No incident {number}.", field="number")
    return incident


class PartnerIncidentDetailView(PartnerViewMixin, APIView):
    """One of the agency's incidents, with the narrative entries visible to partners."""

    permission_classes = [CanReadIncidents]

    @extend_schema(tags=TAGS, operation_id="partner_incidents_retrieve", parameters=[NUMBER],
                   responses={200: PartnerIncidentDetailSerializer, **error_responses(401, 403, 404, 429)})
    def get(self, request, number: str):
        incident = _own_incident(self.agency, number)
        caller_data = has_scope(request, PartnerScope.READ_CALLER_DATA)
        data = partner_incident_dict(incident, caller_data=caller_data)
        withheld = set() if caller_data else _caller_strings(incident)
        data["narrative"] = [
            {"id": e.pk, "text": redact_text(e.text, withheld), "author": e.author_label, "at": e.at,
             "source": e.source}
            for e in incident.narrative.filter(visible_to_partners=True).order_by("at", "id")
        ]
        if caller_data and _has_caller_data(incident):
            partner_caller_data_audit(credential=self.credential, path=request.get_full_path(),
                                      entities=[f"incident:{incident.number}"])
        return Response(PartnerIncidentDetailSerializer(data).data)


EIDO_SCHEMA = {
    "type": "object",
    "description": "NENA-STA-021 Emergency Incident Data Object (EIDO) 1.0; see "
                   "https://github.com/NENA911/EIDO-JSON for the full schema.",
    "required": ["$id", "lastUpdateTimeStamp", "updatedByAgencyReference", "eidoVersion",
                 "issuingElementIdentification", "agencyComponent", "incidentComponent"],
    "properties": {
        "$id": {"type": "string"},
        "lastUpdateTimeStamp": {"type": "string", "format": "date-time"},
        "updatedByAgencyReference": {"type": "object"},
        "eidoVersion": {"type": "string", "enum": ["1.0"]},
        "issuingElementIdentification": {"type": "string"},
        "agencyComponent": {"type": "array", "items": {"type": "object"}},
        "incidentComponent": {"type": "object"},
        "callComponent": {"type": "array", "items": {"type": "object"}},
        "callbackComponent": {"type": "array", "items": {"type": "object"}},
        "personComponent": {"type": "array", "items": {"type": "object"}},
        "locationComponent": {"type": "array", "items": {"type": "object"}},
        "emergencyResourceComponent": {"type": "array", "items": {"type": "object"}},
        "agentComponent": {"type": "array", "items": {"type": "object"}},
        "dispatchComponent": {"type": "array", "items": {"type": "object"}},
        "notesComponent": {"type": "array", "items": {"type": "object"}},
        "cautionComponent": {"type": "array", "items": {"type": "object"}},
    },
}


class PartnerIncidentEidoView(PartnerViewMixin, APIView):
    """One of the agency's incidents as a NENA-STA-021 EIDO."""

    permission_classes = [CanReadIncidents]

    @extend_schema(tags=TAGS, operation_id="partner_incidents_eido", parameters=[NUMBER],
                   responses={200: OpenApiResponse(EIDO_SCHEMA, description="The incident as an EIDO."),
                              **error_responses(401, 403, 404, 429)},
                   description="The incident as a NENA-STA-021 EIDO (JSON). Caller components "
                               "(callbackComponent, personComponent) only with read_caller_data.")
    def get(self, request, number: str):
        incident = _own_incident(self.agency, number)
        caller_data = has_scope(request, PartnerScope.READ_CALLER_DATA)
        withheld = set() if caller_data else _caller_strings(incident)
        eido = incident_eido(incident, caller_data=caller_data, redact=lambda text: redact_text(text, withheld))
        if caller_data and _has_caller_data(incident):
            partner_caller_data_audit(credential=self.credential, path=request.get_full_path(),
                                      entities=[f"incident:{incident.number}"])
        return Response(eido)
