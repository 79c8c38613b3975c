"""Notification pages: the bell, the notifications page, email settings, unsubscribing and the newsletter.

Who may use what (a matrix of every role by every private view: a visitor is sent to sign in,
someone else's notification is a 404 like a missing one, only moderators message people), what the
pages say and leave out (topics the person can no longer see), that what people wrote is escaped,
and that the pages run a fixed number of queries whatever the number of notifications. Links come
from the real emails (a reply's List-Unsubscribe header, a digest's, a newsletter confirmation), so
the links tested are the ones people click.
"""
import datetime
import json
import re
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anonymization.notifications import ReviewKind
from forum import services
from forum.models import DigestSubscription, EmailPreference, Notification
from forum.notifications import LIKED, MENTIONED, MODERATOR_MESSAGE, REPLIED, Delivery, notification_kinds
from forum.selectors.digests import DigestItem, DigestSection
from forum.services.digests import CONFIRM_SALT
from requests_board.notifications import NoticeKind
from tests.forum.factories import TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

LIST_URL = reverse("forum:notification-list")
READ_ALL_URL = reverse("forum:notifications-read")
COUNT_URL = reverse("forum:notification-count")
SETTINGS_URL = reverse("forum:notification-settings")
NEWSLETTER_URL = reverse("forum:newsletter-subscribe")
SIGN_IN_URL = reverse("account_login")

UNSUBSCRIBE_INVALID = "This unsubscribe link is not valid."
CONFIRM_INVALID = "This confirmation link is not valid."
CONFIRM_EXPIRED = "This confirmation link has expired."
CHECK_INBOX = "Please check your inbox"

# Queries of a signed-in page before its own: session, user, the user's and groups' permissions,
# moderated categories, the bell's unread count (as SIGNED_IN_EXTRA in tests/forum/test_pages.py).
SIGNED_IN_EXTRA = 6
# The notifications page: its paginator's count and the page of notifications (the sentence of each
# comes from fields stored on the row, never from a join per kind).
NOTIFICATION_LIST_QUERIES = SIGNED_IN_EXTRA + 2
# The settings page: the person's email preferences and their digest subscription.
NOTIFICATION_SETTINGS_QUERIES = SIGNED_IN_EXTRA + 2


# --- People ------------------------------------------------------------------------------------

@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True, totp=True)


def _person(request, role):
    """The person in `role`, made only when a case needs them (None for a visitor)."""
    return None if role == "visitor" else request.getfixturevalue(role)


def _as(client, person):
    if person is not None:
        sign_in(client, person)
    return person


def _notify(user, *, key, kind=REPLIED, post=None, topic=None, actor=None, title=None, url=None):
    """Tell `user` something through the service the apps use; title and link default to the post's topic."""
    topic = post.topic if post is not None else topic
    if title is None:
        title = topic.title if topic is not None else ""
    if url is None:
        url = post.get_absolute_url() if post is not None else LIST_URL
    return services.notify(user=user, kind=kind, key=key, actor=actor, topic=topic, post=post, title=title, url=url)


def _settings_data(**overrides):
    """A complete settings form: a weekly digest on Wednesdays at 09:00 Berlin time, everything in the digest."""
    data = {"frequency": "weekly", "weekday": "2", "hour": "9", "time_zone": "Europe/Berlin"}
    data.update({f"kind_{name}": Delivery.DIGEST for name in notification_kinds()})
    data.update(overrides)
    return data


