import io
import os
from datetime import timedelta

import pytest
from django.core.management import call_command

from govportal.publicsite.build import build_site
from govportal.publicsite.server import SiteServer, split_request_path

from .conftest import request, running_server
from .personas import (
    BUILD_TIME,
    EXECUTIVE_YUAN,
    make_agency,
    make_news,
    make_realistic_site,
)

pytestmark = pytest.mark.django_db

SECRET = "top-secret-value-outside-the-site"


@pytest.fixture
def served_site(site_dir, tmp_path):
    """Build the realistic site, put a secret next to it, and serve it."""
    make_realistic_site()
    build_site(now=BUILD_TIME)
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "var" / "secret.txt").write_text(SECRET)
    with running_server(site_dir) as base_url:
        yield base_url


def assert_security_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


# Content.


@pytest.mark.parametrize(
    ("path", "content_type", "expected_text"),
    [
        ("/", "text/html; charset=utf-8", "政府入口網"),
        ("/index.html", "text/html; charset=utf-8", "政府入口網"),
        ("/news/", "text/html; charset=utf-8", "外送平臺專法"),
        ("/news/agencies/A00000000A/", "text/html; charset=utf-8", "行政院"),
        (
            "/news/agencies/2.16.886.101.20003.20063/",
            "text/html; charset=utf-8",
            "勞動部",
        ),
        ("/about/?utm_source=test", "text/html; charset=utf-8", "關於本站"),
        ("/static/site.css", "text/css; charset=utf-8", ":root"),
        ("/feeds/news.xml", "application/rss+xml; charset=utf-8", "<rss"),
        ("/sitemap.xml", "application/xml; charset=utf-8", "<urlset"),
        ("/static/favicon.svg", "image/svg+xml", "<svg"),
        ("/robots.txt", "text/plain; charset=utf-8", "Sitemap: "),
    ],
)
def test_serves_files_with_content_type(served_site, path, content_type, expected_text):
    response = request(served_site, path)

    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert expected_text in response.text
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert_security_headers(response)


def test_folder_without_slash_redirects(served_site):
    response = request(served_site, "/news/agencies?page=1")

    assert response.status == 301
    assert response.headers["Location"] == "/news/agencies/?page=1"


def test_head_sends_no_body(served_site):
    response = request(served_site, "/news/", method="HEAD")

    assert response.status == 200
    assert response.body == b""
    assert int(response.headers["Content-Length"]) > 0


def test_request_body_closes_connection(served_site):
    response = request(served_site, "/", body=b"GET /secret.txt HTTP/1.1\r\n\r\n")

    assert response.status == 200
    assert response.headers["Connection"] == "close"


def test_other_methods_not_implemented(served_site):
    response = request(served_site, "/", method="POST")

    assert response.status == 501
    assert_security_headers(response)


# Missing paths.


@pytest.mark.parametrize(
    "path",
    [
        "/missing",
        "/missing/",
        "/news/page/99/",
        "/news/agencies/999999999Z/",
        "/index.html/",
        "/static/",
        "/feeds/",
        "/.lock",
        "/secret.txt",
        "/" + "a" * 300,
        "/news/" + "%E6%B6%88" * 100 + "/",
    ],
)
def test_missing_path_returns_404_page(served_site, path):
    response = request(served_site, path)

    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "找不到這個網頁" in response.text
    assert_security_headers(response)


def test_no_directory_listing(served_site, site_dir):
    response = request(served_site, "/static/")

    assert response.status == 404
    assert response.body == (site_dir / "404.html").read_bytes()


# Path traversal.


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/news/..%2f..%2f..%2fsecret.txt",
        "/news/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/./index.html",
        "/..%5c..%5csecret.txt",
        "/%00",
        "/index.html%00.css",
        "/%ff%fe",
        "news/",
    ],
)
def test_traversal_rejected(served_site, path):
    response = request(served_site, path)

    assert response.status == 400
    assert SECRET not in response.text
    assert_security_headers(response)


def test_symlink_out_of_build_not_followed(served_site, site_dir, tmp_path):
    build_dir = site_dir.resolve()
    os.symlink(tmp_path / "secret.txt", build_dir / "leak.txt")

    response = request(served_site, "/leak.txt")

    assert response.status == 404
    assert SECRET not in response.text


@pytest.mark.parametrize(
    ("raw_path", "base_path", "expected"),
    [
        ("/", "", []),
        ("/news/page/2/", "", ["news", "page", "2"]),
        ("//news//", "", ["news"]),
        ("/news/?page=2#top", "", ["news"]),
        ("http://127.0.0.1:8000/news/", "", ["news"]),
        ("/news/%E6%B6%88%E6%81%AF", "", ["news", "消息"]),
        ("/portal/news/", "/portal", ["news"]),
        ("/portal", "/portal", []),
        ("/portalx/news/", "/portal", None),
        ("/news/", "/portal", None),
    ],
)
def test_split_request_path(raw_path, base_path, expected):
    assert split_request_path(raw_path, base_path) == expected


# Swaps and configuration.


def test_new_build_served_after_swap(served_site, site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    make_news(agency, "剛發布的新聞", BUILD_TIME + timedelta(minutes=5))
    assert "剛發布的新聞" not in request(served_site, "/").text

    build_site(now=BUILD_TIME)

    assert "剛發布的新聞" in request(served_site, "/").text


def test_unbuilt_site_returns_503(site_dir):
    with running_server(site_dir) as base_url:
        response = request(base_url, "/")

    assert response.status == 503
    assert "govportal build" in response.text


def test_base_path_served(site_dir, settings):
    settings.SITE_BASE_URL = "https://www.example.gov.tw/portal"
    make_realistic_site()
    build_site(now=BUILD_TIME)

    with running_server(site_dir, "/portal") as base_url:
        home = request(base_url, "/portal/")
        news = request(base_url, "/portal/news/")
        outside = request(base_url, "/news/")

    assert home.status == 200
    assert 'href="/portal/news/"' in home.text
    assert news.status == 200
    assert outside.status == 404


# Management commands.


def test_build_command_reports(site_dir):
    make_realistic_site()
    output = io.StringIO()

    call_command("build", stdout=output)

    text = output.getvalue()
    assert f"Site folder: {site_dir} -> " in text
    assert "Pages written: 9 " in text
    assert "Seconds: " in text
    assert (site_dir / "index.html").is_file()


def test_serve_command_starts_and_stops(site_dir, monkeypatch):
    started = {}

    def fake_serve_forever(self, poll_interval=0.5):
        started["address"] = self.server_address
        started["site_dir"] = self.site_dir
        raise KeyboardInterrupt

    monkeypatch.setattr(SiteServer, "serve_forever", fake_serve_forever)
    output = io.StringIO()

    call_command("serve", "--port", "0", stdout=output)

    assert started["address"][0] == "127.0.0.1"
    assert started["site_dir"] == site_dir
    assert "Serving " in output.getvalue()
    assert "http://127.0.0.1:" in output.getvalue()
