"""A loopback HTTPS server that plays traffic cameras for the demo.

Each URL names a behaviour and a kind of stream, for example
``/good/CCTV-N1-S-0.000-M.mjpg`` or ``/stale/CCTV-N3-N-12.5-M/index.m3u8``.
The path alone decides the response, so a camera pointed at a URL keeps one
behaviour for the whole run. ``camera_url`` builds these URLs and
``plan_camera`` picks a behaviour and kind from a camera's id.

The certificate for 127.0.0.1 comes from a CA that trustme generates at
start. Its PEM file is what the fetcher must trust
(``GOVPORTAL_FETCH_EXTRA_CA_BUNDLE``). Each connection is served by its own
thread, and TLS is negotiated in that thread, so a slow client delays only
itself.
"""

import enum
import hashlib
import io
import logging
import re
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

FRAME_SIZE = (320, 180)
JPEG_QUALITY = 70
# Time between two frames of an MJPEG stream.
MJPEG_FRAME_SECONDS = 0.5
# An MJPEG connection is closed after this long even if the client stays.
MJPEG_MAX_SECONDS = 300.0
MJPEG_BOUNDARY = "demoframe"
# A "timeout" camera keeps a connection open, unanswered, at most this long.
HANG_MAX_SECONDS = 120.0
# HLS: one segment per SEGMENT_SECONDS, LIVE_SEGMENTS in the playlist.
SEGMENT_SECONDS = 2
LIVE_SEGMENTS = 4
# Segments older than the playlist window that are still served, as a
# live server keeps them for players that fall behind.
KEPT_SEGMENTS = 30
# MPEG-TS null packets per segment (188 bytes each).
SEGMENT_PACKETS = 100
# The segment an "outside" playlist names: a private address that the
# checker must reject. This server never connects to it.
OUTSIDE_SEGMENT_URL = "http://10.0.0.1/x.ts"
# A socket read waits this long at most, so idle connections end.
CONNECTION_TIMEOUT_SECONDS = 30.0


class Behaviour(enum.StrEnum):
    """Behaviour of a camera, named by the first segment of its URL path."""

    GOOD = "good"
    # Good at start, then HTTP 503 for a few minutes, then good, in a cycle.
    OUTAGE = "outage"
    # Every other request fails with HTTP 503.
    FLAPPING = "flapping"
    SERVER_ERROR = "error500"
    NOT_FOUND = "notfound"
    # Reads the request and never sends a response.
    TIMEOUT = "timeout"
    # "200 OK" with an HTML page where an image or stream belongs.
    NOT_AN_IMAGE = "html"
    # The same JPEG bytes for ever.
    FROZEN = "frozen"
    # An HLS playlist whose media sequence never moves.
    STALE = "stale"
    # An HLS playlist whose segment is on a private address.
    OUTSIDE = "outside"


class Resource(enum.StrEnum):
    SNAPSHOT = "snapshot"
    MJPEG = "mjpeg"
    PLAYLIST = "playlist"
    SEGMENT = "segment"
    EMBED = "embed"


# Stream kind of a camera (cameras.models.StreamKind values) and the
# suffix of its URL.
KIND_SUFFIX = {
    "jpeg_snapshot": ".jpg",
    "mjpeg": ".mjpg",
    "hls": "/index.m3u8",
    "embed_page": ".html",
}

# Share of cameras, in percent, per (behaviour, kind). Most are good, so the
# demo shows a healthy list with a few problems of every kind.
PLAN: list[tuple[Behaviour, str, int]] = [
    (Behaviour.GOOD, "mjpeg", 32),
    (Behaviour.GOOD, "jpeg_snapshot", 18),
    (Behaviour.GOOD, "hls", 12),
    (Behaviour.GOOD, "embed_page", 5),
    (Behaviour.OUTAGE, "jpeg_snapshot", 6),
    (Behaviour.OUTAGE, "mjpeg", 4),
    (Behaviour.OUTAGE, "hls", 2),
    (Behaviour.FLAPPING, "jpeg_snapshot", 4),
    (Behaviour.SERVER_ERROR, "jpeg_snapshot", 3),
    (Behaviour.NOT_FOUND, "mjpeg", 3),
    (Behaviour.NOT_AN_IMAGE, "jpeg_snapshot", 3),
    (Behaviour.TIMEOUT, "jpeg_snapshot", 1),
    (Behaviour.FROZEN, "jpeg_snapshot", 3),
    (Behaviour.STALE, "hls", 2),
    (Behaviour.OUTSIDE, "hls", 2),
]
PLAN_TOTAL = sum(share for _, _, share in PLAN)

