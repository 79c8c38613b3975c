"""Schemathesis hooks for tests/api/test_schemathesis.py, loaded through SCHEMATHESIS_HOOKS.

Not a test module: the schemathesis CLI imports it by path in its own process. It adds
one check, `no_private_content`: no response may carry any of the marker strings that
the test planted in content the caller may not see (SCHEMATHESIS_PRIVATE_MARKERS,
comma-separated).
"""
import os

import schemathesis

MARKERS_ENV_VAR = "SCHEMATHESIS_PRIVATE_MARKERS"


def _markers() -> list[str]:
    markers = [m.strip().lower() for m in os.environ.get(MARKERS_ENV_VAR, "").split(",") if m.strip()]
    if not markers:
        raise AssertionError(f"{MARKERS_ENV_VAR} is empty: the private-content check would check nothing")
    return markers


@schemathesis.check
def no_private_content(ctx, response, case):
    """Fail when the body or a header of a response shows content planted where the caller may not look."""
    headers = "\n".join(f"{name}: {', '.join(values)}" for name, values in response.headers.items())
    seen = (headers + "\n" + response.content.decode("utf-8", "replace")).lower()
    leaked = [marker for marker in _markers() if marker in seen]
    if leaked:
        raise AssertionError(
            f"Private content in the response to {case.method} {case.formatted_path}: {', '.join(leaked)}"
        )
