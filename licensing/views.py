"""License pages: the policy with the licenses in use, one page per license, and the moderators' report."""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from forum.pagecache import cache_anonymous_page

from . import policy, selectors
from .permissions import can_read_license_report, check_can_read_license_report
from .registry import license_get, parse


@cache_anonymous_page
def license_list(request):
    """What may be shared under which license, and the licenses in use here."""
    usage = selectors.license_usage(user=request.user)
    counts: dict[str, int] = {}
    for row in usage:
        for key in parse(row["expression"]).ids:
            counts[key] = counts.get(key, 0) + row["count"]
    in_use = [(license_get(key), count) for key, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]
    kinds = [
        {"kind": kind, "label": kind.label, "explanation": policy.explanation(kind),
         "default": policy.default_license(kind),
         "allowed": policy.allowed_ids(kind) if kind != policy.Kind.CODE else None}
        for kind in policy.Kind
    ]
    return render(request, "licensing/license_list.html", {
        "kinds": kinds, "in_use": [(info, count) for info, count in in_use if info is not None],
        "can_read_report": can_read_license_report(request.user),
    })


@cache_anonymous_page
def license_detail(request, spdx_id):
    """One license: its name, what others may do, its official text, and the items under it."""
    info = license_get(spdx_id)
    if info is None:
        raise Http404
    allowed_for = [kind for kind in policy.Kind if spdx_id in policy.allowed_ids(kind)]
    return render(request, "licensing/license_detail.html", {
        "license": info, "allowed_for": allowed_for,
        "items": selectors.items_for_license(user=request.user, spdx_id=spdx_id),
    })


@login_required
def license_report(request):
    """Moderators: items held for licensing problems, and counts per license."""
    check_can_read_license_report(request.user)
    counts = selectors.report_counts()
    for row in counts:
        row["kind_label"] = policy.Kind(row["kind"]).label
    return render(request, "licensing/report.html", {"held": selectors.held_list(), "counts": counts})
