"""Validation of service data: text, characters, addresses, fixed lists."""

import pytest
from django.utils import translation

from govportal.services.fields import FIELD_ORDER
from govportal.services.validation import (
    ServiceValidationError,
    is_phone_number,
    validate_agency_service_id,
    validate_service,
)

MINIMAL = {"name_zh": "護照申請", "content_zh": "申請普通護照。"}


@pytest.fixture(autouse=True)
def english():
    """Check message texts in English, because the site default is Chinese."""
    with translation.override("en"):
        yield


def errors_of(data):
    with pytest.raises(ServiceValidationError) as caught:
        validate_service(data)
    return caught.value


def codes(error):
    return {(e.field, e.code) for e in error.errors}


def test_minimal_service_gets_every_key():
    snapshot = validate_service(MINIMAL)

    assert list(snapshot) == FIELD_ORDER
    assert snapshot["name_zh"] == "護照申請"
    assert snapshot["name_en"] == ""
    assert snapshot["categories"] == []


def test_missing_chinese_name_and_content_reported():
    error = errors_of({"name_en": "Passport"})

    assert codes(error) == {("name_zh", "required"), ("content_zh", "required")}


def test_blank_chinese_name_is_missing():
    error = errors_of({**MINIMAL, "name_zh": " \u3000 "})

    assert codes(error) == {("name_zh", "required")}


def test_script_in_title_stored_as_text():
    snapshot = validate_service({**MINIMAL, "name_zh": "<script>alert(1)</script>"})

    assert snapshot["name_zh"] == "<script>alert(1)</script>"


def test_bidi_override_rejected():
    error = errors_of({**MINIMAL, "name_en": "Passport \u202eFDP"})

    (problem,) = error.errors
    assert (problem.field, problem.code) == ("name_en", "forbidden_character")
    assert "U+202E" in problem.message()
    assert "English name" in problem.message()
    assert "position 10" in problem.message()


@pytest.mark.parametrize(
    "character", ["\u200b", "\u2066", "\ufeff", "\x00", "\x1b", "\u2028", "\ufffe"]
)
def test_invisible_and_control_characters_rejected(character):
    error = errors_of({**MINIMAL, "content_zh": f"申請{character}護照"})

    assert codes(error) == {("content_zh", "forbidden_character")}


def test_private_use_character_allowed():
    # Agencies encode rare characters of names in the private use area.
    snapshot = validate_service({**MINIMAL, "handling_unit_zh": "\ue000里辦公處"})

    assert snapshot["handling_unit_zh"] == "\ue000里辦公處"


def test_line_break_in_name_rejected():
    error = errors_of({**MINIMAL, "name_zh": "護照\n申請"})

    assert codes(error) == {("name_zh", "line_break")}


def test_multiline_content_normalised():
    snapshot = validate_service(
        {**MINIMAL, "content_zh": "  第一步\r\n第二步\r第三步\t完成 "}
    )

    assert snapshot["content_zh"] == "第一步\n第二步\n第三步\t完成"


def test_too_long_name_rejected():
    error = errors_of({**MINIMAL, "name_zh": "護" * 201})

    (problem,) = error.errors
    assert problem.code == "too_long"
    assert "201" in problem.message()
    assert "200" in problem.message()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://www.gov.tw/apply", "not_https"),
        ("//www.gov.tw/apply", "not_https"),
        ("/apply", "not_https"),
        ("javascript:alert(1)", "not_https"),
        ("https://user:secret@www.gov.tw/apply", "url_credentials"),
        ("https://user@www.gov.tw/apply", "url_credentials"),
        ("https://www.gov.tw/ap ply", "invalid_url"),
        ("https://", "not_https"),
        ("https://[::1", "invalid_url"),
    ],
)
def test_bad_application_address_rejected(url, code):
    error = errors_of({**MINIMAL, "application_url": url})

    assert codes(error) == {("application_url", code)}


def test_https_address_accepted():
    url = "https://www.gov.tw/apply?id=3&lang=zh-TW#form"

    assert (
        validate_service({**MINIMAL, "application_url": url})["application_url"] == url
    )


def test_unknown_category_rejected():
    error = errors_of({**MINIMAL, "categories": ["marriage", "space-travel"]})

    (problem,) = error.errors
    assert (problem.field, problem.code) == ("categories", "unknown_term")
    assert "space-travel" in problem.message()
    assert "marriage" in problem.message()


