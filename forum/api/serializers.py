"""What the forum's endpoints return and accept. Output serializers read what the selectors
loaded (no query per row); input serializers check types only, the services check the rules."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import ApiToken, Category, Notification, Post, Topic, User


class StrictStringMixin:
    """Input text must be a JSON string, as the schema says: DRF's CharField would take 0, 1.5
    or another number and save its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not "3", 3.0 or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false, not 0, 1, "yes" or "on"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable, e.g. invalid, not_found, rate_limited."))
    message = serializers.CharField(help_text=_("What went wrong, for a person."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text=_("Per input field, what to change (invalid input only)."),
    )
    retry_after = serializers.IntegerField(required=False, help_text=_("Seconds to wait (rate limits only)."))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class PersonRefSerializer(serializers.Serializer):
    """Who wrote or did something: enough to show and link them."""

    username = serializers.CharField()
    name = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    """A public profile: what the profile page shows to anyone, never an email address."""

    name = serializers.CharField()
    bio_html = serializers.CharField(help_text=_("Sanitized HTML."))
    expertise = serializers.SerializerMethodField()
    joined = serializers.SerializerMethodField(help_text=_("Month joined, YYYY-MM (as the profile page says)."))
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = User
        fields = ["username", "name", "affiliation", "orcid", "bio_html", "expertise", "joined", "url"]

    def get_joined(self, user) -> str:
        return user.date_joined.strftime("%Y-%m")

    def get_expertise(self, user) -> list[str]:
        return sorted(tag.name for tag in user.expertise.all())  # prefetched


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "color", "parent", "security", "position", "url"]


class CategoryListSerializer(CategorySerializer):
    topic_count = serializers.IntegerField(help_text=_("Topics you may see, subcategories' included."))
    latest_activity = serializers.DateTimeField(allow_null=True)
    subcategories = CategorySerializer(many=True)

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "topic_count", "latest_activity", "subcategories"]


class TagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    topic_count = serializers.IntegerField(help_text=_("Topics you may see with this tag."))


class TopicSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = PersonRefSerializer()
    tags = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Topic
        fields = ["id", "title", "slug", "category", "tags", "author", "created_at", "last_posted_at", "post_count",
                  "like_count", "view_count", "pinned", "closed", "archived", "url"]

    def get_tags(self, topic) -> list[str]:
        return sorted(tag.name for tag in topic.tags.all())  # prefetched


class PostSerializer(serializers.ModelSerializer):
    """A post; `raw` and `html` are null when its text is not yours to read (deleted, hidden for
    review, or held for its license), like the placeholder on the web page."""

    topic = serializers.IntegerField(source="topic_id")
    author = PersonRefSerializer()
    reply_to_number = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    raw = serializers.SerializerMethodField(help_text=_("Markdown as written."))
    html = serializers.SerializerMethodField(help_text=_("Sanitized HTML, rendered once when saved."))
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Post
        fields = ["id", "topic", "number", "author", "reply_to_number", "created_at", "edited_at", "like_count",
                  "state", "raw", "html", "url"]

    def get_reply_to_number(self, post) -> int | None:
        return post.reply_to.number if post.reply_to_id else None  # joined by the selector

    @extend_schema_field({"type": "string", "enum": ["visible", "deleted", "hidden"]})
    def get_state(self, post) -> str:
        if post.deleted_at is not None:
            return "deleted"
        # Hidden for review is said to everyone; only who may read it also gets its text.
        return "hidden" if post.hidden or post.content_hidden else "visible"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_raw(self, post) -> str | None:
        return None if post.content_hidden else post.raw

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_html(self, post) -> str | None:
        return None if post.content_hidden else post.html


class TopicDetailSerializer(TopicSerializer):
    first_post = PostSerializer(allow_null=True)

    class Meta(TopicSerializer.Meta):
        fields = [*TopicSerializer.Meta.fields, "first_post"]


class TopicCreateSerializer(serializers.Serializer):
    category = StrictSlugField(help_text=_("The slug of a category you may post in."))
    title = StrictCharField(max_length=200)
    raw = StrictCharField(help_text=_("The first post, in Markdown."))
    tags = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list,
                                 max_length=20)


class PostCreateSerializer(serializers.Serializer):
    raw = StrictCharField(help_text=_("The reply, in Markdown."))
    reply_to_number = StrictIntegerField(required=False, allow_null=True, min_value=1,
                                         max_value=2_147_483_647)


class PostEditSerializer(serializers.Serializer):
    raw = StrictCharField(required=False, help_text=_("The new text, in Markdown; left out, the text stays."))
    title = StrictCharField(required=False, max_length=200,
                            help_text=_("A first post's edit may retitle its topic."))
    reason = StrictCharField(required=False, default="", allow_blank=True, max_length=200)


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.CharField(help_text=_("The sentence the bell shows."))
    kind_label = serializers.CharField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "text", "title", "url", "count", "created_at", "read"]

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class ReadCountSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField()


class SearchHitSerializer(serializers.Serializer):
    post = serializers.IntegerField(source="post.pk")
    number = serializers.IntegerField(source="post.number")
    topic = serializers.IntegerField(source="post.topic_id")
    topic_title_html = serializers.CharField(source="title_html", help_text=_("Escaped; matches in <mark>."))
    category = serializers.CharField(source="post.topic.category.slug")
    author = PersonRefSerializer(source="post.author")
    created_at = serializers.DateTimeField(source="post.created_at")
    snippet_html = serializers.CharField(source="snippet", help_text=_("Escaped text; matches in <mark>."))
    url = serializers.CharField(source="post.get_absolute_url")


class SearchPageSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=_("Matches, at most 300."))
    more = serializers.BooleanField(help_text=_("More posts match than `total`: the newest were ranked."))
    partial = serializers.BooleanField(help_text=_(
        "The search took too long to read every post: only the newest `searched` posts were searched."))
    searched = serializers.IntegerField(help_text=_("When `partial`, how many of the newest posts were searched."))
    page = serializers.IntegerField()
    page_count = serializers.IntegerField()
    results = SearchHitSerializer(many=True)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "prefix", "created_at", "last_used_at"]
