"""The API's permission matrix: every role against every endpoint of /api/v1/, like the web's.

One seeded world (built once for the module, inside a transaction rolled back at its end;
each test runs in its own savepoint) holds private content whose titles and bodies carry
unique marker strings: a request waiting in the Anonymization channel with a file in
quarantine, a request delivered in public and then re-declared as identifying a patient, a
topic in a private category, a topic, a reply and a request hidden for review, a deleted
reply and a deleted topic, a result and a dataset held for their licenses, a draft request,
somebody's notifications, restricted people and a deleted account.

The rule, the web's: what a person may not see on the web is never in an API answer. A
detail they may not see is a 404 exactly like a missing one; lists, counts and search
leave it out. Every answer of every cell is searched for every marker, so a marker that
shows up anywhere it should not fails the cell that leaked it; and what a role may see is
checked to be there, so the matrix cannot pass by showing nothing.

Writes: what a role may not do is refused (401 without a token; 403 for a read token, a
suspension or a step they may not take; 404 for what they cannot see, before any state is
told; 409 for a step the state forbids, to those who see the request; 400 only where the
web's form answers so, or where the answer is the one a missing object gets) and changes
nothing in the database.

Known leaks are kept as strict xfails whose reason says where and how to fix them.
"""
import datetime
import inspect
import json
import re
import string
import types
from typing import NamedTuple

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, resolve

from anonymization.models import Upload
from config import api_urls
from forum import services as forum_services
from forum.models import Category, Flag, Notification, Post, TermsVersion, Topic, User
from forum.permissions import Role
from licensing.models import LicensedItem
from requests_board import services as board_services
from requests_board.models import Claim, DataRequest, ProgressUpdate, RequestEvent, Result
from tests.anonymization import files
from tests.forum.factories import CategoryFactory, UserFactory
from tests.requests_board.factories import make_request, request_details

pytestmark = pytest.mark.django_db

API = "/api/v1"

# --- Roles ------------------------------------------------------------------------------------------

ANONYMOUS, MEMBER_READ, MEMBER_WRITE = "anonymous", "member_read", "member_write"
REQUESTER, OTHER_REQUESTER, VOLUNTEER = "requester", "other_requester", "volunteer"
CATMOD, ANONYMIZER, MODERATOR = "category_moderator", "anonymization_team", "moderator"
SUSPENDED, SILENCED, DELETED = "suspended", "silenced", "deleted_account"
ROLES = [
    ANONYMOUS, MEMBER_READ, MEMBER_WRITE, REQUESTER, OTHER_REQUESTER, VOLUNTEER, CATMOD, ANONYMIZER, MODERATOR,
    SUSPENDED, SILENCED, DELETED,
]
# Roles whose calls reach the endpoints' own rules (the others are stopped at the door).
READERS = [role for role in ROLES if role not in (SUSPENDED, DELETED)]
EVERYBODY = frozenset(READERS)

# --- Markers: each string is in exactly one private thing; who may read it on the web ------------------

ANON_AUDIENCE = frozenset({REQUESTER, ANONYMIZER, MODERATOR})  # the channel's group, its author
PRIVATE_AUDIENCE = frozenset({REQUESTER, CATMOD, MODERATOR})  # its author, the category's moderator
HIDDEN_AUDIENCE = frozenset({REQUESTER, MODERATOR})  # hidden for review: its author and who moderates it
MODERATORS_ONLY = frozenset({MODERATOR})  # deleted content
HELD_RESULT_AUDIENCE = frozenset({VOLUNTEER, MODERATOR})  # a held result: its author and moderators
HELD_DATA_AUDIENCE = frozenset({REQUESTER, MODERATOR})  # held data: the requester and moderators
AUTHOR_ONLY = frozenset({REQUESTER})  # a draft, one's own notifications
NOBODY = frozenset()

MARKERS = {
    # The request waiting in the Anonymization channel (patient data: yes; not cleared), its file.
    "anon_channel": ("SECRET-ANONCAT-DESC-7730", ANON_AUDIENCE),
    "anon_title": ("SECRET-ANON-TITLE-7731", ANON_AUDIENCE),
    "anon_question": ("SECRET-ANON-QUESTION-7732", ANON_AUDIENCE),
    "anon_tag": ("secret-anon-tag-7733", ANON_AUDIENCE),
    "anon_file": ("SECRET-ANON-FILE-7734", ANON_AUDIENCE),
    "anon_wanted": ("SECRET-ANON-WANTED-7735", ANON_AUDIENCE),
    "anon_link": ("secretanonlink7736", ANON_AUDIENCE),
    # Delivered in public, then re-declared as identifying a patient: back in the channel, result and all.
    "redeclared_title": ("SECRET-REDECLARED-TITLE-7741", ANON_AUDIENCE),
    "redeclared_result": ("SECRET-REDECLARED-RESULT-7742", ANON_AUDIENCE),
    # A private category (a subcategory of the public one) and the requester's topic in it.
    "private_category": ("SECRET-PRIVCAT-NAME-5521", PRIVATE_AUDIENCE),
    "private_slug": ("secret-privcat-5520", PRIVATE_AUDIENCE),
    "private_title": ("SECRET-PRIVATE-TITLE-5522", PRIVATE_AUDIENCE),
    "private_body": ("SECRET-PRIVATE-BODY-5523", PRIVATE_AUDIENCE),
    "private_tag": ("secret-private-tag-5524", PRIVATE_AUDIENCE),
    "private_reply": ("SECRET-PRIVATE-REPLY-5525", PRIVATE_AUDIENCE),
    # A public topic hidden for review (personal-data flag on its first post), a hidden reply.
    "hidden_title": ("SECRET-HIDDEN-TITLE-6631", HIDDEN_AUDIENCE),
    "hidden_body": ("SECRET-HIDDEN-BODY-6632", HIDDEN_AUDIENCE),
    "hidden_tag": ("secret-hidden-tag-6633", HIDDEN_AUDIENCE),
    "hidden_reply": ("SECRET-HIDDEN-REPLY-6634", HIDDEN_AUDIENCE),
    "hidden_request": ("SECRET-HIDDEN-REQUEST-6637", HIDDEN_AUDIENCE),  # a request whose question was flagged
    # Deleted by their author: moderators read what they said.
    "deleted_reply": ("SECRET-DELETED-REPLY-6635", MODERATORS_ONLY),
    "deleted_topic": ("SECRET-DELETED-TOPIC-6636", MODERATORS_ONLY),
    # A result held for its license (GPL for a result), and data held for its license (Apache for data).
    "held_result": ("SECRET-HELD-RESULT-8841", HELD_RESULT_AUDIENCE),
    "held_repository": ("secretheldrepo8842", HELD_RESULT_AUDIENCE),
    "held_data_link": ("secretheldlink8843", HELD_DATA_AUDIENCE),
    # A draft request: its author only.
    "draft_title": ("SECRET-DRAFT-TITLE-9951", AUTHOR_ONLY),
    "draft_question": ("SECRET-DRAFT-QUESTION-9952", AUTHOR_ONLY),
    # The requester's notifications: a moderator's message.
    "notification": ("SECRET-NOTIF-TITLE-4411", AUTHOR_ONLY),
    # A deleted account: nobody sees its names or bio again.
    "deleted_name": ("SECRET-DELUSER-NAME-3311", NOBODY),
    "deleted_username": ("secretdeluser3312", NOBODY),
    "deleted_bio": ("SECRET-DELUSER-BIO-3313", NOBODY),
    # Restrictions are told to the person restricted only.
    "suspension_reason": ("SECRET-SUSPENSION-REASON-2211", frozenset({SUSPENDED})),
    "silence_reason": ("SECRET-SILENCE-REASON-2212", frozenset({SILENCED})),
}

