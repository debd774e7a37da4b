"""REST of call-taking: intake from the CPE (bearer token) and the console's actions (session)."""

from __future__ import annotations

import hmac

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from calltaking import services, sop
from calltaking.models import Call, SopPath
from calltaking.selectors import call_as_dict, ringing_queue
from pscc.api import IsFloorStaff
from pscc.errors import NotFound
from pscc.idempotency import idempotent_answer, request_fingerprint


class HasCpeToken(BasePermission):
    """The call-handling equipment presents `Authorization: Bearer <PSCC_CPE_TOKEN>`."""

    message = "A valid CPE bearer token is required."

    def has_permission(self, request, view) -> bool:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), settings.PSCC_CPE_TOKEN.encode())


def _full(call: Call) -> dict:
    return call_as_dict(Call.objects.select_related("line", "answered_by", "incident__call_type").get(pk=call.pk))


class CallIntakeSerializer(serializers.Serializer):
    cpe_call_id = serializers.CharField(max_length=64)
    line = serializers.CharField(max_length=16)
    ani = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)
    class_of_service = serializers.CharField(max_length=8, required=False, allow_blank=True, allow_null=True)
    received_at = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    ali = serializers.DictField(required=False, allow_null=True)
    ali_raw = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=4096)
    ali_format = serializers.CharField(required=False, allow_blank=True, max_length=32)
    pidf_lo = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=100_000)


CALL_INTAKE_ANSWER = inline_serializer("CallIntakeAnswer", {
    "id": serializers.IntegerField(), "cpe_call_id": serializers.CharField(), "line": serializers.CharField(),
    "ani": serializers.CharField(allow_blank=True), "class_of_service": serializers.CharField(allow_blank=True)})


