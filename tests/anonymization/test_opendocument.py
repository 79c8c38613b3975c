"""OpenDocument text, spreadsheets and presentations (.odt, .ods, .odp): accepted by their content,
scanned for identifiers in their text, comments, cells and metadata, and published as a clean copy
(no comments, formulas, person fields, thumbnails or macros; `mimetype` still first and stored).
Every person here is fictional (Jane Testpatient), every phone number from Ofcom's drama range."""
import io
import time
import zipfile
from xml.etree import ElementTree

import pytest
from django.core.exceptions import ValidationError

from anonymization import filetypes
from anonymization.publishing import public_copy
from anonymization.scanning import scan_file, tabular

from . import corpus
from .corpus import odf_meta, opendocument
from .files import plain_png, uploaded

OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"

ANNOTATION = ('<office:annotation><dc:creator>Synthetic Reviewer</dc:creator><dc:date>2020-03-01T10:00:00</dc:date>'
              '<text:p>Ask her on 07700 900456 before six.</text:p></office:annotation>')
PERSON_META = odf_meta(
    "<meta:initial-creator>Jane Testpatient</meta:initial-creator>",
    "<dc:creator>Synthetic Public Health Institute</dc:creator>",
    "<dc:title>Letter for Jane Testpatient</dc:title>",
    "<meta:generator>SyntheticOffice/1.0</meta:generator>",
    '<meta:user-defined meta:name="Ward">Ward 3</meta:user-defined>',
    '<meta:document-statistic meta:page-count="1"/>',
)
# What publication leaves out: a rendered first page, a macro library, a script.
ACTIVE_MEMBERS = {"Thumbnails/thumbnail.png": plain_png(), "Basic/Standard/Module1.xml": "<module/>",
                  "Scripts/python/run.py": "print('synthetic')\n"}


def odt() -> bytes:
    body = ('<text:h text:outline-level="1">Discharge letter</text:h>'
            "<text:p>Jane Testpatient, born 1970-01-01, went home on Monday.</text:p>"
            f"<text:p>Phone<text:tab/>07700 900123, email jane.testpatient@example.org{ANNOTATION}</text:p>"
            '<text:tracked-changes><text:changed-region text:id="ct1"><text:deletion><office:change-info>'
            "<dc:creator>Synthetic Editor</dc:creator><dc:date>2020-03-02T10:00:00</dc:date></office:change-info>"
            "<text:p>She was seen by the ward team.</text:p></text:deletion></text:changed-region>"
            "</text:tracked-changes>")
    return opendocument("odt", body, meta=PERSON_META, extra=ACTIVE_MEMBERS,
                        styles="<style:header><text:p>Ward 3, patient Jane Testpatient</text:p></style:header>")


def _cell(text: str, **attributes) -> str:
    extra = "".join(f' {name.replace("__", ":").replace("_", "-")}="{value}"' for name, value in attributes.items())
    inside = f"<text:p>{text}</text:p>" if text else ""
    return f"<table:table-cell{extra}>{inside}</table:table-cell>"


