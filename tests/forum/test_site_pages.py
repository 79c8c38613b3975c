"""The site's editable pages: guidelines and FAQ written by staff in Markdown (sanitized, logged,
fresh for anonymous visitors at once), and terms published as versions that everybody accepts."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from forum import services
from forum.models import ModerationLogEntry, SitePage, TermsVersion
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

UNSAFE = (
    "Be **kind** to qqvolunteers.\n\n"
    "<script>alert('qq-script')</script>\n\n"
    '<img src="x" onerror="alert(1)"> [click](javascript:alert(2))'
)


@pytest.fixture
def staff(db):
    """Staff who can use the admin: a superuser, so with a second factor."""
    return UserFactory(is_staff=True, is_superuser=True, totp=True)


def _save(actor, slug="guidelines", title="House rules", raw=UNSAFE, capture=None):
    if capture is None:
        return services.site_page_save(actor=actor, slug=slug, title=title, raw=raw)
    with capture(execute=True):
        return services.site_page_save(actor=actor, slug=slug, title=title, raw=raw)


# --- Guidelines and FAQ -----------------------------------------------------------------

def test_built_in_text_without_a_site_page(client):
    guidelines = client.get("/guidelines/").content.decode()
    assert "<h1>Community guidelines</h1>" in guidelines
    assert "Be constructive and kind." in guidelines
    faq = client.get("/faq/").content.decode()
    assert "<h1>How it works</h1>" in faq and "Frequently asked questions" in faq


@pytest.mark.parametrize("slug", ["guidelines", "faq"])
def test_staff_written_markdown_replaces_the_built_in_text_sanitized(client, staff, slug):
    page = _save(staff, slug=slug, title="  House   rules  ")
    assert page.title == "House rules" and page.updated_by == staff
    assert "<strong>kind</strong>" in page.html and "<script" not in page.html
    html = client.get(f"/{slug}/").content.decode()
    assert "<h1>House rules</h1>" in html
    assert "Be <strong>kind</strong> to qqvolunteers." in html
    assert "<script>alert" not in html and "onerror" not in html and "javascript:alert" not in html
    assert "Be constructive and kind." not in html and "<h1>How it works</h1>" not in html
    assert "Last changed" in html


def test_saving_again_changes_the_one_page(staff):
    first = _save(staff, slug="faq", title="FAQ", raw="First **answer**.")
    second = _save(staff, slug="faq", title="FAQ, revised", raw="Second answer.")
    assert first.pk == second.pk
    page = SitePage.objects.get(slug="faq")
    assert (page.title, page.raw, page.html) == ("FAQ, revised", "Second answer.", "<p>Second answer.</p>")
    assert SitePage.objects.count() == 1


@pytest.mark.parametrize("who", ["member", "moderator", "anonymizer", "anonymous", "inactive_staff"])
def test_only_staff_may_save(who, request):
    if who == "anonymous":
        actor = AnonymousUser()
    elif who == "inactive_staff":
        actor = UserFactory(is_staff=True, is_active=False)
    else:
        actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _save(actor)
    assert not SitePage.objects.exists()
    assert not ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.PAGE_EDITED).exists()


@pytest.mark.parametrize(("slug", "title", "raw", "field"), [
    ("privacy", "Privacy", "Text.", None),
    ("faq", "   ", "Text.", "title"),
    ("faq", "FAQ", "  \n ", "raw"),
])
def test_bad_saves_are_refused(staff, slug, title, raw, field):
    with pytest.raises(ValidationError) as error:
        _save(staff, slug=slug, title=title, raw=raw)
    if field:
        assert field in error.value.message_dict
    assert not SitePage.objects.exists()


def test_edits_are_logged(staff):
    _save(staff, slug="guidelines")
    _save(staff, slug="faq", raw="Answers.")
    entries = ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.PAGE_EDITED).order_by("pk")
    assert [(e.actor, e.detail) for e in entries] == [(staff, {"page": "guidelines"}), (staff, {"page": "faq"})]


def test_saving_makes_the_anonymous_copy_stale(client, staff, django_capture_on_commit_callbacks):
    assert "Be constructive and kind." in client.get("/guidelines/").content.decode()
    cached = client.get("/guidelines/")
    assert cached.get("X-Cache") == "hit"
    _save(staff, raw="Freshly **written** rules.", capture=django_capture_on_commit_callbacks)
    fresh = client.get("/guidelines/")
    assert fresh.get("X-Cache") != "hit"
    assert "Freshly <strong>written</strong> rules." in fresh.content.decode()


def test_a_write_without_the_service_is_not_seen_while_cached(client, staff):
    """The test above means something: the page really is served from the cache."""
    _save(staff, raw="Cached rules.")
    assert "Cached rules." in client.get("/guidelines/").content.decode()
    SitePage.objects.filter(slug="guidelines").update(html="<p>Sneaked in.</p>")
    assert "Cached rules." in client.get("/guidelines/").content.decode()


# --- Terms --------------------------------------------------------------------------------

def test_terms_page_shows_the_built_in_text_while_the_version_has_none(client):
    html = client.get("/terms/").content.decode()
    assert "Version 2026-11-01" in html and "Purpose" in html
    assert "an earlier version" not in html
    assert "All versions" not in html  # only one version so far


def test_terms_page_shows_the_current_versions_text_and_lists_versions(client, staff):
    services.terms_publish(
        version="2026-12-01", raw="## Data\n\nShare **synthetic** data only.\n\n<script>x()</script>",
        summary_of_changes="Clearer rules on qq-data.", actor=staff,
    )
    html = client.get("/terms/").content.decode()
    assert "Version 2026-12-01" in html
    assert "<h2>Data</h2>" in html and "Share <strong>synthetic</strong> data only." in html
    assert "<script>x()" not in html
    assert "This help desk exists to help mitigate COVID-19" not in html
    assert "All versions" in html
    assert 'href="/terms/2026-12-01/"' in html and 'href="/terms/2026-11-01/"' in html
    assert "Clearer rules on qq-data." in html
    assert "an earlier version" not in html


def test_an_earlier_version_is_marked_as_earlier(client, staff):
    services.terms_publish(version="2026-12-01", raw="The new text.", actor=staff)
    earlier = client.get("/terms/2026-11-01/").content.decode()
    assert "Version 2026-11-01" in earlier and "an earlier version" in earlier
    assert 'href="/terms/">read the current one</a>' in earlier
    assert "This help desk exists to help mitigate COVID-19" in earlier and "The new text." not in earlier
    current = client.get("/terms/2026-12-01/").content.decode()
    assert "The new text." in current and "an earlier version" not in current


def test_unknown_terms_version_is_404(client):
    assert client.get("/terms/1999-01-01/").status_code == 404


def test_only_staff_publish_terms_and_it_is_logged(staff, moderator):
    with pytest.raises(PermissionDenied):
        services.terms_publish(version="2026-12-01", raw="x", actor=moderator)
    assert not TermsVersion.objects.filter(version="2026-12-01").exists()
    terms = services.terms_publish(version="2026-12-01", raw="Rendered *once*.", actor=staff)
    assert terms.html == "<p>Rendered <em>once</em>.</p>"
    entry = ModerationLogEntry.objects.get(action=ModerationLogEntry.Action.TERMS_PUBLISHED)
    assert entry.actor == staff and entry.detail == {"version": "2026-12-01"}


# --- The admin ----------------------------------------------------------------------------

def test_publishing_in_the_admin_asks_everybody_to_accept(client, staff, member, django_capture_on_commit_callbacks):
    from django.test import Client

    member_client = Client()
    sign_in(member_client, member)
    assert member_client.get("/").status_code == 200
    sign_in(client, staff)
    assert client.get("/admin/forum/termsversion/add/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/forum/termsversion/add/", {
            "version": "2026-12-15", "summary_of_changes": "Clearer patient-data rules.",
            "raw": "You **pledge** to share synthetic data only.", "_save": "Save",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    terms = TermsVersion.objects.get(version="2026-12-15")
    assert terms.html == "<p>You <strong>pledge</strong> to share synthetic data only.</p>"
    entry = ModerationLogEntry.objects.get(action=ModerationLogEntry.Action.TERMS_PUBLISHED)
    assert entry.actor == staff and entry.detail == {"version": "2026-12-15"}
    response = member_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/terms/accept/?next=%2F"
    assert "You <strong>pledge</strong>" in member_client.get("/terms/").content.decode()
    # Staff too accept on their next page.
    assert client.get("/admin/").status_code == 302


def test_admin_refuses_an_invalid_version(client, staff):
    sign_in(client, staff)
    response = client.post("/admin/forum/termsversion/add/", {
        "version": "not valid!", "summary_of_changes": "", "raw": "x", "_save": "Save",
    })
    assert response.status_code == 200
    assert not TermsVersion.objects.filter(version="not valid!").exists()
    assert not ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.TERMS_PUBLISHED).exists()


def test_a_published_versions_text_is_read_only_in_the_admin(client, staff):
    terms = services.terms_publish(version="2026-12-01", raw="Accepted **exactly** this.", actor=staff)
    sign_in(client, staff)
    # Staff accept the new version first, as everybody must.
    client.post("/terms/accept/", {"accept_terms": "on", "accept_guidelines": "on", "accept_pledge": "on",
                                   "version": "2026-12-01", "next": "/"})
    url = f"/admin/forum/termsversion/{terms.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="summary_of_changes"' in form
    assert 'name="raw"' not in form and 'name="version"' not in form
    assert "Accepted **exactly** this." in form  # shown, not editable
    response = client.post(url, {
        "version": "2099-01-01", "raw": "Quietly changed.", "summary_of_changes": "Typo fixed in the summary.",
        "_save": "Save",
    })
    assert response.status_code == 302
    terms.refresh_from_db()
    assert (terms.version, terms.raw) == ("2026-12-01", "Accepted **exactly** this.")
    assert terms.html == "<p>Accepted <strong>exactly</strong> this.</p>"
    assert terms.summary_of_changes == "Typo fixed in the summary."
    assert "Quietly changed." not in client.get("/terms/").content.decode()


def test_site_page_admin_saves_through_the_service(client, staff):
    sign_in(client, staff)
    response = client.post("/admin/forum/sitepage/add/", {
        "slug": "faq", "title": "Questions", "raw": UNSAFE, "_save": "Save",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    page = SitePage.objects.get(slug="faq")
    assert "Be <strong>kind</strong> to qqvolunteers." in page.html and "<script" not in page.html
    assert page.updated_by == staff
    assert ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.PAGE_EDITED, actor=staff).count() == 1
    change_url = f"/admin/forum/sitepage/{page.pk}/change/"
    form = client.get(change_url).content.decode()
    assert 'name="slug"' not in form and 'name="raw"' in form
    response = client.post(change_url, {"title": "Questions, answered", "raw": "Now *answered*.", "_save": "Save"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.slug, page.title, page.html) == ("faq", "Questions, answered", "<p>Now <em>answered</em>.</p>")
    assert ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.PAGE_EDITED).count() == 2
    assert "Now <em>answered</em>." in client.get("/faq/").content.decode()
    assert client.get(f"/admin/forum/sitepage/{page.pk}/delete/").status_code == 403


def test_admin_is_for_staff_only(client, member):
    sign_in(client, member)
    response = client.get("/admin/forum/sitepage/add/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SitePage.objects.exists()