PUBLIC_SLUG = "matrix-public"
ANON_SLUG = "anonymization"
SHARED_TAG = "matrix-shared"  # on the public, the hidden and the private topic
REQUEST_TAG = "statistics"  # on every published request, the waiting one included
MISSING = 987654321


def marker(key: str) -> str:
    return MARKERS[key][0]


# --- The world ----------------------------------------------------------------------------------------

def _committed(function, /, **kwargs):
    """Call a service and run what it queued for after commit (fan-out, license checks, scans)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return function(**kwargs)


def _build(storages) -> types.SimpleNamespace:
    TermsVersion.objects.get_or_create(
        version="2026-11-01", defaults={"published_at": datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)})
    people = {
        MEMBER_WRITE: UserFactory(),
        REQUESTER: UserFactory(roles=[Role.REQUESTER]),
        OTHER_REQUESTER: UserFactory(roles=[Role.REQUESTER]),
        VOLUNTEER: UserFactory(roles=[Role.VOLUNTEER]),
        # Roles that read private data have two-factor authentication, and their tokens were made in a
        # session that passed it.
        CATMOD: UserFactory(totp=True),
        ANONYMIZER: UserFactory(roles=[Role.ANONYMIZATION], totp=True),
        MODERATOR: UserFactory(roles=[Role.MODERATOR], totp=True),
        SUSPENDED: UserFactory(roles=[Role.REQUESTER, Role.VOLUNTEER]),
        SILENCED: UserFactory(roles=[Role.REQUESTER, Role.VOLUNTEER]),
        DELETED: UserFactory(username=marker("deleted_username"), display_name=marker("deleted_name")),
    }
    people[MEMBER_READ] = people[MEMBER_WRITE]  # one member, a read token and a write token
    helper = UserFactory(roles=[Role.VOLUNTEER])  # delivers the result that is accepted in the write matrix
    requester, volunteer, moderator = people[REQUESTER], people[VOLUNTEER], people[MODERATOR]

    keys = {ANONYMOUS: None}
    takes_second_factor = "second_factor" in inspect.signature(forum_services.api_token_create).parameters
    for role, person in people.items():
        options = {"scope": "read" if role == MEMBER_READ else "write"}
        if takes_second_factor and role in (CATMOD, ANONYMIZER, MODERATOR):
            options["second_factor"] = True
        keys[role] = forum_services.api_token_create(actor=person, name=f"matrix {role}", **options)[1]

    public = CategoryFactory(slug=PUBLIC_SLUG, name="Matrix public area")
    anon = CategoryFactory(slug=ANON_SLUG, name="Anonymization", private=True, description=marker("anon_channel"))
    private = forum_services.category_create(
        name=marker("private_category"), slug=marker("private_slug"), parent=public,
        security=Category.Security.PRIVATE, members_start_private_topics=True, moderators=[people[CATMOD]],
    )

    # Public topic with a plain reply, a reply hidden for review, a deleted reply and a deleted person's reply.
    t_public = _committed(forum_services.topic_create, actor=requester, category=public,
                          title="An ordinary synthetic topic", raw="Nothing private here.", tags=[SHARED_TAG])
    plain_reply = _committed(forum_services.post_create, actor=requester, topic_id=t_public.pk,
                             raw="An ordinary synthetic reply.")
    hidden_reply = _committed(forum_services.post_create, actor=requester, topic_id=t_public.pk,
                              raw=f"Ward details {marker('hidden_reply')} (synthetic).")
    _committed(forum_services.post_flag, actor=volunteer, post_id=hidden_reply.pk,
               reason=Flag.Reason.PERSONAL_DATA)
    deleted_reply = _committed(forum_services.post_create, actor=requester, topic_id=t_public.pk,
                               raw=f"Taken back: {marker('deleted_reply')}.")
    _committed(forum_services.post_delete, actor=requester, post_id=deleted_reply.pk)
    departed = people[DELETED]
    User.objects.filter(pk=departed.pk).update(bio=marker("deleted_bio"), bio_html=f"<p>{marker('deleted_bio')}</p>")
    _committed(forum_services.post_create, actor=departed, topic_id=t_public.pk, raw="A reply by someone who left.")

    # A public topic hidden for review, and a deleted topic.
    t_hidden = _committed(forum_services.topic_create, actor=requester, category=public,
                          title=marker("hidden_title"), raw=f"Patient list {marker('hidden_body')}.",
                          tags=[SHARED_TAG, marker("hidden_tag")])
    hidden_first = Post.objects.get(topic=t_hidden, number=1)
    _committed(forum_services.post_flag, actor=volunteer, post_id=hidden_first.pk, reason=Flag.Reason.PERSONAL_DATA)
    t_deleted = _committed(forum_services.topic_create, actor=requester, category=public,
                           title=marker("deleted_topic"), raw="A topic its author deleted.")
    _committed(forum_services.post_delete, actor=requester, post_id=Post.objects.get(topic=t_deleted, number=1).pk)

    # The private category: the requester's topic, the category moderator's reply; then members
    # may no longer start topics there (so starting one is the moderators' alone).
    t_private = _committed(forum_services.topic_create, actor=requester, category=private,
                           title=marker("private_title"), raw=f"Clinic notes {marker('private_body')}.",
                           tags=[SHARED_TAG, marker("private_tag")])
    private_reply = _committed(forum_services.post_create, actor=people[CATMOD], topic_id=t_private.pk,
                               raw=f"Answer {marker('private_reply')}.")
    Category.objects.filter(pk=private.pk).update(members_start_private_topics=False)

    # Requests: waiting for the anonymization team (with a quarantined file), a draft, a held
    # result, an accepted-able result, a claimed one, an open one, and one with held data.
    anon_request = _committed(
        make_request, author=requester, category=public, title=marker("anon_title"),
        question=f"Ward export {marker('anon_question')}.", patient_data="yes",
        expertise=[REQUEST_TAG, marker("anon_tag")], result_description=marker("anon_wanted"),
        data_links=[f"https://zenodo.org/records/{marker('anon_link')}"],
    )
    with override_settings(STORAGES=storages):
        upload = _committed(board_services.request_attach, actor=requester, data_request_id=anon_request.pk,
                            file=files.uploaded(f"{marker('anon_file')}.csv", files.identifying_columns_csv()),
                            ip="192.0.2.1")
    draft = make_request(requester, public, publish=False, title=marker("draft_title"),
                         question=marker("draft_question"))

    held_request = _committed(make_request, author=requester, category=public, title="Synthetic held result request")
    _committed(board_services.request_claim, actor=volunteer, data_request_id=held_request.pk)
    held_result = _committed(
        board_services.result_deliver, actor=volunteer, data_request_id=held_request.pk,
        summary=f"Findings {marker('held_result')}.", license="GPL-3.0-only",
        repository_url=f"https://github.com/example/{marker('held_repository')}",
    )
    ok_request = _committed(make_request, author=requester, category=public, title="Synthetic delivered request")
    _committed(board_services.request_claim, actor=helper, data_request_id=ok_request.pk)
    ok_result = _committed(
        board_services.result_deliver, actor=helper, data_request_id=ok_request.pk,
        summary="The median is 5.1 days (synthetic).", license="BSD-3-Clause",
        repository_url="https://github.com/example/incubation",
    )
    claimed_request = _committed(make_request, author=requester, category=public, title="Synthetic claimed request")
    _committed(board_services.request_claim, actor=volunteer, data_request_id=claimed_request.pk)
    open_request = _committed(make_request, author=requester, category=public, title="Synthetic open request")
    held_data_request = _committed(
        make_request, author=requester, category=public, title="Synthetic request with held data",
        data_license="Apache-2.0", data_links=[f"https://zenodo.org/records/{marker('held_data_link')}"],
    )
    # Delivered in public, then re-declared by its author as possibly identifying a patient: back in
    # the channel with its result; the volunteer who delivered it no longer sees it (nor its title in
    # the notifications they got while it was public).
    redeclared = _committed(make_request, author=requester, category=public, title=marker("redeclared_title"))
    _committed(board_services.request_claim, actor=volunteer, data_request_id=redeclared.pk)
    redeclared_result = _committed(
        board_services.result_deliver, actor=volunteer, data_request_id=redeclared.pk,
        summary=f"Findings {marker('redeclared_result')}.", license="BSD-3-Clause",
        repository_url="https://github.com/example/redeclared",
    )
    details = request_details(public, title=marker("redeclared_title"), patient_data="yes")
    details.pop("category")
    details.update(expertise=", ".join(details["expertise"]), data_links="\n".join(details["data_links"]))
    _committed(board_services.request_edit, actor=requester, data_request_id=redeclared.pk, details=details)
    hidden_request = _committed(make_request, author=requester, category=public, title=marker("hidden_request"))
    hidden_question = Post.objects.get(topic_id=hidden_request.topic_id, number=1)
    _committed(forum_services.post_flag, actor=volunteer, post_id=hidden_question.pk,
               reason=Flag.Reason.PERSONAL_DATA)

    # Notifications: a moderator's message to the requester.
    _committed(forum_services.moderator_message_send, actor=moderator, recipient=requester,
               text=marker("notification"))
    notification = Notification.objects.get(user=requester, title=marker("notification"))

    # Restrictions, and the account deleted last (its token is deleted with it).
    _committed(forum_services.user_suspend, actor=moderator, user_id=people[SUSPENDED].pk, days=3,
               reason=marker("suspension_reason"))
    _committed(forum_services.user_silence, actor=moderator, user_id=people[SILENCED].pk, days=3,
               reason=marker("silence_reason"))
    _committed(forum_services.account_delete, actor=departed, confirm_username=departed.username)
    departed.refresh_from_db()

    for data_request in (anon_request, draft, held_request, ok_request, claimed_request, open_request,
                         held_data_request, hidden_request, redeclared):
        data_request.refresh_from_db()
    assert anon_request.needs_anonymization and anon_request.cleared_at is None
    assert anon_request.topic.category_id == anon.pk and upload.state != Upload.State.PUBLISHED
    assert draft.state == DataRequest.State.DRAFT and draft.topic_id is None
    assert Topic.objects.get(pk=t_hidden.pk).hidden_at is not None
    assert hidden_request.topic.hidden_at is not None
    assert redeclared.topic.category_id == anon.pk and redeclared.cleared_at is None
    assert redeclared.state == DataRequest.State.DELIVERED
    assert Post.objects.get(pk=hidden_reply.pk).hidden
    assert Topic.objects.get(pk=t_deleted.pk).deleted_at is not None
    assert LicensedItem.objects.get(item_type="result", object_id=held_result.pk).is_held
    assert not LicensedItem.objects.get(item_type="result", object_id=ok_result.pk).is_held
    assert LicensedItem.objects.get(item_type="dataset", object_id=held_data_request.pk).is_held
    assert departed.deleted_at is not None and not departed.is_active

    topics = {
        "public": t_public.pk, "hidden": t_hidden.pk, "deleted": t_deleted.pk, "private": t_private.pk,
        "anon": anon_request.topic_id, "held_request": held_request.topic_id, "ok_request": ok_request.topic_id,
        "claimed_request": claimed_request.topic_id, "open_request": open_request.topic_id,
        "held_data_request": held_data_request.topic_id, "hidden_request": hidden_request.topic_id,
        "redeclared": redeclared.topic_id,
    }
    return types.SimpleNamespace(
        keys=keys,
        people={role: person.pk for role, person in people.items()},
        ids={
            **{f"t_{name}": pk for name, pk in topics.items()},
            "public_first": Post.objects.get(topic_id=t_public.pk, number=1).pk,
            "plain_reply": plain_reply.pk, "hidden_reply": hidden_reply.pk, "deleted_reply": deleted_reply.pk,
            "hidden_first": hidden_first.pk,
            "private_first": Post.objects.get(topic_id=t_private.pk, number=1).pk, "private_reply": private_reply.pk,
            "anon_first": Post.objects.get(topic_id=anon_request.topic_id, number=1).pk,
            "held_result_post": held_result.post_id,
            "r_anon": anon_request.pk, "r_draft": draft.pk, "r_held": held_request.pk, "r_ok": ok_request.pk,
            "r_claimed": claimed_request.pk, "r_open": open_request.pk, "r_held_data": held_data_request.pk,
            "r_hidden": hidden_request.pk, "hidden_request_first": hidden_question.pk,
            "r_redeclared": redeclared.pk, "res_redeclared": redeclared_result.pk,
            "redeclared_result_post": redeclared_result.post_id,
            "redeclared_first": Post.objects.get(topic_id=redeclared.topic_id, number=1).pk,
            "res_held": held_result.pk, "res_ok": ok_result.pk,
            "notification": notification.pk,
            "deleted_username": departed.username,
            "requester_username": requester.username,
            "missing": MISSING,
        },
        topics=topics,
        fingerprints={},
    )


@pytest.fixture(scope="module")
def matrix_storages(tmp_path_factory):
    """One pair of upload folders for the whole module, never the working tree."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("matrix-uploads")
    return {
        **settings.STORAGES,
        "quarantine": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": str(root / "quarantine"), "base_url": None}},
        "published": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                      "OPTIONS": {"location": str(root / "published"), "base_url": None}},
    }


