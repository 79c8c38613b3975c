"""Reads for category, topic and list pages, each a fixed number of queries whatever the data size."""
import difflib
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from taggit.models import Tag

from ..models import (
    Bookmark,
    Category,
    CategoryNotificationSetting,
    NotificationLevel,
    Post,
    PostRevision,
    TagNotificationSetting,
    Topic,
    TopicNotificationSetting,
    TopicRead,
    User,
)
from ..permissions import (
    can_moderate,
    can_see_deleted_content,
    categories_visible_to,
    post_texts_readable_by,
    posts_visible_to,
    topics_visible_to,
)

POSTS_PER_PAGE = 20
NEW_TOPIC_DAYS = 14
TOP_PERIODS = {"week": 7, "month": 30, "year": 365, "all": None}
CATEGORY_LIST_SECONDS = 300
LIST_ORDERS = ("latest", "top", "unanswered", "new")


# --- Categories -------------------------------------------------------------------

def _personal_category_stats(user, access) -> dict:
    """What `user` sees beyond every reader's live topics (`CategoryStats.live`), per category id:
    their own topics hidden for review or in private categories they are not a member of, and the
    deleted and hidden topics of categories they moderate. One query over those few rows."""
    readable = access.public_category_ids | access.member_category_ids
    moderated = access.moderated_category_ids
    extra = Q(author=user, deleted_at__isnull=True) & (Q(hidden_at__isnull=False) | ~Q(category_id__in=readable))
    if moderated:
        extra |= Q(category_id__in=moderated) & (Q(deleted_at__isnull=False) | Q(hidden_at__isnull=False))
    rows = (
        Topic.objects.filter(extra).order_by().values("category_id")
        .annotate(n=Count("pk"), latest=Max("last_posted_at"))
    )
    return {row["category_id"]: (row["n"], row["latest"]) for row in rows}


def _categories_seen(user) -> tuple[list, dict]:
    """Every category `user` may see, in order, and their own topics' figures beyond what every
    reader sees (`_personal_category_stats`): one cache round trip, or two queries after a write.
    Kept until a write bumps the lists' or the site's generation: a category is created or changed
    (the site's), the person starts a topic (the lists': they then see its private category), or one
    is hidden, moved or deleted (the site's); the audience names what they may read. No longer than
    the anonymous pages that show the same categories."""
    from ..permissions.access import access_for
    from .counts import audience, counted

    def read():
        categories = list(categories_visible_to(user, Category.objects.all()).order_by("position", "name"))
        everything = can_moderate(user)
        personal = _personal_category_stats(user, access_for(user)) if user.is_authenticated and not everything else {}
        return categories, personal

    return counted(f"categories-seen:1 {audience(user)}", read, seconds=CATEGORY_LIST_SECONDS)


def category_list(*, user) -> list[Category]:
    """Top-level categories `user` may see, each with `subcategories`, visible topic counts
    (its subcategories' included) and latest activity. The counts come from the cache
    (forum/selectors/counts.py) with, for a signed-in person, one query for what they alone see:
    two queries, whatever the number of topics."""
    from ..permissions.access import access_for
    from .counts import EMPTY, category_topic_stats

    everything = can_moderate(user)
    access = access_for(user)
    readable = access.public_category_ids | access.member_category_ids
    categories, personal = _categories_seen(user)
    stats = category_topic_stats()
    for category in categories:
        found = stats.get(category.pk, EMPTY)
        if everything:
            count, latest = found.all, found.all_latest
        elif category.pk in readable:
            count, latest = found.live, found.live_latest
        else:
            count, latest = 0, None
        extra_count, extra_latest = personal.get(category.pk, (0, None))
        category.own_topic_count = count + extra_count
        category.own_latest_activity = max((d for d in (latest, extra_latest) if d), default=None)
    by_pk = {category.pk: category for category in categories}
    top_level = []
    for category in categories:
        category.subcategories = []
        category.topic_count = category.own_topic_count
        category.latest_activity = category.own_latest_activity
    for category in categories:
        parent = by_pk.get(category.parent_id)
        if parent is None:
            if category.parent_id is None:
                top_level.append(category)
            continue
        category.parent = parent  # the serializers name it: no query per subcategory
        parent.subcategories.append(category)
        parent.topic_count += category.own_topic_count
        if category.own_latest_activity and (
            parent.latest_activity is None or category.own_latest_activity > parent.latest_activity
        ):
            parent.latest_activity = category.own_latest_activity
    return top_level


