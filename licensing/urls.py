from django.urls import path

from . import views

app_name = "licensing"

urlpatterns = [
    path("licenses/", views.license_list, name="license-list"),
    path("licenses/report/", views.license_report, name="license-report"),
    path("licenses/<str:spdx_id>/", views.license_detail, name="license-detail"),
]
