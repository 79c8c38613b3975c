"""/api/v1/, namespace "api": every app's endpoints, the OpenAPI schema and its documentation page.

Each app lists its own endpoints and examples; this root puts them together, so no app's API
reaches into another's.
"""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from forum.api import examples as forum_examples
from requests_board.api import examples as board_examples

app_name = "api"

# Before the schema is first generated: drf-spectacular reads examples off the serializers.
forum_examples.attach()
board_examples.attach()

urlpatterns = [
    path("", include("forum.api.urls")),
    path("", include("requests_board.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