# An outage camera is good for GOOD_MINUTES, then broken for BROKEN_MINUTES,
# each range chosen per camera. With checks every minute, three failures
# take a camera down and two good checks bring it back.
OUTAGE_GOOD_MINUTES = (3, 9)
OUTAGE_BROKEN_MINUTES = (4, 7)

_PATH = re.compile(
    r"^/(?P<behaviour>[a-z0-9]+)/(?P<key>[A-Za-z0-9._~%-]+?)"
    r"(?:(?P<suffix>\.jpg|\.mjpg|\.html)|/(?P<file>index\.m3u8|seg-(?P<seq>\d{1,18})\.ts))$"
)


@dataclass(frozen=True)
class CameraPlan:
    """The behaviour and stream kind the demo gives one camera."""

    behaviour: Behaviour
    kind: str


def camera_seed(key: str) -> int:
    """Return a stable number derived from a camera key (not Python's hash())."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def plan_camera(camera_id: str) -> CameraPlan:
    """Pick a behaviour and kind for a camera from its id, the same on every run."""
    slot = camera_seed("plan:" + camera_id) % PLAN_TOTAL
    for behaviour, kind, share in PLAN:
        if slot < share:
            return CameraPlan(behaviour, kind)
        slot -= share
    raise AssertionError("slot is below PLAN_TOTAL")


def camera_url(base_url: str, camera_id: str, plan: CameraPlan) -> str:
    """Return the URL on the camera server that plays ``plan`` for a camera."""
    key = quote(camera_id, safe="-._~")
    return f"{base_url}/{plan.behaviour}/{key}{KIND_SUFFIX[plan.kind]}"


def parse_camera_url(url: str) -> CameraPlan | None:
    """Return the plan encoded in a camera server URL, or None for other URLs."""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
    match = _PATH.match(path)
    if match is None or match["behaviour"] not in Behaviour:
        return None
    suffix = match["suffix"] or "/" + (match["file"] or "")
    kinds = {value: kind for kind, value in KIND_SUFFIX.items()}
    kind = kinds.get(suffix)
    if kind is None:
        return None
    return CameraPlan(Behaviour(match["behaviour"]), kind)


# -- pictures -------------------------------------------------------------------


def render_frame(key: str, at: float) -> bytes:
    """Draw a camera's frame at Unix time ``at`` and return it as JPEG.

    Two blocks move across the picture at speeds that depend on the camera,
    and the time is drawn in. The blocks cover several cells of the 16x16
    average hash that the checker takes, so frames a minute apart differ
    by more bits than the checker's frozen-frame tolerance.
    """
    seed = camera_seed(key)
    width, height = FRAME_SIZE
    hue = seed % 360
    image = Image.new("HSV", FRAME_SIZE, (hue * 255 // 360, 90, 70)).convert("RGB")
    draw = ImageDraw.Draw(image)
    # A road across the lower half.
    draw.rectangle((0, height // 2, width, height - 20), fill=(60, 60, 64))
    # A "car" that crosses the road and re-enters from the left.
    car_width = 80
    car_speed = 7 + seed % 5  # pixels per second
    travel = width + car_width
    car_x = (at * car_speed + seed % travel) % travel - car_width
    draw.rectangle(
        (car_x, height // 2 + 10, car_x + car_width, height - 30),
        fill=(240, 220, 60),
    )
    # A "crane" that moves up and down on its own, slower period.
    crane_period = 71 + seed % 29  # seconds
    phase = ((at + seed % crane_period) % crane_period) / crane_period
    crane_y = abs(phase * 2 - 1) * (height // 2 - 40)
    draw.rectangle(
        (width - 90, crane_y, width - 30, crane_y + 40), fill=(250, 250, 250)
    )
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    font = ImageFont.load_default()
    draw.rectangle((0, height - 20, width, height), fill=(0, 0, 0))
    draw.text((4, height - 16), f"{stamp}  {key[:24]}", fill=(255, 255, 255), font=font)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY)
    return output.getvalue()


def render_segment(key: str, sequence: int) -> bytes:
    """Return an MPEG transport stream segment of null packets.

    NOTE: the packets carry no picture. The checker only reads the start of
    a segment to prove it is served, so real video is not needed here.
    """
    label = f"{key}:{sequence}".encode()[:180]
    first = b"\x47\x1f\xff\x10" + label.ljust(184, b"\xff")
    rest = (b"\x47\x1f\xff\x10" + b"\xff" * 184) * (SEGMENT_PACKETS - 1)
    return first + rest


def media_sequence(behaviour: Behaviour, key: str, now: float) -> int:
    """Return the playlist's first sequence number at ``now``."""
    if behaviour == Behaviour.STALE:
        # Fixed per camera, so the playlist never advances.
        return 1000 + camera_seed(key) % 1000
    return int(now // SEGMENT_SECONDS)


def render_playlist(behaviour: Behaviour, key: str, now: float) -> str:
    first = media_sequence(behaviour, key, now)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
    ]
    for sequence in range(first, first + LIVE_SEGMENTS):
        lines.append(f"#EXTINF:{SEGMENT_SECONDS}.0,")
        if behaviour == Behaviour.OUTSIDE:
            lines.append(OUTSIDE_SEGMENT_URL)
        else:
            lines.append(f"seg-{sequence}.ts")
    return "\n".join(lines) + "\n"


