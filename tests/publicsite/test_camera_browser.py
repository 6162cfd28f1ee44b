"""A camera's way through health checks to the built site, seen in Chromium.

An HTTPS fixture server on 127.0.0.1 plays the camera, with a trustme
certificate that the checker trusts through FETCH_EXTRA_CA_BUNDLE and that
Chromium accepts because the browser context ignores certificate errors.
The camera pages embed https URLs only, so a plain http fixture server
would leave them without a picture.

Set GOVPORTAL_SCREENSHOT_DIR to also save a full-page PNG of each page that
axe-core checks.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from govportal.cameras.health import check_cameras
from govportal.cameras.models import ApprovedStreamHost, Camera, HealthState, StreamKind
from govportal.feeds.ingest import fetch_policy
from govportal.lib.camcheck import CheckLimits
from govportal.publicsite.build import build_site
from govportal.publishing import workflow
from tests.camcheck import jpeg_bytes
from tests.publishing.helpers import make_agency, make_user, publish
from tests.support.fixture_server import (
    FixtureServer,
    Request,
    Response,
    https_fixture_server,
    trustme_chain,
)

from .conftest import running_server
from .test_accessibility import AXE_TAGS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: apt-get install chromium",
    ),
]

AGENCY_CODE = "379000000A"
REGION = "臺北市"
CAMERA_NAME = "市民大道與新生北路口"
FAST_LIMITS = CheckLimits(deadline=4.0, frame_timeout=1.5)
PICTURE_SHOWN = """() => {
  const image = document.querySelector("figure img");
  return image !== null && image.complete && image.naturalWidth > 0;
}"""


class CameraPlayer:
    """Serves a new JPEG frame per request, or HTTP 500 while broken."""

    def __init__(self) -> None:
        self.broken = False
        self._seed = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        if self.broken:
            return Response(500, {"Content-Type": "text/plain"}, b"camera offline")
        with self._lock:
            self._seed += 1
            seed = self._seed
        headers = {"Content-Type": "image/jpeg", "Cache-Control": "no-store"}
        return Response(200, headers, jpeg_bytes(seed))


@dataclass
class CameraSite:
    base_url: str
    camera: Camera
    player: CameraPlayer
    server: FixtureServer

    @property
    def camera_path(self) -> str:
        return f"/cameras/{self.camera.pk}/"

    @property
    def region_path(self) -> str:
        return f"/cameras/region/{quote(REGION)}/"

    def check(self, times: int) -> str:
        """Run ``times`` health checks and return the camera's state after them."""
        policy = fetch_policy(respect_robots=False)
        for _ in range(times):
            self.camera.refresh_from_db()
            check_cameras([self.camera], policy=policy, limits=FAST_LIMITS)
        self.camera.refresh_from_db()
        return self.camera.health_state


@pytest.fixture
def camera_site(site_dir, settings, tmp_path) -> Iterator[CameraSite]:
    """Publish a camera played over HTTPS, check it until up, build and serve."""
    chain = trustme_chain("127.0.0.1")
    root_file = tmp_path / "camera-root.pem"
    root_file.write_bytes(chain.root_pem)
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_DEADLINE_SECONDS = 3
    settings.FETCH_EXTRA_CA_BUNDLE = str(root_file)
    editor, reviewer = make_user("editor"), make_user("reviewer", reviewer=True)
    agency = make_agency(AGENCY_CODE, "臺北市政府")
    ApprovedStreamHost.objects.create(agency=agency, host="127.0.0.1")
    player = CameraPlayer()

    with https_fixture_server(chain.chain_pem, chain.key_pem) as server:
        server.route("/cam.jpg", player)
        camera = Camera(agency=agency, source_id="001-市民大道")
        # create_draft stores the snapshot without the importer's checks,
        # which reject loopback addresses.
        workflow.create_draft(
            camera,
            {
                "name": CAMERA_NAME,
                "region": REGION,
                "address": "臺北市中山區市民大道二段",
                "latitude": 25.0478,
                "longitude": 121.5288,
                "stream_kind": StreamKind.JPEG_SNAPSHOT.value,
                "stream_url": server.url("/cam.jpg"),
                "snapshot_url": "",
            },
            editor,
        )
        publish(camera, editor, reviewer)
        site = CameraSite("", camera, player, server)
        assert site.check(2) == HealthState.UP
        build_site()
        with running_server(site_dir) as base_url:
            site.base_url = base_url
            yield site


