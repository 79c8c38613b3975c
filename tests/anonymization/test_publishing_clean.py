"""Publishing makes a clean public copy, always: every property checked on the published bytes.

Formulas in CSV, TSV and XLSX are made inert; PDFs lose scripts, actions, embedded files and XFA;
DICOM is de-identified by the PS3.15 Annex E basic profile, nested sequences and private tags
included; images lose EXIF, XMP and text chunks; a file name that identifies someone is replaced.
Every person here is fictional (Jane Testpatient), every phone number from Ofcom's drama range.
"""
import csv
import io
import re
import struct
import zipfile
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from anonymization.models import Upload
from anonymization.publishing import _neutralize_field, neutralize, public_copy, public_file_name
from anonymization.scanning.patterns import is_formula
from anonymization.storage import published_storage

from . import files

pytestmark = pytest.mark.django_db

SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture
def published(attach, anonymizer, django_capture_on_commit_callbacks):
    """Attach a file, scan it, approve it as the team; returns (upload, published bytes)."""
    from anonymization import services

    def _published(data_request, name, content):
        with django_capture_on_commit_callbacks(execute=True):
            upload = attach(data_request, name, content)
        with django_capture_on_commit_callbacks(execute=True):
            services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve", reason="",
                                   ip="192.0.2.9")
        upload.refresh_from_db()
        assert upload.state == Upload.State.PUBLISHED
        with published_storage().open(upload.published_name, "rb") as file:
            return upload, file.read()
    return _published


def _copy(content: bytes, kind: str) -> bytes:
    with public_copy(io.BytesIO(content), kind=kind) as copy:
        return copy.read()


# --- Formulas -------------------------------------------------------------------------------------

DANGEROUS_CELLS = ["=HYPERLINK(\"http://example.org\",\"x\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                   "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "\uff1d1+1", "\uff0bcmd", "\uff0d1",
                   "\uff20SUM(1)", "+44 7700 900123"]
INERT_CELLS = ["-3.5", "+447700900123", "-12", "+0.5", "-1e-5", "-", "Jane", "3-4", "a=b", ""]


@pytest.mark.parametrize("value", DANGEROUS_CELLS)
def test_a_cell_that_starts_like_a_formula_is_quoted(value):
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", INERT_CELLS)
def test_plain_numbers_and_text_stay_as_they_are(value):
    assert neutralize(value) == value


@pytest.mark.parametrize("value", ["\t=1+1", "\r=1+1", "\uff1d1+1", "\uff0bcmd", "\uff0d1", "\uff20SUM(1)"])
def test_the_scan_flags_tab_return_and_fullwidth_starts(value):
    assert is_formula(value)


@pytest.mark.parametrize("value", ["-3.5", "+44 20 7946 0000", "-", "Jane"])
def test_the_scan_still_passes_numbers_and_phone_numbers(value):
    assert not is_formula(value)


def _formula_rows() -> list[list[str]]:
    return [["item", "note"], *[[f"r{number}", value] for number, value in enumerate(DANGEROUS_CELLS)],
            *[[f"k{number}", value] for number, value in enumerate(INERT_CELLS)]]


def _csv_bytes(rows, *, delimiter=",") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def _assert_neutral_table(data: bytes, *, delimiter: str, encoding: str = "utf-8-sig") -> None:
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter))
    assert rows == [[_neutralize_field(cell, delimiter) for cell in row] for row in _formula_rows()]
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r\uff1d\uff0b\uff0d\uff20" or cell in INERT_CELLS
            for other in ",;\t|".replace(delimiter, ""):  # nor where a reader splitting on another would
                for part in cell.split(other)[1:]:
                    assert not part or part[0] not in "=@\uff1d\uff20" or part.startswith("'")


def test_published_csv_has_no_live_formula(published, public_request):
    upload, data = published(public_request, "notes.csv", _csv_bytes(_formula_rows()))
    _assert_neutral_table(data, delimiter=",", encoding="utf-8")
    assert b"'=HYPERLINK" in data and b"\n-3.5" not in data and b",-3.5" in data


