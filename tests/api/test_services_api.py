"""Creating, updating, reading, listing and withdrawing services through the API."""

import pytest

from govportal.api.models import SandboxService
from govportal.publishing import workflow
from govportal.publishing.history import item_revisions
from govportal.publishing.states import State
from govportal.services.models import Service
from tests.api.conftest import PASSPORT, assert_clean_error


def test_put_creates_submitted_service(live, agency):
    response = live.put("MOFA-001", PASSPORT)

    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "submitted"
    assert body["current_revision"] == 1
    assert body["published_revision"] is None
    assert body["data"]["name_zh"] == "護照申請"
    assert response["ETag"] == '"r1"'
    service = Service.objects.get(agency=agency, agency_service_id="MOFA-001")
    assert service.state == State.SUBMITTED
    assert service.published_revision is None


def test_same_put_twice_adds_no_revision(live, agency):
    live.put("MOFA-001", PASSPORT)

    response = live.put("MOFA-001", PASSPORT)

    assert response.status_code == 200
    assert response.json()["current_revision"] == 1
    service = Service.objects.get(agency=agency)
    assert item_revisions(service).count() == 1


def test_update_with_if_match(live):
    live.put("MOFA-001", PASSPORT)

    response = live.put(
        "MOFA-001", {**PASSPORT, "name_en": "Passports"}, if_match='"r1"'
    )

    assert response.status_code == 200
    assert response.json()["current_revision"] == 2
    assert response["ETag"] == '"r2"'


def test_stale_if_match_conflicts(live, agency):
    live.put("MOFA-001", PASSPORT)
    live.put("MOFA-001", {**PASSPORT, "name_en": "Passports"})

    response = live.put(
        "MOFA-001", {**PASSPORT, "name_en": "Old base"}, if_match='"r1"'
    )

    assert response.status_code == 409
    body = assert_clean_error(response)
    assert body["current_revision"] == 2
    service = Service.objects.get(agency=agency)
    assert service.current_revision.snapshot["name_en"] == "Passports"


def test_production_unpublished_until_approved(live, agency, reviewer):
    live.put("MOFA-001", PASSPORT)
    service = Service.objects.get(agency=agency)

    assert live.get("/services/MOFA-001").json()["published_data"] is None

    workflow.start_review(service, reviewer)
    workflow.approve(service, 1, reviewer)
    body = live.get("/services/MOFA-001").json()

    assert body["state"] == "published"
    assert body["published_revision"] == 1
    assert body["published_data"]["name_en"] == "Passport application"


def test_edit_after_approval_keeps_published(live, agency, reviewer):
    live.put("MOFA-001", PASSPORT)
    service = Service.objects.get(agency=agency)
    workflow.start_review(service, reviewer)
    workflow.approve(service, 1, reviewer)

    response = live.put("MOFA-001", {**PASSPORT, "name_en": "Passports"})

    body = response.json()
    assert body["state"] == "submitted"
    assert body["current_revision"] == 2
    assert body["published_revision"] == 1
    assert body["published_data"]["name_en"] == "Passport application"


def test_api_author_cannot_approve(live, agency):
    live.put("MOFA-001", PASSPORT)
    service = Service.objects.get(agency=agency)
    author = service.current_revision.author

    with pytest.raises(workflow.ReviewPermissionError):
        workflow.start_review(service, author)


def test_get_returns_state_and_etag(live):
    live.put("MOFA-001", PASSPORT)

    response = live.get("/services/MOFA-001")

    assert response.status_code == 200
    assert response["ETag"] == '"r1"'
    assert response.json()["data"]["content_en"] == PASSPORT["content_en"]


def test_get_missing_service_404(live):
    response = live.get("/services/NOPE")

    assert response.status_code == 404
    assert_clean_error(response)


def test_list_paginates_and_filters(live):
    for number in range(5):
        live.put(f"S-{number}", PASSPORT)

    first = live.get("/services", {"page_size": 2}).json()
    last = live.get("/services", {"page_size": 2, "page": 3}).json()
    submitted = live.get("/services", {"state": "submitted"}).json()
    drafts = live.get("/services", {"state": "draft"}).json()

    assert first["total"] == 5
    assert first["pages"] == 3
    assert [item["agency_service_id"] for item in first["items"]] == ["S-0", "S-1"]
    assert [item["agency_service_id"] for item in last["items"]] == ["S-4"]
    assert submitted["total"] == 5
    assert drafts["total"] == 0


def test_list_updated_since(live):
    live.put("S-1", PASSPORT)

    future = live.get("/services", {"updated_since": "2999-01-01T00:00:00+08:00"})
    past = live.get("/services", {"updated_since": "2000-01-01T00:00:00Z"})

    assert future.json()["total"] == 0
    assert past.json()["total"] == 1


