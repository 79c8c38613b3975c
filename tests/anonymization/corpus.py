"""A labelled, obviously fictional corpus for the identifier detector and the file scan.

Texts and files of every kind the scan reads, each labelled with the kinds of identifier it holds,
and clean look-alikes (aggregate tables, version numbers, pseudonymous study ids, organisations)
labelled with none. Identifiers come from ranges kept for fiction and examples where there are such
ranges: Ofcom's drama numbers (07700 900xxx, 020 7946 0xxx), 555-01xx, example.org, 192.0.2.0/24 and
2001:db8::/32, the QQ prefix of UK NI numbers, 987-65-432x; names are "Testpatient" and the like.

Used by tests/anonymization/test_corpus_recall.py (recall 100%, nothing clean flagged) and by
bench/identifiers.py (per-kind recall and precision, and timings).
"""
import csv
import io
import json
import zipfile

# --- Texts: (text, {kinds}) ---------------------------------------------------------------------------

TEXTS = [
    ("Jane Testpatient (born 1970-01-01) was admitted on Monday.", {"person_name", "date_of_birth"}),
    ("Patient: Jane Testpatient, DOB 01/02/1970, MRN 12345678.", {"person_name", "date_of_birth", "medical_record"}),
    ("She was born on 3 March 1965 and lives alone.", {"date_of_birth"}),
    ("D.O.B.: 12.31.1970", {"date_of_birth"}),
    ("Please call her on 07700 900123 after six.", {"phone"}),
    ("The ward can be reached on +44 20 7946 0123.", {"phone"}),
    ("Her daughter's mobile is (202) 555-0143.", {"phone"}),
    ("Write to jane.testpatient@example.org for the scans.", {"email"}),
    ("He lives at 221B Baker Street, London NW1 6XE.", {"address", "postcode"}),
    ("Home: 742 Evergreen Terrace, Springfield, OR 97475.", {"address", "postcode"}),
    ("Wohnhaft in der Hauptstraße 12, 10115 Berlin.", {"address"}),
    ("Her NHS number is 943 476 5919.", {"national_id"}),
    ("SSN 987-65-4320 on the insurance form.", {"national_id"}),
    ("NI number QQ 12 34 56 C.", {"national_id"}),
    ("Hospital number RX-1234567 on the wristband.", {"medical_record"}),
    ("The device logged in from 192.0.2.44.", {"ip_address"}),
    ("Traffic came from 2001:db8::8a2e:370:7334 overnight.", {"ip_address"}),
    ("Mrs Testpatient was discharged yesterday.", {"person_name"}),
    ("患者张三，男，45岁，电话13800138000。", {"person_name", "phone"}),
    ("身份证号11010519491231002X，出生日期：1949年12月31日。", {"national_id", "date_of_birth"}),
    ("住址北京市朝阳区建国路88号。", {"address"}),
    ("病历号：20230001。", {"medical_record"}),
]

CLEAN_TEXTS = [
    "We used assay version 10.2.3.4 and kit v2.1.0.5 from the vendor.",
    "Pipeline release 3.1.4.1; reference genome GRCh38.p14.",
    "The study enrolled 1234 patients; mean age 54.3 (SD 12.1); 12345678 reads; p = 0.0001.",
    "The first case was reported on 2020-03-15 and the peak came on 2020-04-02.",
    "Participants STUDY-0042, P-0001 and SUBJ_17 were excluded from the analysis.",
    "Data came from the Wellcome Sanger Institute and Johns Hopkins University.",
    "Odds ratio 1.5 (95% CI 1.1-2.0), meeting at 12:30:45, ratio 3:2.",
    "我们分析了1200名患者的数据，中位年龄为54岁。",
    "Table 2 shows 4,520 admissions in 2021 and 3,981 in 2022.",
    "Patient: Recovered. Patient is stable.",
]


# --- Files: (name, bytes, {kinds}) ----------------------------------------------------------------------