@pytest.fixture(autouse=True)
def _upload_storage(settings, matrix_storages):
    """Overrides tests/conftest.py's fresh folders per test: a thousand numbered temporary folders
    would cost more than the whole matrix."""
    settings.STORAGES = matrix_storages


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, matrix_storages):
    """The seeded world, built once for the module in a transaction that is rolled back after it
    (each test then runs in its own savepoint, so writes never leak from one cell to another)."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            built = _build(matrix_storages)
            yield built
            transaction.set_rollback(True)


# --- Calling the API ---------------------------------------------------------------------------------

def call(world, role, method, path, data=None):
    headers = {}
    if world.keys[role]:
        headers["authorization"] = f"Token {world.keys[role]}"
    client = Client()
    url = API + path.format(**world.ids)
    if method == "get":
        return client.get(url, headers=headers)
    if method == "multipart":
        return client.post(url, data, headers=headers)
    body = json.dumps(data if data is not None else {})
    return getattr(client, method)(url, body, content_type="application/json", headers=headers)


def text_of(response) -> str:
    """The answer as searchable text: lower case, search highlights taken out."""
    text = response.content.decode("utf-8", "replace")
    return re.sub(r"</?mark>", "", text).lower()


def leaked_markers(role, text, sent="") -> list[str]:
    """Markers in `text` that `role` may not read; what the caller sent themselves (an unknown slug
    echoed in an error) is not a leak."""
    sent = sent.lower()
    return sorted(key for key, (value, audience) in MARKERS.items()
                  if value.lower() in text and value.lower() not in sent and role not in audience)


def absent_markers(role, text, shows) -> list[str]:
    return sorted(key for key in shows if role in MARKERS[key][1] and marker(key).lower() not in text)


NOT_FOUND_BODY = {"error": {"code": "not_found", "message": "Not found."}}


# --- Read matrix ------------------------------------------------------------------------------------------

class Read(NamedTuple):
    url_name: str
    path: str
    audience: frozenset | None = None  # who gets it (None: everybody); the others a 404
    shows: tuple = ()  # markers it must show to whoever may read them
    signed_in: bool = False  # anonymous callers get a 401
    twin: tuple | None = None  # (private slug, unknown slug): outsiders get the unknown slug's answer


def _search(key):
    """Search for one marker: found by who may read its post, by nobody else."""
    return Read("search", f"/search/?q={marker(key)}", shows=(key,) if SEARCHABLE[key] else ())


PRIVATE_SLUG, PRIVATE_TAG = marker("private_slug"), marker("private_tag")
# Who finds each marker by searching (live posts whose text they may read): deleted posts, drafts,
# file names, names and notifications are never found.
SEARCHABLE = {
    "anon_title": ANON_AUDIENCE, "anon_question": ANON_AUDIENCE, "private_body": PRIVATE_AUDIENCE,
    "private_reply": PRIVATE_AUDIENCE, "hidden_title": HIDDEN_AUDIENCE, "hidden_reply": HIDDEN_AUDIENCE,
    "held_result": HELD_RESULT_AUDIENCE, "deleted_reply": NOBODY, "deleted_topic": NOBODY, "draft_title": NOBODY,
    "anon_file": NOBODY, "deleted_name": NOBODY, "notification": NOBODY,
}
# Searching "secret" finds every marked post at once: (readable marked posts) per audience.
SECRET_POSTS = {"anon_first": ANON_AUDIENCE, "private_first": PRIVATE_AUDIENCE, "private_reply": PRIVATE_AUDIENCE,
                "hidden_first": HIDDEN_AUDIENCE, "hidden_reply": HIDDEN_AUDIENCE,
                "held_result_post": HELD_RESULT_AUDIENCE, "hidden_request_first": HIDDEN_AUDIENCE,
                "redeclared_first": ANON_AUDIENCE, "redeclared_result_post": ANON_AUDIENCE}

READS = {
    "categories": Read("category-list", "/categories/", shows=("private_category", "anon_channel")),
    "category-public": Read("category-detail", f"/categories/{PUBLIC_SLUG}/"),
    "category-private": Read("category-detail", f"/categories/{PRIVATE_SLUG}/", PRIVATE_AUDIENCE,
                             ("private_category",)),
    "category-anonymization": Read("category-detail", f"/categories/{ANON_SLUG}/", ANON_AUDIENCE, ("anon_channel",)),
    "tags": Read("tag-list", "/tags/?page_size=100", shows=("private_tag", "anon_tag", "hidden_tag")),
    "topics": Read("topic-list", "/topics/?page_size=100",
                   shows=("private_title", "anon_title", "hidden_title", "hidden_request", "redeclared_title")),
    "topics-in-public-category": Read("topic-list", f"/topics/?category={PUBLIC_SLUG}",
                                      shows=("private_title", "hidden_title")),
    "topics-in-private-category": Read("topic-list", f"/topics/?category={PRIVATE_SLUG}", PRIVATE_AUDIENCE,
                                       ("private_title",)),
    "topics-in-anonymization": Read("topic-list", f"/topics/?category={ANON_SLUG}", ANON_AUDIENCE,
                                    ("anon_title", "redeclared_title")),
    "posts-redeclared": Read("topic-post-list", "/topics/{t_redeclared}/posts/", ANON_AUDIENCE,
                             ("redeclared_result",)),
    "topics-private-tag": Read("topic-list", f"/topics/?tag={PRIVATE_TAG}", PRIVATE_AUDIENCE, ("private_title",)),
    "topics-anon-tag": Read("topic-list", f"/topics/?tag={marker('anon_tag')}", ANON_AUDIENCE, ("anon_title",)),
    "topics-hidden-tag": Read("topic-list", f"/topics/?tag={marker('hidden_tag')}", HIDDEN_AUDIENCE,
                              ("hidden_title",)),
    "topic-public": Read("topic-detail", "/topics/{t_public}/"),
    "topic-private": Read("topic-detail", "/topics/{t_private}/", PRIVATE_AUDIENCE,
                          ("private_title", "private_body", "private_tag", "private_slug")),
    "topic-anonymization": Read("topic-detail", "/topics/{t_anon}/", ANON_AUDIENCE,
                                ("anon_title", "anon_question", "anon_tag")),
    "topic-hidden": Read("topic-detail", "/topics/{t_hidden}/", HIDDEN_AUDIENCE,
                         ("hidden_title", "hidden_body", "hidden_tag")),
    "topic-deleted": Read("topic-detail", "/topics/{t_deleted}/", MODERATORS_ONLY, ("deleted_topic",)),
    "topic-missing": Read("topic-detail", "/topics/{missing}/", NOBODY),
    "posts-public": Read("topic-post-list", "/topics/{t_public}/posts/", shows=("hidden_reply", "deleted_reply")),
    "posts-private": Read("topic-post-list", "/topics/{t_private}/posts/", PRIVATE_AUDIENCE,
                          ("private_body", "private_reply")),
    "posts-anonymization": Read("topic-post-list", "/topics/{t_anon}/posts/", ANON_AUDIENCE, ("anon_question",)),
    "posts-hidden": Read("topic-post-list", "/topics/{t_hidden}/posts/", HIDDEN_AUDIENCE, ("hidden_body",)),
    "posts-deleted-topic": Read("topic-post-list", "/topics/{t_deleted}/posts/", MODERATORS_ONLY),
    "posts-held-result": Read("topic-post-list", "/topics/{t_held_request}/posts/", shows=("held_result",)),
    "post-hidden-reply": Read("post-detail", "/posts/{hidden_reply}/", shows=("hidden_reply",)),
    "post-deleted-reply": Read("post-detail", "/posts/{deleted_reply}/", shows=("deleted_reply",)),
    "post-held-result": Read("post-detail", "/posts/{held_result_post}/", shows=("held_result",)),
    "post-private": Read("post-detail", "/posts/{private_first}/", PRIVATE_AUDIENCE, ("private_body",)),
    "post-anonymization": Read("post-detail", "/posts/{anon_first}/", ANON_AUDIENCE, ("anon_question",)),
    "post-hidden-topic": Read("post-detail", "/posts/{hidden_first}/", HIDDEN_AUDIENCE, ("hidden_body",)),
    "post-missing": Read("post-detail", "/posts/{missing}/", NOBODY),
    "users": Read("user-list", "/users/?page_size=100"),
    "user-requester": Read("user-detail", "/users/{requester_username}/"),
    "user-deleted": Read("user-detail", "/users/{deleted_username}/", NOBODY),
    "user-deleted-old-name": Read("user-detail", f"/users/{marker('deleted_username')}/", NOBODY),
    "notifications": Read("notification-list", "/notifications/?page_size=100", shows=("notification",),
                          signed_in=True),
    "search-secret": Read("search", "/search/?q=secret",
                          shows=("anon_title", "anon_question", "private_body", "private_reply", "hidden_title",
                                 "hidden_reply", "held_result", "hidden_request", "redeclared_title",
                                 "redeclared_result")),
    **{f"search-{key}": _search(key) for key in SEARCHABLE},
    "search-in-private-category": Read("search", f"/search/?q=secret&category={PRIVATE_SLUG}", PRIVATE_AUDIENCE,
                                       ("private_body", "private_reply"), twin=(PRIVATE_SLUG, "no-such-category")),
    "search-private-tag": Read("search", f"/search/?q=secret&tag={PRIVATE_TAG}", PRIVATE_AUDIENCE,
                               ("private_body",), twin=(PRIVATE_TAG, "no-such-tag")),
    "requests": Read("request-list", "/requests/?page_size=100",
                     shows=("anon_title", "hidden_request", "redeclared_title")),
    **{f"requests-{state}": Read("request-list", f"/requests/?state={state}&page_size=100", shows=(
        ("anon_title", "hidden_request") if state in ("active", "open") else ()) + (
        ("redeclared_title",) if state in ("active", "delivered") else ()))
       for state in ["active", *[s for s in DataRequest.State.values if s != DataRequest.State.DRAFT]]},
    "requests-unclaimed": Read("request-list", "/requests/?unclaimed=true&page_size=100",
                               shows=("anon_title", "hidden_request")),
    "requests-tagged": Read("request-list", f"/requests/?state=open&tag={marker('anon_tag')}", shows=("anon_title",)),
    "request-anonymization": Read("request-detail", "/requests/{r_anon}/", ANON_AUDIENCE,
                                  ("anon_title", "anon_question", "anon_wanted", "anon_link", "anon_tag")),
    "request-redeclared": Read("request-detail", "/requests/{r_redeclared}/", ANON_AUDIENCE, ("redeclared_title",)),
    "request-hidden": Read("request-detail", "/requests/{r_hidden}/", HIDDEN_AUDIENCE, ("hidden_request",)),
    "request-draft": Read("request-detail", "/requests/{r_draft}/", AUTHOR_ONLY, ("draft_title",)),
    "request-held-data": Read("request-detail", "/requests/{r_held_data}/", shows=("held_data_link",)),
    "request-held-result": Read("request-detail", "/requests/{r_held}/"),
    "request-missing": Read("request-detail", "/requests/{missing}/", NOBODY),
    "results": Read("result-list", "/results/?page_size=100",
                    shows=("held_result", "held_repository", "redeclared_result")),
    "result-redeclared": Read("result-detail", "/results/{res_redeclared}/", ANON_AUDIENCE, ("redeclared_result",)),
    "result-held": Read("result-detail", "/results/{res_held}/", HELD_RESULT_AUDIENCE,
                        ("held_result", "held_repository")),
    "result-ok": Read("result-detail", "/results/{res_ok}/"),
    "datasets": Read("dataset-list", "/datasets/?page_size=100",
                     shows=("anon_link", "held_data_link", "hidden_request", "redeclared_title")),
    "schema": Read("schema", "/schema/"),
    "docs": Read("docs", "/docs/"),
}
# The schema is the same for everybody and slow to build (half a second): asked by a few roles only.
SCHEMA_ROLES = {ANONYMOUS, MODERATOR, SUSPENDED, DELETED}

# Cells where the API shows more than the web: known leaks (see the report in the xfail reasons).
KNOWN_READ_LEAKS = {}


def expected_read_status(role, read: Read) -> int:
    if role == DELETED:
        return 401  # the token died with the account
    if role == SUSPENDED:
        # A suspended person's token reads nothing but the API's own documentation (no content in it).
        return 200 if read.url_name in ("schema", "docs") else 403
    if read.signed_in and role == ANONYMOUS:
        return 401
    if read.audience is not None and role not in read.audience:
        return 404
    return 200


def _read_params():
    params = []
    for name, read in READS.items():
        for role in ROLES:
            if read.url_name == "schema" and role not in SCHEMA_ROLES:
                continue
            marks = []
            if (name, role) in KNOWN_READ_LEAKS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_READ_LEAKS[name, role]))
            params.append(pytest.param(role, name, id=f"{role}-GET-{name}", marks=marks))
    return params


@pytest.mark.parametrize(("role", "name"), _read_params())
def test_read_matrix(world, role, name):
    read = READS[name]
    response = call(world, role, "get", read.path)
    text = text_of(response)
    assert not leaked_markers(role, text, sent=read.path), f"{role} got private content from GET {read.path}"
    expected = expected_read_status(role, read)
    if read.twin and expected == 404:
        # A private slug in a search filter is refused exactly like a slug that does not exist.
        private, unknown = read.twin
        missing = call(world, role, "get", read.path.replace(private, unknown))
        assert response.status_code == missing.status_code == 400
        assert text.replace(private, unknown) == text_of(missing)
        return
    assert response.status_code == expected, (response.status_code, text[:300])
    if expected == 404:
        assert response.json() == NOT_FOUND_BODY  # the same answer as for something missing
    if expected == 200:
        assert not absent_markers(role, text, read.shows), f"{role} should see these in GET {read.path}"
        if name == "search-secret":
            found = {row["post"] for row in response.json()["results"]}
            assert found == {world.ids[key] for key, audience in SECRET_POSTS.items() if role in audience}
            assert response.json()["total"] == len(found)


# --- Exact lists and counts ---------------------------------------------------------------------------

# Which topics each role sees (topic lists leave deleted topics out, even for moderators).
TOPIC_AUDIENCE = {
    "public": EVERYBODY, "hidden": HIDDEN_AUDIENCE, "deleted": MODERATORS_ONLY, "private": PRIVATE_AUDIENCE,
    "anon": ANON_AUDIENCE, "held_request": EVERYBODY, "ok_request": EVERYBODY, "claimed_request": EVERYBODY,
    "open_request": EVERYBODY, "held_data_request": EVERYBODY, "hidden_request": HIDDEN_AUDIENCE,
    "redeclared": ANON_AUDIENCE,
}
TOPIC_CATEGORY = {name: PUBLIC_SLUG for name in TOPIC_AUDIENCE} | {
    "private": "private", "anon": ANON_SLUG, "redeclared": ANON_SLUG}
TOPIC_TAGS = {"public": {SHARED_TAG}, "hidden": {SHARED_TAG}, "private": {SHARED_TAG}} | {
    name: {REQUEST_TAG} for name in ("anon", "held_request", "ok_request", "claimed_request", "open_request",
                                     "held_data_request", "hidden_request", "redeclared")}


def _visible_topics(role, *, listed=True) -> set[str]:
    return {name for name, audience in TOPIC_AUDIENCE.items()
            if role in audience and not (listed and name == "deleted")}


def _ids(response) -> list:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("role", READERS)
def test_topic_list_is_exactly_the_visible_topics(world, role):
    ids = _ids(call(world, role, "get", "/topics/?page_size=100"))
    assert len(ids) == len(set(ids))
    assert set(ids) == {world.topics[name] for name in _visible_topics(role)}


@pytest.mark.parametrize("role", READERS)
def test_category_counts_count_only_visible_topics(world, role):
    response = call(world, role, "get", "/categories/")
    assert response.status_code == 200
    listed = {row["slug"]: row for row in response.json()}
    counted = _visible_topics(role, listed=False)  # the web's counts: every topic the reader may see
    public_count = sum(1 for name in counted if TOPIC_CATEGORY[name] in (PUBLIC_SLUG, "private"))
    assert listed[PUBLIC_SLUG]["topic_count"] == public_count
    subcategories = {row["slug"] for row in listed[PUBLIC_SLUG]["subcategories"]}
    assert (marker("private_slug") in subcategories) == (role in PRIVATE_AUDIENCE)
    assert (ANON_SLUG in listed) == (role in ANON_AUDIENCE)
    if ANON_SLUG in listed:
        assert listed[ANON_SLUG]["topic_count"] == 2


@pytest.mark.parametrize("role", READERS)
def test_tag_counts_count_only_visible_topics(world, role):
    response = call(world, role, "get", "/tags/?page_size=100")
    assert response.status_code == 200
    counts = {row["slug"]: row["topic_count"] for row in response.json()["results"]}
    visible = _visible_topics(role)
    for tag in (SHARED_TAG, REQUEST_TAG):
        assert counts.get(tag) == sum(1 for name in visible if tag in TOPIC_TAGS.get(name, ()))
    for key, audience in (("private_tag", PRIVATE_AUDIENCE), ("anon_tag", ANON_AUDIENCE),
                          ("hidden_tag", HIDDEN_AUDIENCE)):
        assert counts.get(marker(key)) == (1 if role in audience else None)


@pytest.mark.parametrize("role", READERS)
def test_request_result_and_dataset_lists_are_exactly_the_visible_ones(world, role):
    ids = world.ids
    public_requests = {ids["r_held"], ids["r_ok"], ids["r_claimed"], ids["r_open"], ids["r_held_data"]}
    # Both open: the one waiting for the anonymization team, the one whose question is hidden for review.
    private = ({ids["r_anon"]} if role in ANON_AUDIENCE else set()) | (
        {ids["r_hidden"]} if role in HIDDEN_AUDIENCE else set())
    redeclared = {ids["r_redeclared"]} if role in ANON_AUDIENCE else set()  # delivered
    # active = open, claimed, in progress, delivered: all five public requests and the private ones.
    assert set(_ids(call(world, role, "get", "/requests/?state=active&page_size=100"))) == (
        public_requests | private | redeclared)
    assert set(_ids(call(world, role, "get", "/requests/?state=open&page_size=100"))) == {
        ids["r_open"], ids["r_held_data"]} | private
    datasets = call(world, role, "get", "/datasets/?page_size=100")
    assert datasets.status_code == 200
    assert {row["request"] for row in datasets.json()["results"]} == public_requests | private | redeclared
    results = set(_ids(call(world, role, "get", "/results/?page_size=100")))
    assert results == {ids["res_ok"]} | ({ids["res_held"]} if role in HELD_RESULT_AUDIENCE else set()) | (
        {ids["res_redeclared"]} if role in ANON_AUDIENCE else set())
    request = call(world, role, "get", "/requests/{r_held}/")
    assert request.json()["results"] == ([ids["res_held"]] if role in HELD_RESULT_AUDIENCE else [])


@pytest.mark.parametrize("role", READERS)
def test_post_placeholders_hide_text_but_keep_numbers(world, role):
    """A topic's posts keep their numbers: deleted and hidden ones are placeholders without text."""
    response = call(world, role, "get", "/topics/{t_public}/posts/")
    rows = {row["id"]: row for row in response.json()["results"]}
    hidden, deleted = rows[world.ids["hidden_reply"]], rows[world.ids["deleted_reply"]]
    assert deleted["state"] == "deleted"
    assert (hidden["raw"] is None) == (role not in HIDDEN_AUDIENCE)
    assert (hidden["html"] is None) == (role not in HIDDEN_AUDIENCE)
    assert (deleted["raw"] is None) == (role not in MODERATORS_ONLY)
    assert [row["number"] for row in response.json()["results"]] == [1, 2, 3, 4, 5]