def test_list_shows_only_own_agency(live, other_live_key):
    from tests.api.conftest import PRODUCTION, Api

    Api(PRODUCTION, other_live_key).put("THEIRS", PASSPORT)
    live.put("MINE", PASSPORT)

    items = live.get("/services").json()["items"]

    assert [item["agency_service_id"] for item in items] == ["MINE"]


def test_delete_withdraws(live, agency):
    live.put("MOFA-001", PASSPORT)

    response = live.delete("MOFA-001", {"reason": "服務已停辦"})

    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert Service.objects.get(agency=agency).state == State.WITHDRAWN


def test_delete_needs_reason(live, agency):
    live.put("MOFA-001", PASSPORT)

    missing = live.delete("MOFA-001", {})
    blank = live.delete("MOFA-001", {"reason": "  "})
    extra = live.delete("MOFA-001", {"reason": "x", "state": "published"})
    no_body = live.delete("MOFA-001", raw=b"", content_type="")

    assert missing.status_code == 422
    assert "reason" in missing.json()["fields"]
    assert blank.status_code == 422
    assert extra.status_code == 422
    assert "state" in extra.json()["fields"]
    assert no_body.status_code == 415
    assert Service.objects.get(agency=agency).state == State.SUBMITTED


def test_second_withdrawal_conflicts(live):
    live.put("MOFA-001", PASSPORT)
    live.delete("MOFA-001", {"reason": "停辦"})

    response = live.delete("MOFA-001", {"reason": "停辦"})

    assert response.status_code == 409
    assert assert_clean_error(response)["code"] == "invalid_transition"


def test_put_after_withdrawal_resubmits(live):
    live.put("MOFA-001", PASSPORT)
    live.delete("MOFA-001", {"reason": "停辦"})

    response = live.put("MOFA-001", PASSPORT)

    assert response.json()["state"] == "submitted"
    assert response.json()["current_revision"] == 1


# The sandbox.


def test_sandbox_put_never_creates_service(sandbox, agency):
    response = sandbox.put("MOFA-001", PASSPORT)

    assert response.status_code == 201
    body = response.json()
    assert body["environment"] == "test"
    assert body["state"] == "submitted"
    assert body["published_revision"] is None
    assert Service.objects.count() == 0
    assert SandboxService.objects.get(agency=agency).revision == 1


def test_sandbox_full_cycle(sandbox):
    created = sandbox.put("MOFA-001", PASSPORT)
    same = sandbox.put("MOFA-001", PASSPORT)
    updated = sandbox.put(
        "MOFA-001", {**PASSPORT, "name_zh": "護照換發"}, if_match='"r1"'
    )
    stale = sandbox.put("MOFA-001", {**PASSPORT, "name_zh": "舊"}, if_match='"r1"')
    read = sandbox.get("/services/MOFA-001")
    listed = sandbox.get("/services")
    withdrawn = sandbox.delete("MOFA-001", {"reason": "測試結束"})

    assert created.status_code == 201
    assert same.json()["current_revision"] == 1
    assert updated.json()["current_revision"] == 2
    assert stale.status_code == 409
    assert stale.json()["current_revision"] == 2
    assert read["ETag"] == '"r2"'
    assert read.json()["data"]["name_zh"] == "護照換發"
    assert listed.json()["total"] == 1
    assert withdrawn.json()["state"] == "withdrawn"
    assert Service.objects.count() == 0


def test_sandbox_reports_stale_english(sandbox):
    sandbox.put("MOFA-001", PASSPORT)

    response = sandbox.put("MOFA-001", {**PASSPORT, "name_zh": "護照換發"})

    gaps = response.json()["conformance"]["english_gaps"]
    assert {"field": "name_en", "gap": "stale"}.items() <= gaps[0].items()


def test_sandbox_reports_review_hints(sandbox):
    data = {
        "name_zh": "線上申請",
        "content_zh": "太短",
        "methods": ["online"],
    }

    response = sandbox.put("S-1", data)

    report = response.json()["conformance"]
    codes = {hint["code"] for hint in report["review_hints"]}
    assert report["accepted_in_production"] is True
    assert {"hint_online_without_url", "hint_short_content"} <= codes
    assert {"hint_no_contact", "hint_no_category"} <= codes
    missing = {gap["field"] for gap in report["english_gaps"]}
    assert {"name_en", "content_en"} <= missing


def test_sandbox_reports_rejection(sandbox):
    response = sandbox.put("S-1", {"name_zh": "", "application_url": "http://x.tw"})

    assert response.status_code == 422
    report = response.json()["conformance"]
    assert report["accepted_in_production"] is False
    assert set(report["errors"]) >= {"name_zh", "content_zh", "application_url"}
    assert SandboxService.objects.count() == 0


def test_sandbox_and_production_separate(sandbox, live):
    sandbox.put("MOFA-001", PASSPORT)

    assert live.get("/services/MOFA-001").status_code == 404
    assert live.get("/services").json()["total"] == 0
