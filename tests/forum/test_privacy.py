"""A person's own data: the export holds everything they wrote and nothing of anybody else's;
deleting the account erases every personal field, wherever it is kept, keeps the posts under
"deleted user", and leaves other people's data alone. All data is synthetic."""
import io
import json
import types
import zipfile

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from anonymization.models import AuditRecord, Upload
from forum import services
from forum.models import (
    Bookmark,
    DigestSubscription,
    Flag,
    MailboxStatus,
    ModerationLogEntry,
    Notification,
    OutboundEmail,
    Post,
    PostLike,
    PostRevision,
    TopicNotificationSetting,
    User,
)
from forum.notifications import LIKED, REPLIED
from forum.orcid import orcid_check_digit
from forum.permissions import Role
from requests_board import services as request_services
from requests_board.models import Claim, DataRequest, Result
from tests.anonymization.files import clean_aggregated_csv, uploaded
from tests.forum.factories import PASSWORD, TopicFactory, UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db

EXPORT_URL = "/settings/account/export/"
DELETE_URL = "/settings/account/delete/"

_ORCID_BASE = "000000031415926"
JANE = {
    "username": "janeqxvz",
    "email": "jane.qxvz.primary@example.org",
    "first_name": "Janeqxvz",
    "last_name": "Testpatientqxvz",
    "display_name": "Jane Qxvztestpatient",
    "affiliation": "Qxvz Synthetic General Hospital",
    "orcid": f"{_ORCID_BASE[:4]}-{_ORCID_BASE[4:8]}-{_ORCID_BASE[8:12]}-{_ORCID_BASE[12:]}"
             f"{orcid_check_digit(_ORCID_BASE)}",
    "bio": "Qxvzbio: a synthetic epidemiologist who likes tidy CSV files.",
}
JANE_SECOND_EMAIL = "jane.qxvz.second@example.org"
JANE_BOOKMARK_NOTE = "qxvznote: reread before the Tuesday call"
JANE_IP = "192.0.2.77"
JANE_SOCIAL_UID = "qxvz-github-4242"
# Everything Bob writes carries "zrk", so a leak of his data into Jane's export is easy to see.
BOB = {
    "username": "bobzrk",
    "email": "bob.zrk@example.org",
    "display_name": "Bob Zrkfakeperson",
}


def _jane(**extra):
    return UserFactory(
        **JANE, bio_html="<p>Qxvzbio: a synthetic epidemiologist who likes tidy CSV files.</p>",
        roles=[Role.REQUESTER, Role.VOLUNTEER], totp=True, **extra,
    )


