"""/api/v1/: every endpoint, the OpenAPI schema and its documentation page."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from requests_board import api as board

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
    path("requests/", board.RequestList.as_view(), name="request-list"),
    path("requests/<int:pk>/", board.RequestDetail.as_view(), name="request-detail"),
    path("requests/<int:pk>/claim/", board.RequestClaim.as_view(), name="request-claim"),
    path("requests/<int:pk>/unclaim/", board.RequestUnclaim.as_view(), name="request-unclaim"),
    path("requests/<int:pk>/updates/", board.RequestUpdate.as_view(), name="request-update"),
    path("requests/<int:pk>/results/", board.RequestResult.as_view(), name="request-result"),
    path("requests/<int:pk>/withdraw/", board.RequestWithdraw.as_view(), name="request-withdraw"),
    path("requests/<int:pk>/files/", board.RequestFiles.as_view(), name="request-files"),
    path("results/", board.ResultList.as_view(), name="result-list"),
    path("results/<int:pk>/", board.ResultDetail.as_view(), name="result-detail"),
    path("results/<int:pk>/accept/", board.ResultAccept.as_view(), name="result-accept"),
    path("datasets/", board.DatasetList.as_view(), name="dataset-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
