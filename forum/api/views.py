"""The forum's endpoints: categories, tags, topics, posts, people, notifications and search.

Each view parses input, calls the same selector or service as the web page, and
serializes; refusals are raised and shaped by errors.exception_handler.
"""
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Notification
from ..permissions import check_can_edit_post
from ..search import MAX_QUERY_LENGTH, search_posts
from ..views.search import SearchForm
from . import serializers
from .helpers import form_errors, limit, post_data, refuse_blank, valid_input

# --- Categories and tags ------------------------------------------------------------

class CategoryList(APIView):
    @extend_schema(
        operation_id="categories_list", tags=["forum"], responses=serializers.CategoryListSerializer(many=True),
        summary=_("Categories you may see"),
        description=_("Top-level categories with their subcategories and counts of the topics you may see. "
                      "Not paginated: there are few."),
    )
    def get(self, request):
        categories = selectors.category_list(user=request.user)
        return Response(serializers.CategoryListSerializer(categories, many=True).data)


class CategoryDetail(APIView):
    @extend_schema(operation_id="categories_retrieve", tags=["forum"], responses=serializers.CategorySerializer,
                   summary=_("One category"))
    def get(self, request, slug):
        category = selectors.category_get(user=request.user, slug=slug)
        return Response(serializers.CategorySerializer(category).data)


class TagList(generics.ListAPIView):
    serializer_class = serializers.TagSerializer
    ordering_choices = {"name": ("name", "pk")}
    ordering = ("name", "pk")

    def get_queryset(self):
        return selectors.tag_list(user=self.request.user)

    @extend_schema(operation_id="tags_list", tags=["forum"], summary=_("Tags on topics you may see"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Topics and posts -----------------------------------------------------------------

TOPIC_FILTERS = [
    OpenApiParameter("category", str, description=_("Only topics in this category (slug) and its subcategories.")),
    OpenApiParameter("tag", str, description=_("Only topics with this tag (slug).")),
]


class TopicList(generics.ListAPIView):
    serializer_class = serializers.TopicSerializer
    ordering_choices = {
        "-last_posted_at": ("-last_posted_at", "-pk"),
        "-created_at": ("-created_at", "-pk"),
        "created_at": ("created_at", "pk"),
    }
    ordering = ("-last_posted_at", "-pk")

    def get_queryset(self):
        user, query = self.request.user, self.request.query_params
        category, subcategories, tag = None, (), None
        if query.get("category"):
            category = selectors.category_get(user=user, slug=query["category"])
            subcategories = selectors.subcategory_list(user=user, category=category)
        if query.get("tag"):
            tag = selectors.tag_get(user=user, slug=query["tag"])
        return selectors.topic_list(user=user, category=category, subcategories=subcategories, tag=tag)

    @extend_schema(operation_id="topics_list", tags=["forum"], parameters=TOPIC_FILTERS,
                   summary=_("Topics you may see"),
                   description=_("Live topics, latest activity first unless `ordering` says otherwise. "
                                 "An unknown or private category or tag is a 404."))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="topics_create", tags=["forum"], request=serializers.TopicCreateSerializer,
                   responses={201: serializers.TopicDetailSerializer}, summary=_("Start a topic"),
                   description=_("Needs write access. The same rules as the web form: the category's posting "
                                 "rights, new members' limits, and the posting rate limit."))
    def post(self, request, *args, **kwargs):
        limit(request, "post")
        data = valid_input(serializers.TopicCreateSerializer, request)
        category = selectors.category_choices(user=request.user).filter(slug=data["category"]).first()
        if category is None:
            raise ValidationError({"category": [_("There is no such category.")]})
        topic = services.topic_create(actor=request.user, category=category, title=data["title"], raw=data["raw"],
                                      tags=data["tags"])
        return Response(_topic_detail(request, topic.pk), status=status.HTTP_201_CREATED)


def _topic_detail(request, pk) -> dict:
    topic = selectors.topic_get(user=request.user, pk=pk)
    first_posts = selectors.mark_post_texts(
        user=request.user, posts=selectors.topic_post_list(topic=topic).filter(number=1))
    topic.first_post = first_posts[0] if first_posts else None
    return serializers.TopicDetailSerializer(topic).data


class TopicDetail(APIView):
    @extend_schema(operation_id="topics_retrieve", tags=["forum"], responses=serializers.TopicDetailSerializer,
                   summary=_("One topic, with its first post"))
    def get(self, request, pk):
        return Response(_topic_detail(request, pk))


class TopicPostList(generics.ListAPIView):
    serializer_class = serializers.PostSerializer
    ordering_choices = {"number": ("number",), "-number": ("-number",)}
    ordering = ("number",)

    def get_queryset(self):
        self.topic = selectors.topic_get(user=self.request.user, pk=self.kwargs["pk"])
        return selectors.topic_post_list(topic=self.topic)

    def paginate_queryset(self, queryset):
        return selectors.mark_post_texts(user=self.request.user, posts=super().paginate_queryset(queryset))

    @extend_schema(operation_id="topics_posts_list", tags=["forum"], summary=_("A topic's posts, in order"),
                   description=_("Deleted and hidden posts stay in the list as placeholders: `state` says "
                                 "which, and their `raw` and `html` are null unless you may read them."))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="topics_posts_create", tags=["forum"], request=serializers.PostCreateSerializer,
                   responses={201: serializers.PostSerializer}, summary=_("Reply to a topic"))
    def post(self, request, *args, **kwargs):
        limit(request, "post")
        data = valid_input(serializers.PostCreateSerializer, request)
        selectors.topic_get(user=request.user, pk=kwargs["pk"])  # 404 unless visible
        post = services.post_create(actor=request.user, topic_id=kwargs["pk"], raw=data["raw"],
                                    reply_to_number=data.get("reply_to_number"))
        return Response(post_data(request, post.pk), status=status.HTTP_201_CREATED)


