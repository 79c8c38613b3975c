"""The public copy of an approved file: metadata stripped, active content removed, a neutral name.

Images are re-encoded from their pixels (EXIF, GPS, text chunks, XMP gone). PDFs are rewritten page
by page without their information dictionary, XMP, JavaScript, actions other than jumps inside the
document, and embedded files. Office files lose their author, editor and company fields; OpenDocument
files their person fields, comments, macros and thumbnails, and their formulas; in tables
(CSV, TSV, XLSX) every cell that a spreadsheet would run as a formula is made inert. DICOM files are
de-identified by the DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, nested
sequences and private tags included. Plain text is copied as it is.

Every step is bounded (rows and lines read one at a time, object and nesting counts capped) and fails
closed: a file that cannot be cleaned raises, and nothing is published.
"""
import codecs
import csv
import hashlib
import hmac
import io
import re
import tempfile
import zipfile
from functools import cache
from xml.etree import ElementTree

from django.conf import settings

from . import filetypes
from .scanning.documents import (
    ODF_CELLS,
    ODF_PARAGRAPHS,
    ODF_SPACING,
    OFFICE_STRIPPED,
    OPENDOCUMENT_STRIPPED,
    odf,
)

SPOOL_BYTES = 16 * 2**20

# --- Names -------------------------------------------------------------------------------------


def public_storage_name(*, upload_id: int, version_number: int, original_name: str) -> str:
    """Where the public copy is stored: ids and the extension only, never the uploader's name.
    Stable per version, so a retried publication overwrites its own half-written copy."""
    return f"{upload_id}/v{version_number}{filetypes.extension_of(original_name)}"


def public_file_name(*, upload_id: int, original_name: str, report) -> str:
    """The name readers see and download a published file under: the uploader's (sanitized) name, or
    `file-<upload id>.<ext>` when the scan found something identifying in that name."""
    findings = report.get("findings", []) if isinstance(report, dict) else []
    if any(isinstance(finding, dict) and finding.get("code") == "name_in_filename" for finding in findings):
        return f"file-{upload_id}{filetypes.extension_of(original_name)}"
    return original_name


# --- Formulas (OWASP "CSV injection") ----------------------------------------------------------

# What a spreadsheet may take for the start of a formula, with the fullwidth forms some locales convert.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A signed plain number (-3.5, +447700900123, -1e-5, -12%) is data, not a formula: kept as it is.
_SIGNED_NUMBER = re.compile(r"[+-](\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?")


def neutralize(value: str) -> str:
    """`value` made inert for a spreadsheet: prefixed with a single quote when it starts like a formula."""
    if not value or value[0] not in FORMULA_START or value in ("+", "-") or _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value


_OTHER_DELIMITERS = ",;\t|"


def _neutralize_field(value: str, delimiter: str) -> str:
    """A text table's field made inert, also where a spreadsheet opening the file with another
    delimiter than ours (a locale that splits on ";") would start a cell inside it."""
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in value:
            value = other.join(neutralize(part) for part in value.split(other))
    return neutralize(value)


MAX_LINE = 1024 * 1024  # characters; a longer line (or field) stops the copy, as it stops the scan
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _bounded_lines(stream):
    while line := stream.readline(MAX_LINE):
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            raise ValueError("a line longer than 1 MB; the table cannot be copied safely")
        yield line


def _neutralize_delimited(source, target, *, delimiter: str) -> None:
    """Rewrite a CSV/TSV row by row, formulas made inert, in UTF-8 (with a mark if the original had one)."""
    source.seek(0)
    head = source.read(65536)
    source.seek(0)
    # Decoded exactly as the scan decodes it (UTF-8, UTF-16 and -32, GB18030, else Windows-1252), so the
    # published cells are the cells the team reviewed.
    stream = io.TextIOWrapper(source, encoding=filetypes.text_encoding(head), errors="replace", newline="")
    marked = head.startswith(_BOMS)
    out = io.TextIOWrapper(target, encoding="utf-8-sig" if marked else "utf-8", newline="")
    try:
        sample = stream.read(65536)
        stream.seek(0)
        if delimiter == ",":  # as the scan reads it: the same dialect, so the same cells
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                pass
        csv.field_size_limit(MAX_LINE)
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in sample else "\n")
        for row in csv.reader(_bounded_lines(stream), delimiter=delimiter):
            writer.writerow([_neutralize_field(cell, delimiter) for cell in row])
        out.flush()
    finally:
        stream.detach()
        out.detach()


