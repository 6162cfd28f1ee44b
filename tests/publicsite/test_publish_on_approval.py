"""An approval or a withdrawal reaches the public site without a manual build."""

from io import StringIO

import pytest
from django.core.management import call_command

from govportal.publicsite.build import build_site
from govportal.publishing import workflow
from govportal.publishing.models import Transition
from govportal.publishing.states import Action
from govportal.services.records import create_service
from tests.publishing.helpers import make_agency, make_user

from .personas import BUILD_TIME
from .test_services_pages import PASSPORT, approve

pytestmark = pytest.mark.django_db

DETAIL = "services/A15000000A/S-1/index.html"


@pytest.fixture
def people(db):
    return make_user("editor"), make_user("reviewer", reviewer=True)


def test_approval_publishes_and_records_live_time(
    site_dir, people, settings, django_capture_on_commit_callbacks
):
    settings.PUBLISH_ON_APPROVAL = True
    build_site(now=BUILD_TIME)
    service = create_service(make_agency(), "S-1", PASSPORT, people[0])
    assert not (site_dir / DETAIL).exists()

    with django_capture_on_commit_callbacks(execute=True):
        approve(service, people)

    assert (site_dir / DETAIL).exists()
    approval = Transition.objects.get(action=Action.APPROVE)
    assert approval.live_at is not None
    assert approval.live_at >= approval.created_at


def test_withdrawal_removes_page(
    site_dir, people, settings, django_capture_on_commit_callbacks
):
    settings.PUBLISH_ON_APPROVAL = True
    service = create_service(make_agency(), "S-1", PASSPORT, people[0])
    with django_capture_on_commit_callbacks(execute=True):
        approve(service, people)
    assert (site_dir / DETAIL).exists()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(service, people[1], "服務停辦")

    assert not (site_dir / DETAIL).exists()


def test_no_publish_when_switched_off(
    site_dir, people, settings, django_capture_on_commit_callbacks
):
    settings.PUBLISH_ON_APPROVAL = False
    service = create_service(make_agency(), "S-1", PASSPORT, people[0])
    with django_capture_on_commit_callbacks(execute=True):
        approve(service, people)
    assert not (site_dir / DETAIL).exists()


def test_full_build_records_live_time(site_dir, people, settings):
    settings.PUBLISH_ON_APPROVAL = False
    service = create_service(make_agency(), "S-1", PASSPORT, people[0])
    approve(service, people)
    assert Transition.objects.get(action=Action.APPROVE).live_at is None

    call_command("build", stdout=StringIO())

    assert (site_dir / DETAIL).exists()
    assert Transition.objects.get(action=Action.APPROVE).live_at is not None
