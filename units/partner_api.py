"""The partner API for units, the event catch-up and webhook subscriptions (under /api/v1/partner/).

Every queryset here starts from the caller's agency: another agency's unit id is simply not found.
"""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from pscc.errors import NotFound, ServiceError
from pscc.idempotency import HEADER as IDEMPOTENCY_HEADER
from pscc.idempotency import idempotency_key_from_header, idempotent_answer, request_fingerprint
from units.models import PartnerScope, Unit, UnitStatus, UnitType, WebhookDeliveryState, WebhookSubscription
from units.partner_auth import (
    BIGINT_MAX,
    CanReadEvents,
    CanReadUnits,
    CanReceiveWebhooks,
    CanWriteUnitStatus,
    PartnerPagination,
    PartnerReadThrottle,
    PartnerViewMixin,
    PartnerWriteThrottle,
    has_scope,
    int_id,
)
from units.partners import partner_caller_data_audit, partner_event_message, partner_events, partner_kinds_allowed
from units.selectors import unit_as_dict, unit_board
from units.services import unit_status_change

TAG_UNITS = ["partner: units"]
TAG_EVENTS = ["partner: events and webhooks"]


# --- Shared schema pieces ------------------------------------------------------------------------
class PartnerErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="What is wrong, in words.")
    code = serializers.CharField(required=False, help_text="not_authenticated, authentication_failed, "
                                 "permission_denied, not_found, throttled, invalid, illegal_transition…")
    field = serializers.CharField(required=False, allow_null=True, help_text="The input at fault.")
    fields = serializers.DictField(required=False, help_text="Every invalid input with its messages.")

    class Meta:
        ref_name = "PartnerError"


ERROR_TEXT = {
    400: "Invalid input; `field` names the parameter at fault.",
    401: "No API key, or an unknown or revoked key (Authorization: Bearer <key>, or X-API-Key).",
    403: "The API key lacks the scope this endpoint needs.",
    404: "Not found for the caller's agency. Another agency's rows answer 404 as well.",
    409: "The state changed under the request, or a request with the same Idempotency-Key is still being "
         "processed (code idempotency_in_flight).",
    422: "The Idempotency-Key was already used for a different request (code idempotency_key_reused).",
    429: "Too many requests for this API key; retry after the Retry-After header's seconds.",
}


def error_responses(*codes: int) -> dict:
    return {code: OpenApiResponse(PartnerErrorSerializer, description=ERROR_TEXT[code]) for code in codes}


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}


class PartnerUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_sign = serializers.CharField()
    agency = serializers.CharField(help_text="Agency code.")
    agency_name = serializers.CharField()
    unit_type = serializers.ChoiceField(choices=UnitType.choices)
    discipline = serializers.CharField()
    station = serializers.CharField(allow_null=True)
    post = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=UnitStatus.choices)
    status_changed_at = serializers.DateTimeField()
    incident_number = serializers.CharField(allow_blank=True, help_text="The incident the unit works, if any.")
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    position_reported_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "PartnerUnit"


def partner_unit_dict(unit: Unit) -> dict:
    data = unit_as_dict(unit)
    data.pop("timer_alert", None)  # the floor's timers are the center's business
    return data


# --- Units ---------------------------------------------------------------------------------------
class PartnerUnitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=UnitStatus.choices, help_text="Only units in this status.")
    unit_type = django_filters.ChoiceFilter(choices=UnitType.choices)
    station = django_filters.CharFilter(field_name="station__code", help_text="Station code.")
    call_sign = django_filters.CharFilter(field_name="call_sign", lookup_expr="iexact")

    class Meta:
        model = Unit
        fields = ["status", "unit_type", "station", "call_sign"]


class PartnerUnitListView(PartnerViewMixin, generics.ListAPIView):
    """The caller's agency's units with their current status."""

    permission_classes = [CanReadUnits]
    serializer_class = PartnerUnitSerializer
    pagination_class = PartnerPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = PartnerUnitFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no agency
            return Unit.objects.none()
        return unit_board().filter(agency=self.agency)

    @extend_schema(tags=TAG_UNITS, operation_id="partner_units_list", responses={
        200: PartnerUnitSerializer(many=True), **error_responses(400, 401, 403, 429)})
    def get(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(PartnerUnitSerializer([partner_unit_dict(u) for u in page], many=True).data)


def _own_unit(agency, unit_id) -> Unit:
    pk = int_id(unit_id, field="unit", what="unit")
    unit = unit_board().filter(agency=agency, pk=pk).first()
    if unit is None:
        raise NotFound(f"No unit {unit_id}.", field="unit")
    return unit


UNIT_ID = OpenApiParameter("unit_id", ID_SCHEMA, OpenApiParameter.PATH, description="The unit's id.")
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER, {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]{1,200}$"},
    OpenApiParameter.HEADER, required=False,
    description="Optional: a key of the client's choosing (a UUID), the same on every retry of one request. "
                "Kept per agency for 24 hours by default.")


