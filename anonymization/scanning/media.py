"""Images (EXIF and other embedded metadata) and DICOM headers."""
from django.conf import settings

from .report import Report

# Tag number → name, for the tags that can say who, where or when.
IMAGE_TAGS = {
    0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x0132: "DateTime",
    0x013B: "Artist", 0x8298: "Copyright", 0x9C9B: "XPTitle", 0x9C9C: "XPComment", 0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords", 0x9C9F: "XPSubject",
}
EXIF_TAGS = {
    0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9286: "UserComment", 0xA420: "ImageUniqueID",
    0xA430: "CameraOwnerName", 0xA431: "BodySerialNumber", 0xA435: "LensSerialNumber",
}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
# PNG text chunks and other embedded blocks Pillow exposes in `info`.
INFO_KEYS = ("author", "comment", "description", "title", "copyright", "creation time", "software", "source",
             "xmp", "xml:com.adobe.xmp", "photoshop", "iptc", "dpi_owner")


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
        found += [f"{key} (embedded)" for key in image.info if str(key).lower() in INFO_KEYS]
        if found:
            report.add("image_metadata", detail=", ".join(found), count=len(found))


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


def scan_dicom(file, report: Report) -> None:
    import pydicom

    file.seek(0)
    dataset = pydicom.dcmread(file, stop_before_pixels=True)
    for keyword in DICOM_FIELDS:
        element = dataset.get(keyword)
        if element is not None and str(element).strip() not in ("", "[]"):
            report.add("dicom_field", detail=keyword, cell=f"({dataset.data_element(keyword).tag.group:04X},"
                                                           f"{dataset.data_element(keyword).tag.element:04X})")
    burned_in = str(dataset.get("BurnedInAnnotation", "")).strip().upper()
    if burned_in == "YES":
        report.add("burned_in_annotation")
    elif burned_in != "NO":
        report.add("burned_in_unknown")
