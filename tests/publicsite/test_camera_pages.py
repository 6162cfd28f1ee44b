"""Camera pages of the static build: public cameras only, down cameras hidden."""

import math
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraCheck,
    HealthState,
    StreamKind,
)
from govportal.publicsite.build import build_site
from govportal.publicsite.cameras_content import Availability
from govportal.publicsite.cameras_pages import (
    https_origin,
    mileage_metres,
    percent,
    region_slug,
)
from govportal.publicsite.render import (
    CONTENT_SECURITY_POLICY,
    content_security_policy_with,
)
from govportal.publishing import workflow
from govportal.publishing.errors import NotPublishableError
from tests.publishing.helpers import make_agency, make_user, publish

from .conftest import parse_page, read_text, request, running_server
from .personas import BUILD_TIME

pytestmark = pytest.mark.django_db

FREEWAY_CODE = "315050000M"
TAIPEI_CODE = "379000000A"
SNAPSHOT = {
    "name": "國道1號 12K+300 北向",
    "region": "國道1號",
    "road": "國道1號",
    "direction": "N",
    "section": "五股–林口",
    "mileage": "12K+300",
    "address": "",
    "latitude": 25.0712345,
    "longitude": 121.4654321,
    "stream_kind": StreamKind.JPEG_SNAPSHOT.value,
    "stream_url": "https://cctv.freeway.example.gov.tw/snap/1.jpg",
    "snapshot_url": "",
}


@pytest.fixture
def people(db):
    return make_user("editor"), make_user("reviewer", reviewer=True)


@pytest.fixture
def freeway(db):
    agency = make_agency(FREEWAY_CODE, "交通部臺灣區國道高速公路局")
    for host in ("cctv.freeway.example.gov.tw", "video.example.gov.tw"):
        ApprovedStreamHost.objects.create(agency=agency, host=host)
    return agency


@pytest.fixture
def taipei(db):
    return make_agency(TAIPEI_CODE, "臺北市政府")


def make_camera(agency, people, source_id, publish_it=True, **content) -> Camera:
    """Create a camera with SNAPSHOT plus ``content``, published if ``publish_it``."""
    camera = Camera(agency=agency, source_id=source_id)
    workflow.create_draft(camera, {**SNAPSHOT, **content}, people[0])
    if publish_it:
        publish(camera, *people)
    return camera


def set_health(camera: Camera, state: str) -> None:
    Camera.objects.filter(pk=camera.pk).update(
        health_state=state, health_changed_at=BUILD_TIME - timedelta(hours=1)
    )


def page_path(camera: Camera) -> str:
    return f"cameras/{camera.pk}/index.html"


def region_path(region: str) -> str:
    return f"cameras/region/{region_slug(region)}/index.html"


def all_build_text(site_dir: Path) -> str:
    build = site_dir.resolve()
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(build.rglob("*"))
        if path.is_file()
    )


def policy_directives(page) -> dict[str, list[str]]:
    (meta,) = page.xpath('//meta[@http-equiv="Content-Security-Policy"]')
    directives = {}
    for part in meta.get("content").split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0]] = tokens[1:]
    return directives


def site_directives() -> dict[str, list[str]]:
    directives = {}
    for part in CONTENT_SECURITY_POLICY.split(";"):
        tokens = part.split()
        directives[tokens[0]] = tokens[1:]
    return directives


# Which cameras get pages.


def test_pages_only_for_public_cameras(site_dir, freeway, people):
    public = make_camera(freeway, people, "C-PUBLIC")
    draft = make_camera(
        freeway,
        people,
        "C-DRAFT",
        publish_it=False,
        stream_url="https://cctv.freeway.example.gov.tw/draft.jpg",
    )
    blocked = make_camera(
        freeway,
        people,
        "C-BLOCKED",
        publish_it=False,
        stream_url="http://cctv.freeway.example.gov.tw/blocked.jpg",
    )
    Camera.objects.filter(pk=blocked.pk).update(stream_problem="stream not https")
    with pytest.raises(NotPublishableError, match="stream not https"):
        publish(blocked, *people)
    no_stream = make_camera(freeway, people, "C-NONE", stream_url="", stream_kind="")

    build_site(now=BUILD_TIME)

    assert (site_dir / page_path(public)).is_file()
    for camera in (draft, blocked, no_stream):
        assert not (site_dir / page_path(camera)).exists()
    text = all_build_text(site_dir)
    assert "draft.jpg" not in text
    assert "blocked.jpg" not in text
    sitemap = read_text(site_dir, "sitemap.xml")
    assert f"/cameras/{public.pk}/</loc>" in sitemap
    assert "/cameras/status/</loc>" in sitemap
    assert "/cameras/</loc>" in sitemap