@contextmanager
def open_browser(profile_dir: Path):
    """Yield a Chromium page that reaches 127.0.0.1 only, and its CSP reports.

    Playwright's sync API runs an event loop in this thread, and Django
    raises SynchronousOnlyOperation for queries while it runs. So tests
    check cameras and build the site only while no browser is open.
    """
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile_dir),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="zh-TW",
            # The camera's trustme certificate is not in Chromium's store.
            ignore_https_errors=True,
        )
        page = context.new_page()
        outside_requests: list[str] = []
        policy_errors: list[str] = []

        def block_outside(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside_requests.append(route.request.url)
                route.abort()

        def keep_policy_errors(message):
            if "Content Security Policy" in message.text:
                policy_errors.append(message.text)

        page.route("**/*", block_outside)
        page.on("console", keep_policy_errors)
        try:
            yield page, outside_requests, policy_errors
        finally:
            context.close()


@pytest.fixture
def browser_page(camera_site, tmp_path):
    with open_browser(tmp_path / "chromium-profile") as opened:
        yield opened


def region_item(page):
    return page.locator("ul.camera-list li", has_text=CAMERA_NAME)


def test_camera_down_and_back(camera_site, site_dir, tmp_path):
    site = camera_site
    stream_url = site.server.url("/cam.jpg")
    profile = tmp_path / "chromium-profile"

    with open_browser(profile) as (page, outside_requests, policy_errors):
        page.goto(site.base_url + site.region_path)
        link = region_item(page).locator("a")
        assert link.get_attribute("href") == site.camera_path
        link.click()
        page.wait_for_function(PICTURE_SHOWN, timeout=10_000)
        assert "影像狀態：正常" in page.locator(".camera-status-box").inner_text()
        assert outside_requests == []
        assert policy_errors == []

    site.player.broken = True
    assert site.check(2) == HealthState.UP
    assert site.check(1) == HealthState.DOWN
    build_site()
    for built in Path(site_dir).resolve().rglob("*.html"):
        assert stream_url not in built.read_text(encoding="utf-8")

    with open_browser(profile) as (page, outside_requests, policy_errors):
        page.goto(site.base_url + site.region_path)
        assert region_item(page).locator("a").count() == 0
        assert "暫時無法提供" in region_item(page).inner_text()
        page.goto(site.base_url + site.camera_path)
        assert page.locator("figure").count() == 0
        assert page.locator("main img").count() == 0
        status = page.locator(".camera-status-box").inner_text()
        assert "影像狀態：暫時無法提供" in status
        assert stream_url not in page.content()
        assert outside_requests == []

    site.player.broken = False
    assert site.check(1) == HealthState.DOWN
    assert site.check(1) == HealthState.UP
    build_site()

    with open_browser(profile) as (page, outside_requests, policy_errors):
        page.goto(site.base_url + site.region_path)
        region_item(page).locator("a").click()
        page.wait_for_function(PICTURE_SHOWN, timeout=10_000)
        assert page.locator("figure img").get_attribute("src") == stream_url
        assert outside_requests == []
        assert policy_errors == []


def test_snapshot_reloads_and_pauses(camera_site, browser_page):
    page, _outside_requests, policy_errors = browser_page
    site = camera_site
    page.clock.install()
    page.goto(site.base_url + site.camera_path)
    page.wait_for_function(PICTURE_SHOWN, timeout=10_000)
    toggle = page.locator("[data-camera-toggle]")
    assert toggle.is_visible()
    assert toggle.inner_text() == "暫停自動更新"
    assert page.locator("[data-camera-note]").inner_text() == "畫面每 30 秒自動更新。"
    hits = site.server.hits("/cam.jpg")

    page.clock.run_for("00:31")
    page.wait_for_function(
        '() => document.querySelector("figure img").src.includes("_=")',
        timeout=10_000,
    )
    assert site.server.hits("/cam.jpg") > hits

    toggle.click()
    assert toggle.inner_text() == "繼續自動更新"
    assert page.locator("[data-camera-note]").inner_text() == "已暫停自動更新。"
    paused_hits = site.server.hits("/cam.jpg")
    page.clock.run_for("01:30")
    assert site.server.hits("/cam.jpg") == paused_hits
    assert policy_errors == []


def test_reduced_motion_starts_paused(camera_site, browser_page):
    page, _outside_requests, _policy_errors = browser_page
    page.emulate_media(reduced_motion="reduce")

    page.goto(camera_site.base_url + camera_site.camera_path)

    toggle = page.locator("[data-camera-toggle]")
    assert toggle.inner_text() == "繼續自動更新"
    assert page.locator("[data-camera-note]").inner_text() == "已暫停自動更新。"


@pytest.mark.parametrize("name", ["index", "region", "agency", "camera", "status"])
def test_camera_pages_have_no_axe_violations(camera_site, browser_page, name):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    page, outside_requests, policy_errors = browser_page
    paths = {
        "index": "/cameras/",
        "region": camera_site.region_path,
        "agency": f"/cameras/agency/{AGENCY_CODE}/",
        "camera": camera_site.camera_path,
        "status": "/cameras/status/",
    }

    response = page.goto(camera_site.base_url + paths[name])
    if name == "camera":
        page.wait_for_function(PICTURE_SHOWN, timeout=10_000)
    results = axe_module.Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "resultTypes": ["violations"],
        },
    )
    screenshot_dir = os.environ.get("GOVPORTAL_SCREENSHOT_DIR")
    if screenshot_dir:
        path = Path(screenshot_dir) / f"camera-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    assert response is not None
    assert response.status == 200
    if results.violations_count:
        print(results.generate_report())
    assert results.violations_count == 0
    assert outside_requests == []
    assert policy_errors == []
