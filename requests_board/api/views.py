"""The board's endpoints: requests through their whole life, results and datasets with their licenses.

The same selectors, services and permissions as the board's pages; the shared
machinery (tokens, errors, pagination, input helpers) is forum.api's.
"""
import datetime

from django.db.models import CharField, DateField, Value
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from forum.api.helpers import form_errors, limit, post_data, query_flag, refuse_blank, valid_input
from forum.api.serializers import PostSerializer
from forum.ratelimit import client_ip

from .. import selectors, services
from ..forms import BoardFilterForm, RequestForm
from ..models import DataRequest
from .serializers import (
    ClaimSerializer,
    ClaimWriteSerializer,
    DatasetSerializer,
    FileWriteSerializer,
    ReasonWriteSerializer,
    RequestDetailSerializer,
    RequestSerializer,
    RequestWriteSerializer,
    ResultSerializer,
    ResultWriteSerializer,
    UpdateWriteSerializer,
    UploadSerializer,
)

State = DataRequest.State
FAR_FUTURE = datetime.date(9999, 12, 31)


BOARD_FILTERS = [
    OpenApiParameter("state", str, enum=["active", *[s for s in State.values if s != State.DRAFT]],
                     description=_("active (default: open, claimed, in progress, delivered) or one state.")),
    OpenApiParameter("category", str, description=_("Topic area slug.")),
    OpenApiParameter("tag", str, description=_("Expertise tag slug.")),
    OpenApiParameter("modality", str, enum=DataRequest.Modality.values),
    OpenApiParameter("result_type", str, enum=DataRequest.ResultType.values),
    OpenApiParameter("has_deadline", bool),
    OpenApiParameter("unclaimed", bool, description=_("Only open requests nobody claimed.")),
]


def _details(request, data: dict, current: dict | None = None) -> dict:
    """The service's details from the API's fields, over `current` for a partial update."""
    details = dict(current or {})
    for field in services.DETAIL_FIELDS:
        if field in data:
            details[field] = data[field]
    if "category" in data:
        category = selectors.board_categories(user=request.user).filter(slug=data["category"]).first()
        if category is None:
            raise ValidationError({"category": [_("There is no such topic area.")]})
        details["category"] = category
    return details


def _request_data(request, pk: int) -> dict:
    data_request = selectors.request_get(user=request.user, pk=pk)
    context = {
        "user": request.user,
        "results": selectors.result_list_visible(user=request.user).filter(data_request=data_request).order_by("pk"),
        "dataset_items": selectors.licensed_items(item_type="dataset", object_ids=[pk]),
        "actions": selectors.actions_for(user=request.user, data_request=data_request),
    }
    return RequestDetailSerializer(data_request, context=context).data


class LicensedListMixin:
    """A list whose rows carry a licensing record: one query per page loads them all, and the
    serializers find them in their context under `<item_type>_items`."""

    licensed_item_type = "dataset"

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.licensed = selectors.licensed_items(item_type=self.licensed_item_type, object_ids=[r.pk for r in page])
        return page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), f"{self.licensed_item_type}_items": getattr(self, "licensed", {})}