@pytest.fixture
def world(public_category, private_category, moderator, django_capture_on_commit_callbacks):
    """Jane's posts (edited, deleted, redacted, hidden for personal data), bookmark, like, flag,
    data request, claim, result and upload, among Bob's topics and replies. Jane's posts and
    requests never name her: only the fields that are personal carry "qxvz"."""
    w = types.SimpleNamespace(category=public_category, moderator=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        w.jane = jane = _jane()
        w.bob = bob = UserFactory(**BOB, roles=[Role.REQUESTER])
        w.jane_topic = TopicFactory(category=public_category, author=jane, title="Incubation windows, mine-topic",
                                    raw="mine-alpha: the first post of my topic.")
        w.bob_topic = TopicFactory(category=public_category, author=bob, title="Ventilator hours zrk-title",
                                   raw="zrk-bob-first: the first post of Bob's topic.")
        w.bob_reply = services.post_create(actor=bob, topic_id=w.jane_topic.pk, raw="zrk-bob-reply in my topic.")
        w.edited = services.post_create(actor=jane, topic_id=w.bob_topic.pk, raw="mine-bravo, first wording.")
        services.post_edit(actor=jane, post_id=w.edited.pk, raw="mine-bravo, second wording.")
        w.deleted = services.post_create(actor=jane, topic_id=w.bob_topic.pk, raw="mine-charlie, deleted later.")
        services.post_delete(actor=jane, post_id=w.deleted.pk)
        w.redacted = services.post_create(actor=jane, topic_id=w.jane_topic.pk,
                                          raw="mine-delta with redact-me-zz in the first version.")
        services.post_edit(actor=jane, post_id=w.redacted.pk, raw="mine-delta, redacted.")
        services.post_hide_history(actor=moderator, post_id=w.redacted.pk)
        w.personal = services.post_create(actor=jane, topic_id=w.bob_topic.pk,
                                          raw="mine-echo with pid-raw-zz, a synthetic patient identifier.")
        services.post_flag(actor=bob, post_id=w.personal.pk, reason=Flag.Reason.PERSONAL_DATA)
        bob_first = w.bob_topic.posts.get(number=1)
        services.bookmark_set(actor=jane, post_id=bob_first.pk, note=JANE_BOOKMARK_NOTE)
        services.post_like(actor=jane, post_id=w.bob_reply.pk)
        services.post_flag(actor=jane, post_id=bob_first.pk, reason=Flag.Reason.OFF_TOPIC, note="mine-flag note")
        w.jane_request = make_request(jane, public_category, title="Serial interval of a synthetic cohort, mine-req")
        w.bob_request = make_request(bob, public_category, title="Hospital stays zrk-request")
        w.claim = request_services.request_claim(actor=jane, data_request_id=w.bob_request.pk,
                                                 plan="mine-plan: fit a gamma distribution.")
        w.result = request_services.result_deliver(
            actor=jane, data_request_id=w.bob_request.pk, summary="mine-golf: the median stay is 6 days.",
            repository_url="https://github.com/example/stays", license="BSD-3-Clause",
        )
        w.upload = request_services.request_attach(
            actor=jane, data_request_id=w.jane_request.pk, file=uploaded("counts.csv", clean_aggregated_csv()),
            ip=JANE_IP,
        )
    for name in ("jane_topic", "bob_topic", "edited", "deleted", "redacted", "personal"):
        getattr(w, name).refresh_from_db()
    return w


def _export(client, user) -> zipfile.ZipFile:
    sign_in(client, user)
    response = client.post(EXPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    return zipfile.ZipFile(io.BytesIO(response.content))


def _all_text(archive: zipfile.ZipFile) -> str:
    return "\n".join(archive.read(name).decode() for name in archive.namelist())


# --- The export ---------------------------------------------------------------------

def test_export_holds_every_post_of_theirs_and_their_activity(client, world):
    jane = world.jane
    archive = _export(client, jane)
    names = set(archive.namelist())
    assert {"profile.json", "posts.json"} <= names
    own = list(Post.objects.filter(author=jane).order_by("pk"))
    assert len(own) == 7  # topic, 4 replies, the request's first post, the result
    assert {name for name in names if name.startswith("posts/")} == {f"posts/{p.topic_id}-{p.number}.md" for p in own}

    posts = {item["id"]: item for item in json.loads(archive.read("posts.json"))}
    assert set(posts) == {p.pk for p in own}
    for post in own:
        item = posts[post.pk]
        assert (item["topic_id"], item["number"]) == (post.topic_id, post.number)
        if post.pk == world.personal.pk:
            assert item["text"] == ""
            continue
        assert item["text"] == post.raw
        assert post.raw in archive.read(f"posts/{post.topic_id}-{post.number}.md").decode()
    assert posts[world.deleted.pk]["deleted"] is True
    assert "deleted: true" in archive.read(f"posts/{world.deleted.topic_id}-{world.deleted.number}.md").decode()
    assert posts[world.edited.pk]["edited_at"] is not None
    assert [v["text"] for v in posts[world.edited.pk]["versions"]] == [
        "mine-bravo, first wording.", "mine-bravo, second wording.",
    ]
    first = world.jane_topic.posts.get(number=1)
    assert posts[first.pk]["topic_title"] == "Incubation windows, mine-topic"
    assert 'title: "Incubation windows, mine-topic"' in archive.read(
        f"posts/{first.topic_id}-1.md").decode()
    assert posts[world.edited.pk]["topic_title"] is None

    profile = json.loads(archive.read("profile.json"))
    assert profile["format_version"] == 1
    me = profile["profile"]
    for field in ("username", "email", "display_name", "affiliation", "orcid", "bio"):
        assert me[field] == JANE[field]
    assert [a["email"] for a in me["email_addresses"]] == [JANE["email"]]
    bob_first = world.bob_topic.posts.get(number=1)
    assert me["bookmarks"] == [{"post_id": bob_first.pk, "note": JANE_BOOKMARK_NOTE,
                                "created_at": me["bookmarks"][0]["created_at"]}]
    assert [like["post_id"] for like in me["likes_given"]] == [world.bob_reply.pk]
    assert [(f["post_id"], f["reason"], f["note"]) for f in me["flags"]] == [
        (bob_first.pk, "off_topic", "mine-flag note"),
    ]
    assert [r["pk"] for r in profile["data_requests"]] == [world.jane_request.pk]
    assert profile["data_requests"][0]["title"] == "Serial interval of a synthetic cohort, mine-req"
    assert [(c["data_request_id"], c["plan"]) for c in profile["claims"]] == [
        (world.bob_request.pk, "mine-plan: fit a gamma distribution."),
    ]
    assert [(r["data_request_id"], r["post_id"]) for r in profile["results"]] == [
        (world.bob_request.pk, world.result.post_id),
    ]
    assert [u["pk"] for u in profile["uploads"]] == [world.upload.pk]
    assert "README.txt" in names


def test_export_holds_nothing_of_anybody_else(client, world):
    text = _all_text(_export(client, world.jane)).lower()
    bob, moderator = world.bob, world.moderator
    # Bob's names, address, topic titles, posts and request: everything of his says "zrk".
    assert "zrk" not in text
    for value in (bob.username, bob.email, bob.display_name, moderator.username, moderator.email,
                  moderator.display_name):
        assert value.lower() not in text
    # A version a moderator hid after redacting it.
    assert "redact-me-zz" not in text
    assert "mine-delta, redacted." in text
    # No other person's data request, claim or upload either.
    assert world.bob_request.title.lower() not in text


def test_export_leaves_out_the_text_of_a_post_hidden_for_personal_data(client, world):
    """Neither its text nor any of its versions: what others flagged as identifying a patient."""
    assert world.personal.hidden == Post.Hidden.PERSONAL_DATA
    archive = _export(client, world.jane)
    assert "pid-raw-zz" not in _all_text(archive)
    item = next(i for i in json.loads(archive.read("posts.json")) if i["id"] == world.personal.pk)
    assert item["text"] == "" and item["versions"] == []


def test_export_is_logged(client, world):
    _export(client, world.jane)
    entry = ModerationLogEntry.objects.get(action=ModerationLogEntry.Action.DATA_EXPORTED)
    assert entry.actor == world.jane and entry.target_user == world.jane
    assert entry.detail == {"posts": 7}


def test_export_needs_a_signed_in_post(client, member):
    response = client.post(EXPORT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    sign_in(client, member)
    assert client.get(EXPORT_URL).status_code == 405
    assert not ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.DATA_EXPORTED).exists()


def test_account_settings_page_offers_both(client, member):
    sign_in(client, member)
    page = client.get("/settings/account/").content.decode()
    assert 'action="/settings/account/export/"' in page
    assert 'action="/settings/account/delete/"' in page
    assert 'name="confirm_username"' in page


def test_deleted_person_cannot_export(world):
    services.account_delete(actor=world.jane, confirm_username=JANE["username"])
    jane = User.objects.get(pk=world.jane.pk)
    with pytest.raises(PermissionDenied):
        services.personal_data_export(actor=jane)


# --- Deleting an account ------------------------------------------------------------

def test_wrong_confirmation_changes_nothing(client, member):
    sign_in(client, member)
    before = User.objects.filter(pk=member.pk).values().get()
    for typed in ("", "somebody-else", member.username.upper()):
        response = client.post(DELETE_URL, {"confirm_username": typed})
        assert response.status_code == 400
    assert "Type your username exactly to confirm." in response.content.decode()
    assert User.objects.filter(pk=member.pk).values().get() == before
    assert EmailAddress.objects.filter(user=member).exists()
    assert client.session.get("_auth_user_id") == str(member.pk)
    assert not ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.ACCOUNT_DELETED).exists()


def test_delete_needs_a_signed_in_post(client, member):
    response = client.post(DELETE_URL, {"confirm_username": member.username})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    sign_in(client, member)
    assert client.get(DELETE_URL).status_code == 405
    assert User.objects.get(pk=member.pk).deleted_at is None


def test_deleting_signs_out_for_good_and_keeps_posts_under_deleted_user(
    client, world, django_capture_on_commit_callbacks
):
    jane = world.jane
    sign_in(client, jane)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"confirm_username": " janeqxvz "})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session
    assert "Your account is deleted" in client.get("/").content.decode()

    jane = User.objects.get(pk=jane.pk)
    assert jane.deleted_at is not None and not jane.is_active and not jane.has_usable_password()
    assert jane.name == "deleted user"
    response = client.post("/accounts/login/", {"login": JANE["email"], "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert not client.login(username=jane.username, password=PASSWORD)

    assert Post.objects.filter(author=jane).count() == 7
    page = client.get(world.jane_topic.get_absolute_url()).content.decode()
    assert "mine-alpha" in page and "deleted user" in page
    assert JANE["display_name"] not in page and JANE["username"] not in page
    assert client.get(f"/u/{JANE['username']}/").status_code == 404
    assert client.get(f"/u/{jane.username}/").status_code == 404

    entry = ModerationLogEntry.objects.get(action=ModerationLogEntry.Action.ACCOUNT_DELETED)
    assert entry.actor == jane and entry.target_user == jane
    assert entry.detail == {"posts": 7, "topics": 2}


def test_a_deleted_account_cannot_be_deleted_twice(world):
    services.account_delete(actor=world.jane, confirm_username=JANE["username"])
    jane = User.objects.get(pk=world.jane.pk)
    with pytest.raises(ValidationError):
        services.account_delete(actor=jane, confirm_username=jane.username)


# The key test: after deletion, nothing personal of the person is left in the database.

TEXT_FIELD_TYPES = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)


def _text_fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELD_TYPES)]