# Workbooks whose sheets expand to more than this are streamed (values only, no formatting) instead of
# being loaded whole: openpyxl holds every cell of a loaded workbook in memory.
XLSX_FULL_LOAD_BYTES = 16 * 2**20


def _inert_cell_value(value):
    """A cell's value as published: a formula becomes its text, quoted; a formula-like text is quoted."""
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if isinstance(value, ArrayFormula):
        value = value.text or "="
    elif isinstance(value, DataTableFormula):
        value = f"=TABLE({value.r1 or ''},{value.r2 or ''})"
    return neutralize(value) if isinstance(value, str) else value


def _neutralize_xlsx(source, target) -> None:
    from openpyxl import Workbook, load_workbook

    source.seek(0)
    with zipfile.ZipFile(source) as archive:
        sheet_bytes = sum(member.file_size for member in archive.infolist()
                          if member.filename.startswith("xl/worksheets/") or member.filename == "xl/sharedStrings.xml")
    source.seek(0)
    if sheet_bytes <= XLSX_FULL_LOAD_BYTES:
        # keep_links=False drops links to other workbooks (external references are active content too).
        workbook = load_workbook(source, keep_links=False)
        for worksheet in workbook.worksheets:
            for row in worksheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or isinstance(cell.value, str):
                        inert = _inert_cell_value(cell.value)
                        if inert != cell.value or cell.data_type == "f":
                            cell.value = inert  # a text starting with ' is stored as a string, never a formula
            for name in list(worksheet.defined_names):
                del worksheet.defined_names[name]
        for name in list(workbook.defined_names):
            del workbook.defined_names[name]  # names can hold formulas too
        workbook.save(target)
        return
    reader = load_workbook(source, read_only=True, keep_links=False)
    copy = Workbook(write_only=True)
    try:
        for worksheet in reader.worksheets:
            sheet = copy.create_sheet(title=worksheet.title)
            for row in worksheet.iter_rows(values_only=True):
                sheet.append([_inert_cell_value(value) for value in row])
    finally:
        reader.close()
    copy.save(target)


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


# --- PDF ---------------------------------------------------------------------------------------

# Annotations that play, launch or carry content of their own.
PDF_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"})
# Entries that run something (additional and open actions, scripts), carry files (embedded and associated
# files, XFA forms) or describe people (XMP of pages and images), wherever they are.
PDF_DROPPED_KEYS = ("/AA", "/OpenAction", "/JS", "/JavaScript", "/Names", "/EmbeddedFiles", "/EF", "/AF", "/XFA",
                    "/AcroForm", "/URI", "/Metadata", "/PieceInfo", "/RichMediaContent")
# The only action kept: a jump to a place inside the document. JavaScript, Launch, URI, SubmitForm,
# ImportData, GoToR, GoToE, Rendition, … are all removed.
PDF_SAFE_ACTIONS = frozenset({"/GoTo"})
PDF_MAX_OBJECTS = 2_000_000


def _pdf_objects(start):
    """Every dictionary and array reachable from `start`, once each, not climbing to the page tree."""
    from pypdf.generic import ArrayObject, DictionaryObject

    seen, stack, count = set(), [start], 0
    while stack:
        node = stack.pop().get_object()
        if not isinstance(node, DictionaryObject | ArrayObject) or id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        if count > PDF_MAX_OBJECTS:
            raise ValueError("too many PDF objects to check")
        yield node  # the caller cleans it before its children are listed
        if isinstance(node, ArrayObject):
            stack.extend(node)
        else:
            stack.extend(value for key, value in node.items()
                         if not (key == "/Parent" and node.get("/Type") == "/Page"))


def _is_safe_action(value) -> bool:
    from pypdf.generic import DictionaryObject

    action = value.get_object()
    return isinstance(action, DictionaryObject) and action.get("/S") in PDF_SAFE_ACTIONS


