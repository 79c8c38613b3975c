"""Root URLs: each app's URLs under its own namespace."""
from django.contrib import admin
from django.urls import include, path

from forum import views as forum_views

urlpatterns = [
    path("healthz/", forum_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("forum.urls")),
]
