"""Tests of camera stream checks, with helpers they share."""

import asyncio
import random
from io import BytesIO
from typing import Any

from PIL import Image, ImageDraw

from govportal.lib.camcheck import CheckLimits, CheckResult, check_stream
from govportal.lib.httpfetch import FetchPolicy

# The test-only relaxation: the loopback fixture server and nothing else.
LOOPBACK = "127.0.0.1/32"
# Short limits, so that every failure case ends within a few seconds.
FAST_LIMITS = CheckLimits(
    deadline=4.0,
    frame_timeout=1.5,
    max_mjpeg_bytes=256 * 1024,
    max_segment_bytes=8 * 1024 * 1024,
    segment_probe_bytes=64 * 1024,
)


def camera_policy(**overrides: Any) -> FetchPolicy:
    """Return a policy that reaches only 127.0.0.1, with short timeouts."""
    settings: dict[str, Any] = {
        "allowed_networks": (LOOPBACK,),
        "respect_robots": False,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
        "max_body_bytes": 5 * 1024 * 1024,
        "max_decoded_bytes": 5 * 1024 * 1024,
    }
    settings.update(overrides)
    return FetchPolicy(**settings)


def run_check(
    kind: str,
    url: str,
    policy: FetchPolicy | None = None,
    limits: CheckLimits | None = None,
    **kwargs: Any,
) -> CheckResult:
    """Run one check_stream in a fresh event loop."""
    return asyncio.run(
        check_stream(
            kind,
            url,
            fetcher_or_policy=policy or camera_policy(),
            limits=limits or FAST_LIMITS,
            **kwargs,
        )
    )


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Draw a reproducible picture of coloured rectangles."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (90, 90, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, x1 = sorted(rng.sample(range(width), 2))
        y0, y1 = sorted(rng.sample(range(height), 2))
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.rectangle([x0, y0, x1, y1], fill=colour)
    return image


def jpeg_bytes(seed: int, quality: int = 85) -> bytes:
    buffer = BytesIO()
    scene(seed).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def mjpeg_part(frame: bytes, boundary: str = "frame") -> bytes:
    """Return one part of a multipart/x-mixed-replace body, as cameras send it."""
    head = (
        f"--{boundary}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(frame)}\r\n\r\n"
    ).encode()
    return head + frame + b"\r\n"


def media_playlist(sequence: int, segments: list[str]) -> bytes:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:4",
        f"#EXT-X-MEDIA-SEQUENCE:{sequence}",
    ]
    for segment in segments:
        lines += ["#EXTINF:4.000,", segment]
    return ("\n".join(lines) + "\n").encode()


def master_playlist(variants: list[str]) -> bytes:
    lines = ["#EXTM3U"]
    for variant in variants:
        lines += ["#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360", variant]
    return ("\n".join(lines) + "\n").encode()
