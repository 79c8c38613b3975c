"""Hooks through which the app that owns uploads' topics takes part, without us importing it.

`settings.ANONYMIZATION_EXTENSIONS` names modules; each may define:

- `upload_subjects(*, topic_ids) -> dict[int, dict]`: per topic, `{"title", "url", "deadline"}`
  for the triage queue (one query whatever the number of topics);
- `upload_approved(*, actor, upload) -> None`: called inside the approving transaction,
  e.g. to make a private request public.
"""
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_module


@cache
def _modules(names: tuple) -> list:
    return [import_module(name) for name in names]


def _hooks(name: str) -> list:
    modules = _modules(tuple(settings.ANONYMIZATION_EXTENSIONS))
    return [getattr(module, name) for module in modules if hasattr(module, name)]


def upload_subjects(*, topic_ids) -> dict:
    subjects: dict = {}
    for hook in _hooks("upload_subjects"):
        subjects.update(hook(topic_ids=topic_ids))
    return subjects


def upload_approved(*, actor, upload) -> None:
    for hook in _hooks("upload_approved"):
        hook(actor=actor, upload=upload)
