"""Maintenance across all content: rendering every post and bio again after the renderer changed."""
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Post, User
from ..pagecache import invalidate_on_commit
from .content import render_post_text


def posts_rerender(*, apply: bool, batch_size: int = 500, stdout=None) -> dict:
    """Render every post and bio again with the current renderer; store what changed if `apply`.

    Runs in batches, each in its own transaction, so a long run holds no lock for
    long and can be interrupted and restarted. A post whose text the current
    renderer refuses keeps its stored HTML and is counted as failed.
    """
    from ..markdown import render_markdown

    counts = {"checked": 0, "changed": 0, "failed": 0}
    last_pk = 0
    while True:
        batch = list(Post.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", "raw", "html")[:batch_size])
        if not batch:
            break
        changed = []
        for post in batch:
            counts["checked"] += 1
            try:
                html = render_post_text(post.raw).html
            except ValidationError:
                counts["failed"] += 1
                if stdout:
                    stdout.write(f"post {post.pk}: the current renderer refuses its text; kept as it was")
                continue
            if html != post.html:
                post.html = html
                changed.append(post)
        counts["changed"] += len(changed)
        if apply and changed:
            with transaction.atomic():
                Post.objects.bulk_update(changed, ["html"])
        last_pk = batch[-1].pk
    for user in User.objects.exclude(bio="").only("pk", "bio", "bio_html").iterator():
        counts["checked"] += 1
        try:
            html = render_markdown(user.bio)
        except ValidationError:
            counts["failed"] += 1
            continue
        if html != user.bio_html:
            counts["changed"] += 1
            if apply:
                User.objects.filter(pk=user.pk).update(bio_html=html)
    if apply and counts["changed"]:
        invalidate_on_commit()
    return counts