def _as_text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return "" if value is None else str(value)


def _user_relations() -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, field) pointing at the user model: foreign keys, one-to-ones, many-to-manys,
    auto-created through tables included, so a model added later is covered without a change here."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if (field.is_relation and not field.auto_created and field.related_model is user_model
                    and (field.many_to_one or field.one_to_one or field.many_to_many)):
                found.append((model, field))
    return found


def _rows_leaking(queryset, needles) -> list[str]:
    model = queryset.model
    fields = _text_fields(model)
    leaks = []
    if model is Session:
        for session in queryset:
            text = _as_text(session.get_decoded()).lower()
            leaks += [f"session {session.pk}: {n!r}" for n in needles if n.lower() in text]
        return leaks
    if not fields:
        return leaks
    for row in queryset.values_list("pk", *fields):
        for name, value in zip(fields, row[1:], strict=True):
            text = _as_text(value).lower()
            leaks += [f"{model._meta.label} {row[0]}.{name}: {n!r}" for n in needles if n.lower() in text]
    return leaks


@pytest.fixture
def jane_everywhere(world, django_capture_on_commit_callbacks):
    """Jane's world, plus everything else the site keeps about a person; returns the distinctive
    values to look for afterwards."""
    jane, bob = world.jane, world.bob
    with django_capture_on_commit_callbacks(execute=True):
        EmailAddress.objects.create(user=jane, email=JANE_SECOND_EMAIL, verified=True, primary=False)
        SocialAccount.objects.create(
            user=jane, provider="github", uid=JANE_SOCIAL_UID,
            extra_data={"login": "janeqxvz-gh", "name": JANE["display_name"], "email": JANE_SECOND_EMAIL},
        )
        services.digest_subscription_for_account(user=jane)
        # A newsletter sign-up by the same address, written differently.
        DigestSubscription.objects.create(email=JANE["email"].title(), frequency=DigestSubscription.Frequency.DAILY)
        services.email_owe(key="test:newsletter-confirm:qxvz", to=JANE["email"], kind="newsletter_confirm",
                           subject=f"Confirm, {JANE['display_name']}", text_body=f"Hello {JANE['display_name']}",
                           html_body="<p>Hello</p>", queue=False)
        MailboxStatus.objects.create(email=JANE["email"], hard_failures=1,
                                     last_error=f"550 5.1.1 <{JANE['email']}>: mailbox unavailable")
        services.email_preference_set(user=jane, kind=REPLIED, delivery="never")
        services.notification_level_set(user=jane, level=3, topic=world.bob_topic)
        world.category.moderators.add(jane)
        LogEntry.objects.create(
            user=world.moderator, content_type=ContentType.objects.get_for_model(User), object_id=str(jane.pk),
            object_repr=str(jane), action_flag=CHANGE, change_message='[{"changed": {"fields": ["Email"]}}]',
        )
    totp = Authenticator.objects.get(user=jane, type=Authenticator.Type.TOTP)
    # What was made about Jane above and in `world` is really there, so the test means something.
    assert Notification.objects.filter(user=bob, actor=jane, kind=LIKED, actor_names=[JANE["display_name"]]).exists()
    assert Notification.objects.filter(user=bob, actor=jane, kind=REPLIED).exists()
    assert AuditRecord.objects.filter(actor=jane, ip=JANE_IP).exists()
    assert TopicNotificationSetting.objects.filter(user=jane).exists()
    assert Bookmark.objects.filter(user=jane, note=JANE_BOOKMARK_NOTE).exists()
    needles = [
        *JANE.values(),
        JANE_SECOND_EMAIL, JANE_BOOKMARK_NOTE, JANE_IP, JANE_SOCIAL_UID, "janeqxvz-gh",
        "qxvz",  # what every personal value above has in common, however it was copied
        *(str(value) for value in totp.data.values() if isinstance(value, str) and len(value) >= 16),
        str(jane.password),
    ]
    return types.SimpleNamespace(world=world, needles=needles)