def _disarm_pdf_node(node) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject

    if not isinstance(node, DictionaryObject):
        return
    for key in PDF_DROPPED_KEYS:
        node.pop(key, None)
    if "/A" in node and not _is_safe_action(node.raw_get("/A")):
        del node["/A"]
    if "/S" in node:  # an action: no chained actions after a kept jump
        node.pop("/Next", None)
    annotations = node.get("/Annots")
    if isinstance(annotations, ArrayObject):
        annotations[:] = [
            annotation for annotation in annotations
            if not (isinstance(annotation.get_object(), DictionaryObject)
                    and annotation.get_object().get("/Subtype") in PDF_ACTIVE_ANNOTATIONS)
        ]


def _pdf_active_content(writer) -> list[str]:
    """What is still active in the copy (it must be nothing)."""
    from pypdf.generic import DictionaryObject

    found = []
    for node in _pdf_objects(writer.root_object):
        if isinstance(node, DictionaryObject):
            found += [key for key in PDF_DROPPED_KEYS if key in node]
            if "/A" in node and not _is_safe_action(node.raw_get("/A")):
                found.append("/A")
            if node.get("/Subtype") in PDF_ACTIVE_ANNOTATIONS:
                found.append(str(node.get("/Subtype")))
    return found


def _strip_pdf(source, target) -> None:
    """Pages only, cleaned before they are copied, so nothing removed lingers as an unused object."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source, strict=False)
    writer = PdfWriter()
    for page in reader.pages:
        for node in _pdf_objects(page):
            _disarm_pdf_node(node)
        writer.add_page(page)
    found = _pdf_active_content(writer)
    if found:
        raise ValueError(f"active PDF content survived the copy: {', '.join(sorted(set(found)))}")
    writer.add_metadata({"/Producer": ""})
    writer.write(target)


# --- DICOM -------------------------------------------------------------------------------------

# DICOM PS3.15 (2025) Annex E, Table E.1-1, "Basic Profile" column: the profile's action for each
# attribute, by keyword (by tag where pydicom 3.0 has no keyword). X remove, Z empty, D dummy value,
# U new UID; "X/Z" remove unless the IOD needs the attribute empty, and so on. Private attributes
# (removed) and the curve and overlay groups (below) complete the table.
_BASIC_PROFILE = {
    "X": """
        AcquisitionComments AcquisitionProtocolDescription ActualHumanPerformersSequence AdditionalPatientHistory
        AddressTrial AdmissionID AdmittingDate AdmittingDiagnosesCodeSequence AdmittingDiagnosesDescription
        AdmittingTime AffectedSOPInstanceUID Allergies AnnotationGroupDescription ApprovalStatusDateTime Arbitrary
        AssertionExpirationDateTime AuthorObserverSequence BeamDescription BolusDescription BranchOfService
        CalibrationDate CalibrationTime CameraOwnerName CassetteID CertifiedTimestamp
        ClinicalTrialProtocolEthicsCommitteeApprovalNumber ClinicalTrialSeriesDescription ClinicalTrialSeriesID
        ClinicalTrialTimePointDescription CommentsOnRadiationDose CommentsOnThePerformedProcedureStep
        CompensatorDescription ConfidentialityConstraintOnPatientDataDescription
        ConsultingPhysicianIdentificationSequence ContainerComponentID ContainerDescription
        ContentCreatorIdentificationCodeSequence ContrastBolusStartTime ContrastBolusStopTime ContributionDateTime
        ContributionDescription CountryOfResidence CreationDate CreationTime CurrentObserverTrial
        CurrentPatientLocation CurveDate CurveTime CustodialOrganizationSequence DataSetTrailingPadding
        DateOfDocumentOrVerbalTransactionTrial DateOfInstallation DateOfLastCalibration DateOfManufacture
        DateOfSecondaryCapture DateTimeOfLastCalibration DecompositionDescription DerivationDescription
        DeviceDescription DeviceSettingDescription DigitalSignaturesSequence DischargeDate
        DischargeDiagnosisDescription DischargeTime DisplacementReferenceLabel DistributionAddress DistributionName
        DoseReferenceDescription EntityDescription EntityName EquipmentFrameOfReferenceDescription
        EthicsCommitteeApprovalEffectivenessEndDate EthicsCommitteeApprovalEffectivenessStartDate EthnicGroup
        EthnicGroupCodeSequence ExpectedCompletionDateTime FilterLookupTableDescription
        FindingsGroupRecordingDateTrial FindingsGroupRecordingTimeTrial FixationDeviceDescription
        FractionGroupDescription FrameComments GantryID GeneratorID GPSAltitude GPSAltitudeRef GPSAreaInformation
        GPSDateStamp GPSDestBearing GPSDestBearingRef GPSDestDistance GPSDestDistanceRef GPSDestLatitude
        GPSDestLatitudeRef GPSDestLongitude GPSDestLongitudeRef GPSDifferential GPSDOP GPSImgDirection
        GPSImgDirectionRef GPSLatitude GPSLatitudeRef GPSLongitude GPSLongitudeRef GPSMapDatum GPSMeasureMode
        GPSProcessingMethod GPSSatellites GPSSpeed GPSSpeedRef GPSStatus GPSTimeStamp GPSTrack GPSTrackRef
        GPSVersionID HL7DocumentEffectiveTime HumanPerformerName HumanPerformerOrganization IconImageSequence
        IdentifyingComments ImageComments ImagePresentationComments ImagingServiceRequestComments Impressions
        InstanceCoercionDateTime InstanceOriginStatus InstitutionAddress InstitutionalDepartmentName
        InstitutionalDepartmentTypeCodeSequence InsurancePlanIdentification IntendedFractionStartTime
        IntendedRecipientsOfResultsIdentificationSequence InterpretationApprovalDate InterpretationApprovalTime
        InterpretationApproverSequence InterpretationAuthor InterpretationDiagnosisDescription InterpretationID
        InterpretationIDIssuer InterpretationRecordedDate InterpretationRecordedTime InterpretationRecorder
        InterpretationText InterpretationTranscriber InterpretationTranscriptionDate InterpretationTranscriptionTime
        InterventionDrugStartTime InterventionDrugStopTime IssueDateOfImagingServiceRequest IssuerOfAdmissionID
        IssuerOfAdmissionIDSequence IssuerOfClinicalTrialProtocolID IssuerOfClinicalTrialSeriesID
        IssuerOfClinicalTrialSiteID IssuerOfClinicalTrialSubjectID IssuerOfClinicalTrialSubjectReadingID
        IssuerOfClinicalTrialTimePointID IssuerOfPatientID IssuerOfServiceEpisodeID IssuerOfServiceEpisodeIDSequence
        IssueTimeOfImagingServiceRequest LastMenstrualDate LensMake LensModel LensSerialNumber LensSpecification
        LongDeviceDescription MAC MakerNote MedicalAlerts MedicalRecordLocator MilitaryRank
        ModifiedAttributesSequence ModifiedImageDate ModifiedImageDescription ModifiedImageTime ModifyingDeviceID
        MultienergyAcquisitionDescription NameOfPhysiciansReadingStudy NamesOfIntendedRecipientsOfResults NetworkID
        NonconformingDataElementValue NonconformingModifiedAttributesSequence ObservationDateTrial
        ObservationStartDateTime ObservationTimeTrial Occupation OrderCallbackPhoneNumber
        OrderCallbackTelecomInformation OrderEnteredBy OrderEntererLocation OriginalAttributesSequence Originator
        OtherClinicalTrialProtocolIDsSequence OtherPatientIDs OtherPatientIDsSequence OtherPatientNames OverlayDate
        OverlayTime ParticipantSequence PatientAddress PatientAge PatientBirthName PatientBirthTime PatientComments
        PatientInstitutionResidence PatientInsurancePlanCodeSequence PatientMotherBirthName
        PatientPrimaryLanguageCodeSequence PatientPrimaryLanguageModifierCodeSequence PatientReligiousPreference
        PatientSetupPhotoDescription PatientSize PatientState PatientTelecomInformation PatientTelephoneNumbers
        PatientTransportArrangements PatientTreatmentPreparationMethodDescription
        PatientTreatmentPreparationProcedureParameterDescription PatientWeight PerformedLocation
        PerformedProcedureStepDescription PerformedProcedureStepEndDate PerformedProcedureStepEndDateTime
        PerformedProcedureStepEndTime PerformedProcedureStepID PerformedProcedureStepStartDate
        PerformedProcedureStepStartDateTime PerformedProcedureStepStartTime PerformedStationAETitle
        PerformedStationGeographicLocationCodeSequence PerformedStationName PerformedStationNameCodeSequence
        PerformingPhysicianIdentificationSequence PerformingPhysicianName PersonAddress PersonTelecomInformation
        PersonTelephoneNumbers PhysicianApprovingInterpretation PhysiciansOfRecord
        PhysiciansOfRecordIdentificationSequence PhysiciansReadingStudyIdentificationSequence PlateID
        PositionAcquisitionTemplateDescription PositionAcquisitionTemplateName PregnancyStatus PreMedication
        PrescriptionDescription PresentationCreationDate PresentationCreationTime PriorTreatmentDoseDescription
        ProcedureStepCancellationDateTime ProductExpirationDateTime PyramidDescription PyramidLabel
        RadiopharmaceuticalStartDateTime RadiopharmaceuticalStartTime RadiopharmaceuticalStopDateTime
        RadiopharmaceuticalStopTime ReasonForOmissionDescription ReasonForRequestedProcedureCodeSequence
        ReasonForStudy ReasonForTheImagingServiceRequest ReasonForTheRequestedProcedure ReasonForVisit
        ReasonForVisitCodeSequence ReceivingAE ReferencedDigitalSignatureSequence ReferencedPatientAliasSequence
        ReferencedPatientPhotoSequence ReferencedPatientSequence ReferencedSOPInstanceMACSequence
        ReferringPhysicianAddress ReferringPhysicianIdentificationSequence ReferringPhysicianTelephoneNumbers
        RegionOfResidence RequestAttributesSequence RequestedContrastAgent RequestedProcedureComments
        RequestedProcedureID RequestedProcedureLocation RequestedSeriesDescription RequestingAE RequestingPhysician
        RequestingService RespiratoryMotionCompensationTechniqueDescription ResponsibleOrganization
        ResponsiblePerson ResultsComments ResultsDistributionListSequence ResultsID ResultsIDIssuer RetrieveAETitle
        ROICreatorSequence ROIDateTime ROIDescription ROIGenerationDescription ROIInterpreterSequence
        ROIObservationDateTime ROIObservationDescription ROIObservationLabel RTPlanDescription RTPlanName
        ScheduledAdmissionDate ScheduledAdmissionTime ScheduledDischargeDate ScheduledDischargeTime
        ScheduledHumanPerformersSequence ScheduledPatientInstitutionResidence
        ScheduledPerformingPhysicianIdentificationSequence ScheduledPerformingPhysicianName
        ScheduledProcedureStepDescription ScheduledProcedureStepEndDate ScheduledProcedureStepEndTime
        ScheduledProcedureStepExpirationDateTime ScheduledProcedureStepID ScheduledProcedureStepLocation
        ScheduledProcedureStepModificationDateTime ScheduledProcedureStepStartDate
        ScheduledProcedureStepStartDateTime ScheduledProcedureStepStartTime ScheduledStationAETitle
        ScheduledStationGeographicLocationCodeSequence ScheduledStationName ScheduledStationNameCodeSequence
        ScheduledStudyLocation ScheduledStudyLocationAETitle ScheduledStudyStartDate ScheduledStudyStartTime
        ScheduledStudyStopDate ScheduledStudyStopTime SeriesDescription ServiceEpisodeDescription ServiceEpisodeID
        SetupTechniqueDescription ShieldingDeviceDescription SlideIdentifier SmokingStatus SOPAuthorizationDateTime
        SourceManufacturer SpecialNeeds SpecimenAccessionNumber SpecimenDetailedDescription SpecimenShortDescription
        StationAETitle StructureSetDescription StructureSetName StudyArrivalDate StudyArrivalTime StudyComments
        StudyCompletionDate StudyCompletionTime StudyDescription StudyIDIssuer StudyReadDate StudyReadTime
        StudyVerifiedDate StudyVerifiedTime SubstanceAdministrationDateTime TelephoneNumberTrial
        TemplateLocalVersion TemplateVersion TextComments TextString TimeOfDocumentCreationOrVerbalTransactionTrial
        TimeOfLastCalibration TimeOfSecondaryCapture TimezoneOffsetFromUTC TopicAuthor TopicKeywords TopicSubject
        TopicTitle TransducerIdentificationSequence TreatmentSites UDISequence UniqueDeviceIdentifier
        VerbalSourceIdentifierCodeSequenceTrial VerbalSourceTrial VisitComments WaveformFilterDescription
        XRayDetectorLabel 00081301 00081302 00081303 00081304 00100011 00100012 00100013 00100014 00100015 00100016
        00100041 00100042 00100043 00100044 00100045 00100046 00100047 00102162 0040A034 0040A035 0040B034 0040B036
        0040B03B 0040B03F
    """,
    "Z": """
        AccessionNumber CalibrationDateTime ClinicalTrialCoordinatingCenterName ClinicalTrialProtocolName
        ClinicalTrialSiteID ClinicalTrialSiteName ClinicalTrialTimePointID ConceptualVolumeCombinationDescription
        ConceptualVolumeDescription ConsultingPhysicianName DeviceAlternateIdentifier
        FillerOrderNumberImagingServiceRequest FractionationNotes IssuerOfTheContainerIdentifierSequence
        IssuerOfTheSpecimenIdentifierSequence ManufacturerDeviceIdentifier ParticipationDateTime PatientBirthDate
        PatientID PatientName PatientSex PlacerOrderNumberImagingServiceRequest PrescriptionNotes
        PrescriptionNotesSequence RadiationGenerationModeDescription ReasonForSuperseding ReferringPhysicianName
        ReviewDate ReviewTime ROIInterpreter ROIName RTAccessoryDeviceSlotID RTAccessoryHolderSlotID
        RTPhysicianIntentNarrative SourceOfPreviousValues SpecimenPreparationSequence StructureSetDate
        StructureSetTime StudyDate StudyID StudyTime TreatmentTechniqueNotes
        VerifyingObserverIdentificationCodeSequence
    """,
    "D": """
        AcquisitionFieldOfViewLabel AnnotationGroupLabel AnnotationGroupUID AssertionDateTime
        AttributeModificationDateTime BeamHoldTransitionDateTime CertificateOfSigner
        ClinicalTrialProtocolEthicsCommitteeName ClinicalTrialProtocolID ClinicalTrialSponsorName
        ClinicalTrialSubjectID ClinicalTrialSubjectReadingID ContainerIdentifier ContentSequence
        ContextGroupLocalVersion ContextGroupVersion Date DateTime DecayCorrectionDateTime DestinationAE DeviceLabel
        DigitalSignatureDateTime EffectiveDateTime EncapsulatedDocument EntityLabel EntityLongLabel
        ExclusionStartDateTime FlowIdentifier FlowIdentifierSequence FrameAcquisitionDateTime FrameOriginTimestamp
        FrameReferenceDateTime FunctionalSyncPulse GraphicAnnotationSequence HangingProtocolCreationDateTime
        ImpedanceMeasurementDateTime InformationIssueDateTime InterlockDateTime InterlockDescription
        InterlockOriginDescription ModifyingSystem OverrideDateTime PersonIdentificationCodeSequence PersonName
        RadiationDoseIdentificationLabel RadiationDoseInVivoMeasurementLabel RadiationGenerationModeLabel
        ReasonForTheAttributeModification RecordedRTControlPointDateTime ReferencedDateTime RTPlanLabel
        RTPrescriptionLabel RTToleranceSetLabel SafePositionExitDate SafePositionExitTime SafePositionReturnDate
        SafePositionReturnTime SelectorAEValue SelectorASValue SelectorDAValue SelectorDTValue SelectorLOValue
        SelectorLTValue SelectorOBValue SelectorPNValue SelectorSHValue SelectorSTValue SelectorTMValue
        SelectorUNValue SelectorURValue SelectorUTValue SourceEndDateTime SourceIdentifier SourceStartDateTime
        SourceStrengthReferenceDate SourceStrengthReferenceTime SpecimenIdentifier StructureSetLabel Time
        TreatmentControlPointDate TreatmentControlPointTime TreatmentPositionGroupLabel
        TreatmentToleranceViolationDateTime TreatmentToleranceViolationDescription UserContentLabel
        UserContentLongLabel VerificationDateTime VerifyingObserverName VerifyingObserverSequence
        VerifyingOrganization XRayDetectorID XRaySourceID
    """,
    "U": """
        AcquisitionUID ConcatenationUID ConceptualVolumeUID ConstituentConceptualVolumeUID DeviceUID
        DigitalSignatureUID DimensionOrganizationUID DoseReferenceUID DosimetricObjectiveUID
        FailedSOPInstanceUIDList FiducialUID FrameOfReferenceUID InstanceCreatorUID IrradiationEventUID
        LargePaletteColorLookupTableUID ManufacturerDeviceClassUID MediaStorageSOPInstanceUID MultiplexGroupUID
        ObservationSubjectUIDTrial ObservationUID PaletteColorLookupTableUID PatientSetupUID
        PresentationDisplayCollectionUID PresentationSequenceCollectionUID PyramidUID ReferencedConceptualVolumeUID
        ReferencedDoseReferenceUID ReferencedDosimetricObjectiveUID ReferencedFiducialsUID
        ReferencedFrameOfReferenceUID ReferencedGeneralPurposeScheduledProcedureStepTransactionUID
        ReferencedObservationUIDTrial ReferencedSOPInstanceUID ReferencedSOPInstanceUIDInFile
        ReferencedTreatmentPositionGroupUID RelatedFrameOfReferenceUID RequestedSOPInstanceUID RTTreatmentPhaseUID
        SeriesInstanceUID SOPInstanceUID SourceConceptualVolumeUID SourceFrameOfReferenceUID SpecimenUID
        StorageMediaFileSetUID StudyInstanceUID SynchronizationFrameOfReferenceUID TableTopPositionAlignmentUID
        TargetUID TemplateExtensionCreatorUID TemplateExtensionOrganizationUID TrackingUID TransactionUID
        TreatmentPositionGroupUID TreatmentSessionUID UID
    """,
    "X/Z": """
        AcquisitionContextSequence AcquisitionDate AcquisitionTime BarcodeValue LabelText PatientSexNeutered
        ReferencedStudySequence RequestedProcedureDescription ReviewerName SourceSerialNumber TreatmentMachineName
    """,
    "X/D": """
        AcquisitionDeviceProcessingDescription DateOfLastDetectorCalibration DetectorID EndAcquisitionDateTime
        FirstTreatmentDate InstanceCreationDate IntendedPhaseEndDate IntendedPhaseStartDate MostRecentTreatmentDate
        ObservationDateTime OperatorIdentificationSequence ProtocolName RTPlanDate RTPlanTime
        RTTreatmentApproachLabel SeriesDate SeriesTime StartAcquisitionDateTime TimeOfLastDetectorCalibration
        TreatmentDate TreatmentSite TreatmentTime
    """,
    "Z/D": """
        ContentCreatorName ContentDate ContentTime ContrastBolusAgent InstructionPerformedDateTime
    """,
    "X/Z/D": """
        AcquisitionDateTime DeviceSerialNumber InstanceCreationTime InstitutionCodeSequence InstitutionName
        OperatorsName ReferencedPerformedProcedureStepSequence StationName
    """,
    "X/Z/U*": """
        ReferencedImageSequence SourceImageSequence
    """,
}
# How we apply the profile's choices without knowing each IOD's attribute types: whatever the profile
# empties ("Z", and "X/Z", "Z/D", "X/Z/D") is removed instead, which says no less and keeps no trace (the
# public copy is for reading, not for filing back into a PACS); "D" gets a dummy value consistent with
# the VR; "X/Z/U*" (lists of referenced images) keeps its items, whose UIDs are replaced like every "U".
# Person names (VR PN) are removed wherever they are, whatever the table says.
_EFFECTIVE_ACTION = {"X": "X", "Z": "X", "D": "D", "U": "U", "X/Z": "X", "X/D": "X", "Z/D": "X", "X/Z/D": "X",
                     "X/Z/U*": "K"}
_DUMMY_TEXT = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "IS": "0", "DS": "0"}
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT", "UR"})
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"})
# File meta entries that name the sending or receiving system, or carry private data.
_META_REMOVED = (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102)
DICOM_MAX_DEPTH = 16  # sequences nested deeper than this are removed, not walked
DEIDENTIFICATION_METHOD = "DICOM PS3.15 E.1 Basic Profile; UIDs replaced by keyed hash"


@cache
def _profile() -> dict[int, str]:
    from pydicom.datadict import tag_for_keyword

    table = {}
    for code, names in _BASIC_PROFILE.items():
        for name in names.split():
            tag = tag_for_keyword(name)
            table[int(name, 16) if tag is None else tag] = _EFFECTIVE_ACTION[code]
    return table


def _dicom_action(tag) -> str | None:
    group, element = tag >> 16, tag & 0xFFFF
    if 0x5000 <= group <= 0x50FF:  # curves (retired), every element
        return "X"
    if 0x6000 <= group <= 0x60FF and element in (0x3000, 0x4000):  # overlay data and comments
        return "X"
    return _profile().get(int(tag))


@cache
def _uid_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"anonymization.dicom-uid", hashlib.sha256).digest()


def _replacement_uid(uid) -> str:
    """UIDs are replaced, not kept: some systems build them from dates, device serial numbers or record
    numbers. A keyed hash (the key derived from SECRET_KEY) maps a UID to the same new one in every file
    this site publishes, so the series and images of one study stay linked across uploads, as the profile
    asks ("internally consistent"), while nobody without the key can recover or confirm the original."""
    uid = str(uid or "").strip().rstrip("\0")
    if not uid:
        return ""
    digest = hmac.new(_uid_key(), uid.encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def _dummy(vr: str):
    if vr in _DUMMY_TEXT:
        return _DUMMY_TEXT[vr]
    if vr in _TEXT_VRS:
        return "ANONYMIZED"
    if vr in _NUMBER_VRS:
        return 0
    return None  # binary and anything else: empty


def _deidentify(dataset, depth: int = 0) -> None:
    """Apply the profile to `dataset` and to every item of every sequence in it, however deep."""
    for tag in list(dataset.keys()):
        element = dataset[tag]
        action = "X" if tag.is_private else _dicom_action(tag)
        removed = action == "X" or element.VR == "PN" or (
            element.VR == "SQ" and (action == "D" or depth >= DICOM_MAX_DEPTH))  # no dummy sequences
        if removed:
            del dataset[tag]
        elif element.VR == "SQ":
            for item in element.value:
                _deidentify(item, depth + 1)
        elif action == "U" or (action == "D" and element.VR == "UI"):
            if element.VM > 1:
                element.value = [_replacement_uid(value) for value in element.value]
            else:
                element.value = _replacement_uid(element.value)
        elif action == "D":
            element.value = _dummy(element.VR)


def _strip_dicom(source, target) -> None:
    import pydicom
    from pydicom.dataset import Dataset

    dataset = pydicom.dcmread(source)
    _deidentify(dataset)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        for tag in _META_REMOVED:
            if tag in meta:
                del meta[tag]
        _deidentify(meta)  # MediaStorageSOPInstanceUID gets the same new UID as SOPInstanceUID
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    dataset.DeidentificationMethodCodeSequence = [code]
    dataset.LongitudinalTemporalInformationModified = "REMOVED"
    dataset.save_as(target)


# --- The copy ----------------------------------------------------------------------------------


MAX_ARCHIVE_DEPTH = 3


def _clean_archive(source, target, *, depth: int) -> None:
    """An archive rebuilt member by member, each member's own clean copy (archives inside, three
    levels deep); programs and what cannot be read are left out, and a member whose name the scan
    would flag gets a neutral one in its folder."""
    from .scanning.patterns import name_categories

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


def public_copy(source, *, kind: str, depth: int = 0):
    """A temporary file holding the publishable copy of `source` (an open binary file)."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    source.seek(0)
    if kind in filetypes.IMAGES:
        _strip_image(source, kind, target)
    elif kind == "pdf":
        _strip_pdf(source, target)
    elif kind in filetypes.TABULAR:
        _neutralize_delimited(source, target, delimiter="\t" if kind == "tsv" else ",")
    elif kind == "xlsx":
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as neutral:
            _neutralize_xlsx(source, neutral)  # then the metadata, in the workbook openpyxl wrote
            neutral.seek(0)
            _strip_office(neutral, target)
    elif kind in filetypes.OFFICE:
        _strip_office(source, target)
    elif kind in filetypes.OPENDOCUMENT:
        _strip_opendocument(source, target)
    elif kind == "dicom":
        _strip_dicom(source, target)
    elif kind == "zip":
        _clean_archive(source, target, depth=depth)
    else:
        while chunk := source.read(2**20):
            target.write(chunk)
    target.seek(0)
    return target