@pytest.mark.parametrize("role", READERS)
def test_a_post_hidden_for_review_is_marked_hidden_for_everybody(world, role):
    """Like the web's note on the post: hidden for everybody, readable by its author and moderators."""
    for path, post in (("/topics/{t_public}/posts/", "hidden_reply"), ("/topics/{t_hidden}/posts/", "hidden_first")):
        response = call(world, role, "get", path)
        if response.status_code == 404:
            continue  # the hidden topic, for who may not see it
        rows = {row["id"]: row for row in response.json()["results"]}
        assert rows[world.ids[post]]["state"] == "hidden", path


# --- Write matrix -------------------------------------------------------------------------------------------

def _fingerprint(exclude_notifications_of=None) -> dict:
    """What a refused write must leave as it was."""
    notifications = Notification.objects.all()
    if exclude_notifications_of is not None:
        notifications = notifications.exclude(user_id=exclude_notifications_of)
    return {
        "categories": list(Category.objects.order_by("pk").values_list("pk", "security", "parent_id")),
        "topics": list(Topic.objects.order_by("pk").values_list(
            "pk", "title", "category_id", "deleted_at", "hidden_at", "post_count", "closed")),
        "posts": list(Post.objects.order_by("pk").values_list("pk", "raw", "html", "deleted_at", "hidden")),
        "requests": list(DataRequest.objects.order_by("pk").values_list(
            "pk", "state", "title", "question", "result_description", "topic_id", "updated_at", "accepted_at")),
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status", "volunteer_id")),
        "results": list(Result.objects.order_by("pk").values_list("pk", "accepted_at", "license")),
        "updates": ProgressUpdate.objects.count(),
        "events": RequestEvent.objects.count(),
        "uploads": list(Upload.objects.order_by("pk").values_list("pk", "state")),
        "notifications": list(notifications.order_by("pk").values_list("pk", "read_at")),
    }