class RequestList(LicensedListMixin, generics.ListAPIView):
    serializer_class = RequestSerializer
    ordering_choices = {
        "-published_at": ("-published_at", "-pk"),
        "published_at": ("published_at", "pk"),
        # One unique sortable key: DRF's cursor keeps only the first field, and many requests
        # share "no deadline", which would make pages past offset_cutoff repeat.
        "deadline": ("due_key",),
    }
    ordering = ("-published_at", "-pk")

    def get_queryset(self):
        refuse_blank(self.request, "state", "modality", "result_type")
        for flag in ("has_deadline", "unclaimed"):
            query_flag(self.request, flag)  # the form would take any other word for true
        form = BoardFilterForm(self.request.query_params, categories=selectors.board_categories(user=self.request.user))
        if not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data
        filters = selectors.BoardFilters(
            state=data["state"] or "active", category=data["category"], tag=data["tag"], modality=data["modality"],
            result_type=data["result_type"], has_deadline=data["has_deadline"], unclaimed=data["unclaimed"],
        )
        due = Cast(Coalesce("deadline", Value(FAR_FUTURE), output_field=DateField()), CharField())
        return selectors.request_list_api(user=self.request.user, filters=filters).annotate(
            due_key=Concat(due, Value("~"), LPad(Cast("pk", CharField()), 12, Value("0")), output_field=CharField()))

    @extend_schema(operation_id="requests_list", tags=["requests"], parameters=BOARD_FILTERS,
                   summary=_("The board: published requests you may see"),
                   description=_("The board's filters; newest first unless `ordering` says otherwise "
                                 "(`deadline`: soonest first, those without one last, then oldest first)."))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="requests_create", tags=["requests"], request=RequestWriteSerializer,
                   responses={201: RequestDetailSerializer}, summary=_("Ask for help: a draft, or published"),
                   description=_("Requesters only. With `publish`, every field the web form asks for is needed, "
                                 "`data_license` included (no license is chosen for you); a request whose data "
                                 "may identify a patient goes to the anonymization team first."))
    def post(self, request, *args, **kwargs):
        limit(request, "post")
        data = valid_input(RequestWriteSerializer, request)
        data_request = services.request_submit(actor=request.user, details=_details(request, data),
                                               publish=data["publish"])
        return Response(_request_data(request, data_request.pk), status=status.HTTP_201_CREATED)


class RequestDetail(APIView):
    @extend_schema(operation_id="requests_retrieve", tags=["requests"], responses=RequestDetailSerializer,
                   summary=_("One request (a draft only for its author)"))
    def get(self, request, pk):
        return Response(_request_data(request, pk))

    @extend_schema(operation_id="requests_partial_update", tags=["requests"], request=RequestWriteSerializer,
                   responses=RequestDetailSerializer, summary=_("Change a request, or publish a draft"),
                   description=_("Fields left out keep their value. `publish` applies to drafts only."))
    def patch(self, request, pk):
        data_request = selectors.request_get(user=request.user, pk=pk)
        limit(request, "edit")
        data = valid_input(RequestWriteSerializer, request)
        current = RequestForm.initial_from(data_request, question=selectors.request_question(data_request=data_request))
        details = _details(request, data, current)
        if data_request.state == State.DRAFT:
            services.request_submit(actor=request.user, details=details, publish=data["publish"],
                                    data_request_id=pk)
        else:
            details.pop("category", None)
            services.request_edit(actor=request.user, data_request_id=pk, details=details)
        return Response(_request_data(request, pk))


class RequestClaim(APIView):
    @extend_schema(operation_id="requests_claim", tags=["requests"], request=ClaimWriteSerializer,
                   responses={201: ClaimSerializer}, summary=_("Claim a request (volunteers)"))
    def post(self, request, pk):
        selectors.request_get(user=request.user, pk=pk)
        limit(request, "claim")
        data = valid_input(ClaimWriteSerializer, request)
        claim = services.request_claim(actor=request.user, data_request_id=pk, **data)
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


class RequestUnclaim(APIView):
    @extend_schema(operation_id="requests_unclaim", tags=["requests"], request=None,
                   responses=ClaimSerializer, summary=_("Give up your claim"))
    def post(self, request, pk):
        data_request = selectors.request_get(user=request.user, pk=pk)
        mine = next((c for c in selectors.claim_list(data_request=data_request) if c.volunteer_id == request.user.pk),
                    None) if request.user.is_authenticated else None
        if mine is None:
            raise ValidationError(_("You have no active claim on this request."))
        claim = services.claim_release(actor=request.user, claim_id=mine.pk)
        return Response(ClaimSerializer(claim).data)


class RequestUpdate(APIView):
    @extend_schema(operation_id="requests_updates_create", tags=["requests"], request=UpdateWriteSerializer,
                   responses={201: PostSerializer}, summary=_("Post a progress update (claimants)"))
    def post(self, request, pk):
        selectors.request_get(user=request.user, pk=pk)
        limit(request, "post")
        data = valid_input(UpdateWriteSerializer, request)
        post = services.update_post(actor=request.user, data_request_id=pk, raw=data["raw"], ip=client_ip(request))
        return Response(post_data(request, post.pk), status=status.HTTP_201_CREATED)


