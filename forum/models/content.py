"""The shared space: categories, topics, posts, their revisions and moderation events."""
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import ExpressionWrapper, F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from .tagging import ListTaggableManager


class Category(models.Model):
    class Security(models.TextChoices):
        PUBLIC = "public", _("Public: everybody reads, members post")
        READ_ONLY = "read_only", _("Read-only: everybody reads, only its groups post")
        PRIVATE = "private", _("Private: only its groups, moderators and each topic's author")

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    color = models.CharField(
        _("color"), max_length=7, default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a hex color such as #2563eb."))],
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    security = models.CharField(
        _("security"), max_length=12, choices=Security.choices, default=Security.PUBLIC
    )
    groups = models.ManyToManyField(
        Group, blank=True, related_name="categories",
        help_text=_("Who may read a private category, or post in a read-only one."),
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="moderated_categories",
        verbose_name=_("category moderators"),
        help_text=_("People who pin, close, archive, move and delete topics in this category only."),
    )
    members_start_private_topics = models.BooleanField(
        _("members start private topics"), default=False,
        help_text=_("In a private category: any member may start a topic that only they, "
                    "the category's groups and moderators see (like the Anonymization channel)."),
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("forum:category-detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.parent_id and self.parent.security == self.Security.PRIVATE and self.security != self.Security.PRIVATE:
            raise ValidationError({"security": _("A subcategory of a private category must be private too.")})

    @property
    def is_public(self) -> bool:
        return self.security != self.Security.PRIVATE


class Topic(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="topics")
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topics")
    created_at = models.DateTimeField(default=timezone.now)
    last_posted_at = models.DateTimeField(default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Denormalized so lists never count rows per topic; kept right with F() updates under a row lock.
    post_count = models.PositiveIntegerField(default=0, help_text=_("Posts not deleted, the first included."))
    last_post_number = models.PositiveIntegerField(default=0, help_text=_("Highest post number handed out."))
    like_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0, help_text=_("Distinct signed-in readers."))
    pinned = models.BooleanField(_("pinned in its category"), default=False)
    pinned_globally = models.BooleanField(_("pinned everywhere"), default=False)
    closed = models.BooleanField(_("closed"), default=False, help_text=_("No new replies."))
    archived = models.BooleanField(_("archived"), default=False, help_text=_("Frozen: no replies, edits or likes."))
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = TaggableManager(verbose_name=_("tags"), blank=True, manager=ListTaggableManager)
    # Set while its first post is hidden for review: only its author and moderators see it.
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_posted_at"]
        indexes = [
            models.Index(fields=["category", "-last_posted_at"], name="topic_category_latest"),
            models.Index(fields=["-last_posted_at"], name="topic_latest"),
            models.Index(fields=["-created_at"], name="topic_created"),
            models.Index(fields=["author", "-created_at"], name="topic_author_created"),
            models.Index(fields=["post_count", "-created_at"], name="topic_unanswered"),
            models.Index(
                fields=["-last_posted_at"], condition=models.Q(pinned_globally=True) | models.Q(pinned=True),
                name="topic_pinned",
            ),
            # The list pages' orders exactly (forum.selectors.topic_list), over live topics: the
            # planner reads the first rows in order instead of sorting every visible topic.
            models.Index(
                F("pinned_globally").desc(), F("last_posted_at").desc(), F("id").desc(),
                condition=models.Q(deleted_at__isnull=True), name="topic_live_latest",
            ),
            models.Index(
                ExpressionWrapper(models.Q(pinned=True) | models.Q(pinned_globally=True),
                                  output_field=models.BooleanField()).desc(),
                F("last_posted_at").desc(), F("id").desc(),
                condition=models.Q(deleted_at__isnull=True), name="topic_live_category_latest",
            ),
            models.Index(
                F("like_count").desc(), F("post_count").desc(), F("last_posted_at").desc(), F("id").desc(),
                condition=models.Q(deleted_at__isnull=True), name="topic_live_top",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("forum:topic-detail", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def unread_count(self) -> int | None:
        """Posts after the reader's position; needs the `read_number` list annotation (None: never read)."""
        read_number = getattr(self, "read_number", None)
        return None if read_number is None else max(self.last_post_number - read_number, 0)


class Post(models.Model):
    class Hidden(models.TextChoices):
        NO = "", _("Shown")
        FLAGGED = "flagged", _("Hidden after flags, until a moderator reviews it")
        PERSONAL_DATA = "personal_data", _("Hidden: it may identify a patient, until the anonymization team checks it")
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for a moderator's approval")
        MODERATOR = "moderator", _("Hidden by a moderator")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    number = models.PositiveIntegerField()
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies",
    )
    raw = models.TextField()
    html = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    like_count = models.PositiveIntegerField(default=0)
    revision_count = models.PositiveIntegerField(default=1)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Hidden posts show as placeholders to everybody but their author and moderators.
    hidden = models.CharField(max_length=20, choices=Hidden.choices, default=Hidden.NO, blank=True)
    # PostgreSQL only (GIN-indexed by a migration); on SQLite forum.search keeps an FTS5 table instead.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["topic", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="post_number_unique_in_topic"),
        ]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="post_author_created"),
        ]

    def __str__(self):
        return f"{self.topic} #{self.number}"

    def get_absolute_url(self):
        return reverse("forum:post-permalink", kwargs={"pk": self.pk})

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return bool(self.hidden)

    @property
    def deleted_by_author(self) -> bool:
        return self.deleted_at is not None and self.deleted_by_id == self.author_id


class PostRevision(models.Model):
    """One version of a post's text (and, for a first post, its topic's title), kept forever."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    raw = models.TextField()
    title = models.CharField(max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Earlier versions can hold what a redaction removed: hidden ones are shown to moderators only.
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="post_revision_number_unique"),
        ]

    def __str__(self):
        return f"{self.post} r{self.number}"


class TopicEvent(models.Model):
    """The audit trail of moderation on a topic, shown on the topic page."""

    class Kind(models.TextChoices):
        PINNED = "pinned", _("pinned the topic in its category")
        PINNED_GLOBALLY = "pinned_globally", _("pinned the topic everywhere")
        UNPINNED = "unpinned", _("unpinned the topic")
        CLOSED = "closed", _("closed the topic")
        OPENED = "opened", _("reopened the topic")
        ARCHIVED = "archived", _("archived the topic")
        UNARCHIVED = "unarchived", _("unarchived the topic")
        MOVED = "moved", _("moved the topic")
        POST_DELETED = "post_deleted", _("deleted a post")
        POST_RESTORED = "post_restored", _("restored a post")
        TOPIC_DELETED = "topic_deleted", _("deleted the topic")
        TOPIC_RESTORED = "topic_restored", _("restored the topic")
        HISTORY_HIDDEN = "history_hidden", _("hid the earlier versions of a post")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    post_number = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic", "created_at", "pk"]
        indexes = [models.Index(fields=["topic", "created_at"], name="topic_event_topic")]

    def __str__(self):
        return f"{self.actor} {self.kind} {self.topic}"