def test_no_camera_section_without_cameras(site_dir, freeway, people):
    make_camera(freeway, people, "C-DRAFT", publish_it=False)

    build_site(now=BUILD_TIME)

    assert not (site_dir / "cameras").exists()
    assert "/cameras/" not in read_text(site_dir, "sitemap.xml")


def test_edit_in_review_not_shown(site_dir, freeway, people):
    camera = make_camera(freeway, people, "C1")
    workflow.edit(camera, {**SNAPSHOT, "name": "尚未審核的名稱"}, people[0])

    build_site(now=BUILD_TIME)

    page = read_text(site_dir, page_path(camera))
    assert SNAPSHOT["name"] in page
    assert "尚未審核的名稱" not in page


# Health: unknown and up cameras show their picture, down ones do not.


@pytest.mark.parametrize("state", [HealthState.UNKNOWN, HealthState.UP])
def test_unknown_and_up_cameras_shown(site_dir, freeway, people, state):
    camera = make_camera(freeway, people, "C1")
    set_health(camera, state)

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    (image,) = page.xpath("//figure//img")
    assert image.get("src") == SNAPSHOT["stream_url"]
    assert image.get("alt") == f"「{SNAPSHOT['name']}」監視器的即時影像"
    region = parse_page(site_dir, region_path("國道1號"))
    links = region.xpath("//ul[contains(@class, 'camera-list')]//h2/a")
    assert [link.get("href") for link in links] == [f"/cameras/{camera.pk}/"]


def test_status_texts_on_camera_pages(site_dir, freeway, people):
    up = make_camera(freeway, people, "UP")
    set_health(up, HealthState.UP)
    never = make_camera(freeway, people, "NEVER")
    checked = make_camera(freeway, people, "CHECKED")
    CameraCheck.objects.create(
        camera=checked,
        checked_at=BUILD_TIME - timedelta(minutes=5),
        ok=True,
        elapsed_ms=120,
    )

    build_site(now=BUILD_TIME)

    up_page = parse_page(site_dir, page_path(up))
    state = up_page.xpath("//p[contains(@class, 'camera-status-box__state')]")[0]
    assert state.text_content() == "影像狀態：正常"
    times = up_page.xpath("//div[contains(@class, 'camera-status-box')]//time")
    assert [time.get("datetime") for time in times] == ["2026-07-20T17:00:00+08:00"]
    never_page = parse_page(site_dir, page_path(never))
    assert "影像狀態：尚未檢查" in never_page.text_content()
    checked_page = parse_page(site_dir, page_path(checked))
    assert "影像狀態：檢查中" in checked_page.text_content()
    assert "最後檢查時間：2026-07-20 17:55" in checked_page.text_content()


def test_down_camera_hidden_everywhere(site_dir, freeway, people):
    down = make_camera(
        freeway,
        people,
        "DOWN",
        name="國道1號 20K 南向",
        stream_kind=StreamKind.HLS.value,
        stream_url="https://cctv.freeway.example.gov.tw/live/down.m3u8",
        snapshot_url="https://cctv.freeway.example.gov.tw/still/down.jpg",
    )
    set_health(down, HealthState.DOWN)
    up = make_camera(freeway, people, "UP")

    build_site(now=BUILD_TIME)

    text = all_build_text(site_dir)
    assert "down.m3u8" not in text
    assert "down.jpg" not in text
    page = parse_page(site_dir, page_path(down))
    assert page.xpath("//figure | //img[not(ancestor::header)] | //video") == []
    assert "暫時無法提供" in page.text_content()
    policy = policy_directives(page)
    assert policy == site_directives()

    region = parse_page(site_dir, region_path("國道1號"))
    items = region.xpath("//ul[contains(@class, 'camera-list')]/li")
    by_name = {item.xpath(".//h2")[0].text_content(): item for item in items}
    down_item = by_name["國道1號 20K 南向"]
    assert down_item.xpath(".//a") == []
    assert "暫時無法提供" in down_item.text_content()
    assert by_name[SNAPSHOT["name"]].xpath(".//h2/a/@href") == [f"/cameras/{up.pk}/"]
    agency = read_text(site_dir, f"cameras/agency/{FREEWAY_CODE}/index.html")
    assert f"/cameras/{down.pk}/" not in agency
    assert f"/cameras/{down.pk}/" not in read_text(site_dir, "sitemap.xml")


