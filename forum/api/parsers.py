"""JSON bodies with a size bound: a huge or endlessly nested body is refused, never parsed, and
one with a control character in its text is refused after parsing."""
import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.utils.json import strict_constant


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


# As for forms (forum.middleware.ControlCharacterMiddleware): keys take no C0 control nor DEL,
# text takes tab, line feed and carriage return.
_CONTROL_IN_KEY = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _has_control(data) -> bool:
    """Whether a key or a string anywhere in parsed JSON holds a control character (walked without
    recursion: the parser accepts nesting deeper than a recursive walk could follow)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _CONTROL_IN_TEXT.search(value):
                return True
        elif isinstance(value, dict):
            if any(_CONTROL_IN_KEY.search(key) for key in value):
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_JSON_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(_("The body is over %(kb)d KB, the most the API reads.") % {"kb": limit // 1024})
        try:
            text = body.decode((parser_context or {}).get("encoding") or "utf-8")
            data = json.loads(text, parse_constant=strict_constant)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply.")) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise exceptions.ParseError(_("The body is not valid JSON: %(error)s") % {"error": error}) from None
        # Strict JSON has no raw control character in a string: one can only come as an escape.
        if "\\" in text and _has_control(data):
            raise exceptions.ParseError(_("The JSON contains a control character (such as NUL) in a key or a text; "
                                         "text may hold tabs and line breaks, and nothing else below the space."))
        return data

