"""Export bundles of solved requests: the question, the accepted result, their public files,
a LICENSES/<id>.txt per license used, a README.md with attribution and a CITATION.cff."""
import hashlib
import json
import tempfile

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from anonymization import selectors as anonymization_selectors
from forum.models import Post, User
from licensing import bundles
from licensing import selectors as licensing_selectors
from licensing import services as licensing_services
from licensing.models import ExportBundle, LicensedItem
from licensing.policy import Kind, evaluate

from ..models import DataRequest, Result
from ..permissions import can_export_request
from .licenses import result_license_problems
from .lifecycle import InvalidTransition

ItemType = LicensedItem.ItemType


def _site() -> tuple[str, str]:
    return settings.SITE_NAME, settings.SITE_URL.rstrip("/")


def _contents(data_request: DataRequest) -> dict:
    """What a bundle of `data_request` holds, read now; its fingerprint changes with any of it."""
    result = Result.objects.select_related("post", "author").get(pk=data_request.accepted_result_id)
    if result.post.deleted_at is not None:
        raise InvalidTransition(_("The accepted result was deleted; there is nothing to export."))
    if result.post.hidden or Post.objects.filter(topic_id=data_request.topic_id, number=1).exclude(hidden="").exists():
        raise InvalidTransition(_("The request or its result is hidden until a moderator reviews it; it can be "
                                  "exported afterwards."))
    dataset_item = licensing_selectors.item_map(
        item_type=ItemType.DATASET, object_ids=[data_request.pk]).get(data_request.pk)
    if result_license_problems(result, data_request):
        raise InvalidTransition(_("The accepted result is held for its license; it can be exported once its "
                                  "author fixes it."))
    question = Post.objects.filter(topic_id=data_request.topic_id, number=1).values_list("raw", flat=True).first()
    data_held = dataset_item is not None and dataset_item.is_held or bool(
        dataset_item is not None and dataset_item.checked_revision < dataset_item.revision
        and evaluate(Kind.DATA, data_request.data_license).messages)
    files = [
        upload for upload in anonymization_selectors.published_files(topic_id=data_request.topic_id)
        if upload.post_id == result.post_id or (upload.post_id is None and not data_held)
    ]
    fingerprint = hashlib.sha256(json.dumps([
        data_request.topic.title, question, data_request.data_license, data_request.data_links, data_held,
        result.pk, result.post.raw, result.license, result.repository_license, result.repository_url,
        [(upload.pk, upload.published_name) for upload in files],
    ], default=str).encode()).hexdigest()
    return {"result": result, "question": question or "", "files": files, "data_held": data_held,
            "fingerprint": fingerprint}


def _file_name(data_request: DataRequest) -> str:
    return f"{slugify(data_request.topic.title)[:80] or 'request'}-{data_request.pk}.zip"


def export_request(*, actor: User, data_request: DataRequest) -> ExportBundle:
    """The bundle of a solved request, made now when small, else queued for a worker.

    Asking again returns the same bundle while nothing in it changed.
    """
    from ..tasks import build_export

    if not can_export_request(actor, data_request):
        raise PermissionDenied(_("Only solved requests can be exported."))
    contents = _contents(data_request)
    size = sum(upload.published_size or 0 for upload in contents["files"])
    if size > settings.LICENSING_EXPORT_MAX_BYTES:
        raise InvalidTransition(_("The files of this request are too large for one bundle; download them one "
                                  "by one from the request's page."))
    bundle, created = licensing_services.bundle_get_or_create(
        topic=data_request.topic, fingerprint=contents["fingerprint"], file_name=_file_name(data_request),
        actor=actor if actor.is_authenticated else None,
    )
    if created:
        if size <= settings.LICENSING_EXPORT_INLINE_BYTES:
            export_build(bundle_id=bundle.pk)
            bundle.refresh_from_db()
        else:
            transaction.on_commit(lambda: build_export.delay(bundle_id=bundle.pk))
    return bundle


def _file_paths(files) -> list[tuple]:
    """(upload, path in the bundle): results/ for the result's files, data/ for the request's, names
    made unique."""
    used, paths = set(), []
    for upload in files:
        folder = "results/" if upload.post_id else "data/"
        name = upload.published_version.public_name
        stem, dot, extension = name.rpartition(".")
        candidate, number = name, 1
        while folder + candidate in used:
            number += 1
            candidate = f"{stem}-{number}.{extension}" if dot else f"{name}-{number}"
        used.add(folder + candidate)
        paths.append((upload, folder + candidate))
    return paths


def _readme(data_request, contents, *, paths, data_attribution, result_attribution, license_ids) -> str:
    site_name, site_url = _site()
    result = contents["result"]
    lines = [
        f"# {data_request.topic.title}", "",
        _("Exported from %(site)s: %(url)s") % {"site": site_name,
                                                  "url": site_url + data_request.get_absolute_url()}, "",
        "## " + _("What is in this bundle"), "",
        "- `question.md`: " + _("the question, as asked"),
        "- `result.md`: " + _("the accepted result"),
    ]
    for upload, path in paths:
        license = result.license if upload.post_id else data_request.data_license
        lines.append(f"- `{path}`: {license}")
    lines += ["- `CITATION.cff`: " + _("how to cite it"),
              "- `LICENSES/`: " + _("the full text of every license used"), ""]
    lines += ["## " + _("Attribution"), "", _("When you reuse this work, credit it like this:"), ""]
    if contents["data_held"]:
        lines.append("- " + _("The request's data files are held for their license and are not included."))
    else:
        lines.append(f"- {_('Data')}: {data_attribution}")
    lines.append(f"- {_('Result')}: {result_attribution}")
    lines += ["", "## " + _("Reproduce it"), "", f"- {_('Repository')}: {result.repository_url}"]
    if result.repository_license:
        lines.append(f"- {_('Code license (as declared by its author)')}: {result.repository_license}")
    if data_request.data_links and not contents["data_held"]:
        lines += ["", "## " + _("Where the data lives"), ""] + [f"- {link}" for link in data_request.data_links]
    lines += ["", "## " + _("Licenses"), ""]
    lines += [f"- {key}: LICENSES/{key}.txt ({site_url}/licenses/{key}/)" for key in license_ids]
    return "\n".join(lines) + "\n"