class PartnerUnitDetailView(PartnerViewMixin, APIView):
    """One of the agency's units."""

    permission_classes = [CanReadUnits]

    @extend_schema(tags=TAG_UNITS, operation_id="partner_units_retrieve", parameters=[UNIT_ID],
                   responses={200: PartnerUnitSerializer, **error_responses(401, 403, 404, 429)})
    def get(self, request, unit_id):
        return Response(PartnerUnitSerializer(partner_unit_dict(_own_unit(self.agency, unit_id))).data)


class PartnerUnitStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[s for s in UnitStatus.values if s != UnitStatus.DISPATCHED],
        help_text="The new status. Dispatching is the center's: a partner moves its units along the lifecycle.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    class Meta:
        ref_name = "PartnerUnitStatusIn"


class PartnerUnitStatusView(PartnerViewMixin, APIView):
    """A status change from an MDT or the agency's own CAD (recorded with source "partner")."""

    permission_classes = [CanWriteUnitStatus]
    throttle_classes = [PartnerWriteThrottle]

    @extend_schema(tags=TAG_UNITS, operation_id="partner_units_status_create", parameters=[UNIT_ID, IDEMPOTENCY_KEY],
                   request=PartnerUnitStatusIn,
                   responses={200: PartnerUnitSerializer, **error_responses(400, 401, 403, 404, 409, 422, 429)},
                   description="Moves the unit if the status lifecycle allows it (an illegal transition answers "
                               "400 with code illegal_transition); the unit's incident moves with it. With an "
                               "Idempotency-Key header, a retry answers the first answer again (header "
                               "Idempotent-Replayed: true) and moves nothing.")
    def post(self, request, unit_id):
        unit = _own_unit(self.agency, unit_id)
        key = idempotency_key_from_header(request)
        if key is None:
            return Response(self._change(request, unit))
        answer = idempotent_answer(
            scope=f"partner:{self.agency.pk}", key=key, key_field=IDEMPOTENCY_HEADER,
            fingerprint=request_fingerprint(method=request.method, path=request.path, data=request.data),
            produce=lambda: (200, self._change(request, unit)))
        return Response(answer.body, status=answer.status, headers=answer.headers)

    def _change(self, request, unit: Unit) -> dict:
        if isinstance(request.data, dict) and request.data.get("status") == UnitStatus.DISPATCHED:
            raise ServiceError("Units are dispatched by the center, from the incident.", field="status")
        body = PartnerUnitStatusIn(data=request.data)
        body.is_valid(raise_exception=True)
        unit_status_change(unit=unit, to_status=body.validated_data["status"], actor=request.user.actor_label,
                           reason=body.validated_data["reason"], source="partner")
        return PartnerUnitSerializer(partner_unit_dict(_own_unit(self.agency, unit.pk))).data


# --- The event catch-up --------------------------------------------------------------------------
class PartnerEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Gap-free delivery sequence number of the center's journal.")
    type = serializers.CharField(help_text="e.g. incident.created, incident.updated, unit.status")
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_blank=True)
    entity = serializers.CharField(allow_blank=True, help_text="e.g. incident:2026-000123 or unit:12")
    data = serializers.DictField(help_text="The entity's full current state (caller fields only with "
                                           "read_caller_data).")

    class Meta:
        ref_name = "PartnerEvent"


class PartnerEventPageSerializer(serializers.Serializer):
    head = serializers.IntegerField(help_text="The newest sequence number in the journal.")
    events = PartnerEventSerializer(many=True)
    more = serializers.BooleanField(help_text="More events follow: ask again with after=<last seq>.")
    snapshot_required = serializers.BooleanField(help_text="`after` is beyond the journal: reload your state.")

    class Meta:
        ref_name = "PartnerEventPage"


class PartnerEventsView(PartnerViewMixin, APIView):
    """The agency's events after a sequence number, oldest first (incident.* needs read_incidents,
    unit.* needs read_units)."""

    permission_classes = [CanReadEvents]

    @extend_schema(
        tags=TAG_EVENTS, operation_id="partner_events_list",
        parameters=[
            OpenApiParameter("after", {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX}, required=True,
                             description="The last sequence number the client has (0 for everything kept)."),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, required=False,
                             description="At most this many events (default 500)."),
        ],
        responses={200: PartnerEventPageSerializer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request):
        params = request.query_params
        try:
            after = int(params.get("after"))
            if not 0 <= after <= BIGINT_MAX:
                raise ValueError
        except (TypeError, ValueError):
            raise ServiceError("after must be a non-negative sequence number.", field="after") from None
        try:
            limit = int(params.get("limit", 500))
            if not 1 <= limit <= 1000:
                raise ValueError
        except (TypeError, ValueError):
            raise ServiceError("limit must be a number from 1 to 1000.", field="limit") from None
        credential = self.credential
        head, events, more = partner_events(agency=self.agency, after=after, limit=limit,
                                            kind_prefixes=partner_kinds_allowed(credential.scopes))
        caller_data = has_scope(request, PartnerScope.READ_CALLER_DATA)
        cache: dict = {}
        messages = [partner_event_message(e, caller_data=caller_data, cache=cache) for e in events]
        if caller_data:
            partner_caller_data_audit(credential=credential, path=request.get_full_path(),
                                      entities=sorted({e.entity for e in events if e.kind.startswith("incident.")}))
        return Response(PartnerEventPageSerializer(
            {"head": head, "events": messages, "more": more, "snapshot_required": after > head}).data)