def _delete_through_the_page(client, jane, django_capture_on_commit_callbacks):
    sign_in(client, jane)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE_URL, {"confirm_username": JANE["username"]})
    assert response.status_code == 302
    return User.objects.get(pk=jane.pk)


def test_user_relations_are_found_programmatically():
    relations = {(model._meta.label, field.name) for model, field in _user_relations()}
    expected = {
        ("forum.Post", "author"), ("forum.Notification", "actor"), ("forum.Bookmark", "user"),
        ("forum.Category", "moderators"), ("forum.DigestSubscription", "user"),
        ("account.EmailAddress", "user"), ("socialaccount.SocialAccount", "user"), ("mfa.Authenticator", "user"),
        ("anonymization.AuditRecord", "actor"), ("requests_board.Claim", "volunteer"),
        ("admin.LogEntry", "user"), ("forum.User_groups", "user"),
    }
    assert expected <= relations


def test_no_row_referencing_the_deleted_person_keeps_anything_personal(
    client, jane_everywhere, django_capture_on_commit_callbacks
):
    world, needles = jane_everywhere.world, jane_everywhere.needles
    jane = _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    leaks = _rows_leaking(User.objects.filter(pk=jane.pk), needles)
    referencing = 0
    for model, field in _user_relations():
        rows = model._base_manager.filter(**{field.name: jane})
        referencing += rows.count()
        leaks += _rows_leaking(rows, needles)
    assert referencing > 20  # posts, topics, revisions, claims, results, uploads, audit records, log entries…
    assert leaks == [], "\n".join(leaks)


