"""The board's API serializers: requests, claims, results and datasets as the API shows them,
and the bodies it accepts."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forum.api.serializers import PersonRefSerializer, StrictBooleanField, StrictCharField, StrictSlugField
from licensing.models import LicensedItem

from .. import selectors
from ..models import Claim, DataRequest, Result
from ..permissions import can_edit_request, dataset_withheld


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
    actions = serializers.SerializerMethodField()

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "question_html", "data_links", "result_description",
                  "serves_covid", "patient_data", "needs_anonymization", "cleared_at", "accepted_result",
                  "close_reason", "results", "updated_at", "actions"]

    @extend_schema_field({
        "type": "object", "description": str(_(
            "What you may do to the request now, by step (claim, update, deliver, accept, withdraw, close, edit, "
            "attach, export, …): allowed, or the reason you may not, in the words the step itself would answer "
            "with; `shown` marks refusals that are yours to fix (e.g. what earns the trust to claim).")),
        "additionalProperties": {"type": "object", "properties": {
            "allowed": {"type": "boolean"}, "reason": {"type": "string"}, "shown": {"type": "boolean"}},
            "required": ["allowed", "reason", "shown"]},
    })
    def get_actions(self, data_request):
        return {name: action.as_dict() for name, action in self.context["actions"].items()}

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
