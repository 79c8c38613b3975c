import pytest
from django.core.exceptions import ValidationError

from forum.orcid import normalize_orcid, orcid_check_digit


@pytest.mark.parametrize(
    "given, expected",
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000000218250097", "0000-0002-1825-0097"),
        ("  0000-0002-9079-593x ", "0000-0002-9079-593X"),
    ],
)
def test_valid_orcid_is_normalized(given, expected):
    assert normalize_orcid(given) == expected


def test_check_digit_can_be_x():
    assert orcid_check_digit("000000029079593") == "X"


def test_orcid_with_wrong_check_digit_is_refused_with_typo_message():
    with pytest.raises(ValidationError) as error:
        normalize_orcid("0000-0002-1825-0098")
    assert error.value.code == "orcid_checksum"
    assert "typo" in error.value.messages[0]


@pytest.mark.parametrize("value", ["1234", "0000-0002-1825-009", "abcd-efgh-ijkl-mnop", "https://example.org/0000-0002-1825-0097"])
def test_orcid_with_wrong_format_is_refused(value):
    with pytest.raises(ValidationError) as error:
        normalize_orcid(value)
    assert error.value.code == "orcid_format"