def render_embed_page(key: str, base_url: str) -> str:
    """Return a player page that shows the camera's MJPEG stream."""
    name = escape(unquote(key))
    source = escape(f"{base_url}/good/{key}.mjpg")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>Demo camera {name}</title></head>\n"
        f'<body><h1>Demo camera {name}</h1><img src="{source}" '
        f'width="{FRAME_SIZE[0]}" height="{FRAME_SIZE[1]}" alt="live picture">'
        "</body></html>\n"
    )


NOT_AN_IMAGE_PAGE = (
    "<!doctype html>\n<html><head><title>Camera</title></head>"
    "<body><p>Please log in to view this camera.</p></body></html>\n"
)


# -- the server -------------------------------------------------------------------


def outage_broken(key: str, elapsed: float) -> bool:
    """Return whether an outage camera is broken ``elapsed`` s after the start."""
    seed = camera_seed("outage:" + key)
    good_low, good_high = OUTAGE_GOOD_MINUTES
    broken_low, broken_high = OUTAGE_BROKEN_MINUTES
    good = 60 * (good_low + seed % (good_high - good_low + 1))
    broken = 60 * (broken_low + (seed >> 8) % (broken_high - broken_low + 1))
    return elapsed % (good + broken) >= good


class CameraServer(ThreadingHTTPServer):
    """The camera server; start it with ``start_camera_server``."""

    daemon_threads = True
    # Many checks of one batch connect at once.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        ssl_context: ssl.SSLContext,
        ca_file: Path,
        *,
        started_at: float | None = None,
    ) -> None:
        super().__init__(address, CameraRequestHandler)
        self.ssl_context = ssl_context
        self.ca_file = ca_file
        self.started_at = time.time() if started_at is None else started_at
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._request_counts: Counter[str] = Counter()
        self._frozen_frames: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"https://{host!s}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so the TLS handshake of one
        # client does not hold up the accept loop.
        request.settimeout(CONNECTION_TIMEOUT_SECONDS)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.debug("camera server TLS handshake failed error=%s", exc)
            return
        try:
            super().finish_request(connection, client_address)
        except (ssl.SSLError, OSError) as exc:
            logger.debug("camera server connection failed error=%s", exc)
        finally:
            connection.close()

    def count_request(self, path: str) -> int:
        """Return how many requests ``path`` has had, this one included."""
        with self._lock:
            self._request_counts[path] += 1
            return self._request_counts[path]

    def frozen_frame(self, key: str) -> bytes:
        with self._lock:
            frame = self._frozen_frames.get(key)
            if frame is None:
                frame = render_frame(key, self.started_at)
                self._frozen_frames[key] = frame
            return frame

    def stop(self) -> None:
        """Stop accepting, and end open streams and unanswered connections."""
        self.stopping.set()
        self.shutdown()
        self.server_close()