def _full_scan(needles, *, skip=None) -> list[str]:
    """Every text, JSON, email and address value of every row of every model (sessions decoded)."""
    leaks = []
    for model in apps.get_models(include_auto_created=True):
        rows = model._base_manager.all()
        if skip is not None:
            rows = skip(rows)
        leaks += _rows_leaking(rows, needles)
    return leaks


def _others_emails_naming(jane):
    """Emails owed to other people because of something the person did (their notifications)."""
    return OutboundEmail.objects.filter(notification__actor=jane).exclude(user=jane)


def test_no_row_anywhere_keeps_anything_personal_of_the_deleted_person(
    client, jane_everywhere, django_capture_on_commit_callbacks
):
    world, needles = jane_everywhere.world, jane_everywhere.needles
    _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    leaks = _full_scan(needles)
    assert leaks == [], "\n".join(leaks)


def test_no_row_anywhere_keeps_anything_personal_but_the_known_emails(
    client, jane_everywhere, django_capture_on_commit_callbacks
):
    """The full scan above, less the emails its bug leaves: everything else stays guarded meanwhile."""
    world, needles = jane_everywhere.world, jane_everywhere.needles
    jane = _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    known = set(_others_emails_naming(jane).values_list("pk", flat=True))
    assert known  # the replies and the result Bob was emailed about

    def skip(rows):
        return rows.exclude(pk__in=known) if rows.model is OutboundEmail else rows

    leaks = _full_scan(needles, skip=skip)
    assert leaks == [], "\n".join(leaks)


