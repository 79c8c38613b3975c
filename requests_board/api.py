"""The board's endpoints: requests through their whole life, results and datasets with their licenses.

The same selectors, services and permissions as the board's pages; the shared
machinery (tokens, errors, pagination) is forum.api's.
"""
import datetime

from django.db.models import CharField, DateField, Value
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from forum.api.serializers import (
    PersonRefSerializer,
    PostSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictSlugField,
)
from forum.api.views import form_errors, limit, post_data, query_flag, refuse_blank, valid_input
from forum.ratelimit import client_ip
from licensing.models import LicensedItem

from . import selectors, services
from .forms import BoardFilterForm, RequestForm
from .models import Claim, DataRequest, Result
from .permissions import can_edit_request, dataset_withheld

State = DataRequest.State
FAR_FUTURE = datetime.date(9999, 12, 31)


# --- Serializers ----------------------------------------------------------------------

class LicenseStateSerializer(serializers.Serializer):
    """The licensing check of a dataset or result: pending, ok, or held until fixed."""

    state = serializers.ChoiceField(choices=LicensedItem.State.choices)
    problems = serializers.ListField(child=serializers.CharField())


def _license_state(item, user) -> dict | None:
    if item is None:
        return None
    problems = [] if dataset_withheld(user, item) else [str(problem) for problem in item.problems]
    return {"state": item.state, "problems": problems}


def _viewer(serializer):
    return serializer.context.get("user") or serializer.context["request"].user


def _links(serializer, data_request) -> list[dict]:
    """The data's links, unless the data is held for its license and the viewer is not its
    requester or a moderator (the web's panel withholds them alike)."""
    item = (serializer.context.get("dataset_items") or {}).get(data_request.pk)
    return [] if dataset_withheld(_viewer(serializer), item) else data_request.links


class LinkSerializer(serializers.Serializer):
    url = serializers.CharField()
    host = serializers.CharField(help_text=_("Where it points, e.g. Zenodo."))


class ClaimSerializer(serializers.ModelSerializer):
    volunteer = PersonRefSerializer()

    class Meta:
        model = Claim
        fields = ["id", "volunteer", "role", "part", "plan", "expected_date", "status", "created_at"]


class RequestSerializer(serializers.ModelSerializer):
    """A request as the board lists it."""

    title = serializers.SerializerMethodField()
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = PersonRefSerializer()
    topic = serializers.IntegerField(source="topic_id", allow_null=True)
    expertise = serializers.SerializerMethodField()
    claims = serializers.SerializerMethodField()
    data_license_state = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = DataRequest
        fields = ["id", "title", "state", "category", "author", "topic", "expertise", "modality", "data_size",
                  "result_type", "deadline", "data_license", "data_license_state", "claims", "created_at",
                  "published_at", "accepted_at", "url"]

    def get_title(self, data_request) -> str:
        # A published request's title lives on its topic, where forum edits may change it.
        return data_request.topic.title if data_request.topic_id else data_request.title

    def get_expertise(self, data_request) -> list[str]:
        if data_request.topic_id:
            return sorted(tag.name for tag in data_request.topic.tags.all())
        return [name.strip() for name in data_request.expertise.split(",") if name.strip()]

    @extend_schema_field(ClaimSerializer(many=True))
    def get_claims(self, data_request):
        claims = getattr(data_request, "active_claims", None)
        if claims is None:
            claims = selectors.claim_list(data_request=data_request)
        return ClaimSerializer(claims, many=True).data

    @extend_schema_field(LicenseStateSerializer(allow_null=True))
    def get_data_license_state(self, data_request):
        return _license_state((self.context.get("dataset_items") or {}).get(data_request.pk), _viewer(self))


class RequestDetailSerializer(RequestSerializer):
    """Everything the request's page shows; `patient_data` only to who may edit the request."""

    question_html = serializers.SerializerMethodField()
    data_links = serializers.SerializerMethodField()
    patient_data = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()
    accepted_result = serializers.SerializerMethodField()

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "question_html", "data_links", "result_description",
                  "serves_covid", "patient_data", "needs_anonymization", "cleared_at", "accepted_result",
                  "close_reason", "results", "updated_at"]

    @extend_schema_field({"type": "string", "nullable": True, "description": str(_(
        "Sanitized HTML of the question; null for a draft or when it is hidden from you."))})
    def get_question_html(self, data_request):
        return selectors.request_question_html(user=self.context["user"], data_request=data_request)

    @extend_schema_field({"type": "string", "nullable": True, "enum": [*DataRequest.PatientData.values, "", None]})
    def get_patient_data(self, data_request):
        user = self.context["user"]
        mine = user.is_authenticated and data_request.author_id == user.pk
        return data_request.patient_data if mine or can_edit_request(user, data_request) else None

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_results(self, data_request):
        return [result.pk for result in self.context.get("results", [])]

    @extend_schema_field(LinkSerializer(many=True))
    def get_data_links(self, data_request):
        return LinkSerializer(_links(self, data_request), many=True).data

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_accepted_result(self, data_request):
        visible = {result.pk for result in self.context.get("results", [])}
        return data_request.accepted_result_id if data_request.accepted_result_id in visible else None