def _row(*cells: str, **attributes) -> str:
    extra = "".join(f' {name.replace("__", ":").replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f"<table:table-row{extra}>{''.join(cells)}</table:table-row>"


HIDDEN_STYLE = ('<style:style style:name="ta2" style:family="table">'
                '<style:table-properties table:display="false"/></style:style>')


def ods() -> bytes:
    string = {"office__value-type": "string"}
    summary = ('<table:table table:name="Summary">'
               + _row(_cell("week", **string), _cell("notes", **string), _cell("total", **string))
               + _row(_cell("1", office__value_type="float", office__value="1"),
                      "<table:table-cell office:value-type=\"string\">"
                      f"<text:p>Please ring the daughter on 07700 900123 after six.</text:p>{ANNOTATION}"
                      "</table:table-cell>",
                      _cell("12", table__formula="of:=WEBSERVICE(&quot;http://example.invalid&quot;)",
                            office__value_type="float", office__value="12"))
               + _row(_cell('=HYPERLINK("http://example.invalid")', **string), _cell("-3.5", **string))
               # Trailing empty rows and columns, as LibreOffice writes them: counted, never built.
               + _row(_cell("", table__number_columns_repeated="16384"), table__number_rows_repeated="1048573")
               + "</table:table>")
    linkage = ('<table:table table:name="Linkage" table:style-name="ta2">'
               + _row(_cell("study_id", **string), _cell("date_of_birth", **string))
               + _row(_cell("S-001", **string),
                      _cell("01/01/1970", office__value_type="date", office__date_value="1970-01-01"),
                      _cell("", table__number_columns_repeated="2"),
                      _cell("Jane Testpatient, lives alone", **string),
                      _cell("", table__number_columns_repeated="1000000"))
               + "</table:table>")
    return opendocument("ods", summary + linkage, automatic_styles=HIDDEN_STYLE, extra=ACTIVE_MEMBERS,
                        meta=odf_meta("<meta:initial-creator>Jane Testpatient</meta:initial-creator>"))


def odp() -> bytes:
    listener = ('<office:event-listeners><presentation:event-listener script:event-name="dom:click" '
                'presentation:action="execute" xlink:href="synthetic-program.exe"/></office:event-listeners>')
    body = ('<draw:page draw:name="page1"><draw:frame><draw:text-box><text:p>Case 3</text:p></draw:text-box>'
            f"{listener}</draw:frame>"
            "<presentation:notes><draw:frame><draw:text-box><text:p>Her email is jane.testpatient@example.org"
            "</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>"
            '<draw:page draw:name="page2"><draw:frame><draw:text-box>'
            "<text:p>Jane Testpatient, born 1970-01-01</text:p></draw:text-box></draw:frame>"
            f"{ANNOTATION}</draw:page>")
    return opendocument("odp", body, meta=PERSON_META, extra={
        **ACTIVE_MEMBERS, "Pictures/photo.png": corpus.png_with_text_chunk()})


MAKERS = {"odt": odt, "ods": ods, "odp": odp}


def _scan(kind: str, data: bytes) -> list[dict]:
    return scan_file(io.BytesIO(data), kind=kind, name=f"file.{kind}")["findings"]


def _where(findings, subject: str) -> set:
    return {cell for finding in findings if finding["subject"] == subject for cell in finding["cells"]}


def _metadata(findings) -> set:
    return {finding["detail"] for finding in findings if finding["code"] == "document_metadata"}


def _copy(kind: str, data: bytes) -> bytes:
    with public_copy(io.BytesIO(data), kind=kind) as copy:
        return copy.read()


# --- Accepted by content -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["odt", "ods", "odp"])
def test_opendocument_files_are_accepted_as_their_kind(kind):
    inspection = filetypes.inspect_upload(uploaded(f"file.{kind}", MAKERS[kind]()), name=f"file.{kind}")
    assert inspection.kind == kind
    assert inspection.content_type == corpus.ODF_MIMETYPES[kind]


@pytest.mark.parametrize("name, data", [
    ("letter.odt", corpus.docx_with_body_text()),  # a Word document named .odt
    ("table.ods", corpus.odt_with_body_text()),    # an OpenDocument text named .ods
])
def test_an_opendocument_name_on_other_content_is_refused(name, data):
    with pytest.raises(ValidationError) as refused:
        filetypes.inspect_upload(uploaded(name, data), name=name)
    assert refused.value.code == "type_mismatch"


def test_an_opendocument_with_a_path_leaving_its_folder_is_refused():
    data = opendocument("odt", "<text:p>Counts</text:p>", extra={"../../escape.xml": "<x/>"})
    with pytest.raises(ValidationError) as refused:
        filetypes.inspect_upload(uploaded("letter.odt", data), name="letter.odt")
    assert refused.value.code == "archive_path_traversal"


def test_a_zip_with_another_mimetype_stays_a_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("notes.txt", "Weekly counts only.\n")
    assert filetypes.inspect_upload(uploaded("book.zip", out.getvalue()), name="book.zip").kind == "zip"


# --- Scanned -----------------------------------------------------------------------------------------

def test_odt_scan_reports_body_comments_header_and_metadata():
    findings = _scan("odt", odt())
    assert {"body"} <= _where(findings, "name") & _where(findings, "date_of_birth")
    assert "body" in _where(findings, "phone")  # across a tab
    assert "body" in _where(findings, "email")
    assert "comments" in _where(findings, "phone")  # 07700 900456, in the comment only
    assert "header or footer" in _where(findings, "name")
    metadata = _metadata(findings)
    assert {"initial-creator", "title", "user-defined", "comments and their authors",
            "tracked changes and their authors"} <= metadata
    assert "creator" not in metadata  # an organisation as the author is not reported


def test_ods_scan_reads_every_sheet_cell_by_cell():
    findings = _scan("ods", ods())
    assert _where(findings, "phone") >= {"Summary!B2", "comments"}
    assert "body" not in _where(findings, "phone")  # a cell's text is read once, as a cell
    assert "Linkage!B2" in _where(findings, "date_of_birth")
    assert "Linkage!E2" in _where(findings, "name")  # after two repeated empty cells
    formulas = next(finding for finding in findings if finding["code"] == "formula")
    assert set(formulas["cells"]) == {"Summary!C2", "Summary!A3"}
    assert [finding["detail"] for finding in findings if finding["code"] == "hidden_sheet"] == ["Linkage"]
    assert {"initial-creator", "comments and their authors"} <= _metadata(findings)
    assert not [finding for finding in findings if finding["code"] in ("partial_scan", "unreadable")]


def test_odp_scan_reads_slides_speaker_notes_and_comments():
    findings = _scan("odp", odp())
    assert "speaker notes 1" in _where(findings, "email")
    assert "slide 2" in _where(findings, "name") & _where(findings, "date_of_birth")
    assert "comments" in _where(findings, "phone")
    assert "comments and their authors" in _metadata(findings)


def test_chinese_text_is_read_and_published_as_text():
    data = opendocument("odt", "<text:p>患者张三，男，45岁，电话13800138000。</text:p>",
                        meta=odf_meta("<meta:initial-creator>张三</meta:initial-creator>"))
    findings = _scan("odt", data)
    assert "body" in _where(findings, "name") & _where(findings, "phone")
    assert "initial-creator" in _metadata(findings)
    with zipfile.ZipFile(io.BytesIO(_copy("odt", data))) as archive:
        assert "患者张三" in archive.read("content.xml").decode("utf-8")
        assert "张三" not in archive.read("meta.xml").decode("utf-8")


def test_repeated_cells_are_counted_not_built(monkeypatch):
    widest = []
    feed = tabular._Sheet.feed
    monkeypatch.setattr(tabular._Sheet, "feed",
                        lambda self, number, values: (widest.append(len(values)), feed(self, number, values))[1])
    huge = ('<table:table table:name="Huge">'
            + _row(_cell("", table__number_columns_repeated="1000000"), table__number_rows_repeated="1000000")
            + _row(_cell("x", office__value_type="string", table__number_columns_repeated="1000000"),
                   table__number_rows_repeated="1000000")
            + "</table:table>")
    started = time.monotonic()
    findings = _scan("ods", opendocument("ods", huge))
    assert time.monotonic() - started < 10
    assert max(widest) <= tabular.ODS_MAX_COLUMNS
    assert sum(widest) <= tabular.ODS_MAX_COLUMNS + tabular.ODS_MAX_COPIED_CELLS
    assert any(finding["code"] == "partial_scan" for finding in findings)  # cells beyond the last column


def test_the_ods_scan_stops_at_the_cell_budget(settings):
    settings.ANONYMIZATION_SCAN_MAX_CELLS = 50
    rows = "".join(_row(_cell(f"row {number}", office__value_type="string"),
                        _cell("call 07700 900123", office__value_type="string")) for number in range(100))
    findings = _scan("ods", opendocument("ods", f'<table:table table:name="Long">{rows}</table:table>'))
    assert any(finding["code"] == "partial_scan" and "Long" in finding["detail"] for finding in findings)


def test_a_password_protected_opendocument_goes_to_a_person():
    data = opendocument("odt", "<text:p>Counts</text:p>")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(out, "w") as archive:
        for member in original.infolist():
            content = original.read(member)
            if member.filename == "content.xml":
                content = b"\x8f\x13synthetic ciphertext"
            if member.filename == "META-INF/manifest.xml":
                content = content.replace(b'manifest:media-type="text/xml"/>',
                                          b'manifest:media-type="text/xml"><manifest:encryption-data/>'
                                          b"</manifest:file-entry>", 1)
            archive.writestr(member, content)
    findings = _scan("odt", out.getvalue())
    assert [finding["code"] for finding in findings] == ["unreadable"]


def test_an_opendocument_in_an_archive_is_scanned_as_one():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("letters/letter.odt", odt())
    findings = _scan("zip", out.getvalue())
    assert "member #1: body" in _where(findings, "name")


# --- Published ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["odt", "ods", "odp"])
def test_the_published_copy_is_a_valid_package_without_comments_macros_or_people(kind):
    data = _copy(kind, MAKERS[kind]())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and not first.extra
        assert archive.read("mimetype").decode() == corpus.ODF_MIMETYPES[kind]
        assert data[30:38] == b"mimetype" and data[38:38 + len(corpus.ODF_MIMETYPES[kind])] == (
            corpus.ODF_MIMETYPES[kind].encode())  # readable at a fixed offset, as ODF asks
        names = archive.namelist()
        assert not [name for name in names if name.startswith(("Thumbnails/", "Basic/", "Scripts/"))]
        manifest = archive.read("META-INF/manifest.xml")
        assert b"Thumbnails" not in manifest and b"Basic/" not in manifest and b"Scripts/" not in manifest
        assert b"content.xml" in manifest
        content, styles, meta = (archive.read(name) for name in ("content.xml", "styles.xml", "meta.xml"))
    root = ElementTree.fromstring(content)
    ElementTree.fromstring(styles)
    assert not list(root.iter(f"{OFFICE}annotation"))
    assert b"annotation" not in content and b"900456" not in content and b"Synthetic Reviewer" not in content
    assert b"table:formula" not in content and b"WEBSERVICE" not in content
    assert b"event-listener" not in content and b"synthetic-program" not in content
    assert b"<office:document-content" in content  # prefixes as written: ODF values name them
    meta_root = ElementTree.fromstring(meta)
    assert b"Testpatient" not in meta and b"initial-creator" not in meta and b"SyntheticOffice" not in meta
    assert meta_root.find(f"{OFFICE}meta") is not None  # still a meta.xml, its statistics kept


def test_published_ods_keeps_values_and_quotes_formula_like_text():
    data = _copy("ods", ods())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    cells = list(root.iter(f"{TABLE}table-cell"))
    assert not [cell for cell in cells if f"{TABLE}formula" in cell.attrib]
    total = next(cell for cell in cells if cell.get(f"{OFFICE}value") == "12")  # the formula's value, kept
    assert "".join(total.itertext()) == "12"
    texts = ["".join(paragraph.itertext()) for paragraph in root.iter(f"{TEXT}p")]
    assert "'=HYPERLINK(\"http://example.invalid\")" in texts
    assert "-3.5" in texts and "Please ring the daughter on 07700 900123 after six." in texts
    findings = _scan("ods", data)
    assert not [finding for finding in findings if finding["code"] == "formula"]
    assert not _metadata(findings)


def test_published_odt_blanks_the_authors_of_tracked_changes():
    data = _copy("odt", odt())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read("content.xml")
    assert b"Synthetic Editor" not in content
    assert b"She was seen by the ward team." in content  # the change itself was scanned and reviewed
    assert not _metadata(_scan("odt", data))


def test_published_odp_pictures_are_reencoded_without_their_text():
    data = _copy("odp", odp())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        photo = archive.read("Pictures/photo.png")
    assert photo.startswith(b"\x89PNG") and b"testpatient" not in photo.lower()


def test_a_part_with_a_dtd_is_not_published():
    data = opendocument("odt", "<text:p>Counts</text:p>")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(out, "w") as archive:
        for member in original.infolist():
            content = original.read(member)
            if member.filename == "content.xml":
                content = content.replace(b"?>", b'?><!DOCTYPE office:document-content [<!ENTITY x "y">]>', 1)
            archive.writestr(member, content)
    with pytest.raises(ValueError):
        _copy("odt", out.getvalue())


@pytest.mark.django_db
def test_an_approved_odt_is_published_clean(attach, anonymizer, public_request, django_capture_on_commit_callbacks):
    from anonymization import services
    from anonymization.models import Upload
    from anonymization.storage import published_storage

    with django_capture_on_commit_callbacks(execute=True):
        upload = attach(public_request, "letter.odt", odt())
    upload.refresh_from_db()
    assert upload.state != Upload.State.PUBLISHED  # held: the scan found identifiers
    with django_capture_on_commit_callbacks(execute=True):
        services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve", reason="", ip="192.0.2.9")
    upload.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED
    with published_storage().open(upload.published_name, "rb") as file, zipfile.ZipFile(file) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert b"initial-creator" not in archive.read("meta.xml")
        assert b"annotation" not in archive.read("content.xml")


def test_a_package_whose_mimetype_uses_an_unknown_compression_is_refused_as_damaged():
    data = bytearray(odt())
    # The first member is "mimetype": set its compression method (local header and central directory) to 99.
    data[8:10] = (99).to_bytes(2, "little")
    central = data.rfind(b"PK\x01\x02", 0, len(data))
    while data.rfind(b"PK\x01\x02", 0, central) != -1:
        central = data.rfind(b"PK\x01\x02", 0, central)
    data[central + 10:central + 12] = (99).to_bytes(2, "little")
    with pytest.raises(ValidationError) as error:
        filetypes.inspect_upload(uploaded("letter.odt", bytes(data)), name="letter.odt")
    assert error.value.code == "bad_archive"