def test_camera_back_up_shown_again(site_dir, freeway, people):
    camera = make_camera(freeway, people, "C1")
    set_health(camera, HealthState.DOWN)
    build_site(now=BUILD_TIME)
    assert SNAPSHOT["stream_url"] not in all_build_text(site_dir)

    set_health(camera, HealthState.UP)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    assert page.xpath("//figure//img/@src") == [SNAPSHOT["stream_url"]]
    assert f"/cameras/{camera.pk}/" in read_text(site_dir, region_path("國道1號"))


# Stream kinds and embedding rules.


def test_mjpeg_and_hls_pictures(site_dir, freeway, people):
    mjpeg = make_camera(
        freeway,
        people,
        "MJPEG",
        stream_kind=StreamKind.MJPEG.value,
        stream_url="https://cctv.freeway.example.gov.tw/mjpeg/7",
    )
    hls = make_camera(
        freeway,
        people,
        "HLS",
        stream_kind=StreamKind.HLS.value,
        stream_url="https://video.example.gov.tw/live/8.m3u8",
        snapshot_url="https://video.example.gov.tw/still/8.jpg",
    )

    build_site(now=BUILD_TIME)

    mjpeg_page = parse_page(site_dir, page_path(mjpeg))
    assert mjpeg_page.xpath("//figure//img/@src") == [
        "https://cctv.freeway.example.gov.tw/mjpeg/7"
    ]
    assert mjpeg_page.xpath("//script/@src")[0].startswith("/static/camera.js?v=")
    hls_page = parse_page(site_dir, page_path(hls))
    (video,) = hls_page.xpath("//video")
    assert video.get("src") == "https://video.example.gov.tw/live/8.m3u8"
    assert video.get("poster") == "https://video.example.gov.tw/still/8.jpg"
    for attribute in ("controls", "muted", "playsinline"):
        assert attribute in video.attrib
    assert "autoplay" not in video.attrib
    fallback = hls_page.xpath("//figcaption//a/@href")
    assert fallback == ["https://video.example.gov.tw/live/8.m3u8"]
    assert hls_page.xpath("//script") == []


def test_embed_iframe_attributes(site_dir, taipei, people):
    ApprovedStreamHost.objects.create(agency=taipei, host="cctv.taipei.example.gov.tw")
    camera = make_camera(
        taipei,
        people,
        "T1",
        region="臺北市",
        stream_kind=StreamKind.EMBED_PAGE.value,
        stream_url="https://cctv.taipei.example.gov.tw/player?id=1",
    )

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    (frame,) = page.xpath("//iframe")
    assert frame.get("src") == "https://cctv.taipei.example.gov.tw/player?id=1"
    sandbox = frame.get("sandbox").split()
    assert sandbox == ["allow-scripts"]
    assert "allow-same-origin" not in sandbox
    assert frame.get("referrerpolicy") == "no-referrer"
    assert frame.get("title") == f"「{SNAPSHOT['name']}」監視器的即時影像"
    assert frame.get("loading") == "lazy"


@pytest.mark.parametrize(
    "url",
    [
        "https://unapproved.example.gov.tw/player?id=1",
        "http://cctv.taipei.example.gov.tw/player?id=1",
        "https://user@cctv.taipei.example.gov.tw/player?id=1",
    ],
)
def test_embed_not_shown_unless_approved_https(site_dir, taipei, people, url):
    ApprovedStreamHost.objects.create(agency=taipei, host="cctv.taipei.example.gov.tw")
    camera = make_camera(
        taipei,
        people,
        "T1",
        stream_kind=StreamKind.EMBED_PAGE.value,
        stream_url=url,
    )

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    assert page.xpath("//iframe") == []
    assert "本站目前無法顯示這支監視器的影像" in page.text_content()
    assert "player?id=1" not in read_text(site_dir, page_path(camera))
    assert policy_directives(page) == site_directives()


def test_http_snapshot_not_shown(site_dir, freeway, people):
    camera = make_camera(
        freeway, people, "C1", stream_url="http://cctv.freeway.example.gov.tw/1.jpg"
    )

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    assert page.xpath("//figure") == []
    assert "cctv.freeway.example.gov.tw/1.jpg" not in read_text(
        site_dir, page_path(camera)
    )


# Content-Security-Policy.


