import pytest
from django.core.management import CommandError, call_command

from anonymization.models import Upload
from forum.models import Category, Post, Topic, User
from licensing.models import LicensedItem
from requests_board.models import DataRequest
from requests_board.permissions import request_is_public

pytestmark = pytest.mark.django_db


def counts():
    return (Category.objects.count(), User.objects.count(), Topic.objects.count(), Post.objects.count())


def test_seed_demo_creates_mission_categories_accounts_and_requests_and_is_safe_twice(
    settings, capsys, django_capture_on_commit_callbacks,
):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    first = counts()
    assert first[0] == 10 and first[1] == 4 and first[2] >= 6  # nine categories and one subcategory
    assert Category.objects.get(slug="anonymization").security == Category.Security.PRIVATE
    call_command("seed_demo")
    assert counts() == first
    assert Topic.objects.filter(pinned_globally=True).count() == 1
    assert Post.objects.filter(like_count=1).count() == 1
    assert DataRequest.objects.filter(state="open").count() == 3
    assert DataRequest.objects.filter(state="in_progress").count() == 1
    # A solved request and a result held for its license (CC-BY-4.0 is not a results license).
    assert DataRequest.objects.filter(state="accepted").count() == 1
    assert DataRequest.objects.filter(state="delivered").count() == 1
    assert list(LicensedItem.objects.filter(state="held").values_list("item_type", "expression")) == [
        ("result", "CC-BY-4.0")]
    pending = DataRequest.objects.get(needs_anonymization=True)
    assert pending.topic.category.slug == "anonymization" and not request_is_public(pending)
    held = Upload.objects.get(topic=pending.topic)  # the anonymization queue has a file to review
    assert held.state == Upload.State.REVIEW and held.current_version.finding_count > 0
    assert User.objects.get(username="demo_volunteer").expertise.count() == 2
    output = capsys.readouterr().out
    assert "demo.requester@example.org" in output and "password:" in output
    assert User.objects.get(username="demo_moderator").has_perm("forum.moderate")


def test_seed_demo_if_empty_leaves_existing_sites_alone(settings, public_category):
    settings.DEBUG = True
    call_command("seed_demo", "--if-empty")
    assert Category.objects.count() == 1


def test_seed_demo_refuses_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
