"""The identifier detector: each kind found in prose (English and Chinese), and the clean
look-alikes that must not be flagged. All values are synthetic, from ranges kept for fiction
and examples where there are such ranges (Ofcom drama numbers, 555-01xx, QQ NI numbers, 192.0.2.0/24,
2001:db8::/32, example.org)."""
import pytest

from anonymization.detector import (
    china_id_valid,
    find_identifiers,
    holds,
    nhs_number_valid,
    value_identifiers,
)


def kinds(text):
    return [finding.kind for finding in find_identifiers(text)]


def found(text, kind):
    return [finding.value for finding in find_identifiers(text) if finding.kind == kind]


@pytest.mark.parametrize("text, kind, value", [
    # names
    ("Patient name: Jane Testpatient", "person_name", "Jane Testpatient"),
    ("We saw Mrs Testpatient on the ward.", "person_name", "Mrs Testpatient"),
    ("The patient, Jane Testpatient, recovered.", "person_name", "Jane Testpatient"),
    ("患者张三，男，45岁，入院。", "person_name", "张三"),
    ("姓名：李小明", "person_name", "李小明"),
    # dates of birth
    ("Jane Testpatient (born 1970-01-01) was admitted.", "date_of_birth", "1970-01-01"),
    ("DOB: 01/02/1970", "date_of_birth", "01/02/1970"),
    ("date of birth 12.31.1970", "date_of_birth", "12.31.1970"),
    ("She was born 1 Jan 1970 in a small town.", "date_of_birth", "1 Jan 1970"),
    ("born on January 1, 1970", "date_of_birth", "January 1, 1970"),
    ("出生日期：1970年1月1日", "date_of_birth", "1970年1月1日"),
    # phone numbers, inside sentences
    ("Please call her on 07700 900123 after six.", "phone", "07700 900123"),
    ("Her number is +44 20 7946 0123, ask for the ward.", "phone", "+44 20 7946 0123"),
    ("Reach him at (202) 555-0143 tomorrow.", "phone", "(202) 555-0143"),
    ("联系电话13800138000。", "phone", "13800138000"),
    # email
    ("Send it to jane.testpatient@example.org please.", "email", "jane.testpatient@example.org"),
    # addresses and postcodes
    ("She lives at 221B Baker Street, London.", "address", "221B Baker Street"),
    ("Address: 742 Evergreen Terrace, Springfield.", "address", "742 Evergreen Terrace"),
    ("Hauptstraße 12, 10115 Berlin", "address", "Hauptstraße 12"),
    ("住址北京市朝阳区建国路88号", "address", "住址北京市朝阳区建国路88号"),
    ("London SW1A 1AA", "postcode", "SW1A 1AA"),
    ("Washington DC 20500", "postcode", "DC 20500"),
    ("zip code: 90210", "postcode", "90210"),
    # national identifiers
    ("NHS number 943 476 5919", "national_id", "943 476 5919"),
    ("SSN 987-65-4321", "national_id", "987-65-4321"),
    ("NI number QQ 12 34 56 C", "national_id", "QQ 12 34 56 C"),
    ("身份证号11010519491231002X", "national_id", "11010519491231002X"),
    ("DNI 12345678Z", "national_id", "12345678Z"),
    ("codice fiscale RSSMRA70A01H501S", "national_id", "RSSMRA70A01H501S"),
    ("BSN: 111222333", "national_id", "111222333"),
    # record numbers by context
    ("MRN: 12345678", "medical_record", "12345678"),
    ("hospital number RX-1234567", "medical_record", "RX-1234567"),
    ("病历号：20230001", "medical_record", "20230001"),
    # IP addresses
    ("logged in from 192.0.2.15 at noon", "ip_address", "192.0.2.15"),
    ("from 2001:db8::8a2e:370:7334 too", "ip_address", "2001:db8::8a2e:370:7334"),
])
def test_each_kind_is_found_in_prose(text, kind, value):
    assert value in found(text, kind), find_identifiers(text)
    assert holds(find_identifiers(text))


@pytest.mark.parametrize("text", [
    "We used assay version 10.2.3.4 and kit v2.1.0.5 from the vendor.",
    "The pipeline release 3.1.4.1 fixed it; genome build GRCh38.",
    "The study enrolled 1234 patients; mean age 54.3 (SD 12.1); 12345678 reads; p = 0.0001.",
    "The first case was reported on 2020-03-15 and the peak came on 2020-04-02.",
    "Participants STUDY-0042, P-0001 and SUBJ_17 were excluded.",
    "Data from the Wellcome Sanger Institute and Johns Hopkins University.",
    "Patient: Recovered. Patient is stable.",
    "Meeting at 12:30:45, ratio 3:2, odds 1.5 (95% CI 1.1-2.0).",
    "我们分析了1200名患者的数据。",
    "Table 2 shows 4,520 admissions in 2021 and 3,981 in 2022.",
])
def test_clean_look_alikes_are_not_held(text):
    assert not holds(find_identifiers(text)), find_identifiers(text)


def test_a_name_alone_warns_but_does_not_hold():
    findings = find_identifiers("Thanks to Maria Garcia for the analysis.")
    assert [finding.kind for finding in findings] == ["person_name"]
    assert findings[0].confidence == "medium" and not holds(findings)


def test_a_name_beside_a_birth_date_holds():
    findings = find_identifiers("Jane Testpatient (born 1970-01-01)")
    assert {finding.kind for finding in findings} == {"person_name", "date_of_birth"}
    assert holds(findings)


def test_check_digits():
    assert nhs_number_valid("9434765919") and not nhs_number_valid("9434765918")
    assert china_id_valid("11010519491231002X") and not china_id_valid("110105194912310021")
    assert "national_id" not in kinds("An invalid NHS-like count 943 476 5918 reads.")


def test_findings_say_where():
    text = "Call +44 20 7946 0123 now."
    (finding,) = find_identifiers(text)
    assert text[finding.start:finding.end] == finding.value


@pytest.mark.parametrize("value, column_kind, header", [
    ("Jane Testpatient", "name", "Name"),
    ("12 Example Road", "address", "Address"),
    ("SW1A 1AA", "postcode", "Postcode"),
    ("A1234567", "medical_record", "MRN"),
    ("see 07700 900123", None, "Notes"),
])
def test_cell_values_in_identifier_columns_are_found(value, column_kind, header):
    assert value_identifiers(value, column_kind=column_kind, header=header)


def test_a_version_column_is_not_an_address():
    assert not value_identifiers("10.2.3.4", header="Assay version")
    assert value_identifiers("192.0.2.15", header="Client")


def test_a_long_text_is_bounded():
    text = "x " * 300_000 + "jane.testpatient@example.org"
    assert find_identifiers(text) == []  # past MAX_TEXT: callers split large documents


def test_a_colleague_named_beside_ordinary_words_is_not_held():
    assert not holds(find_identifiers("In this use case Maria Garcia suggested a survival model."))
    assert holds(find_identifiers("The patient Maria Fictionpatient recovered."))
