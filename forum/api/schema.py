"""The OpenAPI schema: drf-spectacular's, plus the error responses every operation may give,
and the access rule (access.ApiAccess) as security requirements."""
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions

from .access import ApiAccess
from .errors import ERROR_STATUSES
from .serializers import ErrorSerializer

WRITE_ONLY_STATUSES = {409, 413, 415}


class ApiSchema(AutoSchema):
    def get_auth(self):
        """Reads are open to anyone (each sees what they may) unless the view is `signed_in_only`:
        say so with the empty requirement, which drf-spectacular adds only for DRF's own permissions."""
        auths = super().get_auth()
        anonymous_read = (
            self.method in permissions.SAFE_METHODS
            and not getattr(self.view, "signed_in_only", False)
            and any(isinstance(permission, ApiAccess) for permission in self.view.get_permissions())
        )
        if anonymous_read and {} not in auths:
            auths.append({})
        return auths

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
