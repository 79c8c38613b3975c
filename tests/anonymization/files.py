"""The synthetic test corpus: files made in code, every person in them obviously fictional."""
import csv
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile


def uploaded(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def identifying_columns_csv() -> bytes:
    """Headers that name identifiers, over obviously fake people."""
    return _csv([
        ["patient_name", "Email", "phone", "date_of_birth", "postcode", "MRN", "age_band", "outcome"],
        ["Jane Testpatient", "jane.testpatient@example.org", "+44 20 7946 0000", "1970-01-01", "ZZ1 1ZZ",
         "MRN000001", "50-59", "recovered"],
        ["John Fakeperson", "john.fakeperson@example.org", "+1 555 010 0000", "1985-06-15", "ZZ2 2ZZ",
         "MRN000002", "30-39", "admitted"],
    ])


def identifying_values_csv() -> bytes:
    """Bland headers hiding identifying values (emails, phones, birth dates, ID numbers, IP addresses)."""
    return _csv([
        ["ref", "contact", "reachable_at", "day", "code", "source", "value"],
        ["a", "jane.testpatient@example.org", "+44 20 7946 0001", "1941-03-02", "000-00-0001", "192.0.2.10", "3"],
        ["b", "john.fakeperson@example.org", "+1 555 010 0002", "1977-11-23", "000-00-0002", "192.0.2.11", "4"],
        ["c", "none", "n/a", "2001-07-30", "n/a", "n/a", "5"],
    ])


def clean_aggregated_csv() -> bytes:
    """Counts by region, week and age band: nothing that identifies anybody."""
    rows = [["region", "week", "age_band", "cases", "deaths", "rate_per_100k"]]
    for region in ("North", "South", "East", "West"):
        for week in range(1, 9):
            for band in ("0-19", "20-39", "40-59", "60+"):
                rows.append([region, f"2020-W{week:02d}", band, week * 3 + len(band), week // 3, f"{week * 1.7:.1f}"])
    rows.append(["All", "all", "all", "-", "-12.5", "-0.4"])
    return _csv(rows)


def formula_csv() -> bytes:
    return _csv([["item", "note"], ["a", "=HYPERLINK(\"http://example.invalid\",\"click\")"], ["b", "@SUM(1)"],
                 ["c", "-3.5"], ["d", "+cmd"]])


def xlsx_with_identifiers_on_second_sheet(*, author: str = "Dr Synthetic Author") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["region", "cases"])
    summary.append(["North", 12])
    patients = workbook.create_sheet("Patients")
    patients.append(["id", "Surname", "notes"])
    patients.append([1, "Testpatient", "reach at jane.testpatient@example.org"])
    patients.append([2, "Fakeperson", "jane.testpatient@example.org"])
    workbook.properties.creator = author
    workbook.properties.lastModifiedBy = author
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def clean_xlsx(*, author: str = "Dr Synthetic Author") -> bytes:
    """Aggregated counts only, but the workbook still carries its author's name."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Counts"
    sheet.append(["region", "age_band", "cases"])
    for region in ("North", "South"):
        for band in ("0-39", "40+"):
            sheet.append([region, band, 7])
    workbook.properties.creator = author
    workbook.properties.lastModifiedBy = author
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = "Jane Testpatient"  # Artist
    exif[0x0132] = "2020:03:01 10:00:00"  # DateTime
    exif[0x010F] = "SyntheticCam"  # Make
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def plain_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def new_dicom():
    """A minimal secondary-capture DICOM dataset with a 2x2 picture; callers add the fields they test."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("synthetic.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "OT"
    dataset.Rows, dataset.Columns = 2, 2
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 8, 8, 7, 0
    dataset.PixelData = bytes([0, 64, 128, 255])
    return dataset


def dicom_bytes(dataset) -> bytes:
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def dicom_with_patient() -> bytes:
    dataset = new_dicom()
    dataset.PatientName = "Testpatient^Jane"
    dataset.PatientID = "SYN-000001"
    dataset.PatientBirthDate = "19700101"
    dataset.InstitutionName = "Synthetic General Hospital"
    dataset.BurnedInAnnotation = "YES"
    return dicom_bytes(dataset)


def pdf_with_author() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": "Jane Testpatient", "/Title": "Synthetic discharge letter"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_with_traversal() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data/ok.csv", "a,b\n1,2\n")
        archive.writestr("../../etc/evil.csv", "a,b\n1,2\n")
    return out.getvalue()


def zip_with_named_members() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scans/Jane_Testpatient_1970-01-01.csv", clean_aggregated_csv())
        archive.writestr("scans/contacts.csv", identifying_values_csv())
    return out.getvalue()


def zip_bomb() -> bytes:
    """One member that inflates about a thousand-fold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.csv", b"0" * (20 * 1024 * 1024))
    return out.getvalue()


def executable() -> bytes:
    """The first bytes of a Windows program (enough to be recognised; it does nothing)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
