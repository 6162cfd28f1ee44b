"""A fast loopback camera server for the camera check benchmark.

It runs in its own process, so that its work is not counted as the
client's, and serves ``count`` cameras from memory:

- three of every four are JPEG snapshots at ``/cam/{n}.jpg``, answered with
  Content-Length and kept alive unless the client asks to close;
- every fourth is an MJPEG stream at ``/cam/{n}.mjpg``: a
  ``multipart/x-mixed-replace`` body of two frames without Content-Length,
  after which the server closes the connection, as a live stream ends for a
  client that stops reading.

Every camera has two distinct 352x240 frames (the size of the freeway
bureau's CCTV images), drawn with Pillow from a per-camera seed, and the
server alternates between them on each request, so fingerprints differ
between cameras and between consecutive checks of one camera. Anything
else, robots.txt included, is a 404.
"""

import asyncio
import functools
import multiprocessing
import random
import socket
from dataclasses import dataclass
from io import BytesIO
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

FRAME_SIZE = (352, 240)
JPEG_QUALITY = 75
MJPEG_EVERY = 4
BOUNDARY = b"frame"

_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
_NOT_FOUND_CLOSE = (
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


@dataclass(frozen=True)
class BenchCamera:
    index: int
    kind: str  # "jpeg_snapshot" or "mjpeg", as StreamKind values
    path: str


def bench_cameras(count: int) -> list[BenchCamera]:
    """Return the cameras the server serves: every fourth one is MJPEG."""
    cameras = []
    for index in range(count):
        if index % MJPEG_EVERY == MJPEG_EVERY - 1:
            cameras.append(BenchCamera(index, "mjpeg", f"/cam/{index}.mjpg"))
        else:
            cameras.append(BenchCamera(index, "jpeg_snapshot", f"/cam/{index}.jpg"))
    return cameras


_NOISE_SIDE = 1024


@functools.cache
def _noise() -> "Image.Image":
    from PIL import Image

    return Image.effect_noise((_NOISE_SIDE, _NOISE_SIDE), 40).convert("RGB")


def frame(seed: int) -> bytes:
    """Draw a reproducible road-camera-sized picture and encode it as JPEG.

    Coloured rectangles give each frame its own average hash; a layer of
    noise gives the JPEG the size of a real snapshot (about 15 KB).
    """
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    width, height = FRAME_SIZE
    image = Image.new("RGB", FRAME_SIZE, (90, 90, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, x1 = sorted(rng.sample(range(width), 2))
        y0, y1 = sorted(rng.sample(range(height), 2))
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.rectangle([x0, y0, x1, y1], fill=colour)
    left = rng.randrange(_NOISE_SIDE - width)
    top = rng.randrange(_NOISE_SIDE - height)
    noise = _noise().crop((left, top, left + width, top + height))
    image = Image.blend(image, noise, 0.15)
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _snapshot_responses(body: bytes) -> tuple[bytes, bytes]:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nCache-Control: no-cache\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    )
    return head + b"\r\n" + body, head + b"Connection: close\r\n\r\n" + body


def _mjpeg_response(first: bytes, second: bytes) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary="
        + BOUNDARY
        + b"\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )
    parts = b""
    for jpeg in (first, second):
        parts += (
            b"--"
            + BOUNDARY
            + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
            + str(len(jpeg)).encode()
            + b"\r\n\r\n"
            + jpeg
            + b"\r\n"
        )
    return head + parts


@dataclass
class _Route:
    # Per variant: (keep-alive response, closing response); MJPEG has no
    # keep-alive form and closes always.
    variants: list[tuple[bytes, bytes | None]]
    served: int = 0


class _Protocol(asyncio.Protocol):
    def __init__(self, routes: dict[bytes, _Route]) -> None:
        self.routes = routes
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer and self.transport is not None:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self._answer(head)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _answer(self, head: bytes) -> None:
        assert self.transport is not None
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"connection":
                close = value.strip().lower() == b"close"
        route = self.routes.get(path)
        if route is None:
            self.transport.write(_NOT_FOUND_CLOSE if close else _NOT_FOUND)
        else:
            keep_alive, closing = route.variants[route.served % len(route.variants)]
            route.served += 1
            if closing is None:
                self.transport.write(keep_alive)
                close = True
            else:
                self.transport.write(closing if close else keep_alive)
        if close:
            self.transport.close()
            self.transport = None


def _build_routes(count: int) -> tuple[dict[bytes, _Route], int]:
    routes = {}
    total = 0
    for camera in bench_cameras(count):
        first, second = frame(2 * camera.index), frame(2 * camera.index + 1)
        total += len(first) + len(second)
        if camera.kind == "mjpeg":
            variants: list[tuple[bytes, bytes | None]] = [
                (_mjpeg_response(first, second), None),
                (_mjpeg_response(second, first), None),
            ]
        else:
            variants = [_snapshot_responses(first), _snapshot_responses(second)]
        routes[camera.path.encode()] = _Route(variants)
    return routes, total // (2 * max(count, 1))


def _serve(count: int, sock: socket.socket, ready: Connection) -> None:
    routes, mean_frame_bytes = _build_routes(count)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(routes), sock=sock)
        ready.send(mean_frame_bytes)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class CameraServer:
    """Run the camera server in a child process on a free loopback port."""

    def __init__(self, count: int) -> None:
        self.cameras = bench_cameras(count)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(count, self.sock, child), daemon=True
        )
        self.process.start()
        # Drawing and encoding the frames takes a few seconds for 1,000.
        if not parent.poll(120):
            self.stop()
            raise RuntimeError("the camera server did not start within 120 s")
        self.mean_frame_bytes: int = parent.recv()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, camera: BenchCamera) -> str:
        return self.base_url + camera.path

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)
        self.sock.close()
