"""A body over the upload limit gets 413 before it is read (issue 19, item 5).

Checked on Content-Length (the body is never read), bounded while streaming a chunked body
(read up to the limit, then refused; the rest never read), and cut off when a body runs past
the length it declared. Nothing reaches the view, and nothing lands in quarantine.
"""
import io

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, ClientHandler, encode_multipart
from django.urls import reverse

from anonymization.models import UploadVersion
from forum.middleware import RequestBodyLimitMiddleware
from tests.anonymization import files
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db
SMALL_LIMIT = 256 * 1024


class EndlessBody:
    """A request body that keeps coming (`prefix`, then filler up to `total` bytes); counts what was read."""

    def __init__(self, prefix: bytes, total: int):
        self.prefix, self.total, self.read_bytes = prefix, total, 0

    def _take(self, size: int) -> bytes:
        size = min(self.total - self.read_bytes, size)
        start = self.read_bytes
        self.read_bytes += size
        data = self.prefix[start:start + size]
        return data + b"7" * (size - len(data))

    def read(self, size=-1) -> bytes:
        return self._take(self.total if size is None or size < 0 else size)

    def readline(self, size=-1) -> bytes:
        return self.read(size)


def _never_called(request):
    raise AssertionError("the view must not run")


def _quarantine_is_empty(root) -> bool:
    folder = root / "quarantine"
    return not folder.exists() or not any(folder.rglob("*"))


@pytest.fixture
def data_request(requester, public_category, private_category):
    return make_request(requester, public_category)


@pytest.fixture
def attach_url(data_request):
    return reverse("requests_board:request-attach", args=[data_request.pk])


def test_a_content_length_over_the_limit_gets_413_unread(client, requester, attach_url, settings, _upload_storage):
    sign_in(client, requester)
    limit = settings.REQUEST_MAX_BODY_BYTES
    assert limit == settings.ANONYMIZATION_MAX_FILE_BYTES + 1024 * 1024
    # A small body with a huge declared length: the test client's payload fails if read past its end.
    response = client.post(attach_url, data=b"--x\r\n", content_type="multipart/form-data; boundary=x",
                           CONTENT_LENGTH=str(limit + 1))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert f"{limit // 2**20} MB" in response.content.decode()
    assert not UploadVersion.objects.exists() and _quarantine_is_empty(_upload_storage)


def test_the_api_answers_413_in_json(client, settings):
    response = client.post("/api/v1/requests/", data=b"{}", content_type="application/json",
                           CONTENT_LENGTH=str(settings.REQUEST_MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large" and "MB" in error["message"]


def test_the_view_is_never_called_and_gets_and_small_bodies_pass(settings):
    settings.REQUEST_MAX_BODY_BYTES = SMALL_LIMIT
    factory = RequestFactory()
    refused = RequestBodyLimitMiddleware(_never_called)(
        factory.put("/anything/", data=b"{}", content_type="application/json", CONTENT_LENGTH=str(SMALL_LIMIT + 1)))
    assert refused.status_code == 413
    passing = RequestBodyLimitMiddleware(lambda request: HttpResponse(request.body))
    assert passing(factory.post("/anything/", data=b"a=1", content_type="text/plain")).content == b"a=1"
    # Only bodies are limited: a GET with an odd header is not this middleware's business.
    reading_nothing = RequestBodyLimitMiddleware(lambda request: HttpResponse("ok"))
    assert reading_nothing(factory.get("/anything/", CONTENT_LENGTH=str(SMALL_LIMIT + 1))).status_code == 200


def test_a_chunked_body_is_cut_off_at_the_limit_and_never_stored(client, requester, attach_url, settings,
                                                                 _upload_storage):
    settings.REQUEST_MAX_BODY_BYTES = SMALL_LIMIT
    sign_in(client, requester)
    head = encode_multipart(BOUNDARY, {"file": files.uploaded("weekly.csv", files.clean_aggregated_csv())})
    body = EndlessBody(head[:head.index(b"\r\n\r\n") + 4], total=40 * SMALL_LIMIT)
    environ = client._base_environ(
        PATH_INFO=attach_url, REQUEST_METHOD="POST", CONTENT_TYPE=MULTIPART_CONTENT,
        HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": body, "wsgi.input_terminated": True},
    )
    assert "CONTENT_LENGTH" not in environ
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    assert response.status_code == 413
    assert body.read_bytes <= SMALL_LIMIT + 1  # what was read past the limit: one byte
    assert not UploadVersion.objects.exists() and _quarantine_is_empty(_upload_storage)


def test_a_chunked_body_under_the_limit_is_read_as_usual(client, requester, attach_url, settings,
                                                        django_capture_on_commit_callbacks):
    settings.REQUEST_MAX_BODY_BYTES = SMALL_LIMIT
    sign_in(client, requester)
    payload = encode_multipart(BOUNDARY, {"file": files.uploaded("weekly.csv", files.clean_aggregated_csv())})
    environ = client._base_environ(
        PATH_INFO=attach_url, REQUEST_METHOD="POST", CONTENT_TYPE=MULTIPART_CONTENT,
        HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(payload), "wsgi.input_terminated": True},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = ClientHandler(enforce_csrf_checks=False)(environ)
    assert response.status_code == 302
    assert UploadVersion.objects.get().original_name == "weekly.csv"


def test_a_body_running_past_its_declared_length_is_cut_off(settings):
    """Behind a handler that does not cap the stream at Content-Length, the counter does."""
    settings.REQUEST_MAX_BODY_BYTES = SMALL_LIMIT
    request = RequestFactory().post("/anything/", data=b"a=1", content_type="application/x-www-form-urlencoded")
    body = EndlessBody(b"a=", total=40 * SMALL_LIMIT)
    request._stream = body  # the declared length says 3 bytes; the stream has 10 MB
    view = convert_exception_to_response(lambda request: HttpResponse(request.body))
    response = RequestBodyLimitMiddleware(view)(request)
    assert response.status_code == 413
    assert body.read_bytes <= SMALL_LIMIT + 1
