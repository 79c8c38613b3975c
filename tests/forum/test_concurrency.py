"""Counters and post numbers stay right when people write at the same moment (PostgreSQL)."""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from forum import services
from forum.models import Flag, Post, ReviewItem, Topic
from tests.forum.factories import CategoryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 8


def _run_together(functions):
    """Start every function at once on its own thread and database connection."""
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            barrier.wait()
            function()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_replies_get_dense_numbers_and_right_counters(needs_postgresql):
    author = UserFactory()
    topic = services.topic_create(actor=author, category=CategoryFactory(), title="Busy topic", raw="First")
    writers = [UserFactory() for _ in range(WRITERS)]
    _run_together([
        (lambda writer=writer: services.post_create(actor=writer, topic_id=topic.pk, raw=f"From {writer}"))
        for writer in writers
    ])
    topic.refresh_from_db()
    numbers = sorted(Post.objects.filter(topic=topic).values_list("number", flat=True))
    assert numbers == list(range(1, WRITERS + 2))
    assert (topic.post_count, topic.last_post_number) == (WRITERS + 1, WRITERS + 1)


def test_concurrent_likes_count_once_each(needs_postgresql):
    author = UserFactory()
    topic = services.topic_create(actor=author, category=CategoryFactory(), title="Liked topic", raw="First")
    post = topic.posts.get()
    likers = [UserFactory() for _ in range(WRITERS)]
    # every liker twice at once: one like each, never a lost or doubled count
    _run_together([
        (lambda liker=liker: services.post_like(actor=liker, post_id=post.pk)) for liker in likers + likers
    ])
    post.refresh_from_db()
    assert post.like_count == WRITERS == post.likes.count()
    assert Topic.objects.get(pk=topic.pk).like_count == WRITERS


def _refusals(function, refusals):
    """`function`, with a ValidationError (the refusal being tested) collected instead of raised."""
    def run():
        try:
            function()
        except ValidationError as error:
            refusals.append(error)
    return run


def test_a_double_submitted_topic_is_created_once(needs_postgresql, settings):
    settings.FORUM_DUPLICATE_POST_MINUTES = 60
    author, category = UserFactory(), CategoryFactory()
    refusals = []
    _run_together([
        _refusals(lambda: services.topic_create(actor=author, category=category, title="Once", raw="Same text"),
                  refusals)
        for _ in range(4)
    ])
    assert Topic.objects.filter(author=author).count() == 1
    assert len(refusals) == 3


def test_a_person_flagging_one_post_twice_at_once_flags_it_once(needs_postgresql):
    author, flagger = UserFactory(), UserFactory()
    topic = services.topic_create(actor=author, category=CategoryFactory(), title="Flagged", raw="First")
    post = topic.posts.get()
    refusals = []
    _run_together([
        _refusals(lambda: services.post_flag(actor=flagger, post_id=post.pk, reason="spam"), refusals)
        for _ in range(4)
    ])
    assert Flag.objects.filter(post=post, flagger=flagger).count() == 1
    assert ReviewItem.objects.filter(post=post).count() == 1
    assert len(refusals) == 3
