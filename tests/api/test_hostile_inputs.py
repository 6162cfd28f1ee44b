"""Hostile and broken request bodies and parameters: each rejected, nothing stored."""

import json
import unicodedata

import pytest

from govportal.services.models import Service
from tests.api.conftest import PASSPORT, assert_clean_error, stored_state


@pytest.fixture
def existing(live):
    """A stored service, so rejected updates can be checked against it."""
    live.put("MOFA-001", PASSPORT)
    return stored_state()


def test_wrong_types_rejected_per_field(live, live_key, existing):
    body = {"name_zh": 123, "content_zh": True, "categories": "x", "name_en": None}

    response = live.put("MOFA-001", body)

    assert response.status_code == 422
    fields = assert_clean_error(response, live_key)["fields"]
    assert fields["name_zh"][0]["code"] == "not_text"
    assert fields["content_zh"][0]["code"] == "not_text"
    assert fields["categories"][0]["code"] == "not_list"
    assert fields["name_zh"][0]["en"]
    assert fields["name_zh"][0]["zh-hant"]
    assert stored_state() == existing


def test_over_long_field_rejected(live, existing):
    response = live.put("MOFA-001", {**PASSPORT, "name_zh": "名" * 10_000})

    assert response.status_code == 422
    assert response.json()["fields"]["name_zh"][0]["code"] == "too_long"
    assert stored_state() == existing


@pytest.mark.parametrize("size", [1024 * 1024, 10 * 1024 * 1024, 50 * 1024 * 1024])
def test_oversized_body_413(live, existing, size):
    raw = b'{"name_zh":"' + b"a" * size + b'"}'

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 413
    assert_clean_error(response)
    assert stored_state() == existing


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_rejected(live, existing, constant):
    raw = '{"name_zh": "x", "content_zh": "y", "lat": ' + constant + "}"

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 422
    assert response.json()["fields"]["__all__"][0]["code"] == "not_a_number"
    assert stored_state() == existing


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deep_nesting_rejected(live, existing, opening):
    raw = opening * 100_000

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 422
    assert response.json()["fields"]["__all__"][0]["code"] == "too_deep"
    assert stored_state() == existing
    assert live.get("/services/MOFA-001").status_code == 200


def test_brackets_inside_text_allowed(live):
    text = "[" * 50 + "{" * 50 + "說明"
    response = live.put("S-2", {**PASSPORT, "notes_zh": text})

    assert response.status_code == 201


def test_duplicate_member_rejected(live, existing):
    raw = '{"name_zh": "護照", "content_zh": "x", "name_zh": "別的"}'

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 422
    assert response.json()["fields"]["__all__"][0]["code"] == "duplicate_key"
    assert stored_state() == existing


def test_huge_number_rejected(live, existing):
    raw = '{"name_zh": ' + "9" * 5000 + "}"

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 422
    assert stored_state() == existing


def test_other_agency_service_404(live, other_live_key, agency):
    from tests.api.conftest import PRODUCTION, Api

    theirs = Api(PRODUCTION, other_live_key)
    theirs.put("B-001", PASSPORT)
    before = stored_state()

    read = live.get("/services/B-001")
    withdrawn = live.delete("B-001", {"reason": "惡意"})
    missing = live.get("/services/NO-SUCH")

    assert read.status_code == 404
    assert withdrawn.status_code == 404
    assert read.json()["code"] == missing.json()["code"] == "not_found"
    assert stored_state() == before


def test_other_agency_put_creates_own(live, other_live_key, agency):
    from tests.api.conftest import PRODUCTION, Api

    Api(PRODUCTION, other_live_key).put("SHARED", PASSPORT)

    response = live.put("SHARED", {**PASSPORT, "name_en": "Mine"})

    assert response.status_code == 201
    assert Service.objects.filter(agency_service_id="SHARED").count() == 2
    theirs = Service.objects.exclude(agency=agency).get()
    assert theirs.current_revision.snapshot["name_en"] == "Passport application"


@pytest.mark.parametrize(
    "field",
    [
        "agency",
        "agency_id",
        "owner",
        "created_by",
        "approved_by",
        "state",
        "status",
        "id",
        "published_revision",
    ],
)
def test_mass_assignment_rejected(live, existing, field):
    response = live.put("MOFA-001", {**PASSPORT, field: "published"})

    assert response.status_code == 422
    assert response.json()["fields"][field][0]["code"] == "unknown_field"
    assert stored_state() == existing


@pytest.mark.parametrize(
    "text",
    ["\u202eexe.gnp.公告", "護照\u2066申請\u2069", "\u2067x", "\u2068x", "a\u200bb"],
)
def test_bidi_and_invisible_rejected(live, existing, text):
    response = live.put("MOFA-001", {**PASSPORT, "name_zh": text})

    assert response.status_code == 422
    assert response.json()["fields"]["name_zh"][0]["code"] == "forbidden_character"
    assert stored_state() == existing


