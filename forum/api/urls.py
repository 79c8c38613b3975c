"""/api/v1/: every endpoint (the forum's here, other apps' through the `api_urlpatterns` hook), the
OpenAPI schema and its documentation page."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .. import extensions
from . import examples, views

app_name = "api"
examples.attach()

urlpatterns = [
    path("categories/", views.CategoryList.as_view(), name="category-list"),
    path("categories/<slug:slug>/", views.CategoryDetail.as_view(), name="category-detail"),
    path("tags/", views.TagList.as_view(), name="tag-list"),
    path("topics/", views.TopicList.as_view(), name="topic-list"),
    path("topics/<int:pk>/", views.TopicDetail.as_view(), name="topic-detail"),
    path("topics/<int:pk>/posts/", views.TopicPostList.as_view(), name="topic-post-list"),
    path("posts/<int:pk>/", views.PostDetail.as_view(), name="post-detail"),
    path("users/", views.UserList.as_view(), name="user-list"),
    path("users/<str:username>/", views.UserDetail.as_view(), name="user-detail"),
    path("notifications/", views.NotificationList.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadAll.as_view(), name="notification-read-all"),
    path("notifications/<int:pk>/read/", views.NotificationRead.as_view(), name="notification-read"),
    path("search/", views.Search.as_view(), name="search"),
    *extensions.api_urlpatterns(),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