class RequestResult(APIView):
    @extend_schema(operation_id="requests_results_create", tags=["requests"], request=ResultWriteSerializer,
                   responses={201: ResultSerializer}, summary=_("Deliver a result (claimants)"),
                   description=_("Points to an open repository and carries a license; the license is checked "
                                 "against the policy by a worker (`license_state`)."))
    def post(self, request, pk):
        selectors.request_get(user=request.user, pk=pk)
        limit(request, "post")
        data = valid_input(ResultWriteSerializer, request)
        result = services.result_deliver(actor=request.user, data_request_id=pk, ip=client_ip(request), **data)
        return Response(_result_data(request, result.pk), status=status.HTTP_201_CREATED)


class RequestWithdraw(APIView):
    @extend_schema(operation_id="requests_withdraw", tags=["requests"], request=ReasonWriteSerializer,
                   responses=RequestDetailSerializer, summary=_("Withdraw your request"))
    def post(self, request, pk):
        selectors.request_get(user=request.user, pk=pk)
        data = valid_input(ReasonWriteSerializer, request)
        services.request_withdraw(actor=request.user, data_request_id=pk, reason=data["reason"])
        return Response(_request_data(request, pk))


class RequestFiles(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="requests_files_create", tags=["requests"],
                   request={"multipart/form-data": FileWriteSerializer}, responses={201: UploadSerializer},
                   summary=_("Attach a data file (the requester)"),
                   description=_("The file goes to quarantine: it is scanned for personal data and published only "
                                 "after the anonymization team approves it, exactly as on the web."))
    def post(self, request, pk):
        selectors.request_get(user=request.user, pk=pk)
        limit(request, "upload")
        data = valid_input(FileWriteSerializer, request)
        upload = services.request_attach(actor=request.user, data_request_id=pk, file=data["file"],
                                         ip=client_ip(request))
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)


def _result_data(request, pk: int) -> dict:
    result = selectors.result_get_visible(user=request.user, pk=pk)
    items = selectors.licensed_items(item_type="result", object_ids=[pk])
    return ResultSerializer(result, context={"result_items": items}).data


class ResultList(LicensedListMixin, generics.ListAPIView):
    serializer_class = ResultSerializer
    licensed_item_type = "result"
    ordering_choices = {"-created_at": ("-created_at", "-pk"), "created_at": ("created_at", "pk")}
    ordering = ("-created_at", "-pk")

    def get_queryset(self):
        results = selectors.result_list_visible(user=self.request.user)
        if query_flag(self.request, "accepted"):
            results = results.filter(accepted_at__isnull=False)
        return results

    @extend_schema(operation_id="results_list", tags=["results"], summary=_("Delivered results with their licenses"),
                   parameters=[OpenApiParameter("accepted", bool, description=_("Only accepted results."))])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ResultDetail(APIView):
    @extend_schema(operation_id="results_retrieve", tags=["results"], responses=ResultSerializer,
                   summary=_("One result"))
    def get(self, request, pk):
        return Response(_result_data(request, pk))


class ResultAccept(APIView):
    @extend_schema(operation_id="results_accept", tags=["results"], request=None, responses=ResultSerializer,
                   summary=_("Accept a result: the request is solved (its requester)"))
    def post(self, request, pk):
        selectors.result_get_visible(user=request.user, pk=pk)
        services.result_accept(actor=request.user, result_id=pk)
        return Response(_result_data(request, pk))


class DatasetList(LicensedListMixin, generics.ListAPIView):
    serializer_class = DatasetSerializer
    ordering_choices = {"-published_at": ("-published_at", "-pk"), "published_at": ("published_at", "pk")}
    ordering = ("-published_at", "-pk")

    def get_queryset(self):
        return selectors.dataset_list(user=self.request.user)

    @extend_schema(operation_id="datasets_list", tags=["results"], summary=_("The data requests offer, with licenses"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
