"""The site's editable pages: guidelines and FAQ (edited in place), terms (published as versions)."""
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..markdown import render_markdown
from ..models import ModerationLogEntry, SitePage, TermsVersion, User
from ..pagecache import invalidate_on_commit
from ..permissions import check_can_edit_site_pages
from ..selectors import TERMS_CACHE_KEY
from .moderation import moderation_log


def _render(raw: str, field: str = "raw") -> str:
    if not raw.strip():
        raise ValidationError({field: _("Please write something.")})
    try:
        return render_markdown(raw)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


@transaction.atomic
def site_page_save(*, actor: User, slug: str, title: str, raw: str) -> SitePage:
    """Write the guidelines or the FAQ (staff). Renders the Markdown once; logged. Locks the page."""
    check_can_edit_site_pages(actor)
    if slug not in SitePage.Slug.values:
        raise ValidationError(_("Unknown page."))
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": _("Please give the page a title.")})
    html = _render(raw)
    page = SitePage.objects.select_for_update().filter(slug=slug).first() or SitePage(slug=slug)
    page.title, page.raw, page.html = title[:200], raw, html
    page.updated_at, page.updated_by = timezone.now(), actor
    page.save()
    moderation_log(actor=actor, action=ModerationLogEntry.Action.PAGE_EDITED, detail={"page": slug})
    invalidate_on_commit()
    return page


@transaction.atomic
def terms_publish(
    *, version: str, raw: str = "", summary_of_changes: str = "", actor: User | None = None,
) -> TermsVersion:
    """Publish a new terms version; every signed-in person must accept it on their next page.

    `raw` is the full text in Markdown (empty: the built-in text). `actor` None is the
    command line; otherwise only staff publish, and it is logged.
    """
    if actor is not None:
        check_can_edit_site_pages(actor)
    terms = TermsVersion(version=version, summary_of_changes=summary_of_changes, raw=raw)
    if raw.strip():
        terms.html = _render(raw)
    terms.full_clean()
    terms.save()
    if actor is not None:
        moderation_log(actor=actor, action=ModerationLogEntry.Action.TERMS_PUBLISHED, detail={"version": version})
    # Now for this process, and again after commit in case another request re-cached the old one.
    cache.delete(TERMS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(TERMS_CACHE_KEY))
    invalidate_on_commit()
    return terms
