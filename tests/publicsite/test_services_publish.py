"""Incremental publishing of one service's approval or withdrawal."""

import os

import pytest

from govportal.publicsite.build import build_site
from govportal.publicsite.incremental import publish_service_change
from govportal.publishing import workflow
from govportal.publishing.models import Transition
from govportal.publishing.states import Action
from govportal.services.records import create_service, update_service
from tests.publishing.helpers import make_agency, make_user

from .personas import BUILD_TIME
from .test_services_pages import PASSPORT, approve

pytestmark = pytest.mark.django_db

DETAIL = "services/A15000000A/S-1/index.html"
UNTOUCHED = "services/A15000000A/S-2/index.html"


@pytest.fixture
def people(db):
    return make_user("editor"), make_user("reviewer", reviewer=True)


@pytest.fixture
def services(db, people):
    """Two published services in different life-event categories."""
    agency = make_agency()
    first = create_service(agency, "S-1", PASSPORT, people[0])
    second = create_service(
        agency,
        "S-2",
        {**PASSPORT, "name_zh": "戶籍謄本", "categories": ["housing-moving"]},
        people[0],
    )
    approve(first, people)
    approve(second, people)
    return first, second


def pages_of(root, prefix="services"):
    """Return the service page files under root and their text."""
    pages = {}
    for language_prefix in (prefix, f"en/{prefix}"):
        for path in sorted((root / language_prefix).rglob("index.html")):
            pages[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    return pages


def test_publish_writes_touched_pages(site_dir, services, people):
    first, _second = services
    build_site(now=BUILD_TIME)
    old_build = site_dir.resolve()
    untouched_inode = os.stat(site_dir / UNTOUCHED).st_ino
    old_detail = (old_build / DETAIL).read_text(encoding="utf-8")
    update_service(first, {**PASSPORT, "name_zh": "護照新名稱"}, people[0])
    approve(first, people)

    report = publish_service_change(first, now=BUILD_TIME)

    assert not report.full_build
    assert site_dir.resolve() == report.build_dir
    assert report.build_dir != old_build
    assert os.stat(site_dir / UNTOUCHED).st_ino == untouched_inode
    assert DETAIL in report.pages_written
    assert UNTOUCHED not in report.pages_written
    assert "services/categories/housing-moving/index.html" not in report.pages_written
    assert "services/categories/leisure-travel/index.html" in report.pages_written
    assert "services/index.html" in report.pages_written
    assert "護照新名稱" in (site_dir / DETAIL).read_text(encoding="utf-8")
    # The earlier build shares inodes and must keep its own content.
    assert (old_build / DETAIL).read_text(encoding="utf-8") == old_detail
    assert report.seconds > 0


def test_publish_records_live_at(site_dir, services, people):
    first, _second = services
    build_site(now=BUILD_TIME)
    update_service(first, {**PASSPORT, "name_zh": "護照新名稱"}, people[0])
    approve(first, people)

    report = publish_service_change(first, now=BUILD_TIME)

    latest = Transition.objects.filter(action=Action.APPROVE).first()
    assert latest is not None
    assert latest.revision_id == first.published_revision_id
    assert latest.live_at is not None
    assert report.approvals_marked_live >= 1


def test_publish_equals_full_build(site_dir, services, people, tmp_path):
    first, _second = services
    build_site(now=BUILD_TIME)
    update_service(
        first,
        {**PASSPORT, "name_zh": "護照新名稱", "categories": ["marriage"]},
        people[0],
    )
    approve(first, people)

    publish_service_change(first, now=BUILD_TIME)
    incremental = pages_of(site_dir)
    incremental_sitemap = (site_dir / "sitemap.xml").read_text(encoding="utf-8")
    full_dir = tmp_path / "full" / "site"
    full_dir.parent.mkdir()
    build_site(full_dir, now=BUILD_TIME)

    assert incremental == pages_of(full_dir)
    assert incremental_sitemap == (full_dir / "sitemap.xml").read_text(encoding="utf-8")


def test_withdrawal_removes_pages(site_dir, services, people):
    first, _second = services
    build_site(now=BUILD_TIME)
    workflow.withdraw(first, people[0], "停辦")

    report = publish_service_change(first, now=BUILD_TIME)

    assert not (site_dir / DETAIL).exists()
    assert not (site_dir / "en" / DETAIL).exists()
    assert DETAIL in report.pages_removed
    leisure = site_dir / "services/categories/leisure-travel/index.html"
    assert "普通護照申請" not in leisure.read_text(encoding="utf-8")
    assert "S-1" not in (site_dir / "sitemap.xml").read_text(encoding="utf-8")


def test_first_service_makes_full_build(site_dir, people):
    build_site(now=BUILD_TIME)
    service = create_service(make_agency(), "S-1", PASSPORT, people[0])
    approve(service, people)

    report = publish_service_change(service, now=BUILD_TIME)

    assert report.full_build
    assert (site_dir / DETAIL).is_file()