def _csv(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def notes_csv() -> bytes:
    """Identifiers inside free-text cells under bland headers."""
    return _csv([
        ["id", "notes"],
        ["S-001", "Called the family on 07700 900456, they will come on Friday."],
        ["S-002", "Born 1 Jan 1970; lives at 12 Example Road with her son."],
        ["S-003", "Write to john.fakeperson@example.org if the result changes."],
        ["S-004", "NI number QQ 12 34 56 C noted on the form."],
        ["S-005", "Remote upload from 2001:db8::1 failed twice."],
        ["S-006", "Patient Jane Testpatient asked for a copy."],
    ])


def identifier_columns_csv() -> bytes:
    """Columns whose header names an identifier: their values are identifiers whatever they look like."""
    return _csv([
        ["patient_name", "date_of_birth", "mrn", "address", "postcode", "outcome"],
        ["Testpatient, Jane", "01/01/1970", "A1234567", "12 Example Road", "ZZ1 1ZZ", "recovered"],
        ["Fakeperson, John", "15/06/1985", "A7654321", "3 Sample Street", "ZZ2 2ZZ", "admitted"],
    ])


def utf16_tsv() -> bytes:
    return _csv([["id", "contact"], ["1", "jane.testpatient@example.org"]], delimiter="\t").decode().encode("utf-16")


def xlsx_with_comment_and_hidden_sheet() -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Summary"
    sheet.append(["week", "cases"])
    sheet.append([1, 12])
    sheet["B2"].comment = Comment("Ask the ward on 07700 900789", "Synthetic Reviewer")
    hidden = workbook.create_sheet("Linkage")
    hidden.sheet_state = "hidden"
    hidden.append(["study_id", "notes"])
    hidden.append(["S-001", "Jane Testpatient, born 1970-01-01"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _office(parts: dict, content_types: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'


def docx_with_body_text() -> bytes:
    body = (f'<w:document {W}><w:body>'
            '<w:p><w:r><w:t>Discharge summary</w:t></w:r></w:p>'
            '<w:p><w:r><w:t xml:space="preserve">Jane Testpatient, date of birth </w:t></w:r>'
            '<w:r><w:t>1970-01-01</w:t></w:r></w:p></w:body></w:document>')
    header = f'<w:hdr {W}><w:p><w:r><w:t>Hospital number RX-7654321</w:t></w:r></w:p></w:hdr>'
    return _office({"word/document.xml": body, "word/header1.xml": header},
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')


def pptx_with_notes() -> bytes:
    slide = (f'<p:sld {P} {A}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>Case 3</a:t></a:r></a:p>'
             '</p:txBody></p:sp></p:spTree></p:cSld></p:sld>')
    notes = (f'<p:notes {P} {A}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r>'
             '<a:t>Her email is jane.testpatient@example.org</a:t></a:r></a:p></p:txBody></p:sp></p:spTree>'
             '</p:cSld></p:notes>')
    return _office({"ppt/slides/slide1.xml": slide, "ppt/notesSlides/notesSlide1.xml": notes},
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')


def pdf_with_text(pages: list[str], author: str = "") -> bytes:
    """A small, valid PDF whose pages hold `pages` as text (Helvetica), written by hand."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    info = None
    if author:
        objects.append(f"<< /Author ({author}) >>")
        info = len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out.write(f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _dicom(*, patient_name: str, patient_id: str, identity_removed: bool = False, nested_name: str = "",
           private_text: str = "") -> bytes:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from .files import dicom_bytes, new_dicom

    dataset = new_dicom()
    dataset.PatientName = patient_name
    dataset.PatientID = patient_id
    dataset.BurnedInAnnotation = "NO"
    if identity_removed:
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = "Synthetic basic profile"
    if nested_name:
        item = Dataset()
        item.RequestingPhysician = nested_name
        item.RequestedProcedureDescription = "Chest CT"
        dataset.RequestAttributesSequence = Sequence([item])
    if private_text:
        block = dataset.private_block(0x0011, "SYNTHETIC VENDOR", create=True)
        block.add_new(0x01, "LO", private_text)
    return dicom_bytes(dataset)


def png_with_text_chunk() -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "Scan of jane.testpatient@example.org")
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_software_only() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (4, 4), (200, 10, 10))
    exif = image.getexif()
    exif[0x0131] = "Synthetic Plot Maker 2.1"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def nested_zip() -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("contacts.csv", _csv([["ref", "notes"], ["1", "Reach her on +44 20 7946 0999"]]))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle/inner.zip", inner.getvalue())
    return outer.getvalue()


FILES = [
    ("notes.csv", notes_csv, {"phone", "date_of_birth", "address", "email", "national_id", "ip_address", "name"}),
    ("people.csv", identifier_columns_csv, {"name", "date_of_birth", "medical_record", "address", "postcode"}),
    ("contacts.tsv", utf16_tsv, {"email"}),
    ("workbook.xlsx", xlsx_with_comment_and_hidden_sheet, {"phone", "name", "date_of_birth"}),
    ("summary.docx", docx_with_body_text, {"name", "date_of_birth", "medical_record"}),
    ("slides.pptx", pptx_with_notes, {"email"}),
    ("letter.pdf", lambda: pdf_with_text(["Discharge letter", "MRN: 12345678, call 07700 900321"]),
     {"medical_record", "phone"}),
    ("scan.dcm", lambda: _dicom(patient_name="ANON^0001", patient_id="SUBJ-0001", identity_removed=True,
                                nested_name="Testdoctor^John", private_text="Call 07700 900654"),
     {"dicom", "phone"}),
    ("figure.png", png_with_text_chunk, {"email"}),
    ("record.json", lambda: json.dumps({"subject": "S-1", "dob": "1970-01-01",
                                        "visits": [{"note": "Phone 07700 900111 before visits"}]}).encode(),
     {"date_of_birth", "phone"}),
    ("notes.md", lambda: b"# Case notes\n\nShe lives at 221B Baker Street, London NW1 6XE.\n",
     {"address", "postcode"}),
    ("bundle.zip", nested_zip, {"phone"}),
]

CLEAN_FILES = [
    ("counts.csv", lambda: _csv([["region", "week", "age_band", "cases"], *[
        [region, f"2020-W{week:02d}", band, week * 3] for region in ("North", "South") for week in range(1, 5)
        for band in ("0-19", "20-39")]])),
    ("assays.csv", lambda: _csv([["sample", "assay_version", "kit", "value"],
                                 ["STUDY-0001", "10.2.3.4", "v2.1.0.5", "0.42"],
                                 ["STUDY-0002", "10.2.3.5", "v2.1.0.5", "0.37"]])),
    ("deidentified.dcm", lambda: _dicom(patient_name="ANON^0042", patient_id="SUBJ-0042", identity_removed=True)),
    ("report.pdf", lambda: pdf_with_text(["Weekly counts by region: 42 cases."],
                                         author="Synthetic Public Health Institute")),
    ("plot.jpg", jpeg_with_software_only),
    ("summary.json", lambda: json.dumps({"version": "3.1.4.1", "cases": 1234, "regions": ["North"]}).encode()),
]


# --- OpenDocument (appended): packages written by hand, `mimetype` stored first as the format asks ------

ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3"'
)
ODF_MIMETYPES = {"odt": "application/vnd.oasis.opendocument.text",
                 "ods": "application/vnd.oasis.opendocument.spreadsheet",
                 "odp": "application/vnd.oasis.opendocument.presentation"}


def odf_meta(*fields: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ODF_NAMESPACES}><office:meta>'
            f'{"".join(fields)}</office:meta></office:document-meta>')


def opendocument(kind: str, body: str, *, styles: str = "", meta: str = "", automatic_styles: str = "",
                 extra: dict | None = None) -> bytes:
    """An .odt, .ods or .odp package: `body` inside office:text, office:spreadsheet or office:presentation,
    `styles` inside style:master-page (headers, footers), `meta` as the whole meta.xml, `extra` members."""
    element = {"odt": "text", "ods": "spreadsheet", "odp": "presentation"}[kind]
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NAMESPACES}>'
               f'<office:automatic-styles>{automatic_styles}</office:automatic-styles>'
               f'<office:body><office:{element}>{body}</office:{element}></office:body></office:document-content>')
    style_part = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {ODF_NAMESPACES}>'
                  f'<office:master-styles><style:master-page style:name="Standard">{styles}</style:master-page>'
                  '</office:master-styles></office:document-styles>')
    members = {"content.xml": content, "styles.xml": style_part, "meta.xml": meta or odf_meta(), **(extra or {})}
    entries = "".join(f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
                      for name in members)
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.3">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODF_MIMETYPES[kind]}"/>'
                f'{entries}</manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODF_MIMETYPES[kind], compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def odt_with_body_text() -> bytes:
    return opendocument("odt", '<text:h text:outline-level="1">Discharge letter</text:h>'
                               '<text:p>Jane Testpatient, born 1970-01-01, went home on Monday.</text:p>',
                        styles="<style:footer><text:p>Ward 3, hospital number RX-7654321</text:p></style:footer>")


def clean_ods() -> bytes:
    """Counts by region, written by an organisation: nothing to report."""
    rows = [("region", "week", "cases"), ("North", "2020-W01", 12), ("South", "2020-W01", 7)]
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p>'
            "</table:table-cell>" if isinstance(value, int) else
            f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
            for value in row) + "</table:table-row>" for row in rows)
    return opendocument("ods", f'<table:table table:name="Counts">{cells}</table:table>',
                        meta=odf_meta("<meta:initial-creator>Synthetic Public Health Institute</meta:initial-creator>"))


FILES.append(("letter.odt", odt_with_body_text, {"name", "date_of_birth", "medical_record"}))
CLEAN_FILES.append(("counts.ods", clean_ods))