def test_published_tsv_keeps_its_delimiter_and_has_no_live_formula(published, public_request):
    upload, data = published(public_request, "notes.tsv", _csv_bytes(_formula_rows(), delimiter="\t"))
    _assert_neutral_table(data, delimiter="\t", encoding="utf-8")


def test_a_semicolon_csv_keeps_its_dialect():
    data = _copy(b"a;b\n=1+1;-3,5\n", "csv")
    assert data == b"a;b\n'=1+1;-3,5\n"


@pytest.mark.parametrize(("encoded", "marked"), [
    ("a,b\r\n=1+1,Zoë\r\n".encode("utf-16"), True),
    ("a,b\r\n=1+1,Zoë\r\n".encode("utf-8-sig"), True),
    (("a,b\r\nJosé,=1+1\r\n" + "x,y\r\n" * 10).encode("cp1252"), False),
])
def test_published_table_is_utf8_whatever_it_came_in(encoded, marked):
    data = _copy(encoded, "csv")
    assert data.startswith(b"\xef\xbb\xbf") is marked
    text = data.decode("utf-8-sig")
    assert "'=1+1" in text and ("Zoë" in text or "José" in text)


def test_a_table_is_copied_row_by_row_within_its_bounds():
    """A line longer than the scan reads stops the copy: nothing is published unneutralized."""
    with pytest.raises((ValueError, csv.Error)):
        _copy(b"a,b\n" + b"=1+" * 400_000 + b"\n", "csv")


def _formula_xlsx(*, author: str = "Jane Testpatient") -> bytes:
    from openpyxl import Workbook
    from openpyxl.worksheet.formula import ArrayFormula

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["item", "value", "note"])
    sheet.append(["a", "=SUM(1,2)", "=HYPERLINK(\"http://example.org\",\"click\")"])
    sheet.append(["b", -3.5, "-3.5"])
    sheet.append(["c", "@cmd", "\t=1+1"])
    sheet.append(["d", "\uff1d1+1", "+447700900123"])
    sheet["D1"] = ArrayFormula("D1:D1", "=SUM(B2:B3)")
    hidden = workbook.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden.append(["=1+1"])
    workbook.properties.creator = author
    workbook.properties.lastModifiedBy = author
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _assert_neutral_workbook(data: bytes) -> None:
    from openpyxl import load_workbook

    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            root = ElementTree.fromstring(archive.read(name))
            assert root.find(f".//{SPREADSHEET_NS}f") is None, name  # no formula anywhere
        assert b"Testpatient" not in archive.read(name), name
    workbook = load_workbook(io.BytesIO(data))
    values = {(sheet.title, cell.coordinate): (cell.value, cell.data_type)
              for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row}
    assert values[("Data", "B2")] == ("'=SUM(1,2)", "s")
    assert values[("Data", "C2")][0].startswith("'=HYPERLINK(")
    assert values[("Data", "D1")] == ("'=SUM(B2:B3)", "s")
    assert values[("Data", "B3")] == (-3.5, "n") and values[("Data", "C3")] == ("-3.5", "s")
    assert values[("Data", "B4")][0] == "'@cmd" and values[("Data", "C4")][0] == "'\t=1+1"
    assert values[("Data", "B5")][0] == "'\uff1d1+1" and values[("Data", "C5")][0] == "+447700900123"
    assert values[("Hidden", "A1")] == ("'=1+1", "s")
    assert all(data_type != "f" for _value, data_type in values.values())


def test_published_xlsx_has_no_formula_and_no_author(published, public_request):
    _upload, data = published(public_request, "counts.xlsx", _formula_xlsx())
    _assert_neutral_workbook(data)


def test_a_large_workbook_is_streamed_and_still_neutral(settings, monkeypatch):
    from anonymization import publishing

    monkeypatch.setattr(publishing.tables, "XLSX_FULL_LOAD_BYTES", 0)  # as if its sheets were too large to load
    _assert_neutral_workbook(_copy(_formula_xlsx(), "xlsx"))