def _csv_upload():
    return {"file": SimpleUploadedFile("aggregated.csv", files.clean_aggregated_csv(), content_type="text/csv")}


def _new_topic(category):
    return {"category": category, "title": "A synthetic matrix topic", "raw": "A synthetic first post."}


REPLY = {"raw": "A synthetic matrix reply."}
UPDATE = {"raw": "Synthetic progress."}
EDIT = {"raw": "Edited by the permission matrix (synthetic).", "reason": "matrix"}
RESULT = {"summary": "A synthetic matrix result.", "repository_url": "https://github.com/example/matrix",
          "license": "BSD-3-Clause"}

class Write(NamedTuple):
    url_name: str
    method: str  # post, patch, delete; multipart: a file upload
    path: str
    body: object
    allowed: dict  # role: status, for the writers whose answer differs from `default`
    default: object  # what the other writers get: 404 (cannot see it), 403 (may not), or UNKNOWN_CATEGORY


UNKNOWN_CATEGORY = "the answer an unknown category gets"
UPLOAD = "a small clean CSV file"
ANON_TEAM_SEES = {REQUESTER, ANONYMIZER, MODERATOR}


def _seen_by(audience, status):
    """`status` for everybody in `audience` (they see the object but may not do this)."""
    return dict.fromkeys(audience, status)