# --- Webhook subscriptions -----------------------------------------------------------------------
class PartnerWebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    active = serializers.BooleanField()
    include_caller_data = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_delivered_seq = serializers.IntegerField()
    undelivered = serializers.IntegerField(help_text="Events waiting (the receiver may be down).")
    last_error = serializers.CharField(allow_blank=True, help_text="Why the oldest waiting event failed, if it did.")

    class Meta:
        ref_name = "PartnerWebhook"


class PartnerWebhookCreatedSerializer(PartnerWebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown once, now.")

    class Meta:
        ref_name = "PartnerWebhookCreated"


class PartnerWebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    include_caller_data = serializers.BooleanField(required=False, default=False,
                                                   help_text="Needs the read_caller_data scope.")

    class Meta:
        ref_name = "PartnerWebhookIn"


def _webhook_dict(sub: WebhookSubscription) -> dict:
    waiting = sub.deliveries.exclude(state=WebhookDeliveryState.DELIVERED).order_by("seq")
    first = waiting.first()
    return {"id": sub.pk, "url": sub.url, "active": sub.active, "include_caller_data": sub.include_caller_data,
            "created_at": sub.created_at, "last_delivered_seq": sub.last_delivered_seq,
            "undelivered": waiting.count(), "last_error": first.last_error if first else ""}


class PartnerWebhookListView(PartnerViewMixin, APIView):
    """The agency's webhook subscriptions; subscribe a URL."""

    permission_classes = [CanReceiveWebhooks]

    def get_throttles(self):
        return [PartnerWriteThrottle()] if self.request.method == "POST" else [PartnerReadThrottle()]

    @extend_schema(tags=TAG_EVENTS, operation_id="partner_webhooks_list",
                   responses={200: PartnerWebhookSerializer(many=True), **error_responses(401, 403, 429)})
    def get(self, request):
        subs = WebhookSubscription.objects.filter(agency=self.agency).order_by("id")
        return Response(PartnerWebhookSerializer([_webhook_dict(s) for s in subs], many=True).data)

    @extend_schema(tags=TAG_EVENTS, operation_id="partner_webhooks_create", request=PartnerWebhookIn,
                   responses={201: PartnerWebhookCreatedSerializer, **error_responses(400, 401, 403, 429)},
                   description="Subscribe a URL to the agency's events from now on. Each POST carries "
                               "X-PSCC-Timestamp and X-PSCC-Signature: sha256=<hex HMAC-SHA256(secret, "
                               "timestamp + '.' + body)>, and X-PSCC-Event-Seq. Events arrive in order; a "
                               "receiver that was down receives what it missed.")
    def post(self, request):
        from units.webhooks import webhook_subscription_create

        body = PartnerWebhookIn(data=request.data)
        body.is_valid(raise_exception=True)
        include = body.validated_data["include_caller_data"]
        if include and not has_scope(request, PartnerScope.READ_CALLER_DATA):
            raise ServiceError("include_caller_data needs the read_caller_data scope.", field="include_caller_data")
        sub = webhook_subscription_create(agency=self.agency, url=body.validated_data["url"],
                                          include_caller_data=include, credential=self.credential)
        data = {**_webhook_dict(sub), "secret": sub.secret}
        return Response(PartnerWebhookCreatedSerializer(data).data, status=status.HTTP_201_CREATED)


class PartnerWebhookDetailView(PartnerViewMixin, APIView):
    """Unsubscribe a URL."""

    permission_classes = [CanReceiveWebhooks]
    throttle_classes = [PartnerWriteThrottle]

    @extend_schema(tags=TAG_EVENTS, operation_id="partner_webhooks_destroy",
                   parameters=[OpenApiParameter("webhook_id", ID_SCHEMA, OpenApiParameter.PATH)],
                   responses={204: OpenApiResponse(description="Unsubscribed (deliveries stop)."),
                              **error_responses(401, 403, 404, 429)})
    def delete(self, request, webhook_id):
        from units.webhooks import webhook_subscription_deactivate

        pk = int_id(webhook_id, field="webhook", what="webhook")
        sub = WebhookSubscription.objects.filter(agency=self.agency, pk=pk, active=True).first()
        if sub is None:
            raise NotFound(f"No webhook {webhook_id}.", field="webhook")
        webhook_subscription_deactivate(subscription=sub)
        return Response(status=status.HTTP_204_NO_CONTENT)