def test_nfd_and_nfc_stored_alike(live, agency):
    composed = "Café résumé"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    first = live.put("S-1", {**PASSPORT, "name_en": decomposed})
    second = live.put("S-1", {**PASSPORT, "name_en": composed})

    assert first.json()["data"]["name_en"] == composed
    assert second.json()["current_revision"] == 1


def test_fullwidth_kept_distinct(live):
    response = live.put("S-1", {**PASSPORT, "name_en": "ＧＯＶ portal"})

    assert response.json()["data"]["name_en"] == "ＧＯＶ portal"


@pytest.mark.parametrize("text", ["a\x00b", "a\x08b", "a\rb", "a\nb", "a\x1bb"])
def test_control_characters_rejected(live, existing, text):
    response = live.put("MOFA-001", {**PASSPORT, "name_zh": text})

    assert response.status_code == 422
    assert stored_state() == existing


def test_control_character_in_member_name_escaped(live, existing):
    response = live.put("MOFA-001", {**PASSPORT, "bad\r\nX-Injected: 1": 1})

    assert response.status_code == 422
    assert b"\r\n" not in response.content
    assert "X-Injected" not in response.headers
    assert stored_state() == existing


def test_html_stored_as_text(live):
    title = "<b>x</b><script>alert(1)</script>"

    response = live.put("S-1", {**PASSPORT, "name_zh": title})

    assert response.status_code == 201
    assert response.json()["data"]["name_zh"] == title
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "//evil.test/x",
        "http://www.gov.tw/",
        "https://user:pw@www.gov.tw/",
        "ftp://www.gov.tw/",
    ],
)
def test_unsafe_urls_rejected(live, existing, url):
    response = live.put("MOFA-001", {**PASSPORT, "application_url": url})

    assert response.status_code == 422
    assert "application_url" in response.json()["fields"]
    assert stored_state() == existing


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/x-www-form-urlencoded", "name_zh=x&content_zh=y"),
        ("text/plain", json.dumps(PASSPORT)),
        ("application/xml", "<service><name_zh>x</name_zh></service>"),
        ("", json.dumps(PASSPORT)),
        ("application/json; charset=latin-1", json.dumps(PASSPORT)),
        ("application/json", "<service/>"),
        ("application/json", "{'name_zh': 'x'}"),
    ],
)
def test_wrong_content_type_or_not_json_415(live, existing, content_type, raw):
    response = live.put("MOFA-001", raw=raw, content_type=content_type)

    assert response.status_code == 415
    assert_clean_error(response)
    assert stored_state() == existing


def test_invalid_utf8_415(live, existing):
    response = live.put("MOFA-001", raw=b'{"name_zh": "\xff\xfe"}')

    assert response.status_code == 415
    assert stored_state() == existing


def test_json_with_charset_accepted(live):
    response = live.put(
        "S-1", raw=json.dumps(PASSPORT), content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 201


def test_page_size_capped(live):
    live.put("S-1", PASSPORT)

    response = live.get("/services", {"page_size": 1_000_000})

    assert response.status_code == 200
    assert response.json()["page_size"] == 100


@pytest.mark.parametrize(
    "query",
    [
        {"page": -1},
        {"page": 0},
        {"page": 99_999_999},
        {"page": "abc"},
        {"page": "１"},
        {"page_size": 0},
        {"page_size": "1e3"},
        {"ordering": "password"},
        {"ordering": "agency__name_zh"},
        {"state": "anything"},
        {"updated_since": "yesterday"},
        {"updated_since": "2025-01-01T00:00:00"},
        {"search": "x"},
    ],
)
def test_invalid_list_parameters_422(live, query):
    response = live.get("/services", query)

    assert response.status_code == 422
    fields = assert_clean_error(response)["fields"]
    assert set(fields) == set(query)


def test_allowed_ordering(live):
    live.put("A", PASSPORT)
    live.put("B", PASSPORT)

    response = live.get("/services", {"ordering": "-agency_service_id"})

    ids = [item["agency_service_id"] for item in response.json()["items"]]
    assert ids == ["B", "A"]


def test_unknown_fields_rejected(live, existing):
    raw = '{"name_zh": "x", "content_zh": "y", "__proto__": {}, "extra": 1}'

    response = live.put("MOFA-001", raw=raw)

    assert response.status_code == 422
    assert {"__proto__", "extra"} <= set(response.json()["fields"])
    assert stored_state() == existing


def test_invalid_service_id_422(live):
    response = live.put("-bad%20id", PASSPORT)

    assert response.status_code == 422
    assert "agency_service_id" in response.json()["fields"]
    assert Service.objects.count() == 0


def test_top_level_array_rejected(live):
    response = live.put("S-1", [PASSPORT])

    assert response.status_code == 422
    assert Service.objects.count() == 0


def test_internal_error_hides_trace(live, monkeypatch):
    from govportal.api import stores

    def fail(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(stores.ProductionStore, "get", fail)

    response = live.get("/services/S-1")

    assert response.status_code == 500
    assert b"secret internal detail" not in response.content
    assert assert_clean_error(response)["code"] == "internal_error"