WRITES = {
    # Topics and posts.
    "create-topic-in-private-category": Write(
        "topic-list", "post", "/topics/", _new_topic(PRIVATE_SLUG),
        {CATMOD: 201, MODERATOR: 201, REQUESTER: 403}, UNKNOWN_CATEGORY),
    "reply-to-private-topic": Write(
        "topic-post-list", "post", "/topics/{t_private}/posts/", REPLY, _seen_by(PRIVATE_AUDIENCE, 201), 404),
    "reply-to-hidden-topic": Write(
        "topic-post-list", "post", "/topics/{t_hidden}/posts/", REPLY, _seen_by(HIDDEN_AUDIENCE, 201), 404),
    "reply-to-anonymization-topic": Write(
        "topic-post-list", "post", "/topics/{t_anon}/posts/", REPLY, _seen_by(ANON_AUDIENCE, 201), 404),
    "reply-to-deleted-topic": Write(
        "topic-post-list", "post", "/topics/{t_deleted}/posts/", REPLY, {MODERATOR: 403}, 404),
    "edit-others-post": Write(
        "post-detail", "patch", "/posts/{public_first}/", EDIT, {REQUESTER: 200, MODERATOR: 200}, 403),
    "edit-hidden-reply": Write(
        "post-detail", "patch", "/posts/{hidden_reply}/", EDIT, {REQUESTER: 200, MODERATOR: 200}, 403),
    "edit-private-post": Write(
        "post-detail", "patch", "/posts/{private_first}/", EDIT, _seen_by(PRIVATE_AUDIENCE, 200), 404),
    "edit-held-result-post": Write(
        "post-detail", "patch", "/posts/{held_result_post}/", EDIT, {VOLUNTEER: 200, MODERATOR: 200}, 403),
    "delete-others-post": Write(
        "post-detail", "delete", "/posts/{plain_reply}/", None, {REQUESTER: 204, MODERATOR: 204}, 403),
    "delete-private-post": Write(
        "post-detail", "delete", "/posts/{private_first}/", None, _seen_by(PRIVATE_AUDIENCE, 204), 404),
    "delete-anonymization-post": Write(
        "post-detail", "delete", "/posts/{anon_first}/", None, {REQUESTER: 204, MODERATOR: 204, ANONYMIZER: 403}, 404),
    # Requests.
    "create-request": Write(
        "request-list", "post", "/requests/", {"title": "A synthetic matrix draft", "category": PUBLIC_SLUG},
        {REQUESTER: 201, OTHER_REQUESTER: 201, MODERATOR: 201}, 403),
    "edit-others-request": Write(
        "request-detail", "patch", "/requests/{r_open}/", {"result_description": "Changed by the matrix."},
        {REQUESTER: 200, MODERATOR: 200}, 403),
    "edit-anonymization-request": Write(
        "request-detail", "patch", "/requests/{r_anon}/", {"result_description": "Changed by the matrix."},
        {REQUESTER: 200, MODERATOR: 200, ANONYMIZER: 403}, 404),
    "edit-hidden-request": Write(
        "request-detail", "patch", "/requests/{r_hidden}/", {"result_description": "Changed by the matrix."},
        {REQUESTER: 200, MODERATOR: 200}, 404),
    "publish-others-draft": Write(
        "request-detail", "patch", "/requests/{r_draft}/", {"publish": True}, {REQUESTER: 200}, 404),
    "claim-open-request": Write(
        "request-claim", "post", "/requests/{r_open}/claim/", {}, {VOLUNTEER: 201, MODERATOR: 201}, 403),
    # Seen but not public yet: nobody claims it (the requester never claims their own).
    "claim-anonymization-request": Write(
        "request-claim", "post", "/requests/{r_anon}/claim/", {}, _seen_by(ANON_AUDIENCE, 403), 404),
    "claim-hidden-request": Write(
        "request-claim", "post", "/requests/{r_hidden}/claim/", {}, _seen_by(HIDDEN_AUDIENCE, 403), 404),
    "claim-draft": Write("request-claim", "post", "/requests/{r_draft}/claim/", {}, {REQUESTER: 403}, 404),
    # The API gives up the caller's own claim only: anybody else has none to give up (400, as on the web's
    # form); the web's "release" of other people's claims is not in the API.
    "unclaim-others-claim": Write(
        "request-unclaim", "post", "/requests/{r_claimed}/unclaim/", None, {VOLUNTEER: 200}, 400),
    "unclaim-anonymization-request": Write(
        "request-unclaim", "post", "/requests/{r_anon}/unclaim/", None, _seen_by(ANON_AUDIENCE, 400), 404),
    "update-others-claim": Write(
        "request-update", "post", "/requests/{r_claimed}/updates/", UPDATE, {VOLUNTEER: 201}, 403),
    # An open request takes no updates or results (409) from those who see it; the others get a 404
    # before any state is told.
    "update-anonymization-request": Write(
        "request-update", "post", "/requests/{r_anon}/updates/", UPDATE, _seen_by(ANON_AUDIENCE, 409), 404),
    "result-on-others-claim": Write(
        "request-result", "post", "/requests/{r_claimed}/results/", RESULT, {VOLUNTEER: 201}, 403),
    "result-on-anonymization-request": Write(
        "request-result", "post", "/requests/{r_anon}/results/", RESULT, _seen_by(ANON_AUDIENCE, 409), 404),
    "withdraw-others-request": Write(
        "request-withdraw", "post", "/requests/{r_open}/withdraw/", {}, {REQUESTER: 200}, 403),
    "withdraw-anonymization-request": Write(
        "request-withdraw", "post", "/requests/{r_anon}/withdraw/", {},
        {REQUESTER: 200, ANONYMIZER: 403, MODERATOR: 403}, 404),
    "withdraw-draft": Write("request-withdraw", "post", "/requests/{r_draft}/withdraw/", {}, {REQUESTER: 409}, 404),
    "files-on-others-request": Write(
        "request-files", "multipart", "/requests/{r_open}/files/", UPLOAD, {REQUESTER: 201, MODERATOR: 201}, 403),
    "files-on-anonymization-request": Write(
        "request-files", "multipart", "/requests/{r_anon}/files/", UPLOAD,
        {REQUESTER: 201, MODERATOR: 201, ANONYMIZER: 403}, 404),
    "files-on-draft": Write("request-files", "multipart", "/requests/{r_draft}/files/", UPLOAD, {REQUESTER: 403}, 404),
    # Its former claimant no longer sees it: a 404, like the others outside the channel.
    "update-redeclared-request": Write(
        "request-update", "post", "/requests/{r_redeclared}/updates/", UPDATE, _seen_by(ANON_AUDIENCE, 403), 404),
    "result-on-redeclared-request": Write(
        "request-result", "post", "/requests/{r_redeclared}/results/", RESULT, _seen_by(ANON_AUDIENCE, 403), 404),
    # Results.
    "accept-redeclared-result": Write(
        "result-accept", "post", "/results/{res_redeclared}/accept/", None,
        {REQUESTER: 200, MODERATOR: 200, ANONYMIZER: 403}, 404),
    "accept-result-as-non-requester": Write(
        "result-accept", "post", "/results/{res_ok}/accept/", None, {REQUESTER: 200, MODERATOR: 200}, 403),
    # A held result is accepted by nobody; who cannot read it (the requester too) gets a 404.
    "accept-held-result": Write(
        "result-accept", "post", "/results/{res_held}/accept/", None, {VOLUNTEER: 403, MODERATOR: 409}, 404),
    # Notifications.
    "read-others-notification": Write(
        "notification-read", "post", "/notifications/{notification}/read/", None, {REQUESTER: 200}, 404),
    "read-all-notifications": Write("notification-read-all", "post", "/notifications/read/", None, {}, 200),
}
# Stopped at the door, whatever the endpoint: no token 401, a read token 403, a suspension 403, a
# deleted account's token 401.
DOOR = {ANONYMOUS: 401, MEMBER_READ: 403, SUSPENDED: 403, DELETED: 401}
# The silenced person holds the requester and volunteer roles: where they see the object they are
# refused (403; the request form's field error 400; "no claim to give up" 400); elsewhere a 404.
SILENCED_ANSWERS = {
    "edit-others-post": 403, "edit-hidden-reply": 403, "edit-held-result-post": 403, "delete-others-post": 403,
    "create-request": 400, "edit-others-request": 403, "claim-open-request": 403, "unclaim-others-claim": 400,
    "update-others-claim": 403, "result-on-others-claim": 403, "withdraw-others-request": 403,
    "files-on-others-request": 403, "accept-result-as-non-requester": 403, "read-all-notifications": 200,
    "create-topic-in-private-category": UNKNOWN_CATEGORY,
}
KNOWN_WRITE_BUGS: dict = {}


