"""The anonymization app's hook point: how the app that owns uploads' topics takes part without
us importing it (see forum/hooks.py for how hooks are declared, registered and checked).

A provider module registers with `ANONYMIZATION.register("<app>.anonymization_hooks")` in its
AppConfig.ready.
"""
from forum.hooks import Hook, HookPoint

ANONYMIZATION = HookPoint("anonymization", [
    Hook("upload_subjects", ("topic_ids",),
         "per topic, {\"title\", \"url\", \"deadline\"} for the triage queue (one query whatever the number)"),
    Hook("upload_approved", ("actor", "upload"),
         "called inside the approving transaction, e.g. to make a private request public"),
    Hook("published_withheld", ("user", "upload"),
         "True when `user` may not download a published file for another app's reason (e.g. its license is "
         "held)", privacy=True),
])


def upload_subjects(*, topic_ids) -> dict:
    subjects: dict = {}
    for hook in ANONYMIZATION.providers("upload_subjects"):
        subjects.update(hook(topic_ids=topic_ids))
    return subjects


def upload_approved(*, actor, upload) -> None:
    for hook in ANONYMIZATION.providers("upload_approved"):
        hook(actor=actor, upload=upload)


def published_withheld(*, user, upload) -> bool:
    return any(hook(user=user, upload=upload) for hook in ANONYMIZATION.providers("published_withheld"))
