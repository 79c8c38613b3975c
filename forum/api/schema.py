"""The OpenAPI schema: drf-spectacular's, plus the error responses every operation may give."""
from drf_spectacular.openapi import AutoSchema

from .errors import ERROR_STATUSES
from .serializers import ErrorSerializer

WRITE_ONLY_STATUSES = {409, 413, 415}


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        reference = self.resolve_serializer(ErrorSerializer, "response").ref
        error = {"content": {"application/json": {"schema": reference}}}
        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        for code, description in ERROR_STATUSES.items():
            if code in WRITE_ONLY_STATUSES and not writes:
                continue
            responses.setdefault(str(code), {"description": str(description), **error})
        return responses