def category_get(*, user, slug: str) -> Category:
    """A category by slug, with its parent; 404 when missing or private to `user`, alike. From the
    categories `user` sees (`_categories_seen`, kept in the cache)."""
    categories, _personal = _categories_seen(user)
    by_pk = {category.pk: category for category in categories}
    category = next((category for category in categories if category.slug == slug), None)
    if category is None:
        raise Http404
    if category.parent_id is not None:
        # A parent this person does not see is still named above its child (one query, rare).
        category.parent = by_pk.get(category.parent_id) or Category.objects.get(pk=category.parent_id)
    return category


def subcategory_list(*, user, category: Category) -> list[Category]:
    """The visible children of `category`, in order."""
    categories, _personal = _categories_seen(user)
    return [child for child in categories if child.parent_id == category.pk]


def category_choices(*, user) -> QuerySet:
    """Categories `user` can see, plus private ones where any member may start a private topic
    (the Anonymization channel), for pickers; posting rights are checked on submit."""
    visible = categories_visible_to(user, Category.objects.all()).values("pk")
    open_to_members = Q(security=Category.Security.PRIVATE, members_start_private_topics=True)
    categories = Category.objects.select_related("parent")
    if user.is_authenticated:
        categories = categories.filter(Q(pk__in=visible) | open_to_members)
    else:
        categories = categories.filter(pk__in=visible)
    return categories.order_by("position", "name")


# --- Topic lists ------------------------------------------------------------------

def _with_read_state(topics: QuerySet, user) -> QuerySet:
    """Annotate `read_number` (None if never opened) so lists show "3 new" without a query per row."""
    if not user.is_authenticated:
        return topics
    reads = TopicRead.objects.filter(user=user, topic=OuterRef("pk")).values("last_read_number")[:1]
    return topics.annotate(read_number=Subquery(reads, output_field=IntegerField()))


def _without_muted(topics: QuerySet, user) -> QuerySet:
    if not user.is_authenticated:
        return topics
    muted = NotificationLevel.MUTED
    return (
        topics.exclude(pk__in=TopicNotificationSetting.objects.filter(user=user, level=muted).values("topic_id"))
        .exclude(category_id__in=CategoryNotificationSetting.objects.filter(user=user, level=muted)
                 .values("category_id"))
        .exclude(tags__in=TagNotificationSetting.objects.filter(user=user, level=muted).values("tag_id"))
    )


def person_fields_unshown(path: str) -> tuple[str, ...]:
    """The fields of the person at `path` that pages never show (their profile, email, password
    hash...), to `defer`: lists and topic pages show names only, and keep rows in the cache."""
    return tuple(f"{path}__{field.name}" for field in User._meta.concrete_fields
                 if field.name not in {"id", "username", "display_name", "deleted_at"})


_AUTHOR_UNSHOWN = person_fields_unshown("author")


def topic_list(
    *, user, category: Category | None = None, subcategories=(), tag: Tag | None = None,
    order: str = "latest", period: str = "all", personal: bool = True,
) -> QuerySet:
    """Visible, live topics for a list page, with author, category, tags and read state loaded.

    `order`: latest (pinned first), top (likes then replies, over `period`),
    unanswered (no replies, open), new (unread for `user`). Muted topics,
    categories and tags are left out of the site-wide lists. `personal=False`: without the
    reader's mutes and read state, for a list kept for their whole audience (forum/selectors/lists.py).
    """
    topics = topics_visible_to(user, Topic.objects.all()).filter(deleted_at__isnull=True)
    if category is not None:
        topics = topics.filter(category_id__in=[category.pk, *(child.pk for child in subcategories)])
    if tag is not None:
        topics = topics.filter(tags=tag)
    if personal and category is None and tag is None:
        topics = _without_muted(topics, user)
    if personal:
        topics = _with_read_state(topics, user)
    if order == "top":
        days = TOP_PERIODS.get(period, None)
        if days:
            topics = topics.filter(created_at__gte=timezone.now() - timedelta(days=days))
        ordering = ["-like_count", "-post_count", "-last_posted_at", "-pk"]
    elif order == "unanswered":
        topics = topics.filter(post_count__lte=1, closed=False, archived=False)
        ordering = ["-created_at", "-pk"]
    elif order == "new":
        if not user.is_authenticated:
            return topics.none()
        recent = timezone.now() - timedelta(days=NEW_TOPIC_DAYS)
        topics = topics.filter(
            Q(read_number__isnull=True, created_at__gte=recent) & ~Q(author=user)
            | Q(read_number__lt=F("last_post_number"))
        )
        ordering = ["-last_posted_at", "-pk"]
    elif category is not None:
        # Exactly the expression of the topic_live_category_latest index, so it serves the order.
        pinned = Q(pinned=True) | Q(pinned_globally=True)
        topics = topics.annotate(is_pinned=ExpressionWrapper(pinned, output_field=BooleanField()))
        ordering = ["-is_pinned", "-last_posted_at", "-pk"]
    else:
        topics = topics.annotate(is_pinned=F("pinned_globally"))
        ordering = ["-is_pinned", "-last_posted_at", "-pk"]  # the topic_live_latest index
    return (
        topics.select_related("author", "category").defer(*_AUTHOR_UNSHOWN)
        .prefetch_related("tags").order_by(*ordering)
    )


