"""Hooks through which the app that owns uploads' topics takes part, without us importing it.

`settings.ANONYMIZATION_EXTENSIONS` names modules; each may define:

- `upload_subjects(*, topic_ids) -> dict[int, dict]`: per topic, `{"title", "url", "deadline"}`
  for the triage queue (one query whatever the number of topics);
- `upload_approved(*, actor, upload) -> None`: called inside the approving transaction,
  e.g. to make a private request public;
- `published_withheld(*, user, upload) -> bool`: True when `user` may not download a
  published file for a reason of the owning app (e.g. its license is held).
"""
from django.conf import settings

from forum.extensions import hooks_named


def _hooks(name: str) -> list:
    return hooks_named(settings.ANONYMIZATION_EXTENSIONS, name)


def upload_subjects(*, topic_ids) -> dict:
    subjects: dict = {}
    for hook in _hooks("upload_subjects"):
        subjects.update(hook(topic_ids=topic_ids))
    return subjects


def upload_approved(*, actor, upload) -> None:
    for hook in _hooks("upload_approved"):
        hook(actor=actor, upload=upload)


def published_withheld(*, user, upload) -> bool:
    return any(hook(user=user, upload=upload) for hook in _hooks("published_withheld"))
