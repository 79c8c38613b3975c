"""Images re-encoded from their pixels; Office Open XML and OpenDocument files without their people,
comments, macros, thumbnails and formulas."""
import re
import tempfile
import zipfile
from xml.etree import ElementTree

from django.conf import settings

from .. import filetypes
from ..scanning.documents import (
    ODF_CELLS,
    ODF_PARAGRAPHS,
    ODF_SPACING,
    OFFICE_STRIPPED,
    OPENDOCUMENT_STRIPPED,
    odf,
)
from .spool import SPOOL_BYTES
from .tables import neutralize

# --- Images, Office ----------------------------------------------------------------------------


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


# --- OpenDocument ------------------------------------------------------------------------------

# Folders never published: a rendered picture of the first page (it can show anything), macros, scripts.
ODF_DROPPED_FOLDERS = frozenset({"Thumbnails", "Basic", "Scripts"})
# Removed from content.xml and styles.xml (embedded objects' too): comments, scripts and what binds them
# to events, links that load or refresh content from elsewhere (DDE, linked sheets), named formulas.
ODF_DROPPED_ELEMENTS = frozenset(odf(name) for name in (
    "office:annotation", "office:annotation-end", "office:scripts", "office:event-listeners",
    "office:dde-source", "table:dde-links", "text:dde-connection-decls", "table:table-source",
    "table:named-expression"))
# Formulas: the cell keeps the value it showed (office:value, its text).
ODF_DROPPED_ATTRIBUTES = frozenset(odf(name) for name in (
    "table:formula", "table:number-matrix-columns-spanned", "table:number-matrix-rows-spanned"))
# Emptied: authors of tracked changes, and fields that show the author's or the sender's own details.
ODF_BLANKED = frozenset(odf(name) for name in (
    "dc:creator", "text:author-name", "text:author-initials", "text:initial-creator", "text:creator",
    "text:printed-by", *(f"text:sender-{field}" for field in (
        "firstname", "lastname", "initials", "title", "position", "email", "phone-private", "fax", "company",
        "phone-work", "street", "city", "postal-code", "country", "state-or-province"))))
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_ODF_SPREADSHEET, _ODF_STRING_VALUE = odf("office:spreadsheet"), odf("office:string-value")
_ODF_PART = re.compile(r"(?:.+/)?(content|styles|meta)\.xml")
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_XML_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;",
                                "\n": "&#10;", "\t": "&#9;"})