# --- PDF --------------------------------------------------------------------------------------------

PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/Launch", b"/URI", b"/SubmitForm", b"/ImportData",
              b"/GoToR", b"/GoToE", b"/EmbeddedFile", b"/FileAttachment", b"/XFA", b"/AcroForm", b"/Names")


def active_pdf() -> bytes:
    """A page with every kind of active content: document JavaScript and an open action, page and field
    actions, links that launch, open URIs, submit, import and open other files, an attached file."""
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

    def name(value):
        return NameObject(value)

    def action(kind, **entries):
        return DictionaryObject({name("/S"): name(kind), **{name(f"/{key}"): value for key, value in entries.items()}})

    def script(code):
        return action("/JavaScript", JS=TextStringObject(code))

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    writer.root_object[name("/OpenAction")] = writer._add_object(script("app.alert('Jane Testpatient')"))
    writer.add_open_action(JavaScript("app.alert('document script')"))
    writer.add_attachment("Jane_Testpatient.txt", b"Jane Testpatient, 07700 900123")
    writer.root_object[name("/AcroForm")] = DictionaryObject(
        {name("/Fields"): ArrayObject(), name("/XFA"): TextStringObject("<xdp:xdp/>")})
    writer.root_object[name("/AA")] = DictionaryObject({name("/WC"): script("app.alert('close')")})
    page[name("/AA")] = DictionaryObject({name("/O"): script("app.alert('page open')")})
    rect = ArrayObject([NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)])
    fit = ArrayObject([page.indirect_reference, name("/Fit")])

    def annotation(subtype, **entries):
        annotation = DictionaryObject({name("/Type"): name("/Annot"), name("/Subtype"): name(subtype),
                                       name("/Rect"): rect})
        annotation.update({name(f"/{key}"): value for key, value in entries.items()})
        return writer._add_object(annotation)

    page[name("/Annots")] = ArrayObject([
        annotation("/Link", A=action("/URI", URI=TextStringObject("https://example.org/jane"))),
        annotation("/Link", A=action("/Launch", F=TextStringObject("calc.exe"))),
        annotation("/Link", A=action("/SubmitForm", F=TextStringObject("https://example.org/submit"))),
        annotation("/Link", A=action("/ImportData", F=TextStringObject("data.fdf"))),
        annotation("/Link", A=action("/GoToR", F=TextStringObject("other.pdf"), D=ArrayObject([NumberObject(0)]))),
        annotation("/Link", A=action("/GoToE", D=ArrayObject([NumberObject(0)]))),
        annotation("/Link", A=script("app.alert('link')")),
        annotation("/Link", A=action("/GoTo", D=fit, Next=script("app.alert('chained')"))),
        annotation("/Widget", AA=DictionaryObject({name("/K"): script("event.value")}),
                   A=script("app.alert('field')")),
        annotation("/FileAttachment", FS=DictionaryObject({name("/Type"): name("/Filespec"),
                                                           name("/F"): TextStringObject("note.txt")})),
    ])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_nodes(reader):
    """Every dictionary and array of a PDF, through every object of its cross-reference table."""
    from pypdf.generic import ArrayObject, DictionaryObject

    seen, stack = set(), [reader.trailer]
    for number in range(1, reader.trailer.get("/Size", 0)):
        try:
            stack.append(reader.get_object(number))
        except Exception:  # a free entry
            continue
    while stack:
        node = stack.pop()
        node = node.get_object() if node is not None else None
        if not isinstance(node, DictionaryObject | ArrayObject) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(node if isinstance(node, ArrayObject) else node.values())


