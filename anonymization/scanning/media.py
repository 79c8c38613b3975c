"""Images (EXIF, XMP, IPTC, PNG text chunks) and DICOM headers, every element of every nested
sequence and private tags included. Text found there goes through the detector too."""
from django.conf import settings

from .. import detector
from .report import Report, add_text_findings

# Tag number → name, for the tags that can say who, where or when.
# "Software" is not among them: a program's name says nothing about a person (publication strips it anyway).
IMAGE_TAGS = {
    0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0132: "DateTime",
    0x013B: "Artist", 0x8298: "Copyright", 0x9C9B: "XPTitle", 0x9C9C: "XPComment", 0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords", 0x9C9F: "XPSubject",
}
EXIF_TAGS = {
    0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9286: "UserComment", 0xA420: "ImageUniqueID",
    0xA430: "CameraOwnerName", 0xA431: "BodySerialNumber", 0xA435: "LensSerialNumber",
}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
# PNG text chunks and other embedded blocks Pillow exposes in `info`.
INFO_KEYS = ("author", "comment", "description", "title", "copyright", "creation time", "source",
             "xmp", "xml:com.adobe.xmp", "photoshop", "iptc", "dpi_owner")
_TEXT_TAGS = (0x010E, 0x013B, 0x8298, 0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F)


def _as_text(value) -> str:
    if isinstance(value, bytes):
        for encoding in ("utf-16-le", "utf-8") if value[1:2] == b"\x00" else ("utf-8", "latin-1"):
            try:
                return value.decode(encoding).strip("\x00 ")
            except UnicodeDecodeError:
                continue
        return ""
    return str(value)


def scan_image(file, report: Report) -> None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.ANONYMIZATION_MAX_IMAGE_PIXELS
    file.seek(0)
    with Image.open(file) as image:
        exif = image.getexif()
        found = [name for tag, name in IMAGE_TAGS.items() if exif.get(tag) not in (None, "", b"")]
        exif_ifd = exif.get_ifd(EXIF_IFD)
        found += [name for tag, name in EXIF_TAGS.items() if exif_ifd.get(tag) not in (None, "", b"")]
        if exif.get_ifd(GPS_IFD):
            report.add("gps_position", cell="EXIF GPS")
        info_keys = [key for key in image.info if str(key).lower() in INFO_KEYS]
        text_chunks = dict(getattr(image, "text", None) or {})  # PNG tEXt, iTXt and zTXt, whatever their key
        found += [f"{key} (embedded)" for key in info_keys]
        found += [f"{key} (PNG text)" for key in text_chunks if key not in image.info]
        try:
            from PIL import IptcImagePlugin

            iptc = IptcImagePlugin.getiptcinfo(image) or {}
        except Exception:  # a broken IPTC block is still a metadata block
            iptc = {"broken": b""}
        if iptc:
            found.append("IPTC")
        if found:
            report.add("image_metadata", detail=", ".join(found), count=len(found))
        texts = [_as_text(exif.get(tag)) for tag in _TEXT_TAGS if exif.get(tag)]
        texts += [_as_text(exif_ifd.get(0x9286))] if exif_ifd.get(0x9286) else []
        texts += [_as_text(image.info[key]) for key in info_keys]
        texts += [_as_text(value) for value in text_chunks.values()]
        texts += [_as_text(value) for values in iptc.values() for value in (
            values if isinstance(values, list) else [values])]
        for text in texts:
            add_text_findings(report, text[:100_000], cell="image metadata")


# Header fields that identify a patient or the people and places around them (DICOM PS3.15 E.1 subset).
DICOM_FIELDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "PatientAddress",
    "PatientTelephoneNumbers", "OtherPatientIDs", "OtherPatientNames", "OtherPatientIDsSequence",
    "PatientMotherBirthName", "MilitaryRank", "MedicalRecordLocator", "EthnicGroup", "PatientComments",
    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "PhysiciansOfRecord",
    "NameOfPhysiciansReadingStudy", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "StationName", "AccessionNumber", "StudyID", "DeviceSerialNumber", "StudyDate", "SeriesDate",
    "AcquisitionDate", "ContentDate", "StudyTime", "IssuerOfPatientID", "PatientInsurancePlanCodeSequence",
    "RequestingPhysician", "ScheduledPerformingPhysicianName", "PersonName",
)


_TEXT_VRS = ("LO", "LT", "SH", "ST", "UT", "PN", "UC", "AE")
_PSEUDONYMOUS_FIELDS = ("PatientName", "PatientID", "OtherPatientIDs")


def _pseudonymous(value: str) -> bool:
    """A de-identified file's subject label such as "ANON^0042" or "SUBJ-017": no name, nothing the detector finds."""
    words = [word for word in str(value).replace("^", " ").split() if word]
    return not detector.find_identifiers(str(value).replace("^", " ")) and not any(
        word.lower() in detector.GIVEN_NAMES for word in words
    ) and any(ch.isdigit() for ch in str(value))


def _path(parents: list, element) -> str:
    tag = f"({element.tag.group:04X},{element.tag.element:04X})"
    return " > ".join([*parents, tag])


def _walk(dataset, parents: list, report: Report, state: dict) -> None:
    for element in dataset:
        state["elements"] += 1
        if state["elements"] > settings.ANONYMIZATION_SCAN_MAX_CELLS:
            return
        if element.VR == "SQ":
            for index, item in enumerate(element.value or (), start=1):
                if len(parents) < 16:  # deeper nesting is not read: removed whole on publication
                    _walk(item, [*parents, f"{element.keyword or 'private'}[{index}]"], report, state)
            continue
        keyword = element.keyword
        text = str(element.value).strip() if element.value is not None else ""
        if not text or text == "[]":
            continue
        if keyword in DICOM_FIELDS:
            if state["identity_removed"] and keyword in _PSEUDONYMOUS_FIELDS and _pseudonymous(text):
                continue
            report.add("dicom_field", detail=keyword, cell=_path(parents, element), value=text[:80])
            continue
        if element.tag.is_private and element.VR in _TEXT_VRS:
            report.add("private_tag", detail=element.VR, cell=_path(parents, element))
        if element.VR == "PN" or (element.VR in _TEXT_VRS and (parents or element.tag.is_private)):
            # A person's name field anywhere, and free text in nested items and private tags.
            if element.VR == "PN" and keyword not in DICOM_FIELDS:
                report.add("dicom_field", detail=keyword or "private person name", cell=_path(parents, element),
                           value=text[:80])
            else:
                add_text_findings(report, text[:10_000], cell=_path(parents, element))


def scan_dicom(file, report: Report) -> None:
    import pydicom

    file.seek(0)
    dataset = pydicom.dcmread(file, stop_before_pixels=True)
    removed = str(dataset.get("PatientIdentityRemoved", "")).strip().upper() == "YES"
    _walk(dataset, [], report, {"elements": 0, "identity_removed": removed})
    burned_in = str(dataset.get("BurnedInAnnotation", "")).strip().upper()
    if burned_in == "YES":
        report.add("burned_in_annotation")
    elif burned_in != "NO":
        report.add("burned_in_unknown")