@pytest.mark.parametrize(
    ("kind", "url", "directive"),
    [
        (StreamKind.JPEG_SNAPSHOT, "https://cam.example.gov.tw/1.jpg", "img-src"),
        (StreamKind.MJPEG, "https://cam.example.gov.tw:8443/mjpeg", "img-src"),
        (StreamKind.HLS, "https://cam.example.gov.tw/1.m3u8", "media-src"),
        (StreamKind.EMBED_PAGE, "https://cam.example.gov.tw/play", "frame-src"),
    ],
)
def test_csp_meta_lists_only_camera_host(
    site_dir, taipei, people, kind, url, directive
):
    ApprovedStreamHost.objects.create(agency=taipei, host="cam.example.gov.tw")
    camera = make_camera(taipei, people, "T1", stream_kind=kind.value, stream_url=url)

    build_site(now=BUILD_TIME)

    directives = policy_directives(parse_page(site_dir, page_path(camera)))
    origin = https_origin(url)
    assert origin == urlsplit(url)._replace(path="").geturl()
    expected = site_directives()
    expected[directive] = [
        *(source for source in expected.get(directive, []) if source != "'none'"),
        origin,
    ]
    if kind in (StreamKind.JPEG_SNAPSHOT, StreamKind.MJPEG):
        expected["script-src"] = ["'self'"]
    assert directives == expected
    index = parse_page(site_dir, "cameras/index.html")
    assert policy_directives(index) == site_directives()


def test_content_security_policy_with():
    policy = "default-src 'none'; img-src 'self'; frame-src 'none'"

    extended = content_security_policy_with(
        policy, {"img-src": "https://a.example", "frame-src": "https://b.example"}
    )

    assert extended == (
        "default-src 'none'; img-src 'self' https://a.example; "
        "frame-src https://b.example"
    )


# Escaping.


def test_camera_name_and_url_escaped(site_dir, freeway, people):
    url = "https://cctv.freeway.example.gov.tw/snap.jpg?a=\"x\"&b='y'&c=<z>"
    camera = make_camera(
        freeway, people, "C1", name="<script>alert(1)</script>", stream_url=url
    )

    build_site(now=BUILD_TIME)

    raw = read_text(site_dir, page_path(camera))
    assert "<script>alert(1)" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert '"x"' not in raw
    assert "<z>" not in raw
    page = parse_page(site_dir, page_path(camera))
    assert page.xpath("//figure//img/@src") == [url]
    assert page.xpath("//h1")[0].text_content() == "<script>alert(1)</script>"
    region = read_text(site_dir, region_path("國道1號"))
    assert "<script>alert(1)" not in region


# Lists, pagination and the report link.


def test_index_groups_by_region_and_agency(site_dir, freeway, taipei, people):
    for number in range(3):
        make_camera(freeway, people, f"F{number}")
    make_camera(taipei, people, "T1", region="臺北市", name="市民大道")
    make_camera(taipei, people, "T2", region="", name="無地區")

    build_site(now=BUILD_TIME)

    index = parse_page(site_dir, "cameras/index.html")
    regions = index.xpath("//section[1]//a")
    names = [link.xpath(".//span")[0].text_content() for link in regions]
    assert names == ["國道1號", "臺北市", "未標示地區"]
    hrefs = [link.get("href") for link in regions]
    assert hrefs == [
        f"/cameras/region/{quote('國道1號')}/",
        f"/cameras/region/{quote('臺北市')}/",
        "/cameras/region/unassigned/",
    ]
    counts = [link.xpath(".//span")[1].text_content() for link in regions]
    assert counts == ["3 支", "1 支", "1 支"]
    agencies = index.xpath("//section[2]//a/@href")
    assert agencies == [
        f"/cameras/agency/{FREEWAY_CODE}/",
        f"/cameras/agency/{TAIPEI_CODE}/",
    ]
    assert index.xpath("//a[@href='/cameras/status/']")
    assert (site_dir / "cameras/region/國道1號/index.html").is_file()


def test_region_list_paginated(site_dir, settings, freeway, people):
    settings.SITE_CAMERAS_PAGE_SIZE = 2
    for number, mileage in enumerate(["30K+000", "2K+500", "10K+000", "2K+100", "5K"]):
        make_camera(
            freeway, people, f"F{number}", name=f"里程 {mileage}", mileage=mileage
        )

    build_site(now=BUILD_TIME)

    folder = "cameras/region/國道1號"
    first = parse_page(site_dir, f"{folder}/index.html")
    names = [
        h2.text_content()
        for h2 in first.xpath("//ul[contains(@class, 'camera-list')]//h2")
    ]
    assert names == ["里程 2K+100", "里程 2K+500"]
    assert "共 5 支監視器（第 1 頁，共 3 頁）" in first.text_content()
    assert first.xpath("//nav[@class='pagination']//a[@rel='next']/@href") == [
        f"/cameras/region/{quote('國道1號')}/page/2/"
    ]
    last = parse_page(site_dir, f"{folder}/page/3/index.html")
    names = [
        h2.text_content()
        for h2 in last.xpath("//ul[contains(@class, 'camera-list')]//h2")
    ]
    assert names == ["里程 30K+000"]