class _OdfFilter:
    """An XML part copied event by event, streamed, with the prefixes it was written with (ODF attribute
    values name namespaces by prefix, as in chart:class="chart:bar"), leaving out `drop` elements (or
    those `drop_if` refuses) and `drop_attributes`, and the text of `blank` elements. In a spreadsheet
    a cell text that starts like a formula is quoted, as in CSV and XLSX."""

    def __init__(self, out, *, drop=frozenset(), drop_attributes=frozenset(), blank=frozenset(), drop_if=None):
        self.out, self.drop, self.drop_attributes, self.blank, self.drop_if = (
            out, drop, drop_attributes, blank, drop_if)
        self.pieces = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        self.scopes = [({"xml": _XML_NS}, {})]  # (prefix -> namespace, names resolved in that scope)
        self.stack: list[str] = []
        self.skipping = self.blanking = self.spreadsheet = 0
        self.open_tag = False
        self.cell_paragraph = None  # {"depth", "text", "first"} while a spreadsheet cell's paragraph is open

    def parser(self):
        from xml.parsers import expat

        parser = expat.ParserCreate()  # no namespace processing: names as written
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = self.doctype  # comments and processing instructions are left out
        return parser

    @staticmethod
    def doctype(*_args):
        raise ValueError("an OpenDocument part with a DTD")

    @staticmethod
    def _resolve(name: str, scope: tuple, *, element: bool) -> str:
        namespaces, resolved = scope
        found = resolved.get((name, element))
        if found is None:
            prefix, colon, local = name.rpartition(":")
            uri = namespaces.get(prefix) if colon else (namespaces.get("") if element else None)
            found = resolved[name, element] = f"{{{uri}}}{local}" if uri else local
        return found

    def _close_open_tag(self) -> None:
        if self.open_tag:
            self.pieces.append(">")
            self.open_tag = False

    def start(self, name: str, attributes: list) -> None:
        if self.skipping:
            self.skipping += 1
            return
        pairs = list(zip(attributes[::2], attributes[1::2], strict=True))
        declared = {key[6:]: value for key, value in pairs if key == "xmlns" or key.startswith("xmlns:")}
        scope = ({**self.scopes[-1][0], **declared}, {}) if declared else self.scopes[-1]
        tag = self._resolve(name, scope, element=True)
        if tag in self.drop or (self.drop_if is not None and self.drop_if(tag, {
                self._resolve(key, scope, element=False): value for key, value in pairs})):
            self.skipping = 1
            return
        parent = self.stack[-1] if self.stack else None
        self.scopes.append(scope)
        self.stack.append(tag)
        self._close_open_tag()
        if tag == _ODF_SPREADSHEET:
            self.spreadsheet += 1
        in_cell = self.spreadsheet and parent in ODF_CELLS
        if in_cell and tag in ODF_PARAGRAPHS and self.cell_paragraph is None:
            self.cell_paragraph = {"depth": len(self.stack), "text": [], "first": None}
        elif self.cell_paragraph is not None and tag in ODF_SPACING:
            self.cell_paragraph["text"].append(ODF_SPACING[tag])
            if self.cell_paragraph["first"] is None:
                self.cell_paragraph["first"] = len(self.pieces)
        kept = []
        for key, value in pairs:
            if not (key == "xmlns" or key.startswith("xmlns:")):
                resolved = self._resolve(key, scope, element=False)
                if resolved in self.drop_attributes:
                    continue
                if self.spreadsheet and tag in ODF_CELLS and resolved == _ODF_STRING_VALUE:
                    value = neutralize(value)
            kept.append(f' {key}="{value.translate(_XML_ATTRIBUTE)}"')
        self.pieces.append(f"<{name}{''.join(kept)}")
        self.open_tag = True
        if tag in self.blank:
            self.blanking += 1

    def end(self, name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        paragraph = self.cell_paragraph
        if paragraph is not None and paragraph["depth"] == len(self.stack):
            text = "".join(paragraph["text"])
            if paragraph["first"] is not None and neutralize(text) != text:
                self.pieces.insert(paragraph["first"], "'")
            self.cell_paragraph = None
        tag = self.stack.pop()
        self.scopes.pop()
        if self.open_tag:
            self.pieces.append("/>")
            self.open_tag = False
        else:
            self.pieces.append(f"</{name}>")
        if tag in self.blank:
            self.blanking -= 1
        if tag == _ODF_SPREADSHEET:
            self.spreadsheet -= 1

    def characters(self, data: str) -> None:
        if self.skipping or self.blanking:
            return
        self._close_open_tag()
        paragraph = self.cell_paragraph
        if paragraph is not None:
            if paragraph["first"] is None:
                # Leading white space in a paragraph is not shown (ODF 1.3 part 3, 6.1.2): the quote goes after it.
                content = data.lstrip(" \t\n\r")
                if not content:
                    self.pieces.append(data.translate(_XML_TEXT))
                    return
                self.pieces.append(data[:len(data) - len(content)].translate(_XML_TEXT))
                paragraph["first"] = len(self.pieces)
                data = content
            paragraph["text"].append(data)
        self.pieces.append(data.translate(_XML_TEXT))

    def flush(self) -> None:
        if self.cell_paragraph is None and self.pieces:  # a paragraph may still get its quote
            self.out.write("".join(self.pieces).encode("utf-8"))
            self.pieces = []

    def copy(self, stream) -> None:
        parser = self.parser()
        while chunk := stream.read(2**20):
            parser.Parse(chunk, False)
            self.flush()
        parser.Parse(b"", True)
        if self.stack or self.cell_paragraph is not None:
            raise ValueError("an OpenDocument part ended early")
        self.flush()


def _odf_dropped(name: str) -> bool:
    return any(part in ODF_DROPPED_FOLDERS for part in name.split("/")[:-1]) or name.rstrip("/") in (
        ODF_DROPPED_FOLDERS)


def _strip_opendocument(source, target) -> None:
    """An OpenDocument package rewritten member by member, `mimetype` first and stored as the format
    requires: person fields out of meta.xml, comments, scripts, event bindings and formulas out of
    content.xml and styles.xml (each cell keeps its value), tracked changes without their authors,
    thumbnails, macros and scripts left out (and out of the manifest), pictures re-encoded from their
    pixels. The XML parts are streamed; the rest is copied within the archive's checked sizes."""
    meta_drop = frozenset(odf(name) for name in OPENDOCUMENT_STRIPPED)
    limit = settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        members = original.infolist()
        mimetype = next((member for member in members if member.filename == "mimetype"), None)
        if mimetype is None or mimetype.file_size > 256:
            raise ValueError("an OpenDocument package without its mimetype")
        copy.writestr(zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0)), original.read(mimetype),
                      compress_type=zipfile.ZIP_STORED)
        dropped = {member.filename for member in members if _odf_dropped(member.filename)}

        def dropped_entry(tag, attributes) -> bool:
            path = attributes.get(odf("manifest:full-path"), "")
            return tag == odf("manifest:file-entry") and (path in dropped or _odf_dropped(path))

        for member in members:
            name = member.filename
            if name == "mimetype" or name in dropped:
                continue
            if member.is_dir():
                copy.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), b"")
                continue
            part = _ODF_PART.fullmatch(name)
            with original.open(member) as stream, copy.open(name, "w") as out:
                if part and part.group(1) == "meta":
                    _OdfFilter(out, drop=meta_drop).copy(stream)
                elif part:
                    _OdfFilter(out, drop=ODF_DROPPED_ELEMENTS, drop_attributes=ODF_DROPPED_ATTRIBUTES,
                               blank=ODF_BLANKED).copy(stream)
                elif name == "META-INF/manifest.xml":
                    _OdfFilter(out, drop_if=dropped_entry).copy(stream)
                else:
                    _copy_odf_member(stream, out, limit=limit)


def _copy_odf_member(stream, out, *, limit: int) -> None:
    """A member copied as it is, or re-encoded from its pixels when it is a PNG, JPEG or TIFF picture
    (a photo's EXIF and GPS position stay out, as for an uploaded image)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as data:
        filetypes.copy_bounded(stream, data, limit=limit)
        kind = filetypes.sniff(data.read(4096))
        data.seek(0)
        if kind in filetypes.IMAGES:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as clean:
                _strip_image(data, kind, clean)
                clean.seek(0)
                while chunk := clean.read(2**20):
                    out.write(chunk)
            return
        while chunk := data.read(2**20):
            out.write(chunk)
