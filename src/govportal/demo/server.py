"""A loopback web server that plays the agencies' sites for the demo."""

import hashlib
import logging
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from govportal.demo.replay import DEMO_FEEDS, DemoFeed, replay_body

logger = logging.getLogger(__name__)


class AgencySitesServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], now: datetime | None = None) -> None:
        super().__init__(address, AgencySitesHandler)
        # Dates are moved once, at start, so the bodies and their ETags stay
        # the same between fetches and conditional requests get a 304.
        self.started_at = now or datetime.now(UTC)
        self.bodies: dict[str, tuple[DemoFeed, bytes, str]] = {}
        for feed in DEMO_FEEDS:
            body = replay_body(feed, self.started_at)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            self.bodies[feed.path] = (feed, body, etag)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class AgencySitesHandler(BaseHTTPRequestHandler):
    server: AgencySitesServer
    server_version = "AgencySite/1.0"

    def do_GET(self) -> None:
        entry = self.server.bodies.get(self.path)
        if entry is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        feed, body, etag = entry
        last_modified = format_datetime(self.server.started_at, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", feed.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("agency site request %s", format % args)


def start_agency_sites(host: str = "127.0.0.1", port: int = 0) -> AgencySitesServer:
    """Start the server in a background thread and return it."""
    server = AgencySitesServer((host, port))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
