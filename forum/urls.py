from django.urls import path, re_path

from . import feeds, views

app_name = "forum"

urlpatterns = [
    path("", views.home, name="home"),
    path("latest/", views.topic_list, {"order": "latest"}, name="latest"),
    path("top/", views.topic_list, {"order": "top"}, name="top"),
    path("unanswered/", views.topic_list, {"order": "unanswered"}, name="unanswered"),
    path("new/", views.topic_list, {"order": "new"}, name="new"),
    path("c/<slug:slug>/", views.category_detail, name="category-detail"),
    path("tag/<slug:slug>/", views.tag_detail, name="tag-detail"),
    path("search/", views.search, name="search"),
    path("latest.atom", feeds.latest_atom, name="latest-feed"),
    path("latest.rss", feeds.latest_rss, name="latest-rss"),
    path("c/<slug:slug>/feed.atom", feeds.category_atom, name="category-feed"),
    path("c/<slug:slug>/feed.rss", feeds.category_rss, name="category-rss"),
    path("tag/<slug:slug>/feed.atom", feeds.tag_atom, name="tag-feed"),
    path("tag/<slug:slug>/feed.rss", feeds.tag_rss, name="tag-rss"),
    path("t/new/", views.topic_create, name="topic-create"),
    path("t/<slug:slug>/<int:pk>/", views.topic_detail, name="topic-detail"),
    path("t/<int:pk>/reply/", views.topic_reply, name="topic-reply"),
    path("t/<int:pk>/unread/", views.topic_unread, name="topic-unread"),
    path("t/<int:pk>/moderate/", views.topic_moderate, name="topic-moderate"),
    path("t/<int:pk>/move/", views.topic_move, name="topic-move"),
    path("p/<int:pk>/", views.post_permalink, name="post-permalink"),
    path("p/<int:pk>/edit/", views.post_edit, name="post-edit"),
    path("p/<int:pk>/revisions/", views.post_revisions, name="post-revisions"),
    path("p/<int:pk>/delete/", views.post_delete, name="post-delete"),
    path("p/<int:pk>/restore/", views.post_restore, name="post-restore"),
    path("p/<int:pk>/like/", views.post_like, name="post-like"),
    path("p/<int:pk>/bookmark/", views.post_bookmark, name="post-bookmark"),
    re_path(
        r"^notifications/(?P<kind>topic|category|tag)/(?P<key>[-\w]+)/$", views.notification_level,
        name="notification-level",
    ),
    path("my/bookmarks/", views.bookmark_list, name="bookmark-list"),
    path("preview/", views.preview, name="preview"),
    path("u/<str:username>/", views.profile_detail, name="profile-detail"),
    path("settings/profile/", views.profile_edit, name="profile-edit"),
    path("terms/accept/", views.terms_accept, name="terms-accept"),
    path("terms/", views.static_page, {"template_name": "forum/pages/terms.html"}, name="terms"),
    path("guidelines/", views.static_page, {"template_name": "forum/pages/guidelines.html"}, name="guidelines"),
    path("faq/", views.static_page, {"template_name": "forum/pages/faq.html"}, name="faq"),
]
