import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from govportal.publicsite.server import SiteServer

BASE_URL = "https://portal.example.gov.tw"


@pytest.fixture
def site_dir(settings, tmp_path: Path) -> Path:
    """Point SITE_DIR at a fresh folder and fix the base URL and page size."""
    settings.SITE_DIR = tmp_path / "var" / "site"
    settings.SITE_BASE_URL = BASE_URL
    settings.SITE_NEWS_PAGE_SIZE = 20
    settings.SITE_DIR.parent.mkdir(parents=True)
    return settings.SITE_DIR


def read_text(site_dir: Path, relative_path: str) -> str:
    return (site_dir / relative_path).read_text(encoding="utf-8")


def parse_page(site_dir: Path, relative_path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(read_text(site_dir, relative_path))


@contextmanager
def running_server(site_dir: Path, base_path: str = "") -> Iterator[str]:
    """Serve site_dir on 127.0.0.1 at a free port and yield the base URL."""
    server = SiteServer(("127.0.0.1", 0), site_dir, base_path)
    # A short poll interval makes shutdown() return quickly.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def request(
    base_url: str, raw_path: str, method: str = "GET", body: bytes | None = None
) -> Response:
    """Send raw_path exactly as given, without the client normalising dots."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, raw_path, skip_accept_encoding=True)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def has_class(name: str) -> str:
    """Return an XPath predicate matching elements whose class list contains name."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