def expected_write_status(name, role):
    if role in DOOR:
        return DOOR[role]
    if role == SILENCED:
        return SILENCED_ANSWERS.get(name, 404)
    return WRITES[name].allowed.get(role, WRITES[name].default)


def _write_params():
    params = []
    for name, write in WRITES.items():
        for role in ROLES:
            marks = []
            if (name, role) in KNOWN_WRITE_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_WRITE_BUGS[name, role]))
            params.append(pytest.param(role, name, id=f"{role}-{write.method.upper()}-{name}", marks=marks))
    return params


@pytest.mark.parametrize(("role", "name"), _write_params())
def test_write_matrix(world, role, name):
    write = WRITES[name]
    body = _csv_upload() if write.body == UPLOAD else write.body
    own = world.people.get(role) if name == "read-all-notifications" else None
    # Every test starts from the same world (each one's writes are rolled back): fingerprint it once.
    if own not in world.fingerprints:
        world.fingerprints[own] = _fingerprint(exclude_notifications_of=own)
    before = world.fingerprints[own]
    response = call(world, role, write.method, write.path, body)
    text = text_of(response)
    request = f"{write.method.upper()} {write.path}"
    assert not leaked_markers(role, text, sent=json.dumps(write.body)), f"{role} got private content from {request}"
    expected = expected_write_status(name, role)
    if expected == UNKNOWN_CATEGORY:
        # A category they cannot see is refused exactly like one that does not exist.
        missing = call(world, role, write.method, write.path, _new_topic("no-such-category"))
        assert response.status_code == missing.status_code == 400
        assert response.json() == missing.json()
        assert response.json()["error"]["fields"] == {"category": ["There is no such category."]}
    else:
        assert response.status_code == expected, (response.status_code, text[:400])
    if expected == 404:
        assert response.json() == NOT_FOUND_BODY  # like something missing
    after = _fingerprint(exclude_notifications_of=own)
    if response.status_code >= 300:
        changed = sorted(key for key in before if before[key] != after[key])
        assert not changed, f"a refused {request} by {role} changed {changed}"
    elif name == "read-all-notifications":
        assert before == after  # nobody else's notifications were marked read
    else:
        assert before != after  # an allowed write did something