def test_categories_in_fixed_order_without_duplicates():
    data = {**MINIMAL, "categories": ["marriage", "public-information", "marriage"]}

    assert validate_service(data)["categories"] == ["public-information", "marriage"]


def test_methods_and_age_groups_checked():
    data = {**MINIMAL, "methods": ["mail", "online"], "age_groups": ["senior"]}

    snapshot = validate_service(data)

    assert snapshot["methods"] == ["online", "mail"]
    assert snapshot["age_groups"] == ["senior"]
    assert codes(errors_of({**MINIMAL, "methods": ["fax"]})) == {
        ("methods", "unknown_term")
    }


def test_category_must_be_list():
    error = errors_of({**MINIMAL, "categories": "marriage"})

    assert codes(error) == {("categories", "not_list")}


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("service@mail.moi.gov.tw", True),
        ("no-at-sign.gov.tw", False),
        ("two@@mail.gov.tw", False),
        ("someone@localhost", False),
    ],
)
def test_contact_email(email, valid):
    data = {**MINIMAL, "contact_email": email}

    if valid:
        assert validate_service(data)["contact_email"] == email
    else:
        assert codes(errors_of(data)) == {("contact_email", "invalid_email")}


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("(02)2311-2345#123", True),
        ("+886-2-2311-2345", True),
        ("0800 211 511", True),
        ("1999", True),
        ("12", False),
        ("02-2311-2345 轉 123", False),
        ("call 02-2311-2345", False),
        ("+886 2 2311 2345 6789 0123", False),
    ],
)
def test_phone_numbers(phone, valid):
    assert is_phone_number(phone) is valid


def test_invalid_phone_reported():
    error = errors_of({**MINIMAL, "contact_phone": "ask the counter"})

    assert codes(error) == {("contact_phone", "invalid_phone")}


def test_keywords_cleaned_and_deduplicated():
    data = {**MINIMAL, "keywords_en": [" Passport ", "passport", "visa"]}

    assert validate_service(data)["keywords_en"] == ["Passport", "visa"]


def test_empty_keyword_rejected():
    error = errors_of({**MINIMAL, "keywords_zh": ["護照", " "]})

    (problem,) = error.errors
    assert problem.code == "empty_entry"
    assert "Entry 2" in problem.message()


def test_too_many_keywords_rejected():
    error = errors_of({**MINIMAL, "keywords_zh": [f"詞{n}" for n in range(21)]})

    assert codes(error) == {("keywords_zh", "too_many")}


def test_unknown_field_rejected():
    error = errors_of({**MINIMAL, "title_zh": "護照"})

    assert codes(error) == {("title_zh", "unknown_field")}


def test_non_text_value_rejected():
    error = errors_of({**MINIMAL, "fees_zh": 1300})

    assert codes(error) == {("fees_zh", "not_text")}


def test_non_object_rejected():
    error = errors_of(["護照申請"])

    assert codes(error) == {("__all__", "not_an_object")}


def test_every_problem_reported_at_once():
    data = {"name_zh": "", "application_url": "http://x.gov.tw", "categories": ["x"]}

    error = errors_of(data)

    assert {field for field, _code in codes(error)} == {
        "name_zh",
        "content_zh",
        "application_url",
        "categories",
    }


def test_errors_given_in_both_languages():
    error = errors_of({**MINIMAL, "application_url": "http://www.gov.tw"})

    (entry,) = error.by_field()["application_url"]
    assert entry["code"] == "not_https"
    assert set(entry) == {"code", "zh-hant", "en"}
    assert entry["en"] == (
        "online application address must be an absolute address that starts "
        "with https://."
    )
    assert entry["zh-hant"]


def test_chinese_text_uses_catalogue_labels():
    error = errors_of({"content_zh": "內容"})

    (entry,) = error.by_field()["name_zh"]
    assert "中文名稱" in entry["zh-hant"]
    assert entry["en"] == "Chinese name is required."


@pytest.mark.parametrize("value", ["A-001", "moi.passport:2024_1", "9"])
def test_agency_service_id_accepted(value):
    assert validate_agency_service_id(f" {value} ") == value


@pytest.mark.parametrize("value", ["", "-A", "A 1", "護照", "A" * 101, 12])
def test_agency_service_id_rejected(value):
    with pytest.raises(ServiceValidationError) as caught:
        validate_agency_service_id(value)

    assert caught.value.errors[0].field == "agency_service_id"
