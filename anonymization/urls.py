from django.urls import path

from . import views

app_name = "anonymization"

urlpatterns = [
    path("anonymization/", views.queue, name="queue"),
    path("anonymization/files/<int:pk>/", views.upload_detail, name="upload-detail"),
    path("anonymization/files/<int:pk>/messages/", views.message_create, name="message-create"),
    path("anonymization/files/<int:pk>/decide/", views.upload_decide, name="upload-decide"),
    path("anonymization/files/<int:pk>/versions/", views.version_create, name="version-create"),
    path("anonymization/download/<str:token>/", views.version_download, name="version-download"),
    path("files/<int:pk>/<str:name>", views.published_download, name="published-download"),
]