def test_everything_around_the_person_is_gone(client, jane_everywhere, django_capture_on_commit_callbacks):
    world = jane_everywhere.world
    jane = _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    assert not EmailAddress.objects.filter(user=jane).exists()
    assert not SocialAccount.objects.filter(user=jane).exists()
    assert not Authenticator.objects.filter(user=jane).exists()
    assert not DigestSubscription.objects.filter(user=jane).exists()
    assert not DigestSubscription.objects.filter(email__iexact=JANE["email"]).exists()
    assert not OutboundEmail.objects.filter(to__iexact=JANE["email"]).exists()
    assert not MailboxStatus.objects.filter(email__iexact=JANE["email"]).exists()
    assert not Bookmark.objects.filter(user=jane).exists()
    assert not TopicNotificationSetting.objects.filter(user=jane).exists()
    assert not world.category.moderators.filter(pk=jane.pk).exists()
    assert not jane.groups.exists() and not jane.expertise.exists()
    assert AuditRecord.objects.filter(actor=jane).exists()
    assert not AuditRecord.objects.filter(actor=jane, ip__isnull=False).exists()
    liked = Notification.objects.get(user=world.bob, actor=jane, kind=LIKED)
    assert liked.actor_names == ["deleted user"]
    entry = LogEntry.objects.get(object_id=str(jane.pk), content_type=ContentType.objects.get_for_model(User))
    assert entry.object_repr == "deleted user"
    # Their work stays: posts, revisions, requests, claims, results, uploads, likes and flags.
    assert Post.objects.filter(author=jane).count() == 7
    assert PostRevision.objects.filter(editor=jane).exists()
    assert DataRequest.objects.filter(author=jane).exists()
    assert Claim.objects.filter(volunteer=jane).exists() and Result.objects.filter(author=jane).exists()
    assert Upload.objects.filter(uploader=jane).exists()
    assert PostLike.objects.filter(user=jane).exists() and Flag.objects.filter(flagger=jane).exists()


