"""The forum's endpoints under /api/v1/ (categories, tags, topics, posts, people, notifications,
search). The API's root, with the other apps' endpoints and the schema, is config/api_urls.py."""
from django.urls import path

from . import views

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
]