class CameraRequestHandler(BaseHTTPRequestHandler):
    server: CameraServer
    server_version = "DemoCamera/1.0"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        match = _PATH.match(path)
        if match is None or match["behaviour"] not in Behaviour:
            self._send_text(HTTPStatus.NOT_FOUND, "no such camera\n")
            return
        behaviour = Behaviour(match["behaviour"])
        key = match["key"]
        resource = _resource(match)
        if self._send_failure(behaviour, key, path):
            return
        if resource == Resource.SNAPSHOT:
            self._send_snapshot(behaviour, key)
        elif resource == Resource.MJPEG:
            self._send_mjpeg(behaviour, key)
        elif resource == Resource.PLAYLIST:
            body = render_playlist(behaviour, key, time.time())
            self._send_body(
                HTTPStatus.OK, "application/vnd.apple.mpegurl", body.encode()
            )
        elif resource == Resource.SEGMENT:
            self._send_segment(behaviour, key, int(match["seq"]))
        else:
            page = render_embed_page(key, self.server.base_url)
            self._send_body(HTTPStatus.OK, "text/html; charset=utf-8", page.encode())

    def _send_failure(self, behaviour: Behaviour, key: str, path: str) -> bool:
        """Send the failure that ``behaviour`` calls for now and return True, if any."""
        if behaviour == Behaviour.SERVER_ERROR:
            self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, "camera offline\n")
        elif behaviour == Behaviour.NOT_FOUND:
            self._send_text(HTTPStatus.NOT_FOUND, "camera not found\n")
        elif behaviour == Behaviour.TIMEOUT:
            self._hang()
        elif behaviour == Behaviour.FLAPPING and self.server.count_request(path) % 2:
            self._send_text(HTTPStatus.SERVICE_UNAVAILABLE, "camera busy\n")
        elif behaviour == Behaviour.OUTAGE and outage_broken(
            key, time.time() - self.server.started_at
        ):
            self._send_text(HTTPStatus.SERVICE_UNAVAILABLE, "camera offline\n")
        else:
            return False
        return True

    def _send_snapshot(self, behaviour: Behaviour, key: str) -> None:
        if behaviour == Behaviour.NOT_AN_IMAGE:
            self._send_body(
                HTTPStatus.OK, "text/html; charset=utf-8", NOT_AN_IMAGE_PAGE.encode()
            )
        elif behaviour == Behaviour.FROZEN:
            self._send_body(HTTPStatus.OK, "image/jpeg", self.server.frozen_frame(key))
        else:
            self._send_body(HTTPStatus.OK, "image/jpeg", render_frame(key, time.time()))

    def _send_mjpeg(self, behaviour: Behaviour, key: str) -> None:
        if behaviour == Behaviour.NOT_AN_IMAGE:
            self._send_snapshot(behaviour, key)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Type", f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}"
        )
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        deadline = time.monotonic() + MJPEG_MAX_SECONDS
        while time.monotonic() < deadline:
            if behaviour == Behaviour.FROZEN:
                frame = self.server.frozen_frame(key)
            else:
                frame = render_frame(key, time.time())
            part = (
                (
                    f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame)}\r\n\r\n"
                ).encode()
                + frame
                + b"\r\n"
            )
            try:
                self.wfile.write(part)
                self.wfile.flush()
            except OSError:
                # The viewer or checker closed the stream, which is normal.
                return
            if self.server.stopping.wait(MJPEG_FRAME_SECONDS):
                return

    def _send_segment(self, behaviour: Behaviour, key: str, sequence: int) -> None:
        first = media_sequence(behaviour, key, time.time())
        if not first - KEPT_SEGMENTS <= sequence < first + LIVE_SEGMENTS:
            self._send_text(HTTPStatus.NOT_FOUND, "segment expired\n")
            return
        self._send_body(HTTPStatus.OK, "video/mp2t", render_segment(key, sequence))

    def _hang(self) -> None:
        """Keep the connection open without a response until the client closes it."""
        self.close_connection = True
        connection = self.connection
        connection.settimeout(1.0)
        deadline = time.monotonic() + HANG_MAX_SECONDS
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            try:
                if not connection.recv(1):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _send_text(self, status: HTTPStatus, text: str) -> None:
        self._send_body(status, "text/plain; charset=utf-8", text.encode())

    def _send_body(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("camera server request %s", format % args)


def _resource(match: re.Match[str]) -> Resource:
    suffix = match["suffix"]
    if suffix == ".jpg":
        return Resource.SNAPSHOT
    if suffix == ".mjpg":
        return Resource.MJPEG
    if suffix == ".html":
        return Resource.EMBED
    if match["file"] == "index.m3u8":
        return Resource.PLAYLIST
    return Resource.SEGMENT


def make_tls_context(ca_file: Path, host: str = "127.0.0.1") -> ssl.SSLContext:
    """Generate a CA and a certificate for ``host``, and write the CA to ``ca_file``.

    Returns the server's TLS context. trustme makes a new CA on every call,
    so a CA file from an earlier run is overwritten.
    """
    import trustme

    authority = trustme.CA(organization_name="govportal demo camera CA")
    certificate = authority.issue_cert(host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    authority.cert_pem.write_to_path(str(ca_file))
    return context


def start_camera_server(
    ca_file: Path, host: str = "127.0.0.1", port: int = 0
) -> CameraServer:
    """Start the camera server in a background thread and return it.

    Raises OSError when the port is in use.
    """
    context = make_tls_context(ca_file, host)
    server = CameraServer((host, port), context, ca_file)
    thread = threading.Thread(
        target=server.serve_forever, name="demo-cameras", daemon=True
    )
    thread.start()
    logger.info("camera server started url=%s ca_file=%s", server.base_url, ca_file)
    return server