def _unread(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- Who may use what --------------------------------------------------------------------------

ROLES = ["visitor", "member", "requester", "volunteer", "anonymizer", "moderator", "staff", "superuser"]
MODERATES = {"moderator", "superuser"}

SIGN_IN = "sent to sign in"
OK = "200"
NOT_FOUND = "404"
NOT_ALLOWED = "405"
FOLLOWED = "marked read, went to its link"
BACK_TO_LIST = "all read, back to the list"
COUNT_ZERO = "count 0"
COUNT_OWN = "count of own unread"
SAVED = "saved"
SENT = "message sent"

VIEWS = [
    "list", "open own", "open someone else's", "mark all read", "mark all read by GET", "count",
    "settings", "save settings", "message someone", "message yourself", "message by GET",
]


def expected(view, role):
    if role == "visitor":
        return COUNT_ZERO if view == "count" else SIGN_IN
    return {
        "list": OK,
        "open own": FOLLOWED,
        "open someone else's": NOT_FOUND,
        "mark all read": BACK_TO_LIST,
        "mark all read by GET": NOT_ALLOWED,
        "count": COUNT_OWN,
        "settings": OK,
        "save settings": SAVED,
        "message someone": SENT if role in MODERATES else NOT_FOUND,
        "message yourself": NOT_FOUND,  # refused even to moderators
        "message by GET": NOT_ALLOWED,
    }[view]


MATRIX = [pytest.param(view, role, expected(view, role), id=f"{view}-{role}") for view in VIEWS for role in ROLES]


def _act(client, view, person, other, own, others):
    """Do `view` as the signed-in `person`; `other` is somebody else, `own`/`others` a notification of each."""
    target = person if person is not None else other
    message = reverse("forum:moderator-message", kwargs={"username": other.username})
    message_self = reverse("forum:moderator-message", kwargs={"username": target.username})
    return {
        "list": lambda: client.get(LIST_URL),
        "open own": lambda: client.get(reverse("forum:notification-open", args=[(own or others).pk])),
        "open someone else's": lambda: client.get(reverse("forum:notification-open", args=[others.pk])),
        "mark all read": lambda: client.post(READ_ALL_URL),
        "mark all read by GET": lambda: client.get(READ_ALL_URL),
        "count": lambda: client.get(COUNT_URL),
        "settings": lambda: client.get(SETTINGS_URL),
        "save settings": lambda: client.post(SETTINGS_URL, _settings_data()),
        "message someone": lambda: client.post(message, {"text": "Please keep replies on topic."}),
        "message yourself": lambda: client.post(message_self, {"text": "A note to myself."}),
        "message by GET": lambda: client.get(message),
    }[view]()


@pytest.mark.parametrize(("view", "role", "outcome"), MATRIX)
def test_who_may_use_the_notification_views(client, request, public_topic, view, role, outcome):
    person = _as(client, _person(request, role))
    other = UserFactory()
    post = public_topic.first_post
    own = _notify(person, key="own", post=post, actor=other) if person is not None else None
    others = _notify(other, key="others", post=post, actor=person)

    response = _act(client, view, person, other, own, others)

    if outcome == SIGN_IN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == SIGN_IN_URL
        assert parse_qs(location.query)["next"] == [response.request["PATH_INFO"]]
    elif outcome in (OK, NOT_FOUND, NOT_ALLOWED):
        assert response.status_code == int(outcome)
    elif outcome == FOLLOWED:
        assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
        own.refresh_from_db()
        assert own.read_at is not None
    elif outcome == BACK_TO_LIST:
        assert response.status_code == 302 and response["Location"] == LIST_URL
        assert _unread(person) == 0
    elif outcome in (COUNT_ZERO, COUNT_OWN):
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert json.loads(response.content)["unread"] == (0 if outcome == COUNT_ZERO else 1)
    elif outcome == SAVED:
        assert response.status_code == 302 and response["Location"] == SETTINGS_URL
        assert EmailPreference.objects.filter(user=person).count() == len(notification_kinds())
    elif outcome == SENT:
        assert response.status_code == 302 and response["Location"] == other.get_absolute_url()
    # Nobody's actions touch somebody else's notifications, and refused messages send nothing.
    others.refresh_from_db()
    assert others.read_at is None
    told = Notification.objects.filter(kind=MODERATOR_MESSAGE)
    assert told.filter(user=other).exists() == (outcome == SENT)
    assert person is None or not told.filter(user=person).exists()


def test_moderator_message_arrives_under_the_bell_and_links_to_the_list(client, moderator, member):
    sign_in(client, moderator)
    url = reverse("forum:moderator-message", kwargs={"username": member.username})
    client.post(url, {"text": "  Please   keep replies on topic.  "})
    notification = Notification.objects.get(user=member, kind=MODERATOR_MESSAGE)
    assert notification.title == "Please keep replies on topic."
    assert notification.actor_id == moderator.pk
    sign_in(client, member)
    response = client.get(reverse("forum:notification-open", args=[notification.pk]))
    assert response["Location"] == LIST_URL


def test_moderator_message_to_a_deactivated_account_is_a_404(client, moderator, member):
    member.is_active = False
    member.save(update_fields=["is_active"])
    sign_in(client, moderator)
    url = reverse("forum:moderator-message", kwargs={"username": member.username})
    assert client.post(url, {"text": "Hello."}).status_code == 404
    assert not Notification.objects.filter(user=member).exists()


def test_moderator_message_too_long_is_refused_with_a_message(client, moderator, member):
    sign_in(client, moderator)
    url = reverse("forum:moderator-message", kwargs={"username": member.username})
    response = client.post(url, {"text": "x" * 201}, follow=True)
    assert "at most 200 characters" in response.content.decode()
    assert not Notification.objects.filter(user=member).exists()


# --- The bell ----------------------------------------------------------------------------------

def _bell(content: str) -> str:
    match = re.search(r'<a class="bell[^"]*".*?</a>', content, re.S)
    assert match, "no bell on the page"
    return match.group(0)


def test_bell_shows_the_unread_count_with_an_accessible_label(client, public_topic, requester, volunteer,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="A first synthetic answer.")
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="A second synthetic answer.")
    assert _unread(requester) == 2
    sign_in(client, requester)

    bell = _bell(client.get("/latest/").content.decode())

    assert "bell-unread" in bell
    assert re.search(r"<span class=\"bell-count\"[^>]* data-bell-count>2</span>", bell)
    assert '<span class="visually-hidden">Notifications</span>' in bell
    assert re.search(r"<span class=\"visually-hidden\" data-bell-label>2 unread</span>", bell)
    assert f'href="{LIST_URL}"' in bell and f'data-count-url="{COUNT_URL}"' in bell
    data = json.loads(client.get(COUNT_URL).content)
    assert data["unread"] == 2
    assert data.get("label", "2 unread") == "2 unread"  # what bell.js puts in the label, when given


