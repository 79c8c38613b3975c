from django.urls import path

from . import views

app_name = "requests_board"

urlpatterns = [
    path("requests/", views.board, name="board"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/mine/", views.my_requests, name="my-requests"),
    path("requests/claims/", views.my_claims, name="my-claims"),
    path("requests/matches/", views.matches, name="matches"),
    path("requests/dashboard/", views.dashboard, name="dashboard"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request-edit"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/close/", views.request_close, name="request-close"),
    path("requests/<int:pk>/clear/", views.request_clear, name="request-clear"),
    path("requests/<int:pk>/files/", views.request_attach, name="request-attach"),
    path("requests/<int:pk>/claim/", views.request_claim, name="request-claim"),
    path("requests/<int:pk>/update/", views.request_update, name="request-update"),
    path("requests/<int:pk>/result/", views.request_result, name="request-result"),
    path("claims/<int:pk>/release/", views.claim_release, name="claim-release"),
    path("results/<int:pk>/accept/", views.result_accept, name="result-accept"),
    path("results/<int:pk>/license/", views.result_license, name="result-license"),
    path("requests/<int:pk>/export/", views.request_export, name="request-export"),
    path("requests/exports/<int:pk>/", views.export_detail, name="export-detail"),
    path("requests/exports/<int:pk>/download/", views.export_download, name="export-download"),
]