def test_published_pdf_has_no_active_content(published, public_request):
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

    source = active_pdf()
    assert all(token in source for token in (b"/JavaScript", b"/OpenAction", b"/AA", b"/Launch", b"/URI",
                                             b"/EmbeddedFiles", b"/FileAttachment", b"/XFA"))
    _upload, data = published(public_request, "letter.pdf", source)
    for token in PDF_ACTIVE:
        assert token not in data, token
    assert b"Testpatient" not in data
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    nodes = [node for node in _pdf_nodes(reader) if isinstance(node, DictionaryObject)]
    for node in nodes:
        assert not {"/AA", "/OpenAction", "/JS", "/EF", "/EmbeddedFiles", "/XFA", "/AcroForm"} & set(node), node
        if "/S" in node:
            assert node["/S"] == "/GoTo" and "/Next" not in node
        assert node.get("/Subtype") != "/FileAttachment"
    kept = [node for node in nodes if node.get("/Subtype") == "/Link" and "/A" in node]
    assert len(kept) == 1 and kept[0]["/A"]["/S"] == "/GoTo"  # the jump inside the document still works


def test_a_pdf_copy_keeps_its_pages_and_loses_its_metadata():
    from pypdf import PdfReader

    data = _copy(files.pdf_with_author(), "pdf")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 and not (reader.metadata or {}).get("/Author")


# --- DICOM ------------------------------------------------------------------------------------------

