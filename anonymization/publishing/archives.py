"""Archives rebuilt member by member, each member replaced by its own public copy."""
import tempfile
import zipfile

from django.conf import settings

from .. import filetypes
from .spool import SPOOL_BYTES

MAX_ARCHIVE_DEPTH = 3


def _clean_archive(source, target, *, depth: int) -> None:
    """An archive rebuilt member by member, each member's own clean copy (archives inside, three
    levels deep); programs and what cannot be read are left out, and a member whose name the scan
    would flag gets a neutral one in its folder."""
    from ..scanning.patterns import name_categories
    from . import public_copy  # here: public_copy calls this function

    if depth >= MAX_ARCHIVE_DEPTH:
        raise ValueError("archives nested too deep to publish")
    limit = settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for number, member in enumerate(original.infolist(), start=1):
            if member.is_dir():
                continue
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as data:
                with original.open(member) as stream:
                    filetypes.copy_bounded(stream, data, limit=limit)
                kind = filetypes.member_kind(data, name=member.filename)
                if kind.startswith(("executable:", "other:")):
                    continue
                name = member.filename
                if name_categories(name):  # in the file's name or any folder's: the member goes to the top
                    name = f"file-{number}{filetypes.extension_of(name)}"
                with public_copy(data, kind=kind, depth=depth + 1) as clean:
                    with copy.open(name, "w") as out:
                        while chunk := clean.read(2**20):
                            out.write(chunk)
