"""The requests board's endpoints under /api/v1/, added to the forum's API by the `api_urlpatterns` hook."""
from django.urls import path

from . import api as board

urlpatterns = [
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
]
