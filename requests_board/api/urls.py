"""The requests board's endpoints under /api/v1/, included by the API's root (config/api_urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("requests/", views.RequestList.as_view(), name="request-list"),
    path("requests/<int:pk>/", views.RequestDetail.as_view(), name="request-detail"),
    path("requests/<int:pk>/claim/", views.RequestClaim.as_view(), name="request-claim"),
    path("requests/<int:pk>/unclaim/", views.RequestUnclaim.as_view(), name="request-unclaim"),
    path("requests/<int:pk>/updates/", views.RequestUpdate.as_view(), name="request-update"),
    path("requests/<int:pk>/results/", views.RequestResult.as_view(), name="request-result"),
    path("requests/<int:pk>/withdraw/", views.RequestWithdraw.as_view(), name="request-withdraw"),
    path("requests/<int:pk>/files/", views.RequestFiles.as_view(), name="request-files"),
    path("results/", views.ResultList.as_view(), name="result-list"),
    path("results/<int:pk>/", views.ResultDetail.as_view(), name="result-detail"),
    path("results/<int:pk>/accept/", views.ResultAccept.as_view(), name="result-accept"),
    path("datasets/", views.DatasetList.as_view(), name="dataset-list"),
]
