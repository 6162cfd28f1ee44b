"""A small HTTP server for the built site, for previews and single-machine use.

It resolves the SITE_DIR symlink at every request, so a new build is served as
soon as ``govportal build`` switches the link. It serves only regular files
inside the current build: no directory listings, and any path with ``.`` or
``..`` segments, encoded or not, is rejected with 400.
"""

import logging
import os
import shutil
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .render import (
    CAMERAS_FOLDER,
    CONTENT_SECURITY_POLICY,
    content_security_policy_with,
)

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Camera pages show pictures, video and embedded players from the agencies'
# stream hosts, and run the site's own camera.js. Each page's meta element
# narrows this to its camera's host, and browsers apply both policies.
CAMERA_SECURITY_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": content_security_policy_with(
        CONTENT_SECURITY_POLICY,
        {
            "img-src": "https:",
            "media-src": "https:",
            "frame-src": "https:",
            "script-src": "'self'",
        },
    )
    + "; frame-ancestors 'none'",
}


class InvalidRequestPath(ValueError):
    """The request path is malformed or tries to leave the site folder."""


def content_type_for(parts: list[str]) -> str:
    name = parts[-1] if parts else "index.html"
    suffix = Path(name).suffix.lower()
    if suffix == ".xml" and parts[:1] == ["feeds"]:
        return RSS_CONTENT_TYPE
    return CONTENT_TYPES.get(suffix, DEFAULT_CONTENT_TYPE)


def request_target_path(raw_path: str) -> str:
    """Return the still-encoded path of a request target, without the query.

    Accepts origin-form ("/a/b?q") and absolute-form ("http://host/a/b") targets.
    urlsplit alone would read "//a/b" as the host "a".
    """
    if raw_path.startswith("/"):
        return raw_path.split("?", 1)[0].split("#", 1)[0]
    if raw_path.lower().startswith(("http://", "https://")):
        return urlsplit(raw_path).path or "/"
    raise InvalidRequestPath(f"Request path {raw_path!r} does not start with /.")


def split_request_path(raw_path: str, base_path: str = "") -> list[str] | None:
    """Decode a request path into its segments below the site root.

    Returns None for a path outside ``base_path``. Raises InvalidRequestPath for
    invalid percent-encoding, NUL, backslashes, and ``.`` or ``..`` segments.
    """
    path = request_target_path(raw_path)
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError as error:
        raise InvalidRequestPath(
            f"Request path {raw_path!r} is not valid UTF-8."
        ) from error
    if "\x00" in decoded or "\\" in decoded:
        raise InvalidRequestPath(f"Request path {raw_path!r} contains NUL or \\.")

    if base_path:
        if decoded != base_path and not decoded.startswith(base_path + "/"):
            return None
        decoded = decoded[len(base_path) :]

    parts = [segment for segment in decoded.split("/") if segment]
    if any(segment in {".", ".."} for segment in parts):
        raise InvalidRequestPath(f"Request path {raw_path!r} contains . or ..")
    return parts


class SiteRequestHandler(BaseHTTPRequestHandler):
    server: "SiteServer"
    server_version = "govportal-site"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Seconds a connection may stay idle or slow before it is closed, so slow
    # clients cannot hold the worker threads forever.
    timeout = 30

    def do_GET(self) -> None:
        self.serve(send_body=True)

    def do_HEAD(self) -> None:
        self.serve(send_body=False)

    def end_headers(self) -> None:
        headers = SECURITY_HEADERS
        if self.is_camera_path():
            headers = CAMERA_SECURITY_HEADERS
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        super().end_headers()

    def is_camera_path(self) -> bool:
        """Check whether the request is for a page of the camera section."""
        # send_error runs before parse_request sets path for a bad request line.
        path = getattr(self, "path", "")
        try:
            parts = split_request_path(path, self.server.base_path)
        except InvalidRequestPath:
            return False
        return parts is not None and parts[:1] == [CAMERAS_FOLDER]

    def log_message(self, format: str, *args: object) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def serve(self, send_body: bool) -> None:
        if self.headers.get("Content-Length", "0").strip() not in {"", "0"}:
            # The body is never read, so the connection cannot carry another request.
            self.close_connection = True
        try:
            root = self.server.site_dir.resolve(strict=True)
        except OSError:
            root = None
        if root is None or not root.is_dir():
            logger.error(
                "Site folder %s does not exist. Run: govportal build",
                self.server.site_dir,
            )
            self.send_text(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The site has not been built yet. Run: govportal build\n",
                send_body,
            )
            return

        try:
            parts = split_request_path(self.path, self.server.base_path)
        except InvalidRequestPath as error:
            logger.warning("Rejected request path: %s", error)
            self.send_text(HTTPStatus.BAD_REQUEST, "Bad request path.\n", send_body)
            return
        if parts is None or any(segment.startswith(".") for segment in parts):
            self.send_not_found(root, send_body)
            return

        names_folder = request_target_path(self.path).endswith("/")
        try:
            target = root.joinpath(*parts)
            is_folder = target.is_dir()
            if is_folder and names_folder:
                target = target / "index.html"
                parts = [*parts, "index.html"]
            resolved = target.resolve()
            is_site_file = resolved.is_relative_to(root) and resolved.is_file()
        except OSError as error:
            # Such as a segment longer than the file system allows.
            logger.warning("Cannot look up request path %r: %s", self.path, error)
            self.send_not_found(root, send_body)
            return

        if is_folder and not names_folder:
            self.redirect_to_folder(parts)
        elif not is_site_file or (names_folder and not is_folder and parts):
            # "/index.html/" names a folder, and there is none.
            self.send_not_found(root, send_body)
        else:
            self.send_file(HTTPStatus.OK, resolved, content_type_for(parts), send_body)

    def redirect_to_folder(self, parts: list[str]) -> None:
        query = self.path.partition("?")[2].split("#", 1)[0]
        location = quote(f"{self.server.base_path}/{'/'.join(parts)}/")
        if query:
            location += "?" + query
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_not_found(self, root: Path, send_body: bool) -> None:
        page = root / "404.html"
        if page.is_file():
            self.send_file(
                HTTPStatus.NOT_FOUND, page, CONTENT_TYPES[".html"], send_body
            )
        else:
            self.send_text(HTTPStatus.NOT_FOUND, "Not found.\n", send_body)

    def send_file(
        self, status: HTTPStatus, path: Path, content_type: str, send_body: bool
    ) -> None:
        try:
            source = open(path, "rb")
        except OSError as error:
            # The build was pruned between resolving and opening.
            logger.warning("Cannot open %s: %s", path, error)
            self.send_text(HTTPStatus.NOT_FOUND, "Not found.\n", send_body)
            return
        with source:
            size = os.fstat(source.fileno()).st_size
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if send_body:
                shutil.copyfileobj(source, self.wfile)

    def send_text(self, status: HTTPStatus, text: str, send_body: bool) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    """Serves ``site_dir``, the SITE_DIR symlink, under ``base_path``."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], site_dir: Path, base_path: str = ""
    ) -> None:
        self.site_dir = site_dir
        self.base_path = base_path.rstrip("/")
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SiteRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that closes the connection early is routine, not an error.
        error = sys.exc_info()[1]
        if isinstance(error, BrokenPipeError | ConnectionResetError):
            logger.debug("client disconnected address=%s", client_address)
            return
        super().handle_error(request, client_address)