class CallsView(APIView):
    """POST: a call rings in (CPE). GET: the calls on the floor, ringing queue first (staff)."""

    serializer_class = CallIntakeSerializer

    def get_authenticators(self):
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        return [HasCpeToken()] if self.request.method == "POST" else [IsFloorStaff()]

    @extend_schema(request=CallIntakeSerializer, responses={
        201: CALL_INTAKE_ANSWER, 200: CALL_INTAKE_ANSWER,
        400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT},
        description="Idempotent on cpe_call_id: a retry answers the first answer (Idempotent-Replayed: true); "
                    "a duplicate while the first is in flight 409; the same id for another call 422.")
    def post(self, request):
        data = CallIntakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def receive() -> tuple[int, dict]:
            call, created = services.call_receive(
                cpe_call_id=v["cpe_call_id"], line=v["line"], ani=v.get("ani") or "",
                class_of_service=v.get("class_of_service") or "", ali=v.get("ali"), ali_raw=v.get("ali_raw") or "",
                ali_format=v.get("ali_format") or "", pidf_lo=v.get("pidf_lo") or "", received_at=v.get("received_at"),
            )
            body = {"id": call.pk, "cpe_call_id": call.cpe_call_id, "line": call.line.code, "ani": call.ani,
                    "class_of_service": call.class_of_service}
            return (status.HTTP_201_CREATED if created else status.HTTP_200_OK), body

        # The CPE's call id is the idempotency key: a retry answers the first answer, a duplicate still in
        # flight answers 409 (pscc/idempotency.py). The CPE stamps each delivery with its own received_at, so
        # a re-rung call differs only there: that field is not part of what makes it the same request.
        same_call = {k: val for k, val in request.data.items() if k != "received_at"}
        answer = idempotent_answer(scope="cpe", key=v["cpe_call_id"], key_field="cpe_call_id",
                                   fingerprint=request_fingerprint(method="POST", path=request.path, data=same_call),
                                   produce=receive)
        return Response(answer.body, status=answer.status, headers=answer.headers)

    @extend_schema(responses=inline_serializer("RingingQueue", {
        "ringing": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        return Response({"ringing": [_full(c) for c in ringing_queue()]})


class CallEventSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=["abandoned", "released"])
    occurred_at = serializers.CharField(required=False, allow_blank=True)


class CallEventsView(APIView):
    serializer_class = CallEventSerializer
    authentication_classes: list = []
    permission_classes = [HasCpeToken]

    @extend_schema(request=CallEventSerializer, responses=inline_serializer("CallEventAnswer", {
        "id": serializers.IntegerField(), "cpe_call_id": serializers.CharField(), "state": serializers.CharField()}))
    def post(self, request, cpe_call_id: str):
        data = CallEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call = services.call_event(cpe_call_id=cpe_call_id, event=data.validated_data["event"])
        return Response({"id": call.pk, "cpe_call_id": call.cpe_call_id, "state": call.state})


class CallDetailView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        call = Call.objects.filter(pk=pk).first()
        if call is None:
            raise NotFound(f"No call {pk}.", field="call")
        return Response(_full(call))


class _Action(APIView):
    permission_classes = [IsFloorStaff]
    serializer_class: type[serializers.Serializer] | None = None

    # The serializer describes the request; every action answers the call's current state.
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        values = {}
        if self.serializer_class is not None:
            data = self.serializer_class(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
        result = self.act(request, pk, **values)
        return Response(result)


class CallAnswerSerializer(serializers.Serializer):
    position = serializers.CharField(max_length=32, required=False, allow_blank=True)


class AnswerView(_Action):
    serializer_class = CallAnswerSerializer

    def act(self, request, pk, position=""):
        call, records = services.call_answer(call_id=pk, actor=request.user, position=position)
        return {**_full(call), "records": records}


class HoldView(_Action):
    def act(self, request, pk):
        return _full(services.call_hold(call_id=pk, actor=request.user))


class ResumeView(_Action):
    def act(self, request, pk):
        return _full(services.call_resume(call_id=pk, actor=request.user))


class ReleaseView(_Action):
    def act(self, request, pk):
        return _full(services.call_release(call_id=pk, actor=request.user))


class CallTransferSerializer(serializers.Serializer):
    target = serializers.CharField(max_length=120)
    target_agency_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    caller_announced = serializers.BooleanField()
    location_given = serializers.CharField(max_length=300)
    nature_given = serializers.CharField(max_length=300)


class TransferView(_Action):
    serializer_class = CallTransferSerializer

    def act(self, request, pk, **values):
        services.call_transfer(call_id=pk, actor=request.user, **values)
        return _full(Call.objects.get(pk=pk))


class CallVerifyLocationSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField()
    corrected_location = serializers.CharField(max_length=300, required=False, allow_blank=True)


class VerifyLocationView(_Action):
    serializer_class = CallVerifyLocationSerializer

    def act(self, request, pk, **values):
        return _full(services.call_verify_location(call_id=pk, actor=request.user, **values))


class CallTtySerializer(serializers.Serializer):
    responded = serializers.BooleanField()


class TtyView(_Action):
    serializer_class = CallTtySerializer

    def act(self, request, pk, responded):
        return _full(services.call_tty_attempt(call_id=pk, actor=request.user, responded=responded))


class CallClassifySerializer(serializers.Serializer):
    path = serializers.ChoiceField(choices=SopPath.choices)
    duress_code = serializers.ChoiceField(choices=["911W", "911S"], required=False)
    assessment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ClassifyView(_Action):
    serializer_class = CallClassifySerializer

    def act(self, request, pk, **values):
        return _full(sop.call_classify(call_id=pk, actor=request.user, **values))


class RebidView(_Action):
    def act(self, request, pk):
        services.rebid_request(call_id=pk, actor=request.user)
        return _full(Call.objects.get(pk=pk))


class UseSupplementalView(_Action):
    def act(self, request, pk):
        loc = services.supplemental_location_use(location_id=pk, actor=request.user)
        return _full(loc.call)


class ChecklistStepCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    disposition = serializers.CharField(max_length=40, required=False, allow_blank=True)
    not_applicable = serializers.BooleanField(required=False, default=False,
                                              help_text="Mark the step not applicable (say why in note).")


class StepCompleteView(_Action):
    serializer_class = ChecklistStepCompleteSerializer

    def act(self, request, pk, **values):
        step = sop.checklist_step_complete(step_id=pk, actor=request.user, **values)
        return _full(step.call)


class RecordsView(APIView):
    permission_classes = [IsFloorStaff]

    @extend_schema(parameters=[OpenApiParameter("ani", str, required=True)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(services.records_search(actor=request.user, ani=request.query_params.get("ani") or "",
                                                request=request))


class MisrouteReportSerializer(serializers.Serializer):
    call_id = serializers.IntegerField(required=False, allow_null=True)
    correct_psap = serializers.CharField(max_length=120)
    correct_ani = serializers.CharField(max_length=16, required=False, allow_blank=True)
    correct_ali = serializers.CharField(max_length=300, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MisrouteView(APIView):
    serializer_class = MisrouteReportSerializer
    permission_classes = [IsFloorStaff]

    @extend_schema(request=MisrouteReportSerializer, responses={201: inline_serializer("MisrouteReportAnswer", {
        "id": serializers.IntegerField(), "state": serializers.CharField(), "sent_to": serializers.CharField(allow_blank=True)})})
    def post(self, request):
        data = MisrouteReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.misroute_report_create(actor=request.user, **data.validated_data)
        return Response({"id": report.pk, "state": report.state, "sent_to": report.sent_to},
                        status=status.HTTP_201_CREATED)


class ManualAliLookupSerializer(serializers.Serializer):
    phone_number = serializers.CharField(max_length=16)
    line_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    call_id = serializers.IntegerField(required=False, allow_null=True)
    requesting_emergency_aid = serializers.BooleanField(default=False)
    caller_gave_number = serializers.BooleanField(default=False)
    emergency_exists = serializers.BooleanField(default=False)
    insufficient_information = serializers.BooleanField(default=False)


MANUAL_ALI_ANSWER = inline_serializer("ManualAliLookupAnswer", {
    "id": serializers.IntegerField(), "allowed": serializers.BooleanField(),
    "refusal_reason": serializers.CharField(allow_blank=True), "result": serializers.JSONField(allow_null=True)})


class ManualAliView(APIView):
    serializer_class = ManualAliLookupSerializer
    permission_classes = [IsFloorStaff]

    @extend_schema(request=ManualAliLookupSerializer, responses={
        201: MANUAL_ALI_ANSWER,
        403: OpenApiResponse(OpenApiTypes.OBJECT, description="The lookup refused by the SOP's conditions (the "
                                                               "lookup's fields, allowed false), or not floor staff.")})
    def post(self, request):
        data = ManualAliLookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lookup = services.manual_ali_lookup(actor=request.user, **data.validated_data)
        body = {"id": lookup.pk, "allowed": lookup.allowed, "refusal_reason": lookup.refusal_reason,
                "result": lookup.result}
        return Response(body, status=status.HTTP_201_CREATED if lookup.allowed else status.HTTP_403_FORBIDDEN)


class AnswerTimeComplianceView(APIView):
    """Answer-time compliance for the current hour and shift, with the distribution (supervisor board)."""

    permission_classes = [IsFloorStaff]

    @extend_schema(operation_id="compliance_answer_time", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from calltaking.compliance import answer_time_board

        return Response(answer_time_board())