def test_the_persons_other_sessions_are_signed_out(client, jane_everywhere, django_capture_on_commit_callbacks):
    from django.test import Client

    other_device = Client()
    sign_in(other_device, jane_everywhere.world.jane)
    assert other_device.get("/settings/account/").status_code == 200
    _delete_through_the_page(client, jane_everywhere.world.jane, django_capture_on_commit_callbacks)
    response = other_device.get("/settings/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_persons_other_sessions_are_removed(client, jane_everywhere, django_capture_on_commit_callbacks):
    from django.test import Client

    other_device = Client()
    sign_in(other_device, jane_everywhere.world.jane)
    other_key = other_device.session.session_key
    _delete_through_the_page(client, jane_everywhere.world.jane, django_capture_on_commit_callbacks)
    leaks = _rows_leaking(Session.objects.all(), jane_everywhere.needles)
    assert leaks == [], "\n".join(leaks)
    assert not Session.objects.filter(session_key=other_key).exists()


def _snapshot(user, deleted) -> dict:
    """Every row referencing `user`, all fields, plus the user row; not the notifications
    `deleted` received (about `user`'s replies), which go with `deleted`, and not the names in
    `user`'s own notifications and emails, which become "deleted user"."""
    snapshot = {"user": User.objects.filter(pk=user.pk).values().get()}
    for model, field in _user_relations():
        rows = model._base_manager.filter(**{field.name: user}).order_by("pk")
        if model is Notification:
            rows = rows.exclude(user=deleted)
        # The names in `user`'s notifications and the subject and bodies of emails owed or sent to
        # them become "deleted user" where they named `deleted` (checked separately).
        renamed = {Notification: {"actor_names"}, OutboundEmail: {"subject", "text_body", "html_body"}}
        values = [
            {k: v for k, v in row.items() if k not in renamed.get(model, ())}
            for row in rows.values()
        ]
        snapshot[f"{model._meta.label}.{field.name}"] = values
    return snapshot


def test_another_members_data_is_untouched(client, jane_everywhere, django_capture_on_commit_callbacks):
    world = jane_everywhere.world
    bob = world.bob
    from django.test import Client

    bob_client = Client()
    sign_in(bob_client, bob)
    with django_capture_on_commit_callbacks(execute=True):
        bob_first = world.bob_topic.posts.get(number=1)
        services.bookmark_set(actor=bob, post_id=world.edited.pk, note="zrk note")
        services.digest_subscription_for_account(user=bob)
        MailboxStatus.objects.create(email=BOB["email"], hard_failures=1)
    before = _snapshot(bob, world.jane)
    assert before["forum.Post.author"] and before["forum.Notification.user"]
    _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    assert _snapshot(bob, world.jane) == before
    assert MailboxStatus.objects.filter(email=BOB["email"]).exists()
    assert EmailAddress.objects.filter(user=bob, email=BOB["email"]).exists()
    assert bob_client.get("/settings/account/").status_code == 200
    assert client.get(f"/u/{bob.username}/").status_code == 200
    page = client.get(world.bob_topic.get_absolute_url()).content.decode()
    assert BOB["display_name"] in page and "zrk-bob-first" in page
    assert Post.objects.get(pk=bob_first.pk).raw == "zrk-bob-first: the first post of Bob's topic."
    # Bob's notifications about Jane now name "deleted user".
    names = Notification.objects.filter(user=bob, actor_id=world.jane.pk).values_list("actor_names", flat=True)
    assert names and all(JANE["display_name"] not in n for n in names)


def _names_in_notifications() -> str:
    return json.dumps(list(Notification.objects.values_list("actor_names", flat=True))).lower()


def test_batched_like_notification_forgets_the_deleted_person(client, world, django_capture_on_commit_callbacks):
    """"Carol and Jane liked your post": Carol is the notification's actor, Jane only a name in it."""
    carol = UserFactory(display_name="Carol Syntheticperson")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_like(actor=carol, post_id=world.bob_reply.pk)
    liked = Notification.objects.get(user=world.bob, kind=LIKED, post=world.bob_reply)
    assert liked.actor == carol and JANE["display_name"] in liked.actor_names
    _delete_through_the_page(client, world.jane, django_capture_on_commit_callbacks)
    assert "qxvz" not in _names_in_notifications()
    liked.refresh_from_db()
    assert "Carol Syntheticperson" in liked.actor_names


def test_a_name_changed_since_a_notification_is_forgotten_too(client, world, django_capture_on_commit_callbacks):
    """Jane liked Bob's reply as "Jane Qxvztestpatient", then renamed herself: both names go."""
    jane = world.jane
    services.profile_update(actor=jane, user=jane, display_name="J. Qxvzrenamed", affiliation=JANE["affiliation"],
                            orcid=JANE["orcid"], bio=JANE["bio"], expertise=[], roles=[Role.REQUESTER, Role.VOLUNTEER])
    _delete_through_the_page(client, User.objects.get(pk=jane.pk), django_capture_on_commit_callbacks)
    assert "qxvz" not in _names_in_notifications()


def test_every_address_of_theirs_is_forgotten(client, world, django_capture_on_commit_callbacks):
    """Their second (verified) address too: a newsletter sign-up and a mailbox status under it."""
    jane = world.jane
    EmailAddress.objects.create(user=jane, email=JANE_SECOND_EMAIL, verified=True, primary=False)
    DigestSubscription.objects.create(email=JANE_SECOND_EMAIL, frequency=DigestSubscription.Frequency.WEEKLY)
    MailboxStatus.objects.create(email=JANE_SECOND_EMAIL, hard_failures=1)
    _delete_through_the_page(client, jane, django_capture_on_commit_callbacks)
    assert _full_scan([JANE_SECOND_EMAIL]) == []
