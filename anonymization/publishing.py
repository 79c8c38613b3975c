"""The public copy of an approved file, with metadata stripped where the type allows.

Images are re-encoded from their pixels (EXIF, GPS, text chunks, XMP gone); PDFs are
rewritten page by page without their information dictionary or XMP; Office files lose
their author, editor and company fields; DICOM files lose their identifying header
fields. Tables and text carry no metadata and are copied as they are.
"""
import re
import tempfile
import zipfile
from xml.etree import ElementTree

from django.conf import settings

from . import filetypes
from .scanning.documents import OFFICE_STRIPPED
from .scanning.media import DICOM_FIELDS


def _strip_image(source, kind: str, target) -> None:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = settings.ANONYMIZATION_MAX_IMAGE_PIXELS
    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image)  # keep the picture upright once the orientation tag is gone
        save_kind = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}[kind]
        # Pixels only: palettes become colours (a bare paste would lose them); JPEG has no alpha.
        if image.mode not in ("RGB", "L", "RGBA", "LA", "I;16", "I", "F"):
            image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
        if save_kind == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        options = {"quality": 95} if save_kind == "JPEG" else {}
        clean.save(target, format=save_kind, **options)


def _strip_pdf(source, target) -> None:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source, strict=False)
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_metadata({"/Producer": ""})
    writer.write(target)


def _blank_office_part(data: bytes, fields: tuple) -> bytes:
    root = ElementTree.fromstring(data)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] in fields:
            element.text = ""
    for prefix, uri in (
        ("cp", "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"),
        ("dc", "http://purl.org/dc/elements/1.1/"), ("dcterms", "http://purl.org/dc/terms/"),
        ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ):
        ElementTree.register_namespace(prefix, uri)
    return ElementTree.tostring(root, xml_declaration=True, encoding="UTF-8")


_AUTHOR_ATTRIBUTES = re.compile(rb'\b((?:w:|w15:)?(?:author|initials|userId|providerId))="[^"]*"')
_AUTHOR_ELEMENTS = re.compile(rb"<(author|vt:lpwstr)>[^<]*</\1>")


def _blank_people(data: bytes) -> bytes:
    """Authors of comments and tracked changes, and custom property values, blanked in place
    (parts and relationships stay, so the document still opens)."""
    data = _AUTHOR_ATTRIBUTES.sub(rb'\1=""', data)
    return _AUTHOR_ELEMENTS.sub(rb"<\1></\1>", data)


def _strip_office(source, target) -> None:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in original.infolist():
            data = original.read(member)  # bounded: the archive's sizes were checked on upload
            if member.filename in OFFICE_STRIPPED:
                data = _blank_office_part(data, OFFICE_STRIPPED[member.filename])
            elif member.filename.endswith(".xml"):
                data = _blank_people(data)
            copy.writestr(member.filename, data)


def _strip_dicom(source, target) -> None:
    import pydicom

    dataset = pydicom.dcmread(source)
    for keyword in DICOM_FIELDS:
        if keyword in dataset:
            delattr(dataset, keyword)
    dataset.remove_private_tags()
    dataset.save_as(target)


def public_copy(source, *, kind: str):
    """A temporary file holding the publishable copy of `source` (an open binary file)."""
    target = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)
    source.seek(0)
    if kind in filetypes.IMAGES:
        _strip_image(source, kind, target)
    elif kind == "pdf":
        _strip_pdf(source, target)
    elif kind in filetypes.OFFICE:
        _strip_office(source, target)
    elif kind == "dicom":
        _strip_dicom(source, target)
    else:
        while chunk := source.read(2**20):
            target.write(chunk)
    target.seek(0)
    return target