def test_camera_page_place_rows_and_report_link(site_dir, settings, freeway, people):
    settings.OFFICE_BASE_URL = "https://office.example.gov.tw"
    camera = make_camera(freeway, people, "C1")

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, page_path(camera))
    rows = {
        row.xpath("dt")[0].text_content(): row.xpath("dd")[0].text_content()
        for row in page.xpath("//dl[@class='camera-fields']/div")
    }
    assert rows == {
        "道路": "國道1號",
        "方向": "北向",
        "里程": "12K+300",
        "路段": "五股–林口",
        "座標": "緯度 25.0712345，經度 121.4654321",
    }
    report = page.xpath("//a[text()='回報影像異常']/@href")
    assert report == [f"https://office.example.gov.tw/cameras/report/{camera.pk}/"]
    agency_link = page.xpath("//p[@class='page-heading__summary']/a/@href")
    assert agency_link == [f"/cameras/agency/{FREEWAY_CODE}/"]


# The status page.


def add_checks(camera: Camera, results: list[tuple[int, bool]]) -> None:
    """Store checks as (days before the build, ok) pairs."""
    CameraCheck.objects.bulk_create(
        CameraCheck(
            camera=camera,
            checked_at=BUILD_TIME - timedelta(days=days, minutes=index),
            ok=ok,
            problem_code="" if ok else "http_status",
            elapsed_ms=100,
        )
        for index, (days, ok) in enumerate(results)
    )


def status_rows(site_dir: Path) -> dict[str, list[str]]:
    page = parse_page(site_dir, "cameras/status/index.html")
    rows = {}
    for row in page.xpath("//table//tr[th[@scope='row']]"):
        cells = [cell.text_content().strip() for cell in row.xpath("th|td")]
        rows[cells[0]] = cells[1:]
    return rows


def test_status_page_availability(site_dir, freeway, taipei, people):
    up = make_camera(freeway, people, "UP")
    set_health(up, HealthState.UP)
    down = make_camera(freeway, people, "DOWN")
    set_health(down, HealthState.DOWN)
    make_camera(freeway, people, "NEW")
    # 3 OK of 4 within 7 days, plus a failure 10 days ago: 3 of 5 in 30 days.
    add_checks(up, [(1, True), (2, True), (3, False), (6, True), (10, False)])
    # Outside both windows.
    add_checks(down, [(40, False)])
    unpublished = make_camera(freeway, people, "DRAFT", publish_it=False)
    add_checks(unpublished, [(1, False), (1, False)])
    make_camera(taipei, people, "T1", region="臺北市")

    build_site(now=BUILD_TIME)

    rows = status_rows(site_dir)
    assert rows["交通部臺灣區國道高速公路局"] == ["3", "1", "1", "1", "75%", "60%"]
    assert rows["臺北市政府"] == ["1", "0", "0", "1", "—", "—"]
    assert rows["全部機關"] == ["4", "1", "1", "2", "75%", "60%"]
    page = parse_page(site_dir, "cameras/status/index.html")
    assert (
        page.xpath("//table/caption")[0].text_content() == "各機關監視器的狀態與可用率"
    )
    headers = [th.text_content() for th in page.xpath("//thead//th")]
    assert headers == [
        "機關",
        "監視器",
        "正常",
        "暫時無法提供",
        "尚未確認",
        "近 7 天可用率",
        "近 30 天可用率",
    ]
    assert all(th.get("scope") == "col" for th in page.xpath("//thead//th"))


def test_percent_rounds_down():
    assert percent(Availability(checks=0, ok=0)) == "—"
    assert percent(Availability(checks=4, ok=3)) == "75%"
    assert percent(Availability(checks=3, ok=2)) == "66.6%"
    assert percent(Availability(checks=2000, ok=1999)) == "99.9%"
    assert percent(Availability(checks=5, ok=5)) == "100%"


# Helpers for URLs, slugs and ordering.


