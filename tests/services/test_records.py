"""Creating and updating stored services: validation, keys, English staleness."""

import pytest

from govportal.publishing.history import item_revisions
from govportal.publishing.states import State
from govportal.services.records import (
    create_service,
    find_service,
    service_english_gaps,
    update_service,
)
from govportal.services.staleness import Gap
from govportal.services.validation import ServiceValidationError
from tests.publishing.helpers import make_agency

PASSPORT = {
    "name_zh": "護照申請",
    "name_en": "Passport application",
    "content_zh": "申請普通護照。",
    "content_en": "Apply for an ordinary passport.",
    "categories": ["public-information"],
}


def test_create_service_stores_draft(agency, editor):
    service = create_service(agency, " MOFA-001 ", PASSPORT, editor)

    assert service.agency_service_id == "MOFA-001"
    assert service.state == State.DRAFT
    assert service.current_revision.snapshot["name_en"] == "Passport application"
    assert find_service(agency, "MOFA-001") == service


def test_invalid_service_stores_nothing(agency, editor):
    with pytest.raises(ServiceValidationError):
        create_service(agency, "MOFA-001", {"name_zh": "護照"}, editor)

    assert find_service(agency, "MOFA-001") is None


def test_duplicate_service_id_rejected(agency, editor):
    create_service(agency, "MOFA-001", PASSPORT, editor)

    with pytest.raises(ServiceValidationError) as caught:
        create_service(agency, "MOFA-001", PASSPORT, editor)

    (problem,) = caught.value.errors
    assert problem.code == "duplicate_service_id"
    assert "MOFA-001" in problem.message()


def test_same_id_in_other_agency_allowed(agency, editor):
    other = make_agency(code="A09000000E", name="衛生福利部")
    create_service(agency, "S-1", PASSPORT, editor)

    service = create_service(other, "S-1", PASSPORT, editor)

    assert service.agency == other


def test_update_service_validates_before_storing(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)

    with pytest.raises(ServiceValidationError):
        update_service(service, {**PASSPORT, "name_en": "\u202eevil"}, editor)

    assert item_revisions(service).count() == 1


def test_bilingual_service_has_no_gaps(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)

    assert service_english_gaps(service) == []


def test_chinese_edit_makes_english_stale(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)

    update_service(service, {**PASSPORT, "name_zh": "護照換發"}, editor)

    gaps = service_english_gaps(service)
    assert [(gap.english_key, gap.gap) for gap in gaps] == [("name_en", Gap.STALE)]
    assert gaps[0].chinese_revision == 2
    assert gaps[0].english_revision == 1


def test_english_update_clears_staleness(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)
    update_service(service, {**PASSPORT, "name_zh": "護照換發"}, editor)

    update_service(
        service,
        {**PASSPORT, "name_zh": "護照換發", "name_en": "Passport renewal"},
        editor,
    )

    assert service_english_gaps(service) == []


def test_added_chinese_field_reports_missing_english(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)

    update_service(service, {**PASSPORT, "fees_zh": "1300元"}, editor)

    gaps = service_english_gaps(service)
    assert [(gap.english_key, gap.gap) for gap in gaps] == [("fees_en", Gap.MISSING)]


def test_gaps_of_published_revision(agency, editor):
    service = create_service(agency, "MOFA-001", PASSPORT, editor)
    first = service.current_revision
    update_service(service, {**PASSPORT, "name_zh": "護照換發"}, editor)

    assert service_english_gaps(service, first) == []