def export_build(*, bundle_id: int) -> bool:
    """Build one bundle into the published storage, reporting progress. Safe to run twice: a bundle
    already built or being built is left alone, and a bundle whose request changed fails with a reason."""
    bundle = licensing_services.bundle_start(bundle_id=bundle_id)
    if bundle is None:
        return False
    try:
        data_request = DataRequest.objects.select_related("topic", "author").get(topic_id=bundle.topic_id)
        if data_request.state != DataRequest.State.ACCEPTED or data_request.accepted_result_id is None:
            raise InvalidTransition(_("This request is no longer solved."))
        contents = _contents(data_request)
        if contents["fingerprint"] != bundle.fingerprint:
            raise InvalidTransition(_("The request changed while the bundle waited; ask for it again."))
        result = contents["result"]
        site_name, site_url = _site()
        data_attribution = bundles.attribution(
            title=data_request.topic.title, author=data_request.author.name, site=site_name,
            date=(data_request.published_at or data_request.created_at).date(), expression=data_request.data_license)
        result_attribution = bundles.attribution(
            title=_("Result for “%(title)s”") % {"title": data_request.topic.title}, author=result.author.name,
            site=site_name, date=result.created_at.date(), expression=result.license)
        expressions = [result.license] + ([] if contents["data_held"] else [data_request.data_license])
        license_ids = bundles.license_ids_of(*expressions)
        root = _file_name(data_request)[:-4] + "/"
        paths = _file_paths(contents["files"])
        entries = [
            bundles.Entry(root + "README.md", _readme(
                data_request, contents, paths=paths, data_attribution=data_attribution,
                result_attribution=result_attribution, license_ids=license_ids).encode()),
            bundles.Entry(root + "CITATION.cff", bundles.citation_cff(
                title=data_request.topic.title,
                authors=[bundles.Author(person.name, person.orcid)
                         for person in dict.fromkeys([data_request.author, result.author])],
                date_released=data_request.accepted_at.date(), url=site_url + data_request.get_absolute_url(),
                license=result.license, abstract=contents["question"][:2000], repository=result.repository_url,
                references=[] if contents["data_held"] else [bundles.Reference(
                    title=data_request.topic.title, authors=[bundles.Author(data_request.author.name,
                                                                            data_request.author.orcid)],
                    url=site_url + data_request.get_absolute_url() + "#data", license=data_request.data_license)],
            ).encode()),
            bundles.Entry(root + "question.md", f"# {data_request.topic.title}\n\n{contents['question']}\n".encode()),
            bundles.Entry(root + "result.md", (
                f"# {_('Result')}\n\n{result.post.raw}\n\n- {_('Repository')}: {result.repository_url}\n"
                f"- {_('License')}: {result.license}\n- {_('Attribution')}: {result_attribution}\n").encode()),
        ]
        for upload, path in paths:
            entries.append(bundles.Entry(
                root + path, size=upload.published_size or 0,
                open=lambda upload=upload: anonymization_selectors.published_open(upload=upload)))
        entries += [bundles.Entry(root + f"LICENSES/{key}.txt", bundles.license_file(key).encode())
                    for key in license_ids]
        last = [0]

        def progress(percent):
            if percent - last[0] >= 5:
                last[0] = percent
                licensing_services.bundle_progress(bundle=bundle, progress=percent)

        with tempfile.TemporaryFile() as target:
            bundles.write_zip(target, entries, progress=progress)
            size = target.tell()
            target.seek(0)
            storage_name = bundles.bundle_storage().save(bundles.bundle_storage_name(), File(target))
        if not licensing_services.bundle_finish(bundle=bundle, storage_name=storage_name, size=size):
            bundles.bundle_storage().delete(storage_name)  # another build took over; keep only its file
            return False
        return True
    except InvalidTransition as error:
        licensing_services.bundle_fail(bundle=bundle, error=" ".join(error.messages))
        return False
    except Exception:
        licensing_services.bundle_fail(bundle=bundle, error=_("The bundle could not be built; try again."))
        raise


def export_is_current(*, bundle: ExportBundle, data_request: DataRequest) -> bool:
    """Whether a built bundle still matches its request (no edit, deletion or hold since)."""
    if data_request.state != DataRequest.State.ACCEPTED or data_request.accepted_result_id is None:
        return False
    try:
        return _contents(data_request)["fingerprint"] == bundle.fingerprint
    except InvalidTransition:
        return False


def export_open(*, bundle: ExportBundle):
    """The built zip of `bundle`, opened for reading."""
    return bundles.bundle_storage().open(bundle.storage_name, "rb")