def test_https_origin():
    assert (
        https_origin("https://Cam.Example.gov.tw/a.jpg") == "https://cam.example.gov.tw"
    )
    assert (
        https_origin("https://cam.example.gov.tw:443/a") == "https://cam.example.gov.tw"
    )
    assert https_origin("https://127.0.0.1:8443/a") == "https://127.0.0.1:8443"
    assert https_origin("http://cam.example.gov.tw/a") is None
    assert https_origin("https://u:p@cam.example.gov.tw/a") is None
    assert https_origin("https://cam.example.gov.tw:99999/a") is None
    assert https_origin("https://[::1]/a") is None
    assert https_origin("javascript:alert(1)") is None
    assert https_origin(" https://cam.example.gov.tw/a") is None


def test_region_slug():
    assert region_slug("臺北市") == "臺北市"
    assert region_slug("國道1號") == "國道1號"
    assert region_slug("") == "unassigned"
    assert region_slug("unassigned").startswith("r-")
    assert region_slug("台 61 線") == region_slug("台 61 線")
    assert region_slug("台 61 線").startswith("r-")
    assert region_slug("../etc").startswith("r-")


def test_mileage_order():
    assert mileage_metres("12K+300") == 12300
    assert mileage_metres("3.5K") == 3500
    assert mileage_metres("") == float("inf")


# The server's header for camera pages.


def test_server_camera_policy_header(site_dir, freeway, people):
    camera = make_camera(freeway, people, "C1")
    build_site(now=BUILD_TIME)

    with running_server(site_dir) as base_url:
        camera_page = request(base_url, f"/cameras/{camera.pk}/")
        news_page = request(base_url, "/news/")
        script = request(base_url, "/static/camera.js")

    policy = camera_page.headers["Content-Security-Policy"]
    assert "img-src 'self' https:" in policy
    assert "media-src https:" in policy
    assert "frame-src https:" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert news_page.headers["Content-Security-Policy"] == (
        CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'"
    )
    assert script.status == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"


# Speed: the number of queries must not grow with the number of cameras.


def count_build_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        build_site(now=BUILD_TIME)
    return len(queries.captured_queries)


def test_build_query_count_constant(site_dir, freeway, taipei, people):
    ApprovedStreamHost.objects.create(agency=taipei, host="cam.example.gov.tw")
    first = make_camera(freeway, people, "F0")
    add_checks(first, [(1, True)])
    make_camera(taipei, people, "T0", region="臺北市")
    # The first build also rolls up the finished days of checks, once.
    count_build_queries()
    few = count_build_queries()

    for number in range(1, 13):
        agency = freeway if number % 2 else taipei
        camera = make_camera(
            agency,
            people,
            f"C{number}",
            region="臺北市" if number % 3 else "新北市",
            stream_kind=StreamKind.EMBED_PAGE.value,
            stream_url=f"https://cam.example.gov.tw/play/{number}",
        )
        add_checks(camera, [(1, True), (8, number % 2 == 0)])
        set_health(camera, [HealthState.UP, HealthState.DOWN][number % 2])
    many = count_build_queries()

    assert Camera.objects.count() == 14
    assert many == few


def test_problem_in_newer_revision_keeps_published_camera(site_dir, freeway, people):
    """A re-import with a plain-http stream waits for review; the site keeps
    showing the approved stream."""
    camera = make_camera(freeway, people, "C-KEEP")
    snapshot = {**SNAPSHOT, "stream_url": "http://cctv.freeway.example.gov.tw/x.jpg"}
    workflow.edit(camera, snapshot, people[0])
    Camera.objects.filter(pk=camera.pk).update(stream_problem="stream not https")

    build_site(now=BUILD_TIME)

    page = read_text(site_dir, page_path(camera))
    assert SNAPSHOT["stream_url"] in page
    assert "http://cctv.freeway.example.gov.tw/x.jpg" not in all_build_text(site_dir)


def test_picture_from_unapproved_host_not_shown(site_dir, freeway, people):
    camera = make_camera(
        freeway, people, "C-ELSEWHERE", stream_url="https://elsewhere.example/1.jpg"
    )
    build_site(now=BUILD_TIME)
    page = read_text(site_dir, page_path(camera))
    assert "elsewhere.example" not in page
    assert "本站目前無法顯示這支監視器的影像。" in page


def test_long_mileage_text_read_quickly():
    started = time.perf_counter()
    assert mileage_metres("1" * 200_000) == math.inf
    # A quadratic search takes minutes on this input; a linear one, microseconds.
    assert time.perf_counter() - started < 0.5