def test_the_requester_reads_their_own_notification(world):
    """The one allowed cell of `read-others-notification`, seen from the database."""
    response = call(world, REQUESTER, "post", "/notifications/{notification}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
    assert response.json()["title"] == marker("notification")
    assert Notification.objects.get(pk=world.ids["notification"]).read_at is not None


# --- Every URL is in a matrix --------------------------------------------------------------------------------

def _url_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            yield pattern.name


def test_every_api_url_is_covered_by_a_matrix():
    names = set(_url_names(api_urls.urlpatterns))
    assert names, "no API URLs found"
    covered = {read.url_name for read in READS.values()} | {write.url_name for write in WRITES.values()}
    assert not names - covered, f"API URLs without a permission matrix cell: {sorted(names - covered)}"
    assert not covered - names, f"matrix cells naming no API URL: {sorted(covered - names)}"


def test_every_matrix_path_resolves_to_the_url_it_names():
    cells = [(read.url_name, read.path) for read in READS.values()] + [(w.url_name, w.path) for w in WRITES.values()]
    for url_name, path in cells:
        fields = {field for _text, field, _spec, _conversion in string.Formatter().parse(path) if field}
        match = resolve((API + path.format(**dict.fromkeys(fields, "1"))).split("?")[0])
        assert (match.namespace, match.url_name) == ("api", url_name), path


def test_every_role_is_in_every_cell():
    """Each endpoint is asked by every role: no cell of the matrix is left out."""
    read_ids = {(param.values[0], param.values[1]) for param in _read_params()}
    write_ids = {(param.values[0], param.values[1]) for param in _write_params()}
    assert read_ids == {(role, name) for role in ROLES for name in READS
                        if READS[name].url_name != "schema" or role in SCHEMA_ROLES}
    assert write_ids == {(role, name) for role in ROLES for name in WRITES}