def test_bell_without_unread_hides_the_badge_but_keeps_the_label(client, member):
    sign_in(client, member)
    bell = _bell(client.get("/latest/").content.decode())
    assert "bell-unread" not in bell
    assert re.search(r"data-bell-count hidden>0</span>", bell)
    assert "data-bell-label>0 unread</span>" in bell


def test_visitors_have_no_bell(client, db):
    content = client.get("/latest/").content.decode()
    assert 'class="bell' not in content and "bell.js" not in content


def test_count_is_never_cached(client, member):
    sign_in(client, member)
    response = client.get(COUNT_URL)
    assert "no-store" in response["Cache-Control"]


def test_opening_a_notification_marks_it_read_and_goes_to_the_post(client, public_topic, requester, volunteer,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="A synthetic answer.")
    notification = Notification.objects.get(user=requester)
    assert notification.kind == REPLIED and notification.post_id == reply.pk
    sign_in(client, requester)

    response = client.get(reverse("forum:notification-open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("forum:post-permalink", kwargs={"pk": reply.pk})
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "data-bell-count hidden>0<" in client.get("/latest/").content.decode()


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/p/1/", "javascript:alert(1)"])
def test_opening_a_notification_never_leaves_the_site(client, member, url):
    notification = _notify(member, key="offsite", url=url, title="Synthetic")
    sign_in(client, member)
    response = client.get(reverse("forum:notification-open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == LIST_URL


def test_opening_a_missing_notification_is_a_404(client, member):
    sign_in(client, member)
    assert client.get(reverse("forum:notification-open", args=[999999])).status_code == 404


def test_reading_a_topic_clears_notifications_about_the_posts_shown(client, public_topic, requester, volunteer,
                                                                    public_category):
    posts = [
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw=f"Synthetic answer {n}.")
        for n in range(21)
    ]  # numbers 2 to 22: page 1 shows 1 to 20
    on_page_one = _notify(requester, key=f"post:{posts[0].pk}", post=posts[0], actor=volunteer)
    on_page_two = _notify(requester, key=f"post:{posts[-1].pk}", post=posts[-1], actor=volunteer)
    elsewhere = TopicFactory(category=public_category, author=requester, title="Another synthetic request")
    about_other_topic = _notify(requester, key="elsewhere", topic=elsewhere, actor=volunteer)
    about_the_topic = _notify(requester, kind=NoticeKind.CLAIMED, key="claimed", topic=public_topic, actor=volunteer)
    sign_in(client, requester)

    client.get(public_topic.get_absolute_url())

    for notification in (on_page_one, on_page_two, about_other_topic, about_the_topic):
        notification.refresh_from_db()
    assert on_page_one.read_at is not None and about_the_topic.read_at is not None
    assert on_page_two.read_at is None and about_other_topic.read_at is None

    client.get(public_topic.get_absolute_url() + "?page=2")
    on_page_two.refresh_from_db()
    assert on_page_two.read_at is not None
    assert _unread(requester) == 1


def test_mark_all_read(client, public_topic, member, volunteer):
    for n in range(3):
        _notify(member, key=f"n{n}", topic=public_topic, actor=volunteer)
    sign_in(client, member)

    response = client.post(READ_ALL_URL, follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    content = response.content.decode()
    assert "All notifications marked read." in content
    assert "Unread:" not in content
    assert _unread(member) == 0
    assert "data-bell-count hidden>0<" in content


# --- The notifications page --------------------------------------------------------------------

def test_list_shows_newest_first_and_marks_the_unread(client, public_topic, member, volunteer):
    now = timezone.now()
    titles = ["Oldest synthetic news", "Middle synthetic news", "Newest synthetic news"]
    made = []
    for age, title in zip((3, 2, 1), titles, strict=True):
        notification = _notify(member, key=title, topic=public_topic, actor=volunteer, title=title)
        Notification.objects.filter(pk=notification.pk).update(created_at=now - datetime.timedelta(hours=age))
        made.append(notification)
    services.notification_open(user=member, notification_id=made[1].pk)
    sign_in(client, member)

    content = client.get(LIST_URL).content.decode()

    positions = [content.index(title) for title in titles]
    assert positions == sorted(positions, reverse=True)
    items = re.findall(r"<li class=\"(read|unread)\">.*?</li>", content, re.S)
    assert items == ["unread", "read", "unread"]
    rows = re.findall(r"<li class=\"(?:read|unread)\">(.*?)</li>", content, re.S)
    assert [("Unread:" in row) for row in rows] == [True, False, True]
    assert f'{volunteer.name} replied in “Newest synthetic news”' in content
    assert "Mark all read" in content
    assert f'href="{SETTINGS_URL}"' in content


def test_list_without_notifications_explains_what_will_appear(client, member):
    sign_in(client, member)
    content = client.get(LIST_URL).content.decode()
    assert "Nothing yet." in content and "Mark all read" not in content


@pytest.fixture
def moved_away(public_topic, private_category, member, volunteer, moderator, public_category,
               django_capture_on_commit_callbacks):
    """The member is mentioned in a public topic that a moderator then moves to a private channel,
    and replied to in a topic that stays public."""
    staying = TopicFactory(category=public_category, author=member, title="A synthetic topic that stays")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw=f"What do you think, @{member.username}?")
        services.post_create(actor=volunteer, topic_id=staying.pk, raw="A synthetic answer.")
    assert set(Notification.objects.filter(user=member).values_list("kind", flat=True)) == {MENTIONED, REPLIED}
    services.topic_move(actor=moderator, topic_id=public_topic.pk, category=private_category)
    return public_topic, staying


def test_list_leaves_out_topics_the_person_can_no_longer_see(client, moved_away, member):
    moved, staying = moved_away
    sign_in(client, member)
    content = client.get(LIST_URL).content.decode()
    assert staying.title in content
    assert moved.title not in content


def test_bell_counts_only_what_the_list_shows(client, moved_away, member):
    sign_in(client, member)
    content = client.get(LIST_URL).content.decode()
    assert content.count("Unread:") == 1
    assert re.search(r"data-bell-count>1</span>", content)
    assert json.loads(client.get(COUNT_URL).content)["unread"] == 1


def test_opening_a_notification_about_a_topic_moved_away_is_a_404(client, moved_away, member):
    moved, _staying = moved_away
    hidden = Notification.objects.get(user=member, topic=moved)
    sign_in(client, member)
    assert client.get(reverse("forum:notification-open", args=[hidden.pk])).status_code == 404


def test_list_describes_every_kind(client, public_topic, member, volunteer, moderator,
                                   django_capture_on_commit_callbacks):
    second_liker = UserFactory()
    _seed_mixed(member, public_topic, [volunteer, second_liker], moderator, 8, django_capture_on_commit_callbacks)
    sign_in(client, member)
    content = client.get(LIST_URL).content.decode()
    title = public_topic.title
    assert content.count("<li class=") == 8
    # The latest liker is named first.
    assert f"{second_liker.name} and 1 other liked your post in “{title}”" in content
    assert f"mentioned you in “{title}”" in content
    assert f"claimed your request “{title}”" in content
    assert f"delivered a result for “{title}”" in content
    assert "A file waits for your review" in content
    assert "A decision was made about your file" in content
    assert "A moderator sent you a message: “Synthetic note 6”" in content
    assert f"replied in “{title}”" in content


MIXED_KINDS = [LIKED, MENTIONED, NoticeKind.CLAIMED, NoticeKind.RESULT_DELIVERED, ReviewKind.WAITING,
               ReviewKind.DECIDED, MODERATOR_MESSAGE, REPLIED]


def _seed_mixed(person, topic, actors, moderator, count, capture, start=0):
    """`count` notifications for `person`, cycling through forum, request and review kinds, made the
    way the apps make them: likes batched (two people like each post), mentions by a real post."""
    for n in range(start, start + count):
        kind = MIXED_KINDS[n % len(MIXED_KINDS)]
        actor = actors[n % len(actors)]
        if kind == LIKED:
            own_post = services.post_create(actor=person, topic_id=topic.pk, raw=f"Synthetic post {n}.")
            for liker in actors[:2]:
                services.post_like(actor=liker, post_id=own_post.pk)
        elif kind == MENTIONED:
            with capture(execute=True):
                services.post_create(actor=actor, topic_id=topic.pk, raw=f"Synthetic {n}, @{person.username}?")
        elif kind == MODERATOR_MESSAGE:
            services.moderator_message_send(actor=moderator, recipient=person, text=f"Synthetic note {n}")
        elif kind in (ReviewKind.WAITING, ReviewKind.DECIDED):  # private: no topic, no title
            _notify(person, kind=kind, key=f"{kind}:{n}", url=reverse("anonymization:queue"))
        else:
            _notify(person, kind=kind, key=f"{kind}:{n}", topic=topic, actor=actor)
    assert Notification.objects.filter(user=person).count() == start + count


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context), response


def test_list_runs_a_fixed_number_of_queries(client, public_topic, member, volunteer, moderator,
                                             django_capture_on_commit_callbacks, django_assert_max_num_queries):
    actors = [volunteer, UserFactory(), UserFactory()]
    _seed_mixed(member, public_topic, actors, moderator, 3, django_capture_on_commit_callbacks)
    sign_in(client, member)
    client.get("/faq/")  # warm the terms cache, as on a running site
    with django_assert_max_num_queries(NOTIFICATION_LIST_QUERIES):
        few, response = _queries(client, LIST_URL)
    assert response.content.decode().count("<li class=") == 3

    _seed_mixed(member, public_topic, actors, moderator, 27, django_capture_on_commit_callbacks, start=3)
    client.get("/faq/")  # the bell counts again once after a change (as the first time, above)
    with django_assert_max_num_queries(NOTIFICATION_LIST_QUERIES):
        many, response = _queries(client, LIST_URL)
    assert response.content.decode().count("<li class=") == 30
    assert many == few


# --- Settings ----------------------------------------------------------------------------------

class _Controls(HTMLParser):
    """Every form control of a page, with the ids labels point at and whether it sits in a label."""

    def __init__(self):
        super().__init__()
        self.controls, self.label_targets, self._label_depth = [], set(), 0
        self.options: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_targets.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if attrs.get("type") not in ("hidden", "submit", "button"):
                self.controls.append({**attrs, "tag": tag, "in_label": self._label_depth > 0})
            if tag == "select":
                self._select = attrs.get("name")
                self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        elif tag == "select":
            self._select = None


def _controls(content):
    parser = _Controls()
    parser.feed(content)
    return parser


def test_settings_page_offers_every_kind_and_the_digest_schedule(client, member):
    sign_in(client, member)
    content = client.get(SETTINGS_URL).content.decode()
    page = _controls(content)

    for name, kind in notification_kinds().items():
        radios = [c for c in page.controls if c.get("name") == f"kind_{name}"]
        assert [r["type"] for r in radios] == ["radio"] * 3, name
        assert {r["value"] for r in radios} == set(Delivery.values), name
        assert str(kind.label) in content
    # Defaults: replies by email at once, watched posts in the digest, likes only on the site.
    checked = {c["name"]: c["value"] for c in page.controls if c.get("type") == "radio" and "checked" in c}
    assert checked["kind_replied"] == Delivery.IMMEDIATELY
    assert checked["kind_posted"] == Delivery.DIGEST
    assert checked["kind_liked"] == Delivery.NEVER
    assert page.options["frequency"] == ["daily", "weekly", "off"]
    assert page.options["weekday"] == [str(n) for n in range(7)]
    assert page.options["hour"] == [str(n) for n in range(24)]
    assert {"UTC", "Europe/Berlin", "America/Sao_Paulo"} <= set(page.options["time_zone"])
    for label in ("Digest", "Day (weekly digests)", "Hour", "Time zone"):
        assert f">{label}</label>" in content


def test_every_control_on_the_settings_page_has_a_label(client, member):
    sign_in(client, member)
    page = _controls(client.get(SETTINGS_URL).content.decode())
    unlabelled = [
        control for control in page.controls
        if not (control["in_label"] or control.get("id") in page.label_targets or control.get("aria-label"))
    ]
    assert page.controls and unlabelled == []


def test_saving_settings_stores_preferences_and_the_digest(client, member):
    sign_in(client, member)
    data = _settings_data(kind_replied=Delivery.NEVER, kind_liked=Delivery.IMMEDIATELY)

    response = client.post(SETTINGS_URL, data, follow=True)

    assert response.redirect_chain == [(SETTINGS_URL, 302)]
    assert "Your notification settings are saved." in response.content.decode()
    stored = dict(EmailPreference.objects.filter(user=member).values_list("kind", "delivery"))
    assert stored == {name: data[f"kind_{name}"] for name in notification_kinds()}
    subscription = DigestSubscription.objects.get(user=member)
    assert (subscription.frequency, subscription.weekday, subscription.hour, subscription.time_zone) == (
        "weekly", 2, 9, "Europe/Berlin")
    assert subscription.confirmed_at is not None and subscription.unsubscribed_at is None
    # The page shows what was saved.
    page = _controls(response.content.decode())
    checked = {c["name"]: c["value"] for c in page.controls if c.get("type") == "radio" and "checked" in c}
    assert checked["kind_replied"] == Delivery.NEVER and checked["kind_liked"] == Delivery.IMMEDIATELY


def test_turning_the_digest_off_marks_it_unsubscribed(client, member):
    sign_in(client, member)
    client.post(SETTINGS_URL, _settings_data(frequency="off"))
    subscription = DigestSubscription.objects.get(user=member)
    assert subscription.frequency == "off" and subscription.unsubscribed_at is not None


@pytest.mark.parametrize(("field", "value"), [
    ("time_zone", "Mars/Olympus_Mons"), ("hour", "24"), ("hour", "-1"), ("weekday", "7"), ("frequency", "hourly"),
])
def test_invalid_schedule_gives_a_field_error_and_stores_nothing(client, member, field, value):
    services.notification_settings_update(
        user=member, frequency="daily", weekday=0, hour=7, tz="UTC", deliveries={REPLIED: Delivery.IMMEDIATELY})
    sign_in(client, member)

    response = client.post(SETTINGS_URL, _settings_data(**{field: value}))

    assert response.status_code == 200
    content = response.content.decode()
    field_block = re.search(
        rf'<div class="field field-invalid">\s*<label for="id_{field}">.*?</div>\s*</div>', content, re.S)
    assert field_block, f"no error shown at {field}"
    assert 'role="alert"' in field_block.group(0)
    assert "Select a valid choice." in field_block.group(0)
    assert content.count("field-invalid") == 1
    assert dict(EmailPreference.objects.filter(user=member).values_list("kind", "delivery")) == {
        REPLIED: Delivery.IMMEDIATELY}
    subscription = DigestSubscription.objects.get(user=member)
    assert (subscription.frequency, subscription.weekday, subscription.hour, subscription.time_zone) == (
        "daily", 0, 7, "UTC")


def test_settings_page_runs_a_fixed_number_of_queries(client, member, django_assert_max_num_queries):
    sign_in(client, member)
    client.get("/faq/")
    with django_assert_max_num_queries(NOTIFICATION_SETTINGS_QUERIES):
        before, _response = _queries(client, SETTINGS_URL)
    client.post(SETTINGS_URL, _settings_data())
    with django_assert_max_num_queries(NOTIFICATION_SETTINGS_QUERIES):
        after, _response = _queries(client, SETTINGS_URL)
    assert after == before


# --- One-click unsubscribe ---------------------------------------------------------------------

@pytest.fixture
def reply_email(public_topic, requester, volunteer, django_capture_on_commit_callbacks):
    """The email the requester gets when a volunteer answers in their topic."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="A synthetic answer.")
    [message] = [m for m in mail.outbox if m.to == [requester.email]]
    return message


def _unsubscribe_path(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    url = header[1:-1]
    assert url.startswith(settings.SITE_URL)
    return urlsplit(url).path


def _mail_client():
    """A mail client's one-click POST (RFC 8058): no session, no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True)


def _one_click(path):
    return _mail_client().post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")


def test_one_click_unsubscribe_from_the_email_header(reply_email, requester):
    assert reply_email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    response = _one_click(_unsubscribe_path(reply_email))

    assert response.status_code == 200
    assert "you will no longer get emails about: Replies to your posts and topics" in response.content.decode()
    assert EmailPreference.objects.get(user=requester, kind=REPLIED).delivery == Delivery.NEVER
    # Only that kind: mentions still come at once (no row, the default).
    assert not EmailPreference.objects.filter(user=requester, kind=MENTIONED).exists()


def test_settings_page_shows_a_one_click_unsubscribe(client, reply_email, requester):
    _one_click(_unsubscribe_path(reply_email))
    sign_in(client, requester)
    page = _controls(client.get(SETTINGS_URL).content.decode())
    checked = {c["name"]: c["value"] for c in page.controls if c.get("type") == "radio" and "checked" in c}
    assert checked["kind_replied"] == Delivery.NEVER


def test_one_click_unsubscribe_twice_is_harmless(reply_email, requester):
    path = _unsubscribe_path(reply_email)
    assert _one_click(path).status_code == 200
    assert _one_click(path).status_code == 200
    assert EmailPreference.objects.get(user=requester, kind=REPLIED).delivery == Delivery.NEVER


def test_unsubscribe_link_opened_shows_a_button_and_changes_nothing(reply_email, requester):
    response = _mail_client().get(_unsubscribe_path(reply_email))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Stop getting emails about: Replies to your posts and topics?" in content
    assert re.search(r'<form method="post">\s*<button type="submit" class="button">Unsubscribe</button>', content)
    assert not EmailPreference.objects.filter(user=requester).exists()
    assert "no-store" in response["Cache-Control"]


def test_unsubscribe_button_works_without_a_csrf_token(reply_email, requester):
    client = _mail_client()
    path = _unsubscribe_path(reply_email)
    client.get(path)
    assert client.post(path).status_code == 200
    assert EmailPreference.objects.get(user=requester, kind=REPLIED).delivery == Delivery.NEVER


def _tamper(token: str) -> str:
    """Change the signed payload without re-signing it."""
    payload, _sep, signature = token.rpartition(":")
    return f"{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}:{signature}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_unsubscribe_token_is_a_400_with_a_clear_message(reply_email, requester, method):
    path = _unsubscribe_path(reply_email)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse("forum:email-unsubscribe", kwargs={"token": _tamper(token)})

    response = getattr(_mail_client(), method)(tampered)

    assert response.status_code == 400
    assert UNSUBSCRIBE_INVALID in response.content.decode()
    assert not EmailPreference.objects.filter(user=requester).exists()


def test_token_signed_for_something_else_is_refused(requester):
    foreign = signing.dumps({"k": REPLIED, "u": requester.pk}, compress=True)  # no unsubscribe salt
    response = _one_click(reverse("forum:email-unsubscribe", kwargs={"token": foreign}))
    assert response.status_code == 400 and UNSUBSCRIBE_INVALID in response.content.decode()
    assert not EmailPreference.objects.filter(user=requester).exists()


def test_account_digest_unsubscribe_turns_the_digest_off(public_topic, requester, volunteer,
                                                         django_capture_on_commit_callbacks):
    subscription = services.digest_subscription_for_account(user=requester)
    services.email_preference_set(user=requester, kind=REPLIED, delivery=Delivery.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="A synthetic answer.")
    email_id = services.digest_prepare(subscription_id=subscription.pk, period="W2099-01")
    mail.outbox.clear()
    services.emails_send(email_ids=[email_id])
    [digest] = mail.outbox
    path = _unsubscribe_path(digest)

    assert "Stop getting emails about: digests?" in _mail_client().get(path).content.decode()
    response = _one_click(path)

    assert response.status_code == 200
    assert "you will no longer get emails about: digests" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.frequency == DigestSubscription.Frequency.OFF
    assert subscription.unsubscribed_at is not None
    assert EmailPreference.objects.get(user=requester, kind=REPLIED).delivery == Delivery.DIGEST  # left alone


def test_newsletter_digest_unsubscribe_turns_the_newsletter_off(django_capture_on_commit_callbacks):
    subscription = _confirmed_newsletter("reader@example.org", django_capture_on_commit_callbacks)

    def public_sections(since, now):
        return [DigestSection("New requests", [DigestItem("A synthetic request", settings.SITE_URL + "/")])]

    email_id = services.digest_prepare(subscription_id=subscription.pk, period="W2099-01",
                                       public_sections=public_sections)
    mail.outbox.clear()
    services.emails_send(email_ids=[email_id])
    [digest] = mail.outbox

    response = _one_click(_unsubscribe_path(digest))

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.frequency == DigestSubscription.Frequency.OFF
    assert subscription.unsubscribed_at is not None


# --- The newsletter ----------------------------------------------------------------------------

def test_home_shows_visitors_a_labelled_newsletter_form_and_stays_cached(client, db):
    first = client.get("/")

    content = first.content.decode()
    assert f'action="{NEWSLETTER_URL}"' in content
    assert '<label for="newsletter-email">Your email address</label>' in content
    assert re.search(r'<input type="email" name="email" id="newsletter-email" required', content)
    assert "csrfmiddlewaretoken" not in content
    assert settings.CSRF_COOKIE_NAME not in first.cookies and not first.cookies
    second = client.get("/")
    assert second["X-Cache"] == "hit"
    assert second.content == first.content


def test_signed_in_people_do_not_see_the_home_form(client, member):
    sign_in(client, member)
    content = client.get("/").content.decode()
    assert "newsletter-email" not in content


def test_newsletter_page_shows_the_form(client, db):
    content = client.get(NEWSLETTER_URL).content.decode()
    assert '<label for="newsletter-email">Your email address</label>' in content


def _subscribe(email, **extra):
    return _mail_client().post(NEWSLETTER_URL, {"email": email}, **extra)


def test_subscribing_works_without_a_csrf_token_and_says_the_same_for_every_address(
        member, django_capture_on_commit_callbacks):
    _confirmed_newsletter("known@example.org", django_capture_on_commit_callbacks)
    _subscribe("pending@example.org")

    addresses = ["new@example.org", "known@example.org", "pending@example.org", member.email]
    responses = [_subscribe(email) for email in addresses]

    assert [r.status_code for r in responses] == [200] * len(addresses)
    assert CHECK_INBOX in responses[0].content.decode()
    assert {r.content for r in responses} == {responses[0].content}
    assert DigestSubscription.objects.filter(email__iexact="new@example.org", confirmed_at__isnull=True).exists()


def test_subscribing_with_a_malformed_address_shows_a_field_error(db):
    response = _subscribe("not-an-address")

    assert response.status_code == 400
    content = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="newsletter-email-error"' in content
    assert re.search(r'id="newsletter-email-error">\s*<p>Enter a valid email address.</p>', content)
    assert 'value="not-an-address"' in content
    assert not DigestSubscription.objects.exists()


def test_subscribing_is_rate_limited_per_address(db):
    limit, _window = settings.FORUM_RATE_LIMITS["subscribe"]
    for n in range(limit):
        assert _subscribe(f"reader{n}@example.org").status_code == 200

    refused = _subscribe("one-too-many@example.org")

    assert refused.status_code == 429
    assert "Too many subscriptions from your network" in refused.content.decode()
    assert not DigestSubscription.objects.filter(email="one-too-many@example.org").exists()
    assert _subscribe("elsewhere@example.org", REMOTE_ADDR="192.0.2.7").status_code == 200


def _confirm_link(email, capture) -> str:
    """Subscribe `email` from the form; the path of the link in the confirmation email it gets."""
    mail.outbox.clear()
    with capture(execute=True):
        assert _subscribe(email).status_code == 200
    [message] = mail.outbox
    assert message.to == [email]
    match = re.search(r"https?://\S+(/newsletter/confirm/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _confirmed_newsletter(email, capture) -> DigestSubscription:
    assert Client().post(_confirm_link(email, capture)).status_code == 200
    return DigestSubscription.objects.get(email=email, confirmed_at__isnull=False)


@pytest.fixture
def confirm_path(django_capture_on_commit_callbacks):
    """The link in the confirmation email a visitor gets after subscribing."""
    return _confirm_link("reader@example.org", django_capture_on_commit_callbacks)


def test_confirm_link_shows_a_button_and_confirms_nothing(confirm_path):
    response = _mail_client().get(confirm_path)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Send the weekly email of new requests and results to reader@example.org?" in content
    assert "Yes, subscribe me" in content
    assert DigestSubscription.objects.get(email="reader@example.org").confirmed_at is None


def test_confirm_button_confirms(confirm_path):
    client = _mail_client()
    page = client.get(confirm_path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = client.post(confirm_path, {"csrfmiddlewaretoken": token})

    assert response.status_code == 200
    assert "Confirmed: reader@example.org will get the weekly email." in response.content.decode()
    subscription = DigestSubscription.objects.get(email="reader@example.org")
    assert subscription.confirmed_at is not None and subscription.frequency == "weekly"


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_confirm_link_is_a_400_with_a_clear_message(client, confirm_path, method):
    token = confirm_path.rstrip("/").rsplit("/", 1)[1]
    value, _sep, signature = token.rpartition(":")
    tampered = reverse("forum:newsletter-confirm", kwargs={"token": f"{value}:{signature[::-1]}"})

    response = getattr(client, method)(tampered)

    assert response.status_code == 400
    assert CONFIRM_INVALID in response.content.decode()
    assert DigestSubscription.objects.get(email="reader@example.org").confirmed_at is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_confirm_link_is_a_400_with_a_clear_message(client, confirm_path, method):
    subscription = DigestSubscription.objects.get(email="reader@example.org")
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    long_ago = int(time.time()) - (settings.NEWSLETTER_CONFIRM_DAYS + 1) * 86400
    signer.timestamp = lambda: signing.b62_encode(long_ago)
    token = signer.sign(f"{subscription.pk}:{subscription.email.lower()}")

    response = getattr(client, method)(reverse("forum:newsletter-confirm", kwargs={"token": token}))

    assert response.status_code == 400
    assert CONFIRM_EXPIRED in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


# --- Escaping ----------------------------------------------------------------------------------

def test_notification_text_is_escaped(client, public_topic, moderator, requester,
                                      django_capture_on_commit_callbacks):
    sly = UserFactory(display_name='<img src=x onerror="alert(1)">Eve', roles=[])
    services.moderator_message_send(actor=moderator, recipient=requester, text="<script>alert('hi')</script>")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=sly, topic_id=public_topic.pk, raw="A synthetic answer.")
    _notify(requester, kind=NoticeKind.CLAIMED, key="sly-title", topic=public_topic, actor=sly,
            title='</a><b onclick="x()">Bold</b>')
    sign_in(client, requester)

    content = client.get(LIST_URL).content.decode()

    assert "<script>alert" not in content and "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in content
    assert "<img src=x" not in content and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Eve" in content
    assert '<b onclick' not in content and "&lt;/a&gt;&lt;b onclick=&quot;x()&quot;&gt;Bold&lt;/b&gt;" in content


def test_newsletter_address_sent_back_is_escaped(db):
    response = _subscribe('"><script>alert(1)</script>')
    assert response.status_code == 400
    content = response.content.decode()
    assert "<script>alert(1)" not in content
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in content