# --- One topic --------------------------------------------------------------------

def topic_get(*, user, pk: int) -> Topic:
    """A topic by id, with category and tags; 404 when missing or private to `user`, alike."""
    topics = topics_visible_to(user, Topic.objects.select_related("category", "category__parent", "author"))
    if user.is_authenticated:
        # The reader's own state of the topic, in the same query: where they stopped reading
        # (None: never opened) and the notification level they chose (None: the default).
        topics = topics.annotate(
            read_number=Subquery(TopicRead.objects.filter(user=user, topic=OuterRef("pk"))
                                 .values("last_read_number")[:1], output_field=IntegerField()),
            chosen_level=Subquery(TopicNotificationSetting.objects.filter(user=user, topic=OuterRef("pk"))
                                  .values("level")[:1], output_field=IntegerField()),
        )
    return get_object_or_404(topics.prefetch_related("tags"), pk=pk)


def topic_page_count(topic: Topic) -> int:
    return max((topic.last_post_number + POSTS_PER_PAGE - 1) // POSTS_PER_PAGE, 1)


def post_page_number(number: int) -> int:
    """Which page of a topic shows post `number`: posts are never removed, so numbers are dense."""
    return (max(number, 1) - 1) // POSTS_PER_PAGE + 1


@dataclass
class TopicPage:
    posts: list
    number: int
    page_count: int
    liked: set
    bookmarks: dict
    events: list
    notification_level: int | None

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.page_count


def post_get(*, user, pk: int) -> Post:
    """A post in a topic `user` may see, with topic and category; 404 otherwise."""
    return get_object_or_404(
        posts_visible_to(user, Post.objects.select_related("topic", "topic__category", "author")), pk=pk
    )


def post_get_by_number(*, topic: Topic, number: int) -> Post | None:
    return Post.objects.filter(topic=topic, number=number).select_related("author").first()


@dataclass
class RevisionView:
    revision: PostRevision  # for moderators, `revision.hidden` marks versions others do not see
    title_changed: bool
    lines: list  # (kind, text) with kind in {"added", "removed", "same"}


def post_revision_list(*, user, post: Post) -> list[RevisionView]:
    """A post's revisions, oldest first, each with a line diff against the one before.

    Deleted posts' history is for moderators only (404 for others, like the content).
    """
    moderator = can_see_deleted_content(user, post.topic)
    if post.deleted_at is not None and not moderator:
        raise Http404
    if not post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists():
        raise Http404  # hidden for review, or a result held for its license: its author and moderators only
    revisions = PostRevision.objects.filter(post=post).select_related("editor").order_by("number")
    if not moderator:
        revisions = revisions.filter(hidden=False)
    revisions = list(revisions)
    views = []
    previous = None
    for revision in revisions:
        if previous is None:
            lines = [("same", line) for line in revision.raw.splitlines()]
            title_changed = False
        else:
            lines = []
            for line in difflib.ndiff(previous.raw.splitlines(), revision.raw.splitlines()):
                code, text = line[:2], line[2:]
                if code == "+ ":
                    lines.append(("added", text))
                elif code == "- ":
                    lines.append(("removed", text))
                elif code == "  ":
                    lines.append(("same", text))
            title_changed = post.number == 1 and revision.title != previous.title
        views.append(RevisionView(revision=revision, title_changed=title_changed, lines=lines))
        previous = revision
    return views


def bookmark_list(*, user) -> QuerySet:
    """`user`'s bookmarks on posts they can still see, newest first."""
    return (
        Bookmark.objects.filter(user=user, post__in=posts_visible_to(user, Post.objects.all()).values("pk"))
        .select_related("post", "post__author", "post__topic", "post__topic__category")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ChosenLevels:
    categories: dict
    tags: dict
    topics: dict


def chosen_levels(user) -> ChosenLevels:
    """Every notification level `user` chose, by category, tag and topic id: kept until they
    choose another (their own generation, which `notification_level_set` bumps)."""
    from ..pagecache import PERSON_LISTS_KEY
    from .counts import counted

    def read():
        return ChosenLevels(
            dict(CategoryNotificationSetting.objects.filter(user=user).values_list("category_id", "level")),
            dict(TagNotificationSetting.objects.filter(user=user).values_list("tag_id", "level")),
            dict(TopicNotificationSetting.objects.filter(user=user).values_list("topic_id", "level")),
        )

    return counted(f"chosen-levels:2 person {user.pk}", read, scope=PERSON_LISTS_KEY.format(user.pk))


def notification_levels_for(*, user, category: Category | None = None, tag: Tag | None = None) -> int | None:
    """`user`'s own level for a category or tag, None when they never chose one."""
    if not user.is_authenticated:
        return None
    if category is not None:
        return chosen_levels(user).categories.get(category.pk)
    if tag is not None:
        return chosen_levels(user).tags.get(tag.pk)
    return None


def notification_level_effective(*, user, topic: Topic) -> int:
    """How closely `user` follows `topic`: its own setting, else its category's, else its tags'
    highest, else normal. Used by notifications."""
    own = TopicNotificationSetting.objects.filter(user=user, topic=topic).values_list("level", flat=True).first()
    if own is not None:
        return own
    category = CategoryNotificationSetting.objects.filter(user=user, category_id=topic.category_id).values_list(
        "level", flat=True).first()
    if category is not None:
        return category
    tag_level = TagNotificationSetting.objects.filter(user=user, tag__in=topic.tags.all()).aggregate(
        level=Max("level"))["level"]
    return NotificationLevel.NORMAL if tag_level is None else tag_level


def topic_read_number(*, user, topic: Topic) -> int:
    """The last post number `user` has read in `topic` (0 if none)."""
    return TopicRead.objects.filter(user=user, topic=topic).values_list("last_read_number", flat=True).first() or 0


def topic_watcher_ids(*, topic: Topic) -> list[int]:
    """Ids of people watching `topic`: by their own choice for it, or through its category
    when they set nothing for the topic. Visibility is for the caller to check."""
    own = TopicNotificationSetting.objects.filter(topic=topic)
    watching = set(own.filter(level=NotificationLevel.WATCHING).values_list("user_id", flat=True))
    chose_otherwise = own.exclude(level=NotificationLevel.WATCHING).values("user_id")
    watching |= set(
        CategoryNotificationSetting.objects.filter(category_id=topic.category_id, level=NotificationLevel.WATCHING)
        .exclude(user_id__in=chose_otherwise).values_list("user_id", flat=True)
    )
    return sorted(watching)


# --- The API ----------------------------------------------------------------------

def tag_list(*, user) -> QuerySet:
    """Tags used on topics `user` may see, each with `topic_count` (of those topics), by name."""
    visible_topics = topics_visible_to(user, Topic.objects.filter(deleted_at__isnull=True)).values("pk")
    tagged = Topic.tags.through.objects.filter(
        object_id__in=visible_topics, content_type__model="topic", content_type__app_label="forum",
    )
    return (
        Tag.objects.filter(pk__in=tagged.values("tag_id"))
        .annotate(topic_count=Count("taggit_taggeditem_items", filter=Q(
            taggit_taggeditem_items__object_id__in=visible_topics,
            taggit_taggeditem_items__content_type__model="topic")))
        .order_by("name")
    )


def topic_post_list(*, topic: Topic) -> QuerySet:
    """A topic's posts in order, with authors and replied-to numbers joined; pass each page
    through `mark_post_texts` before showing it."""
    return Post.objects.filter(topic=topic).select_related("author", "reply_to", "topic", "topic__category")


def mark_post_texts(*, user, posts) -> list:
    """Set `content_hidden` on each post of a page: deleted (unless `user` moderates it), hidden
    for review, or withheld by another app (a result held for its license). One query."""
    posts = list(posts)
    if not posts:
        return posts
    readable = set(
        post_texts_readable_by(user, Post.objects.filter(pk__in=[post.pk for post in posts]))
        .values_list("pk", flat=True)
    )
    for post in posts:
        deleted_unseen = post.deleted_at is not None and not can_see_deleted_content(user, post.topic)
        post.content_hidden = deleted_unseen or post.pk not in readable
    return posts
