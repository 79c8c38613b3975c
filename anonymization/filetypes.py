"""What an uploaded file really is, read from its bytes, and whether we accept it.

The extension only says what the uploader claims; the content decides. Executables,
archives whose members would escape a folder, decompression bombs and files whose
content does not match their name are refused, each with a reason a person can act on.
"""
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_NAME_LENGTH = 150


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    content_type: str
    extensions: tuple


KINDS = {kind.name: kind for kind in (
    Kind("csv", gettext_lazy("CSV table"), "text/csv", (".csv",)),
    Kind("tsv", gettext_lazy("TSV table"), "text/tab-separated-values", (".tsv", ".tab")),
    Kind("text", gettext_lazy("plain text"), "text/plain", (".txt", ".md", ".json")),
    Kind("xlsx", gettext_lazy("Excel workbook"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         (".xlsx",)),
    Kind("docx", gettext_lazy("Word document"),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    Kind("pptx", gettext_lazy("PowerPoint presentation"),
         "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
    Kind("odt", gettext_lazy("OpenDocument text"), "application/vnd.oasis.opendocument.text", (".odt",)),
    Kind("ods", gettext_lazy("OpenDocument spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet",
         (".ods",)),
    Kind("odp", gettext_lazy("OpenDocument presentation"), "application/vnd.oasis.opendocument.presentation",
         (".odp",)),
    Kind("zip", gettext_lazy("ZIP archive"), "application/zip", (".zip",)),
    Kind("pdf", gettext_lazy("PDF document"), "application/pdf", (".pdf",)),
    Kind("png", gettext_lazy("PNG image"), "image/png", (".png",)),
    Kind("jpeg", gettext_lazy("JPEG image"), "image/jpeg", (".jpg", ".jpeg")),
    Kind("tiff", gettext_lazy("TIFF image"), "image/tiff", (".tif", ".tiff")),
    Kind("dicom", gettext_lazy("DICOM image"), "application/dicom", (".dcm", ".dicom")),
)}
TABULAR = ("csv", "tsv")
IMAGES = ("png", "jpeg", "tiff")
OFFICE = ("xlsx", "docx", "pptx")  # Office Open XML only: publishing cleans them as such
OPENDOCUMENT = ("odt", "ods", "odp")
# An OpenDocument package names its type in its `mimetype` member (ODF 1.3 part 2, section 3.3).
_OPENDOCUMENT_MIMETYPES = {KINDS[name].content_type: name for name in OPENDOCUMENT}
_MAX_MIMETYPE_BYTES = 256
EXTENSIONS = {extension: kind.name for kind in KINDS.values() for extension in kind.extensions}

_EXECUTABLE_MAGIC = (
    (b"MZ", "Windows program"),
    (b"\x7fELF", "Linux program"),
    (b"\xfe\xed\xfa\xce", "macOS program"),
    (b"\xfe\xed\xfa\xcf", "macOS program"),
    (b"\xce\xfa\xed\xfe", "macOS program"),
    (b"\xcf\xfa\xed\xfe", "macOS program"),
    (b"\xca\xfe\xba\xbe", "macOS or Java program"),
    (b"#!", "script"),
    (b"\x00asm", "WebAssembly program"),
)
_OTHER_MAGIC = (
    (b"\x1f\x8b", "gzip"), (b"Rar!", "RAR"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"), (b"BZh", "bzip2"),
    (b"\xd0\xcf\x11\xe0", "old Office (OLE)"), (b"GIF8", "GIF"), (b"<?xml", "XML"), (b"<!DOCTYPE", "HTML"),
    (b"<html", "HTML"), (b"<svg", "SVG"),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sanitize_filename(name: str) -> str:
    """The uploader's file name fit to keep as metadata: the last path part, no control
    or format characters, no leading dots, bounded length, the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:10] if dot else ""
        keep = MAX_NAME_LENGTH - len(extension) - (1 if extension else 0)
        name = (stem if dot else name)[:keep].rstrip() + (f".{extension}" if extension else "")
    return name or "file"


def extension_of(name: str) -> str:
    _stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot else ""


@dataclass(frozen=True)
class Inspection:
    kind: str
    content_type: str


def _refuse(message: str, code: str):
    raise ValidationError(message, code=code)


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig"))


def text_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: a byte-order mark (UTF-8, UTF-16, UTF-32),
    UTF-16 without one (every other byte zero), UTF-8, GB18030 (Chinese), else Windows-1252."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
        return "utf-16-be"
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return "utf-8-sig" if encoding == "utf-8" else encoding
        except UnicodeDecodeError as error:
            if error.start >= len(head) - 3:  # a character cut at the end of the sample
                return "utf-8-sig" if encoding == "utf-8" else encoding
    return "cp1252"


def _looks_like_text(head: bytes) -> bool:
    """Text in an encoding we read (UTF-8, UTF-16 or UTF-32, GB18030, Windows-1252), without NULs."""
    encoding = text_encoding(head)
    if encoding.startswith(("utf-16", "utf-32")):
        unit = 4 if encoding.startswith("utf-32") else 2
        head = head[:len(head) - len(head) % unit]
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return False
        text = head[:error.start].decode(encoding)
    return "\x00" not in text


def _zip_kind(file) -> str:
    """"xlsx", "docx", "pptx", "odt", "ods", "odp" or "zip", after checking every member name and the sizes."""
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        _refuse(_("This ZIP file is damaged and cannot be opened."), "bad_archive")
    if len(members) > settings.ANONYMIZATION_MAX_ARCHIVE_MEMBERS:
        _refuse(_("This archive holds %(count)d files; the limit is %(limit)d.")
                % {"count": len(members), "limit": settings.ANONYMIZATION_MAX_ARCHIVE_MEMBERS}, "archive_too_many")
    total = 0
    for member in members:
        name = member.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            _refuse(_("This archive contains a path that leaves its folder (“%(name)s”); it is refused for safety.")
                    % {"name": sanitize_filename(name)[:60]}, "archive_path_traversal")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            _refuse(_("This archive contains a symbolic link; it is refused for safety."), "archive_symlink")
        if member.flag_bits & 0x1:
            _refuse(_("This archive is encrypted; we cannot check it. Upload it without a password."),
                    "archive_encrypted")
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > settings.ANONYMIZATION_MAX_COMPRESSION_RATIO:
            _refuse(_("This archive expands to far more than its size (a “decompression bomb”); it is refused."),
                    "archive_bomb")
    if total > settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES:
        _refuse(_("This archive expands to %(size)d MB; the limit is %(limit)d MB.")
                % {"size": total // 2**20, "limit": settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES // 2**20},
                "archive_bomb")
    names = {member.filename for member in members}
    if "[Content_Types].xml" in names:
        for prefix, kind in (("xl/", "xlsx"), ("word/", "docx"), ("ppt/", "pptx")):
            if any(name.startswith(prefix) for name in names):
                return kind
    mimetype = next((member for member in members if member.filename == "mimetype"), None)
    if mimetype is not None and mimetype.file_size <= _MAX_MIMETYPE_BYTES:
        try:
            declared = archive.read(mimetype).decode("ascii", errors="replace").strip()
        # zipfile raises NotImplementedError for a compression method it does not know (a forged or
        # exotic member): for us that is a file we cannot read, refused like a damaged one.
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            _refuse(_("This ZIP file is damaged and cannot be opened."), "bad_archive")
        if declared in _OPENDOCUMENT_MIMETYPES:
            return _OPENDOCUMENT_MIMETYPES[declared]
    return "zip"


def _image_size_check(file) -> None:
    from PIL import Image

    file.seek(0)
    try:
        with Image.open(file) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        width = height = None
    except Exception:
        _refuse(_("This image is damaged and cannot be read."), "bad_image")
    if width is None or width * height > settings.ANONYMIZATION_MAX_IMAGE_PIXELS:
        _refuse(_("This image is too large (over %(limit)d million pixels). Please scale it down.")
                % {"limit": settings.ANONYMIZATION_MAX_IMAGE_PIXELS // 1_000_000}, "image_too_large")


def sniff(head: bytes) -> str | None:
    """The kind the first bytes show, "executable:<what>", "other:<what>", or None for text-like."""
    for magic, what in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            return f"executable:{what}"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    for magic, what in _OTHER_MAGIC:
        if head.lstrip().lower().startswith(magic.lower()):
            return f"other:{what}"
    return None


def copy_bounded(stream, target, *, limit: int) -> None:
    """Copy an archive member's stream into `target`, refusing more than `limit` bytes (a member may
    inflate past what its header declared)."""
    remaining = limit
    while chunk := stream.read(2**20):
        remaining -= len(chunk)
        if remaining < 0:
            raise ValueError("archive member larger than declared")
        target.write(chunk)
    target.seek(0)


def member_kind(file, *, name: str) -> str:
    """What an archive member is, from its content (as `inspect_upload` decides for an upload):
    a kind of KINDS, or "executable:<what>" / "other:<what>" for what is never read or published.
    A nested archive gets the upload's checks (paths, sizes, bombs), which raise ValidationError."""
    file.seek(0)
    found = sniff(file.read(4096))
    file.seek(0)
    if found == "zip":
        found = _zip_kind(file)
    if found is None:
        found = EXTENSIONS.get(extension_of(name), "text")
        if found not in ("csv", "tsv", "text"):
            found = "text"
    file.seek(0)
    return found


def inspect_upload(file, *, name: str) -> Inspection:
    """Decide what `file` is from its content and refuse it when we must. `name` is sanitized."""
    if file.size == 0:
        _refuse(_("This file is empty."), "empty")
    if file.size > settings.ANONYMIZATION_MAX_FILE_BYTES:
        _refuse(_("This file is %(size)s MB; the limit is %(limit)d MB per file.")
                % {"size": f"{file.size / 2**20:.1f}", "limit": settings.ANONYMIZATION_MAX_FILE_BYTES // 2**20},
                "too_large")
    claimed = EXTENSIONS.get(extension_of(name))
    file.seek(0)
    head = file.read(4096)
    found = sniff(head)
    if found and found.startswith("executable:"):
        _refuse(_("This file is a program (%(what)s), not data; programs are never accepted.")
                % {"what": found.split(":", 1)[1]}, "executable")
    if claimed is None:
        allowed = ", ".join(sorted(EXTENSIONS))
        _refuse(_("Files ending “%(extension)s” are not accepted. Accepted: %(allowed)s.")
                % {"extension": extension_of(name) or _("(no extension)"), "allowed": allowed}, "type_not_allowed")
    if found and found.startswith("other:"):
        _refuse(_("The name says %(claimed)s but the content is %(found)s; such files are not accepted.")
                % {"claimed": KINDS[claimed].label, "found": found.split(":", 1)[1]}, "type_mismatch")
    if found == "zip":
        found = _zip_kind(file)
    if found is None:
        if not _looks_like_text(head):
            _refuse(_("The name says %(claimed)s but the content is not readable text.")
                    % {"claimed": KINDS[claimed].label}, "type_mismatch")
        found = claimed if claimed in ("csv", "tsv", "text") else "text"
    if found != claimed:
        _refuse(_("The name says %(claimed)s but the content is a %(found)s. Please upload the file with its "
                  "real type.") % {"claimed": KINDS[claimed].label, "found": KINDS[found].label}, "type_mismatch")
    if found in IMAGES:
        _image_size_check(file)
    file.seek(0)
    return Inspection(kind=found, content_type=KINDS[found].content_type)