class ResultSerializer(serializers.ModelSerializer):
    request = serializers.IntegerField(source="data_request_id")
    post = serializers.IntegerField(source="post_id")
    author = PersonRefSerializer()
    summary_html = serializers.CharField(source="post.html", help_text=_("Sanitized HTML of the result's post."))
    repository_host = serializers.CharField()
    license_state = serializers.SerializerMethodField()
    accepted = serializers.SerializerMethodField()
    url = serializers.CharField(source="post.get_absolute_url")

    class Meta:
        model = Result
        fields = ["id", "request", "post", "author", "summary_html", "repository_url", "repository_host", "license",
                  "repository_license", "license_state", "accepted", "created_at", "accepted_at", "url"]

    @extend_schema_field(LicenseStateSerializer(allow_null=True))
    def get_license_state(self, result):
        item = (self.context.get("result_items") or {}).get(result.pk)
        return None if item is None else {"state": item.state, "problems": [str(p) for p in item.problems]}

    def get_accepted(self, result) -> bool:
        return result.accepted_at is not None


class DatasetSerializer(serializers.ModelSerializer):
    """The data a request offers: its links and its license."""

    request = serializers.IntegerField(source="pk")
    title = serializers.SerializerMethodField()
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    links = serializers.SerializerMethodField()
    license = serializers.CharField(source="data_license")
    license_state = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = DataRequest
        fields = ["request", "title", "category", "modality", "data_size", "links", "license", "license_state",
                  "published_at", "url"]

    def get_title(self, data_request) -> str:
        return data_request.topic.title

    @extend_schema_field(LinkSerializer(many=True))
    def get_links(self, data_request):
        return LinkSerializer(_links(self, data_request), many=True).data

    @extend_schema_field(LicenseStateSerializer(allow_null=True))
    def get_license_state(self, data_request):
        return _license_state((self.context.get("dataset_items") or {}).get(data_request.pk), _viewer(self))


def _choice(choices, help_text=""):
    return serializers.ChoiceField(choices=choices, required=False, allow_blank=True, help_text=help_text)


class RequestWriteSerializer(serializers.Serializer):
    """A request's details. A draft needs a title and a category; publishing needs the rest
    (the service says which is missing)."""

    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    question = StrictCharField(required=False, allow_blank=True,
                               help_text=_("What you have and what you need, in Markdown."))
    category = StrictSlugField(required=False, help_text=_("A public topic area's slug."))
    modality = _choice(DataRequest.Modality.choices)
    data_size = _choice(DataRequest.DataSize.choices)
    data_links = serializers.ListField(child=StrictCharField(max_length=500), required=False, max_length=50,
                                       help_text=_("https addresses of the data (Zenodo, figshare, GitHub…)."))
    result_description = StrictCharField(required=False, allow_blank=True)
    result_type = _choice(DataRequest.ResultType.choices)
    deadline = serializers.DateField(required=False, allow_null=True)
    expertise = serializers.ListField(child=StrictCharField(max_length=100), required=False, max_length=20)
    serves_covid = StrictBooleanField(required=False)
    patient_data = _choice(DataRequest.PatientData.choices, _(
        "yes or unsure sends the request to the anonymization team before anyone else sees it."))
    data_license = StrictCharField(required=False, allow_blank=True, max_length=100,
                                   help_text=_("SPDX license of the data, e.g. CC-BY-SA-4.0 (the default the "
                                               "site's forms preselect). Required to publish; a draft may "
                                               "leave it empty."))
    publish = StrictBooleanField(required=False, default=False,
                                 help_text=_("Publish now (a draft otherwise, seen only by you)."))


class ClaimWriteSerializer(serializers.Serializer):
    plan = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_date = serializers.DateField(required=False, allow_null=True, default=None)
    part = StrictCharField(required=False, allow_blank=True, default="", max_length=120,
                           help_text=_("Citizen science: the part you take on."))


class UpdateWriteSerializer(serializers.Serializer):
    raw = StrictCharField(help_text=_("Your progress, in Markdown."))


class ResultWriteSerializer(serializers.Serializer):
    summary = StrictCharField(help_text=_("What you found, in Markdown."))
    repository_url = StrictCharField(max_length=500, help_text=_("An open repository or archive (https)."))
    license = StrictCharField(max_length=100, help_text=_("SPDX license of the result."))
    repository_license = StrictCharField(required=False, allow_blank=True, default="", max_length=100,
                                         help_text=_("SPDX license of the repository's code."))


class ReasonWriteSerializer(serializers.Serializer):
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=500)


class FileWriteSerializer(serializers.Serializer):
    file = serializers.FileField()


class UploadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text=_("quarantined until scanned and approved by the anonymization team."))
    url = serializers.CharField(source="get_absolute_url")


# --- Views ------------------------------------------------------------------------------

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
