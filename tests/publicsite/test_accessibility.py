"""Axe-core checks of the built site in headless Chromium.

Set GOVPORTAL_SCREENSHOT_DIR to also save a full-page PNG of each page.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govportal.publicsite.build import build_site
from govportal.services.records import create_service
from tests.publishing.helpers import make_agency as make_service_agency
from tests.publishing.helpers import make_user

from .conftest import running_server
from .personas import (
    BUILD_TIME,
    EXECUTIVE_YUAN,
    MINISTRY_OF_LABOR,
    make_agency,
    make_news,
    make_realistic_site,
)
from .test_services_pages import PASSPORT, approve


def publish_passport_service():
    """Publish one service with every row filled, in both languages."""
    people = (make_user("editor"), make_user("reviewer", reviewer=True))
    service = create_service(make_service_agency(), "MOFA-001", PASSPORT, people[0])
    approve(service, people)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = {
    "home": "/",
    "news": "/news/",
    "news-page-2": "/news/page/2/",
    "agencies": "/news/agencies/",
    "agency": "/news/agencies/2.16.886.101.20003.20063/",
    "about": "/about/",
    "services": "/services/",
    "service-category": "/services/categories/leisure-travel/",
    "service": "/services/A15000000A/MOFA-001/",
    "service-en": "/en/services/A15000000A/MOFA-001/",
    "not-found": "/no-such-page/",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: apt-get install chromium",
    ),
]


@pytest.fixture
def site_url(site_dir, settings):
    """Build a site with realistic Chinese news and serve it on 127.0.0.1."""
    settings.SITE_NEWS_PAGE_SIZE = 5
    make_realistic_site()
    labor = make_agency(MINISTRY_OF_LABOR)
    executive = make_agency(EXECUTIVE_YUAN)
    for number in range(6):
        make_news(
            labor,
            f"勞動部就業服務快訊第 {number + 1} 期：各地就業博覽會場次公告",
            BUILD_TIME - timedelta(days=2, hours=number),
            link=f"https://www.mol.gov.tw/news/2026/jobs-{number + 1}",
            summary_html="<p>求職民眾可攜帶履歷參加，現場提供職涯諮詢。</p>",
        )
    make_news(
        executive,
        "行政院新聞稿（連結待補）",
        BUILD_TIME - timedelta(days=3),
    )
    publish_passport_service()
    build_site(now=BUILD_TIME)
    with running_server(site_dir) as base_url:
        yield base_url


@pytest.fixture
def browser_page(site_url, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="zh-TW",
        )
        page = context.new_page()
        outside_requests: list[str] = []

        def block_outside(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside_requests.append(route.request.url)
                route.abort()

        page.route("**/*", block_outside)
        try:
            yield page, outside_requests
        finally:
            context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_axe_violations(browser_page, site_url, name):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    page, outside_requests = browser_page

    response = page.goto(site_url + PAGES[name])
    results = axe_module.Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "resultTypes": ["violations"],
        },
    )
    screenshot_dir = os.environ.get("GOVPORTAL_SCREENSHOT_DIR")
    if screenshot_dir:
        page.screenshot(path=str(Path(screenshot_dir) / f"{name}.png"), full_page=True)

    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    if results.violations_count:
        print(results.generate_report())
    assert results.violations_count == 0
    assert outside_requests == []


def test_skip_link_visible_on_focus(browser_page, site_url):
    page, _outside_requests = browser_page
    page.goto(site_url + "/")

    page.keyboard.press("Tab")

    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("name", ["home", "news", "about"])
def test_no_horizontal_scroll_on_phone(browser_page, site_url, name):
    page, _outside_requests = browser_page
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto(site_url + PAGES[name])

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
