from django.urls import path

from . import views

app_name = "forum"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category_detail, name="category-detail"),
    path("t/<slug:slug>/<int:pk>/", views.topic_detail, name="topic-detail"),
    path("u/<str:username>/", views.profile_detail, name="profile-detail"),
    path("settings/profile/", views.profile_edit, name="profile-edit"),
    path("terms/accept/", views.terms_accept, name="terms-accept"),
    path("terms/", views.static_page, {"template_name": "forum/pages/terms.html"}, name="terms"),
    path("guidelines/", views.static_page, {"template_name": "forum/pages/guidelines.html"}, name="guidelines"),
    path("faq/", views.static_page, {"template_name": "forum/pages/faq.html"}, name="faq"),
    path("licenses/", views.static_page, {"template_name": "forum/pages/licenses.html"}, name="licenses"),
]
