"""The demo's catalogue loads through the real API over HTTP."""

import pytest
from django.core.management import call_command

from govportal.agencies.models import Agency
from govportal.api.models import ApiKey
from govportal.demo import catalogue
from govportal.demo.services import read_service_titles, sample_body
from govportal.publishing.states import State
from govportal.services.models import Service
from govportal.services.validation import validate_service


def test_every_sample_body_is_valid():
    for number, title in enumerate(read_service_titles()):
        validate_service(sample_body(title, with_english=number % 3 == 0))


def test_titles_have_unique_ids():
    titles = read_service_titles()
    assert len(titles) == 397
    assert len({title.agency_service_id for title in titles}) == 397


@pytest.mark.django_db(transaction=True)
def test_catalogue_sent_through_api_and_partly_approved(live_server, monkeypatch):
    Agency.objects.create(code="387000000A", name_zh="臺中市政府")
    Agency.objects.create(code="A00000000A", name_zh="行政院")
    titles = [
        t for t in read_service_titles() if t.organ in {"臺中市政府", "中央政府"}
    ][:9]
    monkeypatch.setattr(catalogue, "read_service_titles", lambda: titles)
    reviewer, password = catalogue.demo_reviewer()
    assert password

    report = catalogue.load_catalogue(live_server.url, reviewer)

    assert report.failed == []
    assert report.sent == 9
    assert report.sandbox_checked == 4
    assert Service.objects.count() == 9
    assert report.approved == Service.objects.filter(state=State.PUBLISHED).count()
    assert Service.objects.filter(state=State.SUBMITTED).count() == 9 - report.approved
    assert ApiKey.objects.filter(revoked_at=None).count() == 4

    # A second run revokes the demo keys it can no longer print.
    catalogue.load_catalogue(live_server.url, reviewer)
    assert ApiKey.objects.filter(revoked_at=None).count() == 4
    assert Service.objects.count() == 9
    call_command("check")