def nested_dicom() -> bytes:
    """A DICOM file naming its synthetic patient at the top, in sequences two levels deep (in items the
    profile keeps and in items it removes) and in private tags, with a phone number in a private tag."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

    dataset = files.new_dicom()
    dataset.file_meta.SourceApplicationEntityTitle = "TESTPATIENT_WS"
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    dataset.PatientName = "Testpatient^Jane"
    dataset.PatientID = "SYN-000001"
    dataset.PatientBirthDate = "19700101"
    dataset.PatientSex = "F"
    dataset.StudyDate, dataset.SeriesDate, dataset.ContentDate = "20200301", "20200301", "20200301"
    dataset.StudyDescription = "Chest of Jane Testpatient"
    dataset.PatientComments = "Call 07700 900123"
    dataset.InstitutionName = "Synthetic General Hospital"
    dataset.OperatorsName = "Testpatient^John"
    dataset.BodyPartExamined = "CHEST"
    dataset.add_new(0x00090010, "LO", "SYNTHETIC CREATOR")
    dataset.add_new(0x00091001, "LO", "07700 900123")
    # Removed whole by the profile: a request whose item names the patient.
    request = Dataset()
    request.RequestedProcedureID = "SYN-REQ-1"
    request.add_new(0x00401010, "PN", "Testpatient^Jane")  # NamesOfIntendedRecipientsOfResults
    request.add_new(0x00431010, "LO", "Jane Testpatient")
    dataset.RequestAttributesSequence = Sequence([request])
    # Kept by the profile (its UIDs replaced): references whose items nest further.
    deeper = Dataset()
    deeper.CodeValue, deeper.CodingSchemeDesignator, deeper.CodeMeaning = "121311", "DCM", "Localizer"
    deeper.add_new(0x0040A123, "PN", "Testpatient^Jane")  # PersonName
    deeper.add_new(0x00291010, "LO", "Jane Testpatient")
    deeper.add_new(0x00291011, "LO", "07700 900123")
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = SecondaryCaptureImageStorage
    referenced.ReferencedSOPInstanceUID = dataset.SOPInstanceUID
    referenced.PurposeOfReferenceCodeSequence = Sequence([deeper])
    referenced.add_new(0x00091010, "LO", "Jane Testpatient")
    dataset.ReferencedImageSequence = Sequence([referenced])
    return files.dicom_bytes(dataset)


def _all_elements(dataset):
    for element in dataset:
        yield element
        if element.VR == "SQ":
            for item in element.value:
                yield from _all_elements(item)


def test_published_dicom_is_deidentified_to_the_basic_profile(published, public_request):
    import pydicom

    source = nested_dicom()
    original = pydicom.dcmread(io.BytesIO(source))
    assert source.count(b"Testpatient") >= 5
    _upload, data = published(public_request, "scan.dcm", source)
    for secret in (b"Testpatient", b"TESTPATIENT", b"07700", b"SYN-000001", b"19700101", b"20200301",
                   b"Synthetic General Hospital", b"SYN-REQ-1", original.StudyInstanceUID.encode()):
        assert secret not in data, secret
    dataset = pydicom.dcmread(io.BytesIO(data))
    elements = list(_all_elements(dataset)) + list(dataset.file_meta)
    assert not [element for element in elements if element.tag.is_private]
    assert not [element for element in elements if element.VR == "PN"]
    for element in elements:
        assert "Testpatient" not in str(element.value) and "07700" not in str(element.value), element
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "SeriesDate",
                    "ContentDate", "StudyDescription", "PatientComments", "InstitutionName", "OperatorsName",
                    "RequestAttributesSequence"):
        assert keyword not in dataset, keyword
    assert "SourceApplicationEntityTitle" not in dataset.file_meta
    assert dataset.PatientIdentityRemoved == "YES" and "PS3.15" in dataset.DeidentificationMethod
    assert dataset.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    # UIDs replaced, consistently: the file meta and the reference still point at this very image.
    assert dataset.SOPInstanceUID != original.SOPInstanceUID and dataset.SOPInstanceUID.startswith("2.25.")
    assert dataset.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
    assert dataset.ReferencedImageSequence[0].ReferencedSOPInstanceUID == dataset.SOPInstanceUID
    assert dataset.SOPClassUID == original.SOPClassUID  # a class, not an instance: kept
    assert dataset.ReferencedImageSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue == "121311"
    assert dataset.BodyPartExamined == "CHEST" and dataset.Rows == 2
    assert dataset.PixelData == original.PixelData


def test_the_same_study_gets_the_same_new_uids_in_every_copy():
    import pydicom

    source = nested_dicom()
    first, second = (pydicom.dcmread(io.BytesIO(_copy(source, "dicom"))) for _ in range(2))
    assert first.StudyInstanceUID == second.StudyInstanceUID
    assert first.SeriesInstanceUID == second.SeriesInstanceUID


def test_dicom_sequences_nested_beyond_the_bound_are_removed(monkeypatch):
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from anonymization import publishing

    monkeypatch.setattr(publishing.dicom, "DICOM_MAX_DEPTH", 2)
    dataset = pydicom.dcmread(io.BytesIO(nested_dicom()))
    item = Dataset()
    item.CodeMeaning = "Jane Testpatient"
    for _level in range(4):
        outer = Dataset()
        outer.ConceptNameCodeSequence = Sequence([item])
        item = outer
    dataset.ConceptNameCodeSequence = item.ConceptNameCodeSequence
    out = io.BytesIO()
    dataset.save_as(out)
    assert b"Testpatient" not in _copy(out.getvalue(), "dicom")


# --- Images -----------------------------------------------------------------------------------------

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Testpatient"/>'
       b"</rdf:RDF></x:xmpmeta>")


def _exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x013B] = "Jane Testpatient"  # Artist
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS
    return exif


def png_with_metadata() -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Testpatient")
    info.add_text("Comment", "07700 900123", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 200, 30)).save(out, format="PNG", pnginfo=info, exif=_exif())
    return out.getvalue()


def jpeg_with_metadata() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 200, 30)).save(out, format="JPEG", exif=_exif(), xmp=XMP)
    return out.getvalue()


def _png_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunks.append(kind)
        position += length + 12
    return chunks


@pytest.mark.parametrize(("name", "make"), [("photo.png", png_with_metadata), ("photo.jpg", jpeg_with_metadata)])
def test_published_image_has_no_exif_xmp_or_text(published, public_request, name, make):
    from PIL import Image

    source = make()
    assert b"Testpatient" in source and b"xmpmeta" in source
    assert (b"eXIf" if name.endswith(".png") else b"Exif") in source
    _upload, data = published(public_request, name, source)
    for secret in (b"Testpatient", b"07700", b"xmpmeta", b"Exif"):
        assert secret not in data, secret
    if name.endswith(".png"):
        assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(_png_chunks(data))
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif() and image.size == (16, 12)
        assert not {key for key in image.info if key.lower() not in ("dpi", "jfif", "jfif_version", "jfif_unit",
                                                                      "jfif_density", "progressive", "progression")}


# --- Names ------------------------------------------------------------------------------------------

IDENTIFYING_NAME = "Jane_Testpatient_1970-01-01.csv"


def test_a_flagged_file_name_is_replaced_for_readers(client, published, public_request):
    upload, _data = published(public_request, IDENTIFYING_NAME, files.clean_aggregated_csv())
    version = upload.published_version
    assert any(finding["code"] == "name_in_filename" for finding in version.findings)
    neutral = f"file-{upload.pk}.csv"
    assert version.public_name == neutral
    assert "Testpatient" not in upload.published_name and "Jane" not in upload.published_name
    # The request's page, as an anonymous visitor sees it: the neutral name, never the uploader's.
    page = client.get(public_request.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()  # (the request's own title names its fictional cohort)
    assert neutral in body and "Jane_Testpatient" not in body
    # The download: under the neutral name; the old name only redirects there.
    response = client.get(reverse("anonymization:published-download", args=[upload.pk, neutral]))
    assert response.status_code == 200
    assert re.search(rf'filename="?{re.escape(neutral)}"?', response["Content-Disposition"])
    assert "Testpatient" not in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == _data
    response = client.get(reverse("anonymization:published-download", args=[upload.pk, IDENTIFYING_NAME]))
    assert response.status_code == 302
    assert response["Location"] == reverse("anonymization:published-download", args=[upload.pk, neutral])


def test_a_clean_file_name_is_kept(published, public_request):
    upload, _data = published(public_request, "weekly-counts.csv", files.clean_aggregated_csv())
    assert upload.published_version.public_name == "weekly-counts.csv"
    assert upload.published_name == f"{upload.pk}/v1.csv"


@pytest.mark.parametrize(("report", "expected"), [
    ({"findings": [{"code": "name_in_filename", "subject": "person_name"}]}, "file-7.xlsx"),
    ({"findings": [{"code": "formula"}]}, "Jane Testpatient.xlsx"),
    ({}, "Jane Testpatient.xlsx"),
    (None, "Jane Testpatient.xlsx"),
])
def test_the_naming_rule(report, expected):
    assert public_file_name(upload_id=7, original_name="Jane Testpatient.xlsx", report=report) == expected


# --- Archives ---------------------------------------------------------------------------------------

def _zip(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_published_archive_holds_clean_copies_of_its_members(published, public_request):
    inner = _zip({"deeper/formulas.csv": _csv_bytes([["a", "b"], ["1", "=1+1"]])})
    content = _zip({
        "tables/formulas.csv": _csv_bytes(_formula_rows()),
        "Jane_Testpatient_1970-01-01/notes.txt": b"Weekly counts only.\n",
        "figures/letter.pdf": active_pdf(),
        "nested/inner.zip": inner,
    })
    _upload, data = published(public_request, "bundle.zip", content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "tables/formulas.csv" in names and "figures/letter.pdf" in names
        assert not any("Testpatient" in name for name in names)  # a flagged folder name is gone
        assert any(re.fullmatch(r"file-\d+\.txt", name) for name in names)
        _assert_neutral_table(archive.read("tables/formulas.csv"), delimiter=",")
        assert b"/JavaScript" not in archive.read("figures/letter.pdf")
        with zipfile.ZipFile(io.BytesIO(archive.read("nested/inner.zip"))) as nested:
            assert b"'=1+1" in nested.read("deeper/formulas.csv")


def test_a_field_that_another_delimiter_would_split_is_neutral_too():
    data = _copy(_csv_bytes([["name", "note"], ["a", "fine;=1+1"], ["b", "x|@SUM(1)"]]), "csv")
    assert b";'=1+1" in data and b"|'@SUM(1)" in data