class PostDetail(APIView):
    @extend_schema(operation_id="posts_retrieve", tags=["forum"], responses=serializers.PostSerializer,
                   summary=_("One post"))
    def get(self, request, pk):
        return Response(post_data(request, pk))

    @extend_schema(operation_id="posts_partial_update", tags=["forum"], request=serializers.PostEditSerializer,
                   responses={200: serializers.PostSerializer, 202: serializers.PostSerializer},
                   summary=_("Edit a post"),
                   description=_("Your own post (or any, for moderators). Every edit keeps a revision; "
                                 "fields left out keep their value. An edit that may identify a patient "
                                 "answers 202: it waits for the anonymization team, and the post keeps its "
                                 "earlier text until they clear it."))
    def patch(self, request, pk):
        limit(request, "edit")
        data = valid_input(serializers.PostEditSerializer, request)
        post = selectors.post_get(user=request.user, pk=pk)
        if "raw" in data or "title" in data:
            edited = services.post_edit(actor=request.user, post_id=pk, raw=data.get("raw"),
                                        title=data.get("title"), reason=data["reason"])
            if edited.edit_held:  # the post keeps its text until the anonymization team clears the edit
                return Response(post_data(request, pk), status=status.HTTP_202_ACCEPTED)
        else:  # nothing to change, but still only for who may edit it
            check_can_edit_post(request.user, post)
        return Response(post_data(request, pk))

    @extend_schema(operation_id="posts_destroy", tags=["forum"], responses={204: None}, summary=_("Delete a post"),
                   description=_("Your own post, or any for moderators; a moderator can restore it on the web."))
    def delete(self, request, pk):
        selectors.post_get(user=request.user, pk=pk)
        limit(request, "edit")
        services.post_delete(actor=request.user, post_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- People -------------------------------------------------------------------------

class UserList(generics.ListAPIView):
    serializer_class = serializers.UserSerializer
    ordering_choices = {"-joined_at": ("-date_joined", "-pk"), "username": ("username",)}
    ordering = ("-date_joined", "-pk")

    def get_queryset(self):
        return selectors.people_list(user=self.request.user)

    @extend_schema(operation_id="users_list", tags=["people"], summary=_("Members' public profiles"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UserDetail(APIView):
    @extend_schema(operation_id="users_retrieve", tags=["people"], responses=serializers.UserSerializer,
                   summary=_("One member's public profile"))
    def get(self, request, username):
        profile = selectors.profile_get(username=username)
        if profile.deleted_at is not None:
            raise Http404
        return Response(serializers.UserSerializer(profile).data)


# --- Notifications --------------------------------------------------------------------

class NotificationList(generics.ListAPIView):
    serializer_class = serializers.NotificationSerializer
    signed_in_only = True
    ordering_choices = {"-created_at": ("-created_at", "-pk")}
    ordering = ("-created_at", "-pk")

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    def paginate_queryset(self, queryset):
        return selectors.describe_notifications(super().paginate_queryset(queryset))

    @extend_schema(operation_id="notifications_list", tags=["notifications"], summary=_("Your notifications"),
                   description=_("Newest first, read ones included (`read`)."))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationRead(APIView):
    signed_in_only = True

    @extend_schema(operation_id="notifications_read", tags=["notifications"], request=None,
                   responses=serializers.NotificationSerializer, summary=_("Mark one notification read"))
    def post(self, request, pk):
        try:
            notification = services.notification_open(user=request.user, notification_id=pk)
        except Notification.DoesNotExist:
            raise Http404 from None
        notification.refresh_from_db(fields=["read_at"])
        return Response(serializers.NotificationSerializer(selectors.describe_notifications([notification])[0]).data)


class NotificationReadAll(APIView):
    signed_in_only = True

    @extend_schema(operation_id="notifications_read_all", tags=["notifications"], request=None,
                   responses=serializers.ReadCountSerializer, summary=_("Mark all your notifications read"))
    def post(self, request):
        return Response({"marked_read": services.notifications_mark_all_read(user=request.user)})


# --- Search ---------------------------------------------------------------------------

SEARCH_PER_PAGE = 20
SEARCH_QUERY = {"type": "string", "minLength": 1, "pattern": r"\S"}  # blank is refused


class Search(APIView):
    @extend_schema(
        operation_id="search", tags=["forum"], responses=serializers.SearchPageSerializer,
        summary=_("Full-text search over what you may see"),
        description=_("Ranked by relevance, so paged by number (`page`) rather than by cursor."),
        parameters=[
            OpenApiParameter("q", SEARCH_QUERY, required=True, description=_(
                "Words to find (longer queries are cut to %(n)d characters).") % {"n": MAX_QUERY_LENGTH}),
            OpenApiParameter("category", str, description=_("Category slug.")),
            OpenApiParameter("tag", str, description=_("Tag slug.")),
            OpenApiParameter("author", str, description=_("Username.")),
            OpenApiParameter("from", OpenApiTypes.DATE, description=_("Posted on or after (YYYY-MM-DD).")),
            OpenApiParameter("to", OpenApiTypes.DATE, description=_("Posted on or before (YYYY-MM-DD).")),
            OpenApiParameter("status", str, enum=["open", "closed", "archived"], description=_("Topic status.")),
            OpenApiParameter("page", int, description=_("Page number, from 1.")),
        ],
    )
    def get(self, request):
        refuse_blank(request, "status", "from", "to")
        form = SearchForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data
        if not data["q"].strip():
            raise ValidationError({"q": [_("Type something to search for.")]})
        try:
            page = max(int(request.query_params.get("page", 1)), 1)
        except ValueError:
            raise ValidationError({"page": [_("Give a page number.")]}) from None
        results = search_posts(
            user=request.user, query=data["q"], category=data["category"], tag=data["tag"], author=data["author"],
            date_from=data["from"], date_to=data["to"], status=data["status"], page=page, per_page=SEARCH_PER_PAGE,
        )
        return Response(serializers.SearchPageSerializer({
            "total": results.total, "more": results.more, "partial": results.partial, "searched": results.searched,
            "page": results.page, "page_count": results.page_count,
            "results": results.results,
        }).data)

